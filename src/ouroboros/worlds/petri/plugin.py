"""The petri plugin: one ``build(world)`` registers components, systems, inputs and the start
state of the dish."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ouroboros.engine import Stream, Variant, World
from ouroboros.errors import WorldError
from ouroboros.worlds.petri import components as c
from ouroboros.worlds.petri import systems as s
from ouroboros.worlds.petri.kernels import SIZE_HINTS, prepare_numba, variant_kernels
from ouroboros.worlds.petri.kernels import select as select_kernels
from ouroboros.worlds.petri.params import FP_SHIFT, check_param, merge_params, rescale_positions
from ouroboros.worlds.petri.scripted import ScriptedRunner
from ouroboros.worlds.petri.traits import BUILTIN_TRAITS, Trait

MAX_INITIAL_ENTITIES = 4_000_000
DEFAULT_ENTITIES = 500


def _check_set_param(payload: Any) -> dict[str, Any]:
    if not isinstance(payload, Mapping) or set(payload) != {"name", "value"}:
        raise WorldError('set_param takes {"name": NAME, "value": INT}')
    name, value = check_param(payload["name"], payload["value"])
    return {"name": name, "value": value}


def _apply_set_param(world: World, payload: dict[str, Any]) -> None:
    params = world.resources["params"]
    before = dict(params)
    params[payload["name"]] = payload["value"]
    rescale_positions(world, before, params)


def _variants(make_system: Any) -> list[Variant]:
    """One variant of a contact system per kernel set this machine has (see ``kernels``)."""
    out = []
    for k in variant_kernels():
        low, high = SIZE_HINTS[k.name]
        prepare = prepare_numba if k.name == "numba" else None
        out.append(Variant(k.name, make_system(k), kind=k.name, min_size=low, max_size=high, prepare=prepare))
    return out


def _keep_large_blocks(entities: int) -> None:
    """Ask the allocator to keep a big dish's per-tick temporaries on its heap.

    glibc's malloc serves a block over its mmap threshold (128 KiB to begin with) from a fresh
    mapping, and every page of that is faulted in again on first touch: at 100,000 molbots a
    tick's cell counts, sort orders and gathered copies (a few MiB) cost milliseconds of faults.
    The threshold rises by itself to the size of the largest such block freed (up to 32 MiB);
    freeing one block of this dish's scale once does that on purpose. Elsewhere (another
    allocator) it is one allocation and nothing more."""
    size = min(32 << 20, max(1 << 20, 48 * entities))
    block = np.empty(size, dtype=np.uint8)  # untouched: mapped, never faulted in
    del block


class PetriPlugin:
    """The artificial-life dish. ``entities`` molbots at the start; ``params`` override the
    defaults (see ``params.PARAMS``)."""

    name = "petri"

    def __init__(
        self,
        entities: int = DEFAULT_ENTITIES,
        params: Mapping[str, Any] | None = None,
        traits: tuple[Trait, ...] = BUILTIN_TRAITS,
        kernels: str = "auto",
    ) -> None:
        self.kernels = select_kernels(kernels)
        if not isinstance(entities, int) or not 0 <= entities <= MAX_INITIAL_ENTITIES:
            raise WorldError(f"entities must be an integer in [0, {MAX_INITIAL_ENTITIES}]")
        self.params = merge_params(params)
        if entities > self.params["max_entities"]:
            self.params["max_entities"] = entities
        self.entities = entities
        names = [t.name for t in traits]
        if len(set(names)) != len(names) or len(names) > 64:
            raise WorldError("trait names must be unique, 64 at most")
        self.traits = traits

    def config(self) -> dict[str, Any]:
        return {"entities": self.entities, "params": dict(self.params)}

    def build(self, world: World) -> None:
        _keep_large_blocks(max(self.entities, self.params["max_entities"]))
        for comp in c.ALL:
            world.register_component(comp)
        world.meta.update(
            {"world": "petri", "config": self.config(), "traits": [t.name for t in self.traits]}
        )
        world.resources.update(
            {
                "params": dict(self.params),
                "stats": {
                    "births": 0,
                    "deaths": {cause: 0 for cause in s.DEATH_CAUSES},
                    "reseeded": 0,
                    "food_eaten": 0,
                },
                "telemetry_base": {"births": 0, "deaths": {cause: 0 for cause in s.DEATH_CAUSES}},
                "telemetry": None,
                "food_acc_fp": 0,
            }
        )
        world.register_input("set_param", _apply_set_param, _check_set_param)

        entities = self.entities

        def populate(w: World) -> None:
            p = w.resources["params"]
            bits = list(range(len(self.traits)))
            w.commands.spawn(c.MOLBOT, entities, s.random_molbots(w.rng(), entities, p, bits))
            initial_food = min(p["max_food"], max(entities, p["max_food"] // 2))
            food_rng = w.rng("populate:food")
            w.commands.spawn(
                c.FOOD,
                initial_food,
                {
                    "Position.x": Stream.below(food_rng.uint64(initial_food), p["width"] << FP_SHIFT),
                    "Position.y": Stream.below(food_rng.uint64(initial_food), p["height"] << FP_SHIFT),
                    "Food.energy": p["food_energy_fp"],
                },
            )

        molbot = set(c.MOLBOT)
        world.add_system("populate", populate, phase="startup")
        world.add_system(
            "sense",
            s.make_sense_system(self.kernels),
            phase="pre_tick",
            reads=["Position", "Food"],
            variants=_variants(s.make_sense_system),
            variant=self.kernels.name,
        )
        runner = ScriptedRunner()

        def make_traits(k: Any) -> Any:
            return s.make_traits_system(self.traits, runner, k)

        world.add_system(
            "traits",
            make_traits(self.kernels),
            reads=molbot,
            variants=_variants(make_traits),
            variant=self.kernels.name,
        )
        world.add_system(
            "physics", s.physics, reads=["DNA"], writes=["Position", "Velocity"], after=["traits"]
        )
        world.add_system(
            "eat",
            s.make_eat_system(self.kernels),
            reads=["Position", "Food"],
            writes=["Body"],
            after=["physics"],
            variants=_variants(s.make_eat_system),
            variant=self.kernels.name,
        )
        world.add_system(
            "collide",
            s.make_collide_system(self.kernels),
            reads=["Position"],
            writes=["Body"],
            after=["eat"],
            variants=_variants(s.make_collide_system),
            variant=self.kernels.name,
        )
        world.add_system(
            "metabolism", s.metabolism, reads=["Velocity", "DNA"], writes=["Body"], after=["collide"]
        )
        world.add_system("reproduce", s.reproduce, reads=molbot, writes=["Body"], after=["metabolism"])
        world.add_system("death", s.death, reads=["Body"], after=["reproduce"])
        world.add_system("spawn_food", s.spawn_food, phase="post_tick", reads=["Food"])
        world.add_system("reseed", s.reseed, phase="post_tick", reads=["Body"], after=["spawn_food"])
        world.add_system(
            "telemetry", s.telemetry, phase="post_tick", reads=molbot | {"Food"}, after=["reseed"]
        )
