"""``RoutedGame``: the gateway in front of all of a world's shards routes logins by the route the
control publishes and the versions the shards say they run; a rolled-back shard's players are told
once, after the shard said it runs the stable version, and stay on it. No Redis here: the shards'
operations wait in each ``RemoteGame``'s outbox (never sent), and ``follow`` is given what one
``MGET`` would read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from typer.testing import CliRunner

from ouroboros import cli
from ouroboros.cluster.control import route_doc
from ouroboros.cluster.routed import RoutedGame
from ouroboros.rollout.cohorts import bucket
from ouroboros.rollout.controller import Phase, RolloutState
from ouroboros.rollout.plan import parse_plan
from ouroboros.rollout.router import Router
from tests.cli.conftest import one_error_line

PATCH = "p-koi"
SHARDS = ("neon-0", "neon-1")
LIVE = RolloutState("ro-1-abcdef0123", PATCH, None, parse_plan("50,100"), Phase.RUNNING, stage=0)
ROLLED_BACK = RolloutState(
    "ro-1-abcdef0123", PATCH, None, parse_plan("50,100"), Phase.ROLLED_BACK, stage=0, reason="breach"
)
TOLD = "The city shifts around you: a change was rolled back."


def said(version: str | None) -> str:
    return json.dumps({"v": version, "b": "boot"})


def in_cohort(treated: bool, n: int = 1) -> list[str]:
    names = (f"Runner{i}" for i in range(10_000))
    return [name for name in names if (bucket(LIVE.rollout_id, name) < 5000) == treated][:n]


class Gateway:
    def __init__(self) -> None:
        self.game = RoutedGame("redis://127.0.0.1:1/0", "neon", SHARDS, "gw-test", noun="city")
        self.told: list[tuple[str, str]] = []
        self.game.subscribe(lambda who, events: self.told.extend((who, e.get("text", "")) for e in events))

    def follow(
        self, rollout: RolloutState | None, draining: tuple[str, ...] = (), **running: str | None
    ) -> None:
        """What the control and the shards said: ``neon_0="p"`` (None: base; absent: nothing)."""
        self.game.follow(
            route_doc(Router(None, rollout), draining), {s: running.get(s.replace("-", "_")) for s in SHARDS}
        )

    def lines(self, who: str) -> int:
        return sum(text == TOLD for name, text in self.told if name == who)

    def sent(self, shard: str) -> list[dict[str, str]]:
        return list(self.game.remotes[shard]._outbox)


def test_logins_follow_the_cohort_and_a_rollback_is_told_once_after_the_shard_switched() -> None:
    gw = Gateway()
    gw.follow(LIVE, neon_0=said(PATCH), neon_1=said(None))
    (treated,), (control,) = in_cohort(True), in_cohort(False)
    gw.game.enter(treated)
    gw.game.enter(control)
    assert gw.game.shard_of(treated) == "neon-0" and gw.game.shard_of(control) == "neon-1"
    assert [op["op"] for op in gw.sent("neon-0")] == ["enter"] and gw.sent("neon-0")[0]["c"] == treated
    gw.game.command(treated, "look")
    assert [op.get("line") for op in gw.sent("neon-0")] == [None, "look"]

    gw.follow(ROLLED_BACK, neon_0=said(PATCH), neon_1=said(None))  # the shard has not switched yet
    assert gw.lines(treated) == 0
    gw.follow(ROLLED_BACK, neon_1=said(None))  # neon-0 says nothing (restarting): not a switch
    assert gw.lines(treated) == 0
    gw.follow(ROLLED_BACK, neon_0=said(None), neon_1=said(None))  # it runs the stable version now
    gw.follow(ROLLED_BACK, neon_0=said(None), neon_1=said(None))
    assert gw.lines(treated) == 1 and gw.lines(control) == 0
    assert gw.game.shard_of(treated) == "neon-0" and gw.game.present(treated)  # stays on its shard
    assert gw.game.fleet.sessions[treated].version is None
    # after the rollback, a new login of the treatment cohort goes to the stable version, anywhere
    (late,) = in_cohort(True, 2)[1:]
    gw.game.enter(late)
    assert gw.game.fleet.sessions[late].version is None


def test_a_promotion_takes_a_shard_with_its_sessions_and_a_bad_route_keeps_the_router() -> None:
    gw = Gateway()
    gw.follow(None, neon_0=said(None), neon_1=said(None))
    players = in_cohort(True, 2) + in_cohort(False, 2)
    for name in players:
        gw.game.enter(name)
    gw.follow(LIVE, neon_0=said(PATCH), neon_1=said(None))  # the control put neon-0 on the patch
    assert gw.game.fleet.running == {"neon-0": PATCH, "neon-1": None}
    assert all(s.version == gw.game.fleet.running[s.shard] for s in gw.game.fleet.sessions.values())
    gw.game.follow("not json", {})
    assert gw.game.router.rollout == LIVE
    gw.game.follow(json.dumps({"stable": 3, "rollout": None}), {})
    assert gw.game.router.rollout == LIVE
    assert gw.told == []


def test_no_new_login_goes_to_a_shard_the_promotion_drains_until_it_runs_the_patch() -> None:
    gw = Gateway()
    (promoted,) = [s for s, v in Router(None, LIVE).desired(SHARDS).items() if v == PATCH]
    (other,) = set(SHARDS) - {promoted}
    gw.follow(None, neon_0=said(None), neon_1=said(None))
    for sitter in in_cohort(False, 2):  # one on each shard (the least loaded)
        gw.game.enter(sitter)
    on_promoted = gw.game.fleet.on(promoted)
    assert on_promoted  # someone sits on the shard the rollout will promote
    # the control holds it on the stable version while it drains: nobody new lands there
    gw.follow(LIVE, (promoted,), neon_0=said(None), neon_1=said(None))
    late = in_cohort(True, 4) + in_cohort(False, 6)[2:]
    for name in late:
        gw.game.enter(name)
    assert {gw.game.shard_of(name) for name in late} == {other}
    assert gw.game.fleet.on(promoted) == on_promoted  # the live sessions stayed where they were
    assert all(op["c"] not in late for op in gw.sent(promoted))
    # drained and told to switch, the shard has not said it runs the patch yet: still closed
    for session in on_promoted:
        gw.game.leave(session.account_id)
    gw.follow(LIVE, (promoted,), neon_0=said(None), neon_1=said(None))
    (early,) = in_cohort(True, 5)[4:]
    gw.game.enter(early)
    assert gw.game.shard_of(early) == other
    # it runs the patch now: the treatment cohort's next login goes there
    says = {promoted.replace("-", "_"): said(PATCH), other.replace("-", "_"): said(None)}
    gw.follow(LIVE, (promoted,), **says)
    (treated,) = in_cohort(True, 6)[5:]
    gw.game.enter(treated)
    assert gw.game.shard_of(treated) == promoted and gw.game.fleet.sessions[treated].version == PATCH
    assert gw.told == []


Version = st.sampled_from([PATCH, None, "missing"])


class RoutedMachine(RuleBasedStateMachine):
    """Any order of routes, shard reports (or none), logins, commands and leaves: each player on a
    shard that left the rolled-back patch is told exactly once, every other player never; nobody is
    moved off their shard."""

    def __init__(self) -> None:
        super().__init__()
        self.gw = Gateway()
        self.rollout: RolloutState | None = LIVE
        self.expected: dict[str, int] = {}
        self.shard_at_login: dict[str, str] = {}
        self.draining: tuple[str, ...] = ()

    @rule(
        rollout=st.sampled_from([LIVE, ROLLED_BACK, None]),
        v0=Version,
        v1=Version,
        draining=st.sampled_from([(), SHARDS[:1], SHARDS[1:], SHARDS]),
    )
    def follow(self, rollout: RolloutState | None, v0: Any, v1: Any, draining: tuple[str, ...]) -> None:
        before = dict(self.gw.game.fleet.running)
        reports = {s: v for s, v in zip(SHARDS, (v0, v1), strict=True) if v != "missing"}
        self.gw.game.follow(
            route_doc(Router(None, rollout), draining),
            {s: said(reports[s]) if s in reports else None for s in SHARDS},
        )
        self.draining = draining
        for shard, now in reports.items():
            if rollout is ROLLED_BACK and before[shard] == PATCH and now != PATCH:
                for session in self.gw.game.fleet.on(shard):
                    self.expected[session.account_id] = self.expected.get(session.account_id, 0) + 1
        self.rollout = rollout

    @rule(name=st.sampled_from([f"Runner{i}" for i in range(6)]))
    def login(self, name: str) -> None:
        if self.gw.game.shard_of(name) is None:
            self.gw.game.enter(name)
            shard = self.gw.game.shard_of(name)
            assert shard is not None
            self.shard_at_login[name] = shard
            # a shard a promotion drains takes no new login until it runs the patch (every shard
            # draining: the fail-safe stable version, as in one process)
            running = self.gw.game.fleet.running
            closed = set()
            if self.rollout is LIVE:
                closed = {s for s in self.draining if running[s] != PATCH}
            if closed != set(SHARDS):
                assert shard not in closed, (shard, self.draining, running)

    @rule(name=st.sampled_from([f"Runner{i}" for i in range(6)]))
    def leave(self, name: str) -> None:
        self.gw.game.leave(name)
        self.shard_at_login.pop(name, None)

    @invariant()
    def told_as_expected(self) -> None:
        for name in {n for n, _ in self.gw.told} | set(self.expected):
            assert self.gw.lines(name) == self.expected.get(name, 0), name

    @invariant()
    def nobody_moved_shard(self) -> None:
        for name, shard in self.shard_at_login.items():
            assert self.gw.game.shard_of(name) == shard


RoutedMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
TestRoutedGame = RoutedMachine.TestCase


@pytest.mark.parametrize(
    ("args", "said_line"),
    [
        ([], "name one shard"),
        (["--shard", "neon", "--world", "neon"], "name one shard"),
        (["--world", "petri", "--shards", "2"], "no players"),
        (["--world", "atlantis"], "unknown world"),
    ],
)
def test_the_gateway_refuses_bad_input_with_one_line_and_exit_2(
    args: list[str], said_line: str, tmp_path: Path
) -> None:
    got = CliRunner().invoke(
        cli.app, ["gateway", "--redis", "redis://127.0.0.1:1/0", "--data", str(tmp_path), *args]
    )
    assert got.exit_code == 2, got.output
    assert said_line in one_error_line(got.output)
