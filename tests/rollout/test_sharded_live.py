"""Shards of one world inside a runtime as ``ouroboros go --shards neon=2`` builds it, played over
real telnet connections: players are routed to shards, a staged patch that inflates the economy
is rolled back on its money-supply KPI, and every player on it is moved back, told, and goes on."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ouroboros.patches.states import State
from ouroboros.rollout.analysis import Check
from ouroboros.rollout.controller import Phase
from ouroboros.rollout.plan import parse_plan
from ouroboros.rollout.router import Router
from ouroboros.rollout.service import RolloutService
from ouroboros.server.runtime import Runtime, RuntimeOptions
from ouroboros.server.runtime.runner import WorldRunner
from tests.patches.conftest import FAST_BUDGETS
from tests.server.live import RawTelnet

ROLLED_BACK = "The city shifts around you: a change was rolled back."
PACE = 20
WINDOW_TICKS = 20


def options(**changes: Any) -> RuntimeOptions:
    base: dict[str, Any] = {
        "ticks_per_second": PACE,
        "telnet_port": 0,
        "ws_port": 0,
        "optimizer": False,
        "council": False,
        "event_log": False,
        "input_log": False,
        "shards": {"neon": 2},
        # parameter changes wait for a person: the validated state a rollout starts from
        "governance_budgets": {**FAST_BUDGETS, "human_domains": ["world_params"]},
    }
    return RuntimeOptions(**(base | changes))


@pytest.fixture
def city(tmp_path: Path) -> Iterator[WorldRunner]:
    runtime = Runtime(tmp_path / "data", ["neon"], options())
    runtime.start()
    try:
        yield runtime.runner("neon")
    finally:
        runtime.stop()
    assert runtime.runner("neon").error is None


def wait_for(check: Callable[[], bool], timeout_s: float = 20.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        time.sleep(0.02)


async def until(check: Callable[[], bool], timeout_s: float = 20.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        await asyncio.sleep(0.02)


class Player:
    """A telnet player: what it saw, and a command that waits for its answer (the prompt)."""

    def __init__(self, client: RawTelnet, name: str) -> None:
        self.client, self.name = client, name

    @classmethod
    async def create(cls, port: int, name: str) -> Player:
        client = await RawTelnet.connect(port)
        await client.expect("create")
        player = cls(client, name)
        await player.do(f"create {name} correct-horse", "Exits:")
        return player

    async def do(self, line: str, answer: str = "cr>", timeout_s: float = 15.0) -> list[str]:
        start = len(self.client.lines)
        self.client.send_line(line)
        await self.client.read_until(lambda c: any(answer in x for x in c.lines[start:]), timeout_s)
        return self.client.lines[start:]

    @classmethod
    async def connect(cls, port: int, name: str) -> Player:
        client = await RawTelnet.connect(port)
        await client.expect("create")
        player = cls(client, name)
        await player.do(f"connect {name} correct-horse", "Exits:")
        return player

    def saw(self, text: str) -> int:
        """How many lines read so far hold ``text``."""
        return sum(text in line for line in self.client.lines)


def shards(runner: WorldRunner) -> list[dict[str, Any]]:
    return list(runner.stats()["shards"])


def test_go_with_two_neon_shards_serves_two_players_one_on_each(city: WorldRunner) -> None:
    async def play() -> None:
        port = city.ports["telnet"]
        alice, bobby = await Player.create(port, "Alice"), await Player.create(port, "Bobby")
        assert "Lantern Plaza" in "\n".join(await alice.do("look"))
        assert "Lantern Plaza" in "\n".join(await bobby.do("look"))
        assert [s["players"] for s in shards(city)] == [1, 1]  # the least loaded shard each
        assert city.game is not None and city.game.shard_of("Alice") == "neon-0"  # type: ignore[attr-defined]
        walked = "\n".join(await alice.do("n"))
        assert "Lantern Plaza" not in walked
        await alice.do("quit", "jack out")
        carol = await Player.create(port, "Carol")  # neon-0 is the least loaded now
        await bobby.do("quit", "jack out")
        # Alice comes back: neon-1 is the least loaded, so her record moves there before she enters
        again = await Player.connect(port, "Alice")
        assert city.game.shard_of("Alice") == "neon-1"  # type: ignore[attr-defined]
        assert walked.splitlines()[0] in "\n".join(await again.do("look"))  # where she walked to
        for p in (alice, bobby, carol, again):
            p.client.close()

    asyncio.run(asyncio.wait_for(play(), 60))
    status = shards(city)
    assert [s["shard"] for s in status] == ["neon-0", "neon-1"]
    assert all(s["version"] is None and s["tick"] > 0 for s in status)
    assert (city.folder / "shards" / "1" / "neon.db").exists()


def cohort_names(runner: WorldRunner, patch: str) -> tuple[list[str], list[str]]:
    """Player names whose cohort wants the patch, and names whose cohort keeps the stable version."""
    live = runner.call(lambda: RolloutService(runner.governor).store.live())
    assert live is not None
    router = Router(None, live)
    treated, control = [], []
    for i in range(200):
        name = "Runner" + "".join(chr(97 + int(d)) for d in f"{i:03d}")
        (treated if router.wanted_version(name) == patch else control).append(name)
    return treated, control


def test_an_inflating_patch_staged_on_one_shard_rolls_back_and_moves_its_players(city: WorldRunner) -> None:
    port = city.ports["telnet"]

    async def residents() -> None:  # a character on each shard: money on both sides from the start
        both = [await Player.create(port, name) for name in ("Resa", "Resb")]
        for resident in both:
            await resident.do("quit", "jack out")
            resident.client.close()

    asyncio.run(asyncio.wait_for(residents(), 60))
    wait_for(lambda: [s["players"] for s in shards(city)] == [0, 0], what="the residents to leave")

    verdict = city.governance.set_params({"start_credits": 50_000}, "op", "a rich start")
    assert verdict["state"] == "validated", verdict
    patch = str(verdict["patch_id"])
    plan = parse_plan(
        "50,100",
        window_ticks=WINDOW_TICKS,
        min_exposures=1,
        threshold=1,
        windows_per_stage=1000,  # it never promotes here: only a breach ends it
        checks=(Check("money_supply_growth_permille", margin=20.0),),
    )
    city.call(lambda: RolloutService(city.governor).start(patch, plan, "op", "stage a rich start"))
    wait_for(lambda: sum(s["version"] == patch for s in shards(city)) == 1, what="a shard on the patch")
    treatment = next(s["shard"] for s in shards(city) if s["version"] == patch)
    treated, control = cohort_names(city, patch)

    async def play() -> None:
        dana = await Player.create(port, control[0])
        start = city.world.tick  # a window with Dana online and her arrival behind it
        await until(lambda: city.world.tick >= start + 2 * WINDOW_TICKS, what="a quiet window")
        # the control thread waits while the rich arrive, so that all three are on the patch when it
        # judges the windows they arrived in (the shards tick and report meanwhile)
        gate = threading.Event()
        city.post(gate.wait, 30)
        try:
            rich = [await Player.create(port, name) for name in treated[:3]]
            for p in rich:  # made on the patch: a rich start
                assert any("50000cr>" in line for line in await p.do("look"))
        finally:
            gate.set()
        assert city.game is not None
        assert [city.game.shard_of(p.name) for p in rich] == [treatment] * 3  # type: ignore[attr-defined]
        assert city.game.shard_of(dana.name) != treatment  # type: ignore[attr-defined]
        for p in rich:
            await p.client.expect(ROLLED_BACK, timeout_s=30)
        assert [p.saw(ROLLED_BACK) for p in rich] == [1, 1, 1] and dana.saw(ROLLED_BACK) == 0
        # every player is still connected and answered; the treatment shard runs the stable version
        for p in [*rich, dana]:
            assert "Lantern Plaza" in "\n".join(await p.do("look"))
            assert not p.client.eof
        assert {s["version"] for s in shards(city)} == {None}
        late = await Player.create(port, treated[3])  # a new character starts as the stable version says
        assert any("200cr>" in line for line in await late.do("look"))
        for p in [*rich, dana, late]:
            p.client.close()

    asyncio.run(asyncio.wait_for(play(), 90))

    def recorded() -> tuple[Any, Any, list[Any]]:
        gov = city.governor
        state = RolloutService(gov).store.rollouts()[-1]
        return state, gov.ledger.state_of(patch), gov.ledger.entries(patch_id=patch, kind="rollout_rollback")

    state, patch_state, rollbacks = city.call(recorded)
    assert state.phase is Phase.ROLLED_BACK and patch_state == State.ROLLED_BACK
    assert rollbacks[-1].evidence["fired"] == ["money_supply_growth_permille"]
