"""The Flocking plugin: one ``build(world)`` registers the bird component, the systems and the start
state (random, or from an ``--init`` file)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ouroboros.engine import Variant, World
from ouroboros.errors import WorldError
from ouroboros.worlds.flocking import components as c
from ouroboros.worlds.flocking import kernels as k
from ouroboros.worlds.flocking import systems as s
from ouroboros.worlds.flocking.initfile import read_init
from ouroboros.worlds.flocking.params import DEFAULT_PRESET, Model, make_params

CONFIG_KEYS = frozenset({"preset", "params", "init", "init_sha256", "kernels"})


class FlockingPlugin:
    """Boids in a periodic square, updated one bird at a time (ABMFrameworksComparison's Flocking)."""

    name = "flocking"

    def __init__(
        self,
        preset: str = DEFAULT_PRESET,
        params: Mapping[str, Any] | None = None,
        init: str | Path | None = None,
        init_sha256: str | None = None,
        kernels: str = "auto",
    ) -> None:
        self.preset = preset
        self.overrides = dict(params or {})
        self.params = make_params(preset, self.overrides)
        self.kernel_name, self.step = k.select(kernels)
        self.init_path = None if init is None else str(init)
        self.init = None
        if init is not None:
            m = Model.of(self.params)
            self.init = read_init(init, m.width, m.height, init_sha256)
            self.params["birds"] = int(self.init.pos0.shape[0])

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> FlockingPlugin:
        unknown = set(config) - CONFIG_KEYS
        if "entities" in unknown:
            raise WorldError(
                "flocking is sized by its presets (small, large, x10, x100) or an init file, not by entities"
            )
        if unknown:
            raise WorldError(
                f"unknown flocking config keys {sorted(unknown)} (known: {', '.join(sorted(CONFIG_KEYS))})"
            )
        init = config.get("init")
        if init is not None and not isinstance(init, str):
            raise WorldError("flocking init must be a file path")
        return cls(
            config.get("preset", DEFAULT_PRESET),
            config.get("params"),
            init,
            config.get("init_sha256"),
            config.get("kernels", "auto"),
        )

    def config(self) -> dict[str, Any]:
        out: dict[str, Any] = {"preset": self.preset, "params": dict(self.overrides)}
        if self.init is not None:
            out.update({"init": self.init_path, "init_sha256": self.init.sha256})
        return out

    def build(self, world: World) -> None:
        for comp in c.ALL:
            world.register_component(comp)
        orders = self.init.orders if self.init is not None else None
        world.meta.update({"world": "flocking", "config": self.config()})
        if orders is not None:
            world.meta["tick_limit"] = int(orders.shape[0])
        world.resources.update({"params": dict(self.params)})
        world.add_system("populate", s.make_populate(self.init), phase="startup")
        variants = [Variant("numpy", s.make_flock_system(k.step_numpy, orders), kind="numpy")]
        if "numba" in k.available():
            _, numba_step = k.select("numba")
            variants.append(
                Variant(
                    "numba", s.make_flock_system(numba_step, orders), kind="numba", prepare=k.prepare_numba
                )
            )
        world.add_system(
            "flock",
            s.make_flock_system(self.step, orders),
            writes=["Bird"],
            variants=variants,
            variant=self.kernel_name,
        )
