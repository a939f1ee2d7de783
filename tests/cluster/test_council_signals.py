"""The director in a cluster sees what the shards see: each shard reads the director's signals
once a second of ticks (``world_kpis`` plus the world's ``spec.signals`` reader, as ``go`` does)
and sends them to the world's signals stream; the control's council step gets the union of the
shards' events, each tagged with its shard, and their KPIs combined (counts summed, ratios weighted
by players online). Over a real Redis, with two neon shards in threads as ``ouroboros shard`` runs
them and the control's ``ControlPlane`` over a ``Runtime`` as ``ouroboros control`` builds it; the
council is the real one, its ``step`` recorded on the way in. Redis away: the council steps with
what it has."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ouroboros.cluster import keys
from ouroboros.cluster.control import ControlPlane, WorldControl, combine_kpis
from ouroboros.cluster.follow import ShardLink
from ouroboros.cluster.redis_server import RedisServer
from ouroboros.patches.governor import Governor
from ouroboros.server.runtime import Runtime, RuntimeOptions
from ouroboros.worlds import build_world
from tests.cluster.test_shard_versions import Shard, neon_gov, wait_until

__all__ = ["neon_gov"]  # the fixture, shared


# -- the KPIs combined ---------------------------------------------------------------------------
def test_counts_are_summed_ratios_weighted_by_players_ticks_the_highest_versions_the_freshest() -> None:
    shards = {
        "neon-0": (120, {"players_online": 3, "npcs": 30, "money_supply": 500, "inflation_permille": 10,
                         "economy_report_tick": 100, "bosses_down": ["b"], "gameplay_version": "v1",
                         "crowded": False}),
        "neon-1": (140, {"players_online": 1, "npcs": 28, "money_supply": 70, "inflation_permille": 50,
                         "economy_report_tick": 90, "bosses_down": ["a", "b"], "gameplay_version": "v2",
                         "crowded": True}),
    }  # fmt: skip
    got = combine_kpis(shards)
    assert got == {
        "players_online": 4, "npcs": 58, "money_supply": 570,
        "inflation_permille": 20,  # (3 * 10 + 1 * 50) / 4
        "economy_report_tick": 100, "bosses_down": ["a", "b"],
        "gameplay_version": "v2",  # neon-1 is the freshest (tick 140)
        "crowded": True,
    }  # fmt: skip
    nobody = {s: (t, {**k, "players_online": 0}) for s, (t, k) in shards.items()}
    assert combine_kpis(nobody)["inflation_permille"] == 30  # no players anywhere: the plain mean
    assert combine_kpis({}) == {}


kpi_docs = st.dictionaries(
    st.sampled_from(["s0", "s1", "s2", "s3"]),
    st.tuples(
        st.integers(0, 10_000),
        st.fixed_dictionaries(
            {
                "players_online": st.integers(0, 50),
                "money_supply": st.integers(0, 10**9),
                "inflation_permille": st.integers(-1000, 1000),
            }
        ),
    ),
    max_size=4,
)


@given(kpi_docs)
def test_combining_is_a_sum_of_counts_whatever_the_order_and_a_mean_within_the_shards_range(
    shards: dict[str, tuple[int, dict[str, int]]],
) -> None:
    got = combine_kpis(shards)
    assert got == combine_kpis(dict(reversed(list(shards.items()))))
    if not shards:
        assert got == {}
        return
    kpis = [k for _, k in shards.values()]
    assert got["players_online"] == sum(k["players_online"] for k in kpis)
    assert got["money_supply"] == sum(k["money_supply"] for k in kpis)
    rates = [k["inflation_permille"] for k in kpis]
    assert min(rates) <= got["inflation_permille"] <= max(rates)
    if len(shards) == 1:
        assert got == kpis[0]


# -- the shards' signals reach the control's council ------------------------------------------------
class Recorded:
    """The real council's ``step``, its arguments kept on the way in."""

    def __init__(self, council: Any) -> None:
        self.step = council.step
        self.calls: list[tuple[list[dict[str, Any]], dict[str, Any], int]] = []

    def __call__(self, events: Any, kpis: Any, tick: int, world: Any = None) -> Any:
        self.calls.append((list(events), dict(kpis), tick))
        return self.step(events, kpis, tick, world)

    def events(self) -> list[dict[str, Any]]:
        return [e for events, _, _ in list(self.calls) for e in events]


@pytest.fixture
def plane(redis_server: RedisServer, tmp_path: Path) -> Iterator[tuple[ControlPlane, Recorded]]:
    runtime = Runtime(tmp_path / "data", ["neon"], RuntimeOptions(optimizer=False, input_log=False))
    stop = threading.Event()
    thread = None
    try:
        runtime._attach_ai()
        control = ControlPlane(redis_server.url, runtime, every_s=0.05, council_every_s=0.1)
        runner = runtime.runners["neon"]
        council = runner.council
        runner.call(lambda: council.director.set("human_in_the_loop", True, "test"))
        recorded = Recorded(council)
        council.step = recorded  # the real council, its inputs recorded
        thread = threading.Thread(target=control.run, args=(stop,), daemon=True)
        thread.start()
        yield control, recorded
    finally:
        stop.set()
        if thread is not None:
            thread.join(10)
            control.close()
        runtime.stop()


def test_the_controls_council_gets_both_shards_events_and_their_kpis_summed(
    plane: tuple[ControlPlane, Recorded], redis_server: RedisServer, tmp_path: Path
) -> None:
    control, recorded = plane
    shards = [Shard(redis_server.url, tmp_path / "data", n) for n in range(2)]
    try:
        r = control.controls["neon"].r
        for shard, who in zip(shards, ("Ana", "Bobo"), strict=True):  # one runner in each city
            r.xadd(keys.shard_in(shard.name), {"op": "enter", "c": who})
        wait_until(lambda: {e.get("shard") for e in recorded.events()} == {"neon-0", "neon-1"})
        for shard in ("neon-0", "neon-1"):  # each city's factions without a headquarters, once each
            hq = [e for e in recorded.events() if e["kind"] == "faction_without_hq" and e["shard"] == shard]
            assert len(hq) == len({e["faction"] for e in hq}) > 0

        def both_online() -> Any:
            return next((k for _, k, _ in reversed(recorded.calls) if k.get("online_players") == 2), None)

        kpis = wait_until(both_online)  # the signals' own count, summed over the shards
        assert kpis["players_online"] == 2  # and the tick reports' count
        assert kpis["players"] == 2  # the characters each city knows, summed
        assert kpis["npcs"] == sum(s.game.world.count("Npc") for s in shards) > 0
        assert isinstance(kpis["money_supply"], int) and isinstance(kpis["inflation_permille"], int)
        assert kpis["tick"] > 0
        runner = control.runtime.runners["neon"]
        decided = runner.call(lambda: runner.council.store.decisions(500))
        assert decided  # the director acted on what the shards saw
    finally:
        for shard in shards:
            shard.halt()


def test_with_redis_away_the_council_steps_with_what_it_has_and_the_shard_keeps_its_signals(
    redis_server: RedisServer, neon_gov: Governor, tmp_path: Path
) -> None:
    world = build_world("neon", 5)
    link = ShardLink(redis_server.url, "neon", "neon-0", tmp_path / "data" / "neon")
    control = WorldControl(redis_server.url, "neon", neon_gov)
    try:
        world.step()
        link.read_signals(world, 1)
        assert link.refresh() and link.signals_sent == 1
        events, kpis, _ = control.council_input()
        assert events and all(e["shard"] == "neon-0" for e in events)
        assert kpis["npcs"] == world.count("Npc")
        redis_server.kill()
        assert control.poll()["reachable"] is False
        t0 = time.monotonic()
        events, kpis_away, _ = control.council_input()  # never raises, never waits on a Redis found away
        assert time.monotonic() - t0 < 0.5
        assert events == [] and kpis_away["npcs"] == kpis["npcs"]  # the last it heard, still fresh
        world.step()
        link.read_signals(world, 1)
        assert link.refresh() is False and link.signals_sent == 1  # kept for later
        redis_server.start()
        assert link.refresh() and link.signals_sent == 2
        assert control.poll()["reachable"]
        _, kpis_back, _ = control.council_input()
        assert control.signal_kpis["neon-0"][1] == world.tick and kpis_back["npcs"] == world.count("Npc")
    finally:
        control.close()
        link.close()


def test_a_restarted_control_goes_on_from_its_cursor_and_never_replays_events_given_before(
    redis_server: RedisServer, neon_gov: Governor, tmp_path: Path
) -> None:
    world = build_world("neon", 5)
    link = ShardLink(redis_server.url, "neon", "neon-0", tmp_path / "data" / "neon")
    first = WorldControl(redis_server.url, "neon", neon_gov)
    try:
        world.step()
        link.read_signals(world, 1)
        assert link.refresh()
        events, _, _ = first.council_input()
        assert {e["kind"] for e in events} == {"faction_without_hq"}
    finally:
        first.close()
    world.step()
    link.read_signals(world, 1)  # sent while no control runs
    assert link.refresh() and link.signals_sent == 2
    again = WorldControl(redis_server.url, "neon", neon_gov)
    try:
        events, kpis, _ = again.council_input()
        assert events == []  # the factions were told of once, to the life before
        assert again.signal_kpis["neon-0"][1] == world.tick and kpis["npcs"] == world.count("Npc")
    finally:
        again.close()
        link.close()
