"""flocking's spec: what the layers above learn of flocking (see ``ouroboros.worlds.spec``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ouroboros.engine import Plugin, World
from ouroboros.worlds.flocking.stream import STREAM
from ouroboros.worlds.spec import ContentProblems, WorldSpec


def _world_content(content: Mapping[str, Any]) -> dict[str, Any]:
    from ouroboros.worlds import world_content

    return world_content(content)


def _flocking_plugin(config: Mapping[str, Any]) -> Plugin:
    from ouroboros.worlds.flocking import FlockingPlugin

    return FlockingPlugin.from_config(config)


def _flocking_kpis(world: World) -> dict[str, Any]:
    from ouroboros.worlds.flocking import compute_kpis

    return compute_kpis(world)


def _flocking_metrics(world: World) -> dict[str, int]:
    from ouroboros.worlds.flocking.gameplay import shadow_metrics

    return shadow_metrics(world)


def _flocking_check(world: World, content: Mapping[str, Any]) -> ContentProblems:
    from ouroboros.worlds.flocking.gameplay import check_content

    return check_content(_world_content(content))


def _flocking_apply(
    world: World, content: Mapping[str, Any], migration: Mapping[str, Any] | None = None
) -> None:
    from ouroboros.worlds.flocking.gameplay import apply_content

    apply_content(world, _world_content(content))


def _flocking_dump(world: World) -> dict[str, Any]:
    from ouroboros.worlds.flocking import state_arrays

    return state_arrays(world)


def _flocking_gauges(world: World) -> dict[str, int]:
    from ouroboros.worlds.flocking.systems import birds

    chunk = birds(world)
    return {"population": chunk.count if chunk is not None else 0}


SPEC = WorldSpec(
    "flocking",
    _flocking_plugin,
    _flocking_kpis,
    _flocking_metrics,
    _flocking_check,
    _flocking_apply,
    {"birds": {"max_increase": 0, "min_permille": 1000}},
    dump=_flocking_dump,
    summary="boids on a torus (the ABM peers' Flocking), in IEEE-exact float64",
    stream=STREAM,
    metrics=_flocking_gauges,
)

__all__ = ["SPEC"]
