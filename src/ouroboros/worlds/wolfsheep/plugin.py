"""The WolfSheep plugin: one ``build(world)`` registers components, systems and the start state."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ouroboros.engine import Variant, World
from ouroboros.errors import WorldError
from ouroboros.worlds.wolfsheep import components as c
from ouroboros.worlds.wolfsheep import systems as s
from ouroboros.worlds.wolfsheep.kernels import available, prepare_numba, select
from ouroboros.worlds.wolfsheep.params import DEFAULT_PRESET, make_params

CONFIG_KEYS = frozenset({"preset", "params", "kernels"})


def _variants(make_system: Any) -> list[Variant]:
    return [
        Variant(k.name, make_system(k), kind=k.name, prepare=prepare_numba if k.name == "numba" else None)
        for k in available()
    ]


class WolfSheepPlugin:
    """Predator and prey on a grid with regrowing grass (ABMFrameworksComparison's WolfSheep)."""

    name = "wolfsheep"

    def __init__(
        self, preset: str = DEFAULT_PRESET, params: Mapping[str, Any] | None = None, kernels: str = "auto"
    ) -> None:
        self.kernels = select(kernels)
        self.preset = preset
        self.overrides = dict(params or {})
        self.params = make_params(preset, self.overrides)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> WolfSheepPlugin:
        unknown = set(config) - CONFIG_KEYS
        if "entities" in unknown or "init" in unknown:
            raise WorldError(
                "wolfsheep is sized by its presets (small, large, x10, x100), not by entities or an init file"
            )
        if unknown:
            raise WorldError(f"unknown wolfsheep config keys {sorted(unknown)} (known: preset, params)")
        return cls(config.get("preset", DEFAULT_PRESET), config.get("params"), config.get("kernels", "auto"))

    def config(self) -> dict[str, Any]:
        return {"preset": self.preset, "params": dict(self.overrides)}

    def build(self, world: World) -> None:
        for comp in c.ALL:
            world.register_component(comp)
        world.meta.update({"world": "wolfsheep", "config": self.config()})
        world.resources.update({"params": dict(self.params), "eaten": 0})
        animals = ["Position", "Energy"]
        world.add_system("populate", s.populate, phase="startup")
        world.add_system(
            "sheep",
            s.make_sheep_system(self.kernels),
            reads=["Sheep"],
            writes=[*animals, "Grass"],
            variants=_variants(s.make_sheep_system),
            variant=self.kernels.name,
        )
        world.add_system(
            "wolves",
            s.make_wolves_system(self.kernels),
            reads=["Sheep", "Wolf", "Position"],
            writes=animals,
            after=["sheep"],
            variants=_variants(s.make_wolves_system),
            variant=self.kernels.name,
        )
        world.add_system(
            "grass",
            s.make_grass_system(self.kernels),
            writes=["Grass"],
            after=["wolves"],
            variants=_variants(s.make_grass_system),
            variant=self.kernels.name,
        )
