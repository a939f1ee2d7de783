"""The router: which version a player gets at login, sticky sessions, draining shards on a
promotion, and a rollback that moves everyone at the next tick boundary."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from ouroboros.rollout.controller import Phase, RolloutState
from ouroboros.rollout.plan import parse_plan
from ouroboros.rollout.router import Fleet, Router

PLAN = parse_plan("1,10,50,100")
SHARDS = ("neon-1", "neon-2", "neon-3", "neon-4")


def rollout(stage: int, phase: Phase = Phase.RUNNING, scope: str = "cohort") -> RolloutState:
    plan = parse_plan("1,10,50,100", scope=scope)
    return RolloutState("ro-7-abcdef0123", "p-new", "p-old", plan, phase, stage)


def fleet_at(router: Router) -> Fleet:
    return Fleet(router.desired(SHARDS))


def test_without_a_rollout_everyone_gets_the_stable_version() -> None:
    router = Router("p-old")
    _fleet, session, _ = router.login(Fleet(dict.fromkeys(SHARDS, "p-old")), "ann", 5)
    assert session.version == "p-old" and router.desired(SHARDS) == dict.fromkeys(SHARDS, "p-old")


def test_the_cohort_decides_the_version_and_login_finds_a_shard_running_it() -> None:
    router = Router("p-old", rollout(1))  # 10 %
    desired = router.desired(SHARDS)
    assert list(desired.values()).count("p-new") == 1
    fleet = Fleet(desired)
    got: dict[str | None, int] = {}
    for i in range(2000):
        fleet, session, _ = router.login(fleet, f"acct-{i}", 0)
        assert fleet.running[session.shard] == session.version == router.wanted_version(f"acct-{i}")
        got[session.version] = got.get(session.version, 0) + 1
    assert 150 < got["p-new"] < 250  # about 10 % of 2000


@given(n=st.integers(1, 12), stages=st.lists(st.integers(0, 3), min_size=2, max_size=4).map(sorted))
def test_promotion_only_adds_treatment_shards_and_keeps_a_control(n: int, stages: list[int]) -> None:
    shards = [f"s{i}" for i in range(n)]
    treated = []
    for stage in stages:
        phase = Phase.COMPLETE if stage == 3 else Phase.RUNNING
        desired = Router("p-old", rollout(stage, phase)).desired(shards)
        on = {s for s, v in desired.items() if v == "p-new"}
        assert on, "a live rollout has a treatment shard"
        if stage < 3 and n > 1:
            assert len(on) < n, "a control shard stays until the last stage"
        treated.append(on)
    for a, b in itertools.pairwise(treated):
        assert a <= b


def test_a_live_session_keeps_its_version_through_a_promotion_and_its_shard_drains() -> None:
    first = Router("p-old", rollout(0))
    fleet = fleet_at(first)
    controls = [a for a in (f"acct-{i}" for i in range(400)) if first.wanted_version(a) == "p-old"]
    for account in controls[:60]:
        fleet, _, _ = first.login(fleet, account, 0)
    later = Router("p-old", rollout(2))  # 50 %: more shards should run the patch
    fleet, moves = later.step(fleet, 10)
    assert moves == []
    draining = [s for s, v in later.desired(SHARDS).items() if v != fleet.running[s]]
    assert draining, "some control shard must switch to the patch"
    for account in controls[:60]:
        fleet, session, why = later.login(fleet, account, 11)
        assert session.version == "p-old" and why.startswith("sticky")
    newcomer = next(a for a in controls[60:] if later.wanted_version(a) == "p-old")
    fleet, session, _ = later.login(fleet, newcomer, 12)
    assert session.shard not in draining  # nobody new lands on a draining shard
    for account in [s.account_id for s in fleet.sessions.values() if s.shard in draining]:
        fleet = later.logout(fleet, account)  # the session boundary
    fleet, _ = later.step(fleet, 20)
    assert fleet.running == later.desired(SHARDS)


def test_a_rollback_moves_every_session_at_the_next_tick_boundary() -> None:
    live = Router("p-old", rollout(2))
    fleet = fleet_at(live)
    for i in range(300):
        fleet, _, _ = live.login(fleet, f"acct-{i}", 0)
    on_patch = {a for a, s in fleet.sessions.items() if s.version == "p-new"}
    assert on_patch
    back = Router("p-old", rollout(2, Phase.ROLLED_BACK))
    fleet, moves = back.step(fleet, 50)
    assert {m.account_id for m in moves} == on_patch and all(m.after == "p-old" for m in moves)
    assert set(fleet.running.values()) == {"p-old"}
    assert all(s.version == "p-old" for s in fleet.sessions.values())
    assert all(m.tick == 50 for m in moves)


def test_an_abort_is_a_rollback_too() -> None:
    fleet = fleet_at(Router("p-old", rollout(1)))
    fleet, _ = Router("p-old", rollout(1, Phase.ABORTED)).step(fleet, 1)
    assert set(fleet.running.values()) == {"p-old"}


def test_no_shard_running_the_treatment_yet_means_the_stable_version() -> None:
    router = Router("p-old", rollout(2))
    fleet = Fleet(dict.fromkeys(SHARDS, "p-old"))  # the shards have not switched yet
    treated = next(f"acct-{i}" for i in range(100) if router.wanted_version(f"acct-{i}") == "p-new")
    fleet, session, why = router.login(fleet, treated, 0)
    assert session.version == "p-old" and "no shard runs p-new yet" in why


def test_idle_sessions_end_and_the_next_login_routes_afresh() -> None:
    router = Router("p-old", rollout(0))
    fleet = fleet_at(router)
    fleet, _, _ = router.login(fleet, "ann", 0)
    fleet, _, _ = router.login(fleet, "bob", 0)
    fleet = router.touch(fleet, "bob", 90)
    fleet = router.expire(fleet, 100, idle_ticks=50)
    assert set(fleet.sessions) == {"bob"}


def test_shard_scope_fills_the_least_loaded_shard() -> None:
    router = Router("p-old", rollout(0, scope="shard"))
    fleet = fleet_at(router)
    for i in range(8):
        fleet, _, _ = router.login(fleet, f"acct-{i}", 0)
    assert sorted(len(fleet.on(s)) for s in SHARDS) == [2, 2, 2, 2]
    assert {s.version for s in fleet.sessions.values()} == {"p-old", "p-new"}


def test_a_complete_rollout_puts_every_shard_on_the_patch() -> None:
    fleet = Fleet(dict.fromkeys(SHARDS, "p-old"))
    done = Router("p-old", rollout(3, Phase.COMPLETE))
    fleet, moves = done.step(fleet, 1)
    assert set(fleet.running.values()) == {"p-new"} and moves == []
