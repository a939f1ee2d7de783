"""wolfsheep's spec: what the layers above learn of wolfsheep (see ``ouroboros.worlds.spec``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ouroboros.engine import Plugin, World
from ouroboros.worlds.spec import ContentProblems, WorldSpec
from ouroboros.worlds.wolfsheep.stream import STREAM


def _world_content(content: Mapping[str, Any]) -> dict[str, Any]:
    from ouroboros.worlds import world_content

    return world_content(content)


def _wolfsheep_plugin(config: Mapping[str, Any]) -> Plugin:
    from ouroboros.worlds.wolfsheep import WolfSheepPlugin

    return WolfSheepPlugin.from_config(config)


def _wolfsheep_kpis(world: World) -> dict[str, Any]:
    from ouroboros.worlds.wolfsheep import compute_kpis

    return compute_kpis(world)


def _wolfsheep_metrics(world: World) -> dict[str, int]:
    from ouroboros.worlds.wolfsheep.gameplay import shadow_metrics

    return shadow_metrics(world)


def _wolfsheep_check(world: World, content: Mapping[str, Any]) -> ContentProblems:
    from ouroboros.worlds.wolfsheep.gameplay import check_content

    return check_content(_world_content(content))


def _wolfsheep_apply(
    world: World, content: Mapping[str, Any], migration: Mapping[str, Any] | None = None
) -> None:
    from ouroboros.worlds.wolfsheep.gameplay import apply_content

    apply_content(world, _world_content(content))


def _wolfsheep_gauges(world: World) -> dict[str, int]:
    from ouroboros.worlds.wolfsheep import counts

    c = counts(world)
    return {"population": c["sheep"] + c["wolves"]}


SPEC = WorldSpec(
    "wolfsheep",
    _wolfsheep_plugin,
    _wolfsheep_kpis,
    _wolfsheep_metrics,
    _wolfsheep_check,
    _wolfsheep_apply,
    {"sheep": {"max_drift_permille": 500, "min_baseline": 5}, "wolves": {"max_drift_permille": 500}},
    summary="predators and prey on a grid with regrowing grass (the ABM peers' WolfSheep)",
    stream=STREAM,
    metrics=_wolfsheep_gauges,
)

__all__ = ["SPEC"]
