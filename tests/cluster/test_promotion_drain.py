"""In the cluster a promotion never moves a live session (ADR 0017): ``WorldControl.publish`` keeps
a shard being promoted on the stable version while its tick reports say players are on it, names it
in the route's ``draining`` (the gateway sends no new login there) until it reports running the
patch, and switches it once a report says nobody is left; a rollback switches at once. A real
redis-server, scripted tick reports, an injected clock."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ouroboros.cluster import keys
from ouroboros.cluster.control import STALE_S, WorldControl
from ouroboros.cluster.follow import Wanted
from ouroboros.cluster.redis_server import RedisServer
from ouroboros.patches.governor import Governor
from ouroboros.rollout.controller import Phase, RolloutState
from ouroboros.rollout.plan import parse_plan
from ouroboros.rollout.router import Router

PATCH = "p-koi"
SHARDS = ("neon-0", "neon-1")
PLAN = parse_plan("50,100")
LIVE = RolloutState("ro-1-abcdef0123", PATCH, None, PLAN, Phase.RUNNING, stage=0)
FULL = RolloutState("ro-1-abcdef0123", PATCH, None, PLAN, Phase.RUNNING, stage=1)
ROLLED_BACK = RolloutState("ro-1-abcdef0123", PATCH, None, PLAN, Phase.ROLLED_BACK, stage=1, reason="x")
ABORTED = RolloutState("ro-1-abcdef0123", PATCH, None, PLAN, Phase.ABORTED, stage=1, reason="x")
(PROMOTED,) = [s for s, v in Router(None, LIVE).desired(SHARDS).items() if v == PATCH]
(OTHER,) = set(SHARDS) - {PROMOTED}


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def control(redis_server: RedisServer, tmp_path: Path) -> Iterator[tuple[WorldControl, Clock]]:
    governor = Governor(tmp_path / "neon", world_defaults={"world": "neon", "seed": 5}, environ={})
    clock = Clock()
    control = WorldControl(redis_server.url, "neon", governor, clock=clock, republish_s=3600.0)
    control.r.sadd(keys.world_shards("neon"), *SHARDS)
    yield control, clock
    control.close()
    governor.close()


def report(control: WorldControl, shard: str, tick: int, version: str | None, players: int) -> None:
    """A shard's tick report, as ``ShardLink`` sends it, read by the control."""
    doc = [{"t": tick, "ms": 1.0, "v": version, "f": 0, "p": players}]
    control.r.xadd(keys.world_ticks("neon"), {"s": shard, "b": json.dumps(doc)})
    assert control.read_reports() == 1


def told(control: WorldControl) -> dict[str, str | None]:
    docs = {s: Wanted.parse(control.r.get(keys.shard_version(s))) for s in SHARDS}
    return {s: d.version for s, d in docs.items() if d is not None}


def draining(control: WorldControl) -> list[str]:
    route: Any = json.loads(control.r.get(keys.world_route("neon")) or "{}")
    return list(route["draining"])


def test_a_promoted_shard_with_players_drains_then_switches_and_a_rollback_is_immediate(
    control: tuple[WorldControl, Clock],
) -> None:
    ctl, _ = control
    for shard in SHARDS:
        report(ctl, shard, 1, None, 3)
    ctl.publish(Router(None, None))
    assert told(ctl) == {PROMOTED: None, OTHER: None} and draining(ctl) == []

    ctl.publish(Router(None, LIVE))  # the 50 % stage wants PROMOTED on the patch: it has players
    assert told(ctl) == {PROMOTED: None, OTHER: None} and draining(ctl) == [PROMOTED]
    report(ctl, PROMOTED, 2, None, 1)  # one left, the others logged out
    ctl.publish(Router(None, LIVE))
    assert told(ctl)[PROMOTED] is None and draining(ctl) == [PROMOTED]

    report(ctl, PROMOTED, 3, None, 0)  # nobody left: switched now
    ctl.publish(Router(None, LIVE))
    assert told(ctl) == {PROMOTED: PATCH, OTHER: None}
    assert draining(ctl) == [PROMOTED]  # until it says it runs the patch, still no new login there
    report(ctl, PROMOTED, 4, None, 2)  # someone slipped in before it switched: never held back again
    ctl.publish(Router(None, LIVE))
    assert told(ctl)[PROMOTED] == PATCH
    report(ctl, PROMOTED, 5, PATCH, 2)  # it runs the patch: open to the treatment cohort
    ctl.publish(Router(None, LIVE))
    assert draining(ctl) == []

    ctl.publish(Router(None, FULL))  # the last stage: the control shard drains too
    assert told(ctl) == {PROMOTED: PATCH, OTHER: None} and draining(ctl) == [OTHER]

    ctl.publish(Router(None, ROLLED_BACK))  # a rollback: at once, players or not
    assert told(ctl) == {PROMOTED: None, OTHER: None} and draining(ctl) == []


def test_a_completion_drains_the_last_shard_on_the_old_version(control: tuple[WorldControl, Clock]) -> None:
    ctl, _ = control
    report(ctl, PROMOTED, 1, PATCH, 2)
    report(ctl, OTHER, 1, None, 2)
    ctl.publish(Router(None, LIVE))
    assert told(ctl) == {PROMOTED: PATCH, OTHER: None}
    complete = RolloutState("ro-1-abcdef0123", PATCH, None, PLAN, Phase.COMPLETE, stage=1)
    ctl.publish(Router(PATCH, complete))  # the pointer moved to the patch: OTHER's players stay
    assert told(ctl) == {PROMOTED: PATCH, OTHER: None} and draining(ctl) == [OTHER]
    report(ctl, OTHER, 2, None, 0)
    ctl.publish(Router(PATCH, complete))
    assert told(ctl) == {PROMOTED: PATCH, OTHER: PATCH}


def test_an_abort_switches_at_once_and_a_silent_shard_holds_nothing(
    control: tuple[WorldControl, Clock],
) -> None:
    ctl, clock = control
    for shard in SHARDS:
        report(ctl, shard, 1, PATCH, 4)
    ctl.publish(Router(None, FULL))  # both already run the patch: nothing drains
    assert told(ctl) == {PROMOTED: PATCH, OTHER: PATCH} and draining(ctl) == []
    ctl.publish(Router(None, ABORTED))  # aborted with players on the patch: back at once
    assert told(ctl) == {PROMOTED: None, OTHER: None} and draining(ctl) == []

    for shard in SHARDS:
        report(ctl, shard, 2, None, 4)
    clock.now += STALE_S + 1  # neither shard heard from since: no live session is known there
    ctl.publish(Router(None, FULL))
    assert told(ctl) == {PROMOTED: PATCH, OTHER: PATCH}
    assert draining(ctl) == sorted(SHARDS)  # told, not yet running it


def test_a_restarted_control_keeps_draining_by_what_the_shards_last_reported(
    control: tuple[WorldControl, Clock], redis_server: RedisServer, tmp_path: Path
) -> None:
    ctl, clock = control
    for shard in SHARDS:
        report(ctl, shard, 1, None, 2)
    ctl.publish(Router(None, LIVE))
    assert told(ctl)[PROMOTED] is None and draining(ctl) == [PROMOTED]
    again = WorldControl(redis_server.url, "neon", ctl.governor, clock=clock)
    try:
        assert again.read_reports() == 2  # the stream from its start
        again.publish(Router(None, LIVE))
        assert told(again)[PROMOTED] is None and draining(again) == [PROMOTED]
    finally:
        again.close()
