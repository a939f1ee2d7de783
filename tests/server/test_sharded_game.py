"""``ShardedGame``: one gateway's game over several shards, routed by the rollout's router.
Logins go where the player's cohort should be, sessions are sticky through a promotion, a
rollback moves everyone on the patch back at the next boundary (told once), and a character
enters a shard only after its record was moved there."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from ouroboros.rollout.controller import Phase, RolloutState
from ouroboros.rollout.plan import parse_plan
from ouroboros.rollout.router import Router
from ouroboros.server.gateway.game import Event
from ouroboros.server.gateway.sharded import ShardedGame
from tests.server.fakegame import FakeGame

PATCH = "p-rich"
SHARDS = ("s0", "s1", "s2", "s3")
LIVE = RolloutState("ro-test", PATCH, None, parse_plan("25,50,100"), Phase.RUNNING, stage=0)


class ShardFake(FakeGame):
    """A fake game with what a runner needs of a shard's game."""

    tick_hz = 10.0
    autosave_s = 30.0
    frozen: str | None = None

    def step(self) -> None:
        self.tick()

    def save(self) -> None: ...

    def close(self) -> None: ...

    def operators_stopped(self, why: str) -> None: ...

    def operators_resumed(self, why: str) -> None: ...

    def take_everyone_out(self) -> list[str]:
        out, self._present = sorted(self._present), set()
        return out


class Harness:
    def __init__(self, homes: dict[str, str] | None = None) -> None:
        self.games = {s: ShardFake(s) for s in SHARDS}
        self.tick = 0
        self.transfers: list[tuple[str, str | None, str]] = []
        self.told: list[tuple[str, list[Event]]] = []
        self.game = ShardedGame(
            self.games,
            dict.fromkeys(SHARDS),
            router=Router(None, None),
            tick=lambda: self.tick,
            transfer=lambda name, home, target: self.transfers.append((name, home, target)),
            homes=homes,
            noun="city",
        )
        self.game.subscribe(lambda name, events: self.told.append((name, events)))

    def boundary(self, rollout: RolloutState | None) -> dict[str, Any]:
        """A tick boundary following ``rollout``, then one tick of every shard."""
        running = self.game.boundary(Router(None, rollout), self.tick)
        self.game.step()
        self.tick += 1
        return running

    def rolled_back_lines(self, name: str) -> int:
        return sum(
            e.get("text") == "The city shifts around you: a change was rolled back."
            for who, events in self.told
            if who == name
            for e in events
        )


def names_wanting(rollout: RolloutState, version: str | None, count: int) -> list[str]:
    router = Router(None, rollout)
    out = [n for n in (f"player{i}" for i in range(500)) if router.wanted_version(n) == version]
    return out[:count]


def test_logins_go_to_a_shard_running_the_version_their_cohort_wants() -> None:
    h = Harness()
    running = h.boundary(LIVE)
    treated_shards = [s for s, v in running.items() if v == PATCH]
    assert len(treated_shards) == 1  # 25 % of four shards
    for name in names_wanting(LIVE, PATCH, 3):
        h.game.enter(name)
        assert h.game.shard_of(name) == treated_shards[0]
    for name in names_wanting(LIVE, None, 3):
        h.game.enter(name)
        assert h.game.shard_of(name) != treated_shards[0]
    h.boundary(LIVE)
    assert all(h.game.present(n) for n in h.game.fleet.sessions)
    # commands reach the session's shard and nowhere else
    someone = names_wanting(LIVE, PATCH, 1)[0]
    h.game.command(someone, "hello")
    h.boundary(LIVE)
    assert ("command", someone, "hello") in h.games[treated_shards[0]].applied
    others = [g for s, g in h.games.items() if s != treated_shards[0]]
    assert all(("command", someone, "hello") not in g.applied for g in others)


def test_a_session_is_sticky_through_a_promotion_and_its_shard_drains_first() -> None:
    h = Harness()
    h.boundary(LIVE)
    promoted = replace(LIVE, stage=1)  # 50 %: a second shard should run the patch
    wanted = Router(None, promoted).desired(SHARDS)
    newly = next(s for s in SHARDS if wanted[s] == PATCH and h.game.fleet.running[s] is None)
    # fill every stable shard so that a stable player lands on the one about to be promoted
    stable_players = names_wanting(LIVE, None, 12)
    for name in stable_players:
        h.game.enter(name)
    on_newly = [n for n in stable_players if h.game.shard_of(n) == newly]
    assert on_newly
    for _ in range(3):
        running = h.boundary(promoted)
        assert running[newly] is None  # draining: its players keep their version
        assert all(h.game.shard_of(n) == newly for n in on_newly)
    assert not any(h.rolled_back_lines(n) for n in stable_players)
    for name in on_newly:  # a session boundary
        h.game.leave(name)
    assert h.boundary(promoted)[newly] == PATCH  # drained: it switches at the next boundary


def test_a_rollback_moves_every_session_on_the_patch_at_the_next_boundary_told_once() -> None:
    h = Harness()
    running = h.boundary(LIVE)
    treated = next(s for s, v in running.items() if v == PATCH)
    rich = names_wanting(LIVE, PATCH, 4)
    plain = names_wanting(LIVE, None, 4)
    for name in rich + plain:
        h.game.enter(name)
    h.boundary(LIVE)
    rolled_back = replace(LIVE, phase=Phase.ROLLED_BACK)
    assert set(h.boundary(rolled_back).values()) == {None}
    assert [h.rolled_back_lines(n) for n in rich] == [1] * 4
    assert [h.rolled_back_lines(n) for n in plain] == [0] * 4
    assert all(h.game.fleet.sessions[n].version is None for n in rich)
    # the players stay where they are, on the shard now running the stable version, and play on
    assert all(h.game.shard_of(n) == treated for n in rich)
    h.game.command(rich[0], "look")
    h.boundary(rolled_back)
    assert ("command", rich[0], "look") in h.games[treated].applied
    assert [h.rolled_back_lines(n) for n in rich] == [1] * 4  # never told twice


def test_a_character_is_moved_to_the_shard_it_is_routed_to_before_it_enters() -> None:
    h = Harness(homes={"player1": "s3"})
    h.boundary(None)
    h.game.enter("player1")  # the least loaded shard is s0; its record lives in s3
    assert h.transfers == [("player1", "s3", "s0")] and h.game.homes["player1"] == "s0"
    h.game.enter("player2")  # nobody knows it yet: the transfer looks for it
    assert h.transfers[-1] == ("player2", None, "s1")
    h.game.leave("player1")
    h.game.enter("player1")  # back on its home shard: nothing to move
    assert h.game.shard_of("player1") == "s0" and len(h.transfers) == 2
    h.boundary(None)
    assert h.game.take_everyone_out() == ["player1", "player2"]
    assert h.game.fleet.sessions == {}


class ShardedGameMachine(RuleBasedStateMachine):
    """Players come and go, talk, and the rollout is promoted, rolled back or started again; at
    every step each session sits on a shard running its version, keeps its shard while it lives,
    and nobody is on the patch once it was rolled back."""

    def __init__(self) -> None:
        super().__init__()
        self.h = Harness()
        self.rollout: RolloutState | None = None
        self.rollouts = 0
        self.shard_when_entered: dict[str, str] = {}
        self.moves_expected: dict[str, int] = {}

    @rule(i=st.integers(0, 11))
    def enter(self, i: int) -> None:
        name = f"player{i}"
        before = self.h.game.shard_of(name)
        self.h.game.enter(name)
        shard = self.h.game.shard_of(name)
        assert shard is not None and (before is None or before == shard)
        self.shard_when_entered.setdefault(name, shard)
        assert self.h.game.homes[name] == shard

    @rule(i=st.integers(0, 11))
    def leave(self, i: int) -> None:
        name = f"player{i}"
        self.h.game.leave(name)
        self.shard_when_entered.pop(name, None)
        assert self.h.game.shard_of(name) is None

    @rule(i=st.integers(0, 11))
    def command(self, i: int) -> None:
        self.h.game.command(f"player{i}", "look")

    @rule()
    def start_or_promote(self) -> None:
        if self.rollout is None or self.rollout.phase is not Phase.RUNNING:
            self.rollouts += 1
            self.rollout = replace(LIVE, rollout_id=f"ro-{self.rollouts}", phase=Phase.RUNNING, stage=0)
        elif self.rollout.stage < 1:  # 25 % → 50 % (100 % is the patch made active: not here)
            self.rollout = replace(self.rollout, stage=self.rollout.stage + 1)

    @rule(phase=st.sampled_from([Phase.ROLLED_BACK, Phase.ABORTED]))
    def end(self, phase: Phase) -> None:
        if self.rollout is not None and self.rollout.phase is Phase.RUNNING:
            self.rollout = replace(self.rollout, phase=phase)

    @rule()
    def boundary(self) -> None:
        on_patch = {n for n, s in self.h.game.fleet.sessions.items() if s.version == PATCH}
        self.h.boundary(self.rollout)
        if self.rollout is not None and self.rollout.phase in (Phase.ROLLED_BACK, Phase.ABORTED):
            assert PATCH not in self.h.game.fleet.running.values()
            for name in on_patch:
                self.moves_expected[name] = self.moves_expected.get(name, 0) + 1

    @invariant()
    def sessions_sit_where_their_version_runs(self) -> None:
        fleet = self.h.game.fleet
        for name, session in fleet.sessions.items():
            assert fleet.running[session.shard] == session.version
            assert session.shard == self.shard_when_entered[name]  # sticky while it lives

    @invariant()
    def each_move_is_told_once(self) -> None:
        for name in {f"player{i}" for i in range(12)}:
            assert self.h.rolled_back_lines(name) == self.moves_expected.get(name, 0)


def test_sharded_game_keeps_its_promises_under_any_sequence() -> None:
    settings(max_examples=60, stateful_step_count=40, deadline=None)(ShardedGameMachine).TestCase().runTest()
