"""Shards follow the world's governed folder over a real Redis: the control side publishes each
shard's version, the shards switch at a tick boundary with the content read from the ledger, and
their tick reports come back. Redis killed: the cities keep ticking, activations are denied
(exit 2, audited); Redis back: the activation goes through and reaches every shard. A shard out of
touch for 30 s (an injected clock) leaves an unpromoted rollout's treatment on its own."""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ouroboros.cluster import keys
from ouroboros.cluster.control import WorldControl
from ouroboros.cluster.follow import OFFLINE_GUARD, REVERT_AFTER_S, ShardLink, Wanted, target_version
from ouroboros.cluster.redis_server import RedisServer
from ouroboros.cluster.shard import ShardHost, open_live_game, run_shard
from ouroboros.errors import PatchError
from ouroboros.patches.governor import Governor
from ouroboros.patches.states import State
from ouroboros.rollout.driver import RolloutDriver
from ouroboros.rollout.kpis import KpiBook
from ouroboros.rollout.plan import parse_plan
from ouroboros.rollout.service import RolloutService
from ouroboros.worlds import build_world
from ouroboros.worlds.petri.systems import molbots
from tests.budgets import SLOW_MACHINE_TICK_MS
from tests.patches.conftest import make_bundle, params_content
from tests.rollout.conftest import STAGED_WORLD

REPO = Path(__file__).resolve().parents[2]
SPAWN = "neon.room.st_10_10"
NEON = {
    "world": "neon",
    "seed": 5,
    "config": {},
    "budgets": {
        "warmup_ticks": 3,
        "determinism_ticks": 4,
        "shadow_ticks": 10,
        "canary_ticks": 5,
        "tick_budget_ms": SLOW_MACHINE_TICK_MS,
    },
}


def wait_until(
    cond: Callable[[], Any], timeout_s: float = 30.0, every: Callable[[], Any] | None = None
) -> Any:
    """Poll ``cond`` (calling ``every`` between looks) until it holds or the deadline passes."""
    deadline = time.monotonic() + timeout_s
    while True:
        if every is not None:
            every()
        got = cond()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout_s} s: {cond}")
        time.sleep(0.02)


def described(description: str, version: str) -> dict[str, Any]:
    rooms = json.loads((REPO / "src/ouroboros/worlds/neon/base/rooms.json").read_text())["rooms"]
    room = copy.deepcopy(next(r for r in rooms if r["id"] == SPAWN))
    room["version"], room["description"] = version, description
    return {"rooms": [room]}


class Shard:
    """A neon shard in a thread, as ``ouroboros shard`` runs it: host, link, ticks."""

    def __init__(self, url: str, data: Path, n: int) -> None:
        self.name = f"neon-{n}"
        self.link = ShardLink(url, "neon", self.name, data / "neon", refresh_s=0.1)
        self.stop = threading.Event()
        ready = threading.Event()
        self.game: Any = None

        def ticks() -> None:  # the city's store belongs to the thread that ticks it
            self.game = open_live_game("neon", data / "shards" / self.name, seed=5, tick_hz=40.0)
            host = ShardHost(self.game, url, self.name)
            ready.set()
            try:
                run_shard(self.game, host, self.stop, 40.0, on_tick=self.link.on_tick(self.game))
            finally:
                self.link.close()

        self.threads = [
            threading.Thread(target=self.link.run, args=(self.stop,), daemon=True),
            threading.Thread(target=ticks, daemon=True),
        ]
        for t in self.threads:
            t.start()
        assert ready.wait(60)

    @property
    def version(self) -> str | None:
        return self.game.world.resources.get("gameplay_version")  # type: ignore[no-any-return]

    def halt(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(20)


@pytest.fixture
def neon_gov(tmp_path: Path) -> Iterator[Governor]:
    governor = Governor(tmp_path / "data" / "neon", world_defaults=NEON, environ={})
    governor.new_key("op", ["*"])
    yield governor
    governor.close()


@pytest.fixture
def shards(redis_server: RedisServer, tmp_path: Path, neon_gov: Governor) -> Iterator[list[Shard]]:
    running = [Shard(redis_server.url, tmp_path / "data", n) for n in range(2)]
    yield running
    for shard in running:
        shard.halt()


def test_an_activation_reaches_every_shard_and_their_reports_come_back(
    redis_server: RedisServer, neon_gov: Governor, shards: list[Shard]
) -> None:
    control = WorldControl(redis_server.url, "neon", neon_gov)
    try:
        wait_until(lambda: len(control.latest) == 2, every=control.poll)  # both registered and reporting
        assert control.shard_count == 2  # a control arm exists: the control's council stages by default
        doc = make_bundle(neon_gov, described("Rain hisses on a plaza rebuilt overnight.", "1.1.0"),
                          neon_gov.local_key("op"))  # fmt: skip
        assert neon_gov.submit(doc).state == State.ACTIVE
        patch = doc["patch_id"]
        wait_until(lambda: all(s.version == patch for s in shards), every=control.poll)
        wait_until(lambda: all(v["version"] == patch for v in control.latest.values()), every=control.poll)
        published = {s.name: Wanted.parse(control.r.get(keys.shard_version(s.name))) for s in shards}
        assert all(w == Wanted(patch, patch, None) for w in published.values())
    finally:
        control.close()


def test_without_redis_the_cities_tick_activations_are_denied_and_all_resumes_when_it_is_back(
    redis_server: RedisServer, neon_gov: Governor, shards: list[Shard]
) -> None:
    control = WorldControl(redis_server.url, "neon", neon_gov)
    op = neon_gov.local_key("op")
    try:
        wait_until(lambda: len(control.latest) == 2, every=control.poll)
        redis_server.kill()
        assert control.poll()["reachable"] is False
        ticks = [s.game.world.tick for s in shards]
        wait_until(lambda: all(s.game.world.tick > t + 20 for s, t in zip(shards, ticks, strict=True)))
        head = neon_gov.ledger.head()
        doc = make_bundle(neon_gov, described("A plaza no one was told of.", "1.1.0"), op)
        with pytest.raises(PatchError) as denied:
            neon_gov.submit(doc)
        assert denied.value.code == "activation_denied" and denied.value.exit_code == 2
        assert "cannot reach Redis" in denied.value.message
        audit = neon_gov.ledger.entries(kind="activation_denied")
        assert [e.seq for e in audit] == [head[0] + 1]  # the one entry the denial added
        assert neon_gov.active() is None and neon_gov.ledger.state_of(doc["patch_id"]) is None
        assert all(s.version is None for s in shards)  # still on the version they had
        redis_server.start()  # back, empty: the shards register again and are told again
        assert neon_gov.submit(doc).state == State.ACTIVE
        patch = doc["patch_id"]
        wait_until(lambda: all(s.version == patch for s in shards), every=control.poll)
        assert control.reachable
    finally:
        control.close()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


#: neon with room changes held for a person: a rooms patch is validated, and a rollout or the API
#: activates it
HELD_NEON = {**NEON, "budgets": {**NEON["budgets"], "human_domains": ["rooms"]}}  # type: ignore[dict-item]


def held_rooms_patch(gov: Governor, description: str) -> str:
    """A rooms patch with ``description``, validated and held: its patch id."""
    gov.new_key("op", ["*"])
    doc = make_bundle(gov, described(description, "1.1.0"), gov.local_key("op"))
    assert gov.submit(doc).state == State.VALIDATED
    return str(doc["patch_id"])


def staged_dish_patch(gov: Governor) -> tuple[str, Any]:
    """A warmer dish, validated and staged at 50 %: its patch id and its rollout."""
    gov.new_key("op", ["*"])
    doc = make_bundle(gov, params_content(33, "1.0.1"), gov.local_key("op"))
    assert gov.submit(doc).state == State.VALIDATED
    patch = str(doc["patch_id"])
    return patch, RolloutService(gov).start(patch, parse_plan("50,100"), "alice", "stage it")


def test_a_shard_out_of_touch_for_30_s_leaves_an_unpromoted_treatment_on_its_own(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    gov = Governor(tmp_path / "data" / "petri", world_defaults=STAGED_WORLD, environ={})
    try:
        patch, rollout = staged_dish_patch(gov)
        clock = Clock()
        link = ShardLink(redis_server.url, "petri", "petri-0", tmp_path / "data" / "petri", clock=clock)
        world = build_world("petri", 7, {"entities": 60})
        wanted = Wanted(patch, None, rollout.rollout_id)
        link.r.set(keys.shard_version("petri-0"), wanted.as_json())
        assert link.refresh()
        link.at_tick(world, 1.0)
        world.step()
        assert world.resources["gameplay_version"] == patch
        redis_server.kill()
        clock.now += REVERT_AFTER_S - 1
        assert link.refresh() is False
        link.at_tick(world, 1.0)
        world.step()
        assert world.resources["gameplay_version"] == patch  # 29 s: it holds on
        clock.now += 1
        assert link.refresh() is False
        link.at_tick(world, 1.0)
        world.step()
        assert world.resources.get("gameplay_version") is None  # 30 s: back to the stable (base) version
        assert world.resources["params"]["temperature"] == 20
        redis_server.start()
        link.r.set(keys.shard_version("petri-0"), wanted.as_json())  # the control still says treatment
        assert link.refresh()
        link.at_tick(world, 1.0)
        world.step()
        assert world.resources.get("gameplay_version") is None  # it stays off this rollout
        control = WorldControl(redis_server.url, "petri", gov)
        control.read_reports()
        assert [(s, g) for s, g, _ in control.guards] == [("petri-0", OFFLINE_GUARD)]
        control.close()
        link.close()
    finally:
        gov.close()


def test_a_shard_on_the_treatment_that_breaks_an_invariant_reports_it_once_and_the_control_rolls_back(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    gov = Governor(tmp_path / "data" / "petri", world_defaults=STAGED_WORLD, environ={})
    try:
        patch, rollout = staged_dish_patch(gov)
        link = ShardLink(redis_server.url, "petri", "petri-0", tmp_path / "data" / "petri")
        world = build_world("petri", 7, {"entities": 60})
        link.r.set(keys.shard_version("petri-0"), Wanted(patch, None, rollout.rollout_id).as_json())
        assert link.refresh()
        link.at_tick(world, 1.0)
        world.step()
        assert world.resources["gameplay_version"] == patch
        mb = molbots(world)
        assert mb is not None
        mb["DNA.mutation_permille"][0] = 999  # out of its bounds: no tick puts it back
        for _ in range(3):
            link.at_tick(world, 1.0)
            world.step()
        assert link.refresh()  # the reports go
        book = KpiBook(ticks_per_second=40.0, tick_budget_ms=25.0)
        control = WorldControl(redis_server.url, "petri", gov, book=book)
        control.driver = RolloutDriver(RolloutService(gov), book, control.tick)
        control.read_reports()
        assert [(s, g) for s, g, _ in control.guards] == [("petri-0", "invariant_broken")]  # once
        assert gov.ledger.state_of(patch) == State.ROLLED_BACK
        rollbacks = gov.ledger.entries(patch_id=patch, kind="rollout_rollback")
        assert rollbacks[-1].evidence["fired"] == ["invariant_broken"]
        control.close()
        link.close()
    finally:
        gov.close()


def test_the_target_version() -> None:
    treat = Wanted("p2", "p1", "r1")
    assert target_version(None, "p1", 99.0, None) == ("p1", False)  # nothing published: the pointer
    assert target_version(treat, "p1", 29.9, None) == ("p2", False)
    assert target_version(treat, "p1", 30.0, None) == ("p1", True)
    assert target_version(treat, "p1", 0.0, "r1") == ("p1", True)  # reverted once: held back
    assert target_version(Wanted("p2", "p2", None), None, 99.0, None) == ("p2", False)  # promoted: kept
    assert target_version(Wanted("p1", "p1", "r1"), None, 99.0, None) == ("p1", False)  # a control shard
    assert Wanted.parse("not json") is None and Wanted.parse('{"version": 3}') is None


def test_a_rollout_puts_one_shard_on_the_patch_and_a_shards_offline_revert_rolls_it_back(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    gov = Governor(tmp_path / "data" / "neon", world_defaults=HELD_NEON, environ={})
    running: list[Shard] = []
    control: WorldControl | None = None
    try:
        patch = held_rooms_patch(gov, "Half the city sees koi.")
        rollout = RolloutService(gov).start(patch, parse_plan("50,100"), "alice", "stage it")
        running = [Shard(redis_server.url, tmp_path / "data", n) for n in range(2)]
        book = KpiBook(ticks_per_second=40.0, tick_budget_ms=25.0)
        control = WorldControl(redis_server.url, "neon", gov, book=book)
        control.driver = RolloutDriver(RolloutService(gov), book, control.tick)
        wait_until(
            lambda: sorted(str(s.version) for s in running) == sorted([patch, "None"]), every=control.step
        )
        docs = [Wanted.parse(control.r.get(keys.shard_version(s.name))) for s in running]
        assert {d.rollout for d in docs if d is not None} == {rollout.rollout_id}
        # a shard that lost Redis for 30 s reverted on its own: its guard rolls the rollout back
        guard = [{"t": 10**9, "ms": 1.0, "v": patch, "f": 0, "g": OFFLINE_GUARD}]
        control.r.xadd(keys.world_ticks("neon"), {"s": "neon-9", "b": json.dumps(guard)})
        wait_until(lambda: all(s.version is None for s in running), every=control.step)
        assert gov.ledger.state_of(patch) == State.ROLLED_BACK
        assert RolloutService(gov).store.live() is None
    finally:
        for shard in running:
            shard.halt()
        if control is not None:
            control.close()
        gov.close()
