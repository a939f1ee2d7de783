"""What ``ouroboros go``'s runtime keeps straight across changes and restarts: neon's parameters
(bounded, changed any number of times, a new ``tick_hz`` paced live, a refused change reported as
refused, with the operator's reason in the ledger), STOP across a restart, and one clean-state
snapshot per world (taken when the world starts new, not on every resume)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from ouroboros.errors import BadInputError, RejectedError, WorldError
from ouroboros.server.api import AuthStore, create_app
from ouroboros.server.runtime import Runtime, RuntimeOptions
from ouroboros.server.runtime.governance import REASON_ENTRY, ParamsRejected
from ouroboros.server.runtime.snapshots import CLEAN_LABEL
from ouroboros.worlds.neon.gameplay import check_content
from ouroboros.worlds.neon.params import DEFAULT_PARAMS, PARAMS, check_param
from tests.server.api.conftest import FAST_BUDGETS, wait_for

QUIET = RuntimeOptions(
    ticks_per_second=20,
    world_configs={"petri": {"entities": 20}},
    telnet_port=0,
    ws_port=0,
    optimizer=False,
    council=False,
    governance_budgets=FAST_BUDGETS,
)


def _runtime(data: Path, *worlds: str, **changes: Any) -> Runtime:
    options = RuntimeOptions(**{**QUIET.__dict__, **changes})
    return Runtime(data, worlds=worlds or ("neon",), options=options)


@pytest.fixture
def neon(tmp_path: Path) -> Iterator[Runtime]:
    runtime = _runtime(tmp_path, "neon")
    try:
        yield runtime
    finally:
        runtime.stop()


def _ledger(runtime: Runtime, world: str, fn: Callable[[Any], Any]) -> Any:
    r = runtime.runner(world)
    return r.call(lambda: fn(r.governor))


# -- neon's parameters are bounded ------------------------------------------------------------------
@given(st.sampled_from(sorted(PARAMS)), st.integers(min_value=-(10**12), max_value=10**12))
def test_a_neon_param_is_taken_exactly_within_its_bounds(name: str, value: int) -> None:
    p = PARAMS[name]
    if p.low <= value <= p.high:
        assert check_param(name, value) == (name, value)
    else:
        with pytest.raises(WorldError, match=f"{name}={value} is outside"):
            check_param(name, value)


@given(st.one_of(st.text(max_size=20), st.integers(), st.none()), st.integers(0, 10))
def test_an_unknown_name_or_a_non_integer_is_no_neon_param(name: Any, value: int) -> None:
    if name in PARAMS:
        return
    with pytest.raises(WorldError, match="no parameter"):
        check_param(name, value)
    for bad in (True, 1.5, "5", None):
        with pytest.raises(WorldError, match="must be an integer"):
            check_param("tick_hz", bad)


def test_every_default_is_within_its_bounds() -> None:
    assert all(check_param(n, v) == (n, v) for n, v in DEFAULT_PARAMS.items())


@pytest.mark.parametrize(
    ("name", "value"),
    [("tick_hz", 0), ("tick_hz", 201), ("combat_round_ticks", 0), ("death_penalty_permille", 1001)],
)
def test_the_city_refuses_content_with_a_param_out_of_range(name: str, value: int) -> None:
    obj = {"id": "neon.params.x", "version": "1.0.0", "world": "neon", "params": {name: value}}
    problems = check_content({"world_params": [obj]})
    assert [(c, p) for c, p, _ in problems] == [
        ("param_out_of_range", f"/content/world_params/0/params/{name}")
    ]
    obj["params"] = {name: DEFAULT_PARAMS[name]}
    assert check_content({"world_params": [obj]}) == []


def test_a_signed_patch_with_tick_hz_0_is_rejected_by_the_pipeline(neon: Runtime) -> None:
    """What the old runtime let through (tick_hz 0: neon then ran unthrottled after a restart),
    submitted as any signed patch would be, is refused by the world's static check."""
    r = neon.runner("neon")
    obj = {"id": "neon.params.base", "version": "1.0.1", "world": "neon", "params": {"tick_hz": 0}}
    verdict = r.call(lambda: r.governance.submit_content({"world_params": [obj]}, actor="test"))
    assert verdict["state"] == "rejected"
    assert [x["code"] for x in verdict["reasons"]] == ["param_out_of_range"]
    assert _ledger(neon, "neon", lambda g: g.active()) is None


@pytest.mark.parametrize(
    "params", [{"tick_hz": 0}, {"tick_hz": 1000}, {"sell_permille": -1}, {"tick_hz": True}, {"warp": 1}, {}]
)
def test_a_neon_change_out_of_range_is_bad_input_and_records_nothing(
    neon: Runtime, params: dict[str, int]
) -> None:
    r = neon.runner("neon")
    before = _ledger(neon, "neon", lambda g: len(g.ledger.patches()))
    with pytest.raises(BadInputError):
        r.governance.set_params(params, "op", "try it")
    assert _ledger(neon, "neon", lambda g: len(g.ledger.patches())) == before
    assert r.governance.params() == DEFAULT_PARAMS | {"tick_hz": 50}


# -- neon's parameters change any number of times, with the reason kept ------------------------------
def test_neon_params_change_three_times_each_with_its_reason(neon: Runtime) -> None:
    r = neon.runner("neon")
    neon.start()
    ids = []
    for step, credits in enumerate((250, 300, 350)):
        verdict = r.governance.set_params({"start_credits": credits}, "op", f"richer newcomers {step}")
        assert verdict["state"] == "active", verdict
        ids.append(verdict["patch_id"])
    # the second change keeps what the first set although the city may not have caught up yet
    verdict = r.governance.set_params({"player_hp": 120}, "op", "tougher")
    assert verdict["state"] == "active", verdict
    wait_for(lambda: r.governance.params()["player_hp"] == 120)
    assert r.governance.params()["start_credits"] == 350
    stored = _ledger(neon, "neon", lambda g: g.active_content())
    (obj,) = stored["objects"]["world_params"]
    assert obj["version"] == "1.0.4"
    reasons = _ledger(
        neon, "neon", lambda g: [(e.patch_id, e.reason) for e in g.ledger.entries(kind=REASON_ENTRY)]
    )
    assert reasons[:3] == [(pid, f"richer newcomers {i}") for i, pid in enumerate(ids)]
    shown = [e for e in neon.feed.recent(100, 0) if e.get("action") == "params"]
    assert [e["reason"] for e in shown][-1] == "tougher"


def test_a_change_the_pipeline_refuses_is_raised_with_its_verdict(tmp_path: Path) -> None:
    # a tick budget no tick can meet: the determinism stage refuses every patch
    runtime = _runtime(tmp_path, "neon", governance_budgets={**FAST_BUDGETS, "tick_budget_ms": 0.0001})
    try:
        r = runtime.runner("neon")
        with pytest.raises(ParamsRejected) as caught:
            r.governance.set_params({"start_credits": 250}, "op", "richer")
        assert isinstance(caught.value, RejectedError)
        assert caught.value.verdict["state"] == "rejected"
        assert [x.code for x in caught.value.reasons] == ["tick_budget"]
        assert caught.value.verdict["reason"] == "richer"
        assert r.governance.params()["start_credits"] == DEFAULT_PARAMS["start_credits"]
    finally:
        runtime.stop()


def test_the_api_answers_a_refused_or_out_of_range_neon_change_422(tmp_path: Path) -> None:
    runtime = _runtime(tmp_path, "neon", governance_budgets={**FAST_BUDGETS, "tick_budget_ms": 0.0001})
    auth = AuthStore(tmp_path)
    try:
        token = auth.create_user("op1", "operator", "test")["token"]
        with TestClient(create_app(runtime, auth=auth)) as client:
            headers = {"Authorization": f"Bearer {token}"}
            body = {"world": "neon", "params": {"start_credits": 250}, "reason": "richer"}
            refused = client.put("/api/world/params", headers=headers, json=body)
            assert refused.status_code == 422, refused.text
            assert "rejected" in refused.text and "budget" in refused.text, refused.text
            bad = client.put("/api/world/params", headers=headers, json={**body, "params": {"tick_hz": 0}})
            assert bad.status_code == 422 and "tick_hz=0" in bad.text
    finally:
        runtime.stop()
        auth.close()


# -- tick_hz lands live ----------------------------------------------------------------------------
def test_a_new_tick_hz_paces_the_city_from_the_tick_it_lands(tmp_path: Path) -> None:
    runtime = _runtime(tmp_path, "neon", ticks_per_second=None)  # the city's own pace
    r = runtime.runner("neon")
    try:
        runtime.start()
        assert r.pace == 50.0
        verdict = r.governance.set_params({"tick_hz": 100}, "op", "a snappier city")
        assert verdict["state"] == "active"
        wait_for(lambda: r.pace == 100.0)
        assert r.game.tick_hz == 100.0 and r.stats()["pace_hz"] == 100.0
        (event,) = [e for e in runtime.feed.recent(200, 0) if e["kind"] == "pace"]
        assert event["before_hz"] == 50.0 and event["pace_hz"] == 100.0
    finally:
        runtime.stop()
    again = _runtime(tmp_path, "neon", ticks_per_second=None)  # and the next go starts at it
    try:
        assert again.runner("neon").pace == 100.0
    finally:
        again.stop()


# -- STOP survives a restart -----------------------------------------------------------------------
def test_a_stopped_world_starts_stopped_after_a_restart(tmp_path: Path) -> None:
    first = _runtime(tmp_path, "neon", "petri")
    first.start()
    assert first.pause(["petri"], actor="op", reason="looking into it") == ["petri"]
    first.stop()
    second = _runtime(tmp_path, "neon", "petri")
    try:
        petri, neon = second.runner("petri"), second.runner("neon")
        assert petri.paused.is_set() and not neon.paused.is_set()
        second.start()
        tick = petri.world.tick
        wait_for(lambda: neon.world.tick > 3)
        assert petri.world.tick == tick and petri.stats()["paused"] is True
        saved = json.loads((tmp_path / "petri" / "run_state.json").read_text())
        assert saved["paused"] is True and saved["actor"] == "op" and saved["reason"] == "looking into it"
        # STOP is not the kill-switch (whose own file lives in the same folder): patches still flow
        assert _ledger(second, "petri", lambda g: g.killswitch.engaged()) is False
        second.resume(["petri"])
        wait_for(lambda: petri.world.tick > tick)
    finally:
        second.stop()
    third = _runtime(tmp_path, "petri")  # GO is kept too
    try:
        assert not third.runner("petri").paused.is_set()
    finally:
        third.stop()


def test_an_unreadable_control_file_starts_the_world_stopped_and_says_so(tmp_path: Path) -> None:
    _runtime(tmp_path, "petri").stop()
    (tmp_path / "petri" / "run_state.json").write_text('{"paused": "maybe"}')
    runtime = _runtime(tmp_path, "petri")
    try:
        assert runtime.runner("petri").paused.is_set()
        (error,) = [e for e in runtime.feed.recent(50, 0) if e["kind"] == "error"]
        assert "run_state.json" in error["message"] and "STOPped" in error["message"]
    finally:
        runtime.stop()


def test_a_fresh_world_starts_running(tmp_path: Path) -> None:
    first = _runtime(tmp_path, "petri")
    first.pause()
    first.stop()
    fresh = _runtime(tmp_path, "petri", fresh=True)
    try:
        assert not fresh.runner("petri").paused.is_set()
    finally:
        fresh.stop()


# -- one clean-state snapshot per world ------------------------------------------------------------
def _clean(runtime: Runtime, world: str) -> list[dict[str, Any]]:
    return [s for s in runtime.runner(world).snapshots.entries() if s["label"] == CLEAN_LABEL]


def test_the_clean_state_is_snapshotted_when_a_world_starts_new_not_on_resume(tmp_path: Path) -> None:
    first = _runtime(tmp_path, "neon", "petri", max_ticks=5)
    first.start()
    wait_for(first.finished)
    made = {w: _clean(first, w) for w in ("neon", "petri")}
    first.stop()
    assert all(len(m) == 1 and m[0]["tick"] == 0 and m[0]["kind"] == "clean" for m in made.values())
    for _ in range(2):  # two resumes
        again = _runtime(tmp_path, "neon", "petri", max_ticks=5)
        assert again.runner("petri").resumed and again.runner("neon").resumed
        again.start()
        wait_for(again.finished)
        again.stop()
        assert {w: _clean(again, w) for w in ("neon", "petri")} == made
    fresh = _runtime(tmp_path, "petri", fresh=True)  # a new world replaces its clean snapshot
    try:
        fresh.start()
        (clean,) = _clean(fresh, "petri")
        assert clean["id"] != made["petri"][0]["id"] and clean["tick"] == 0
    finally:
        fresh.stop()
