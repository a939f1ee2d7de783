"""neon's spec: what the layers above learn of neon (see ``ouroboros.worlds.spec``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ouroboros.engine import Plugin, World
from ouroboros.errors import WorldError
from ouroboros.worlds.neon.hooks import (
    NeonGameHook,
    NeonParams,
    neon_character_metrics,
    neon_invariants,
    neon_metrics,
)
from ouroboros.worlds.neon.stream import STREAM
from ouroboros.worlds.spec import ContentProblems, SignalsReader, WorldSpec


def _world_content(content: Mapping[str, Any]) -> dict[str, Any]:
    from ouroboros.worlds import world_content

    return world_content(content)


def _neon_plugin(config: Mapping[str, Any]) -> Plugin:
    from ouroboros.worlds.neon import NeonPlugin

    if config:
        raise WorldError(f"unknown neon config keys {sorted(config)}")
    return NeonPlugin()


def _neon_kpis(world: World) -> dict[str, Any]:
    from ouroboros.worlds.neon import kpis

    return kpis(world)


def _neon_metrics(world: World) -> dict[str, int]:
    from ouroboros.worlds.neon import shadow_metrics

    return shadow_metrics(world)


def _neon_check(world: World, content: Mapping[str, Any]) -> ContentProblems:
    from ouroboros.worlds.neon import check_content

    return check_content(_world_content(content))


def _neon_apply(
    world: World, content: Mapping[str, Any], migration: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    from ouroboros.worlds.neon import apply_content

    return apply_content(world, _world_content(content), migration)


def _neon_signals() -> SignalsReader:
    from ouroboros.worlds.neon.signals import NeonSignals

    return NeonSignals()


def _neon_overview(world: World) -> dict[str, Any]:
    from ouroboros.worlds.neon.citymap import overview

    return overview(world)


SPEC = WorldSpec(
    "neon",
    _neon_plugin,
    _neon_kpis,
    _neon_metrics,
    _neon_check,
    _neon_apply,
    {
        "npcs": {"min_permille": 800},  # a patch may not empty the streets
        "items": {"max_drift_permille": 500},
        "money_supply": {"max_drift_permille": 250},  # players' credits within ±25 %
        "held": {"max_increase": 3},  # transactions the economic guard had to hold
        "quests_done": {"min_permille": 500},
    },
    summary="a cyberpunk MUD city people play over telnet and the web",
    live_default=True,
    stream=STREAM,
    params=NeonParams(),
    game=NeonGameHook(),
    signals=_neon_signals,
    metrics=neon_metrics,
    character_metrics=neon_character_metrics,
    invariants=neon_invariants,
    overview=_neon_overview,
)

__all__ = ["SPEC"]
