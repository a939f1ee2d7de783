"""petri's spec: what the layers above learn of petri (see ``ouroboros.worlds.spec``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ouroboros.engine import Plugin, World
from ouroboros.errors import WorldError
from ouroboros.worlds.petri.evolution import PetriEvolution
from ouroboros.worlds.petri.hooks import PetriParams, petri_invariants, petri_metrics
from ouroboros.worlds.petri.stream import STREAM
from ouroboros.worlds.spec import ContentProblems, WorldSpec


def _world_content(content: Mapping[str, Any]) -> dict[str, Any]:
    from ouroboros.worlds import world_content

    return world_content(content)


def _petri_plugin(config: Mapping[str, Any]) -> Plugin:
    from ouroboros.worlds.petri import PetriPlugin

    unknown = set(config) - {"entities", "params"}
    if unknown:
        raise WorldError(f"unknown petri config keys {sorted(unknown)}")
    return PetriPlugin(entities=config.get("entities", 500), params=config.get("params"))


def _petri_kpis(world: World) -> dict[str, Any]:
    from ouroboros.worlds.petri import compute_kpis

    return compute_kpis(world)


def _petri_metrics(world: World) -> dict[str, int]:
    from ouroboros.worlds.petri.gameplay import shadow_metrics

    return shadow_metrics(world)


def _petri_check(world: World, content: Mapping[str, Any]) -> ContentProblems:
    from ouroboros.worlds.petri.gameplay import check_content

    names = world.meta.get("traits", ())
    return check_content(_world_content(content), frozenset(names), len(names))


def _petri_apply(
    world: World, content: Mapping[str, Any], migration: Mapping[str, Any] | None = None
) -> None:
    from ouroboros.worlds.petri.gameplay import apply_content

    apply_content(world, _world_content(content))  # a molbot refers to no content object


def _petri_trait_world(seed: int, entities: int, trait: Any) -> World:
    from ouroboros.worlds.petri import PetriPlugin

    return World(seed, plugins=[PetriPlugin(entities, traits=(trait,))])


SPEC = WorldSpec(
    "petri",
    _petri_plugin,
    _petri_kpis,
    _petri_metrics,
    _petri_check,
    _petri_apply,
    {"population": {"max_drift_permille": 500, "min_baseline": 5}, "faults": {"max_increase": 0}},
    summary="an artificial-life dish whose creatures' behaviour is code that evolves",
    live_config={"entities": 300},
    live_default=True,
    stream=STREAM,
    params=PetriParams(),
    evolution=PetriEvolution(),
    trait_world=_petri_trait_world,
    metrics=petri_metrics,
    invariants=petri_invariants,
)

__all__ = ["SPEC"]
