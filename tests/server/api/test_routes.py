"""The admin API over a live runtime: world state and parameters, STOP/GO, stats, the feed,
snapshots (restore needs TOTP), and governance (mutations with their source, ledger, rollback)."""

from __future__ import annotations

from typing import Any

from .conftest import Live, new_admin, wait_for


def _tick(live: Live, world: str) -> int:
    return int(
        live.client.get(f"/api/world/state?world={world}", headers=live.headers("viewer")).json()["tick"]
    )


def _neon_ticks_on(live: Live, ticks: int) -> None:
    """Wait (an event wait, bounded) until neon, which is never stopped here, has ticked ``ticks``
    more times: what "a while later" means in these tests, whatever the machine's load."""
    start = _tick(live, "neon")
    wait_for(lambda: _tick(live, "neon") >= start + ticks)


def _stop_petri(live: Live, reason: str = "hold") -> int:
    """STOP petri and return the tick it holds: STOP takes effect at the next tick boundary, so a
    tick under way may still end; once neon has ticked on a few times, petri stands still."""
    op = live.headers("operator")
    stopped = live.client.post("/api/control/stop", headers=op, json={"world": "petri", "reason": reason})
    assert stopped.json() == {"worlds": ["petri"], "paused": True}
    at_stop = _tick(live, "petri")
    _neon_ticks_on(live, 3)
    held = _tick(live, "petri")
    assert held <= at_stop + 1  # at most the tick under way when STOP came
    return held


def test_state_and_stats_show_both_worlds_ticking(live: Live) -> None:
    viewer = live.headers("viewer")
    wait_for(lambda: _tick(live, "petri") > 3 and _tick(live, "neon") > 3)
    state = live.client.get("/api/world/state?world=neon", headers=viewer).json()
    assert state["world"] == "neon" and state["ports"]["telnet"] > 0 and "kpis" in state
    stats = live.client.get("/api/stats", headers=viewer).json()["worlds"]
    for name in ("neon", "petri"):
        assert stats[name]["running"] and stats[name]["samples"] > 0
        assert 0 < stats[name]["tick_p50_ms"] <= stats[name]["tick_p95_ms"]
        assert stats[name]["pace_hz"] == 20
    assert live.client.get("/api/world/state?world=atlantis", headers=viewer).status_code == 422


def test_worlds_says_what_runs_and_how_to_draw_it(live: Live) -> None:
    got = live.client.get("/api/worlds", headers=live.headers("viewer"))
    assert got.status_code == 200
    worlds = {w["name"]: w for w in got.json()}
    assert sorted(worlds) == ["neon", "petri"]
    assert worlds["neon"]["played"] is True and worlds["petri"]["played"] is False
    assert worlds["petri"]["stream"] == {"kind": 0, "legend": {"0": "molbot"}, "resource": "food"}
    assert worlds["neon"]["stream"]["legend"] == {"1": "player", "2": "npc"}
    # a world left out of a query is the first this server runs; an unknown one is refused
    viewer = live.headers("viewer")
    assert live.client.get("/api/world/state", headers=viewer).json()["world"] == got.json()[0]["name"]
    assert live.client.get("/api/world/state?world=nowhere", headers=viewer).status_code == 422


def test_petri_counts_its_molbots_and_its_food_apart(live: Live) -> None:
    """``entities`` is the dish's molbots (what its population chart shows), not molbots plus
    food; food is its own figure; both add up to every live entity, read at one tick."""
    state = live.client.get("/api/world/state?world=petri", headers=live.headers("viewer")).json()
    assert state["food"] > 0 and state["entities"] > 0, state
    assert state["entities"] == state["kpis"]["entity_count"]
    assert state["food"] == state["kpis"]["food_count"]
    assert state["entities"] + state["food"] == state["entities_total"]
    runner = live.runtime.runner("petri")
    with runner.lock:
        from ouroboros.worlds.petri.systems import molbots

        alive = molbots(runner.world)
        assert alive is not None
        count, tick = alive.count, runner.world.tick
    if tick == state["tick"]:  # the same tick: the same molbots
        assert state["entities"] == count


def test_stop_pauses_ticking_and_go_resumes_it(live: Live) -> None:
    op = live.headers("operator")
    held = _stop_petri(live, "look")
    _neon_ticks_on(live, 6)
    assert _tick(live, "petri") == held  # petri stands still while neon goes on
    assert live.client.post("/api/control/go", headers=op, json={"reason": "on"}).json()["paused"] is False
    wait_for(lambda: _tick(live, "petri") > held)
    kinds = [(e["kind"], e.get("action")) for e in live.client.get("/api/feed", headers=op).json()]
    assert ("control", "stop") in kinds and ("control", "go") in kinds


def test_petri_params_are_a_governed_patch_and_bad_ones_change_nothing(live: Live) -> None:
    op, viewer = live.headers("operator"), live.headers("viewer")
    before = live.client.get("/api/world/params?world=petri", headers=viewer).json()["params"]
    bad = live.client.put(
        "/api/world/params",
        headers=op,
        json={"world": "petri", "params": {"temperature": 31, "no_such_param": 1}, "reason": "x"},
    )
    assert bad.status_code == 422 and "no_such_param" in bad.text
    wrong_type = live.client.put(
        "/api/world/params",
        headers=op,
        json={"world": "petri", "params": {"temperature": "hot"}, "reason": "x"},
    )
    assert wrong_type.status_code == 422
    assert wrong_type.json()["detail"][0]["loc"] == ["body", "params", "temperature"]
    tick = _tick(live, "petri")
    wait_for(lambda: _tick(live, "petri") > tick + 1)  # a tick boundary passed: nothing was queued
    assert live.client.get("/api/world/params?world=petri", headers=viewer).json()["params"] == before
    new = before["temperature"] + 1
    ok = live.client.post(
        "/api/world/params",
        headers=op,
        json={"world": "petri", "params": {"temperature": new}, "reason": "warm"},
    )
    assert ok.status_code == 200 and ok.json()["ok"] and ok.json()["state"] == "active", ok.text
    wait_for(
        lambda: (
            live.client.get("/api/world/params?world=petri", headers=viewer).json()["params"]["temperature"]
            == new
        )
    )


def test_snapshots_create_list_restore_with_totp_and_delete(live: Live) -> None:
    op = live.headers("operator")
    admin, totp = new_admin(live, "snapadmin")
    listed = live.client.get("/api/snapshots?world=petri", headers=op).json()
    assert listed[0]["label"] == "clean state before the director" and listed[0]["tick"] == 0
    _stop_petri(live)
    made = live.client.post(
        "/api/snapshots", headers=op, json={"world": "petri", "label": "mine", "reason": "r"}
    )
    assert made.status_code == 200
    snap = made.json()
    assert snap["tick"] == _tick(live, "petri") and snap["label"] == "mine"
    assert snap["id"] in [s["id"] for s in live.client.get("/api/snapshots?world=petri", headers=op).json()]
    live.client.post("/api/control/go", headers=op, json={"world": "petri", "reason": "run"})
    wait_for(lambda: _tick(live, "petri") > snap["tick"] + 2)
    _stop_petri(live)
    body = {"world": "petri", "reason": "back"}
    assert (
        live.client.post(f"/api/snapshots/{snap['id']}/restore", headers=admin, json=body).status_code == 403
    )
    assert _tick(live, "petri") > snap["tick"]  # refused: nothing changed
    unknown = live.client.post(
        "/api/snapshots/0000000000-deadbeef/restore", headers=admin, json={**body, "totp": totp.now()}
    )
    assert unknown.status_code == 404  # and the code was not spent on it
    restored = live.client.post(
        f"/api/snapshots/{snap['id']}/restore", headers=admin, json={**body, "totp": totp.now()}
    )
    assert restored.status_code == 200, restored.text
    assert _tick(live, "petri") == snap["tick"]
    digest = live.runtime.runner("petri").world.digest().hex
    assert digest == snap["digest"]
    live.client.post("/api/control/go", headers=op, json={"world": "petri", "reason": "run"})
    gone = live.client.delete(f"/api/snapshots/{snap['id']}?world=petri&reason=tidy", headers=op)
    assert gone.status_code == 200
    assert snap["id"] not in [
        s["id"] for s in live.client.get("/api/snapshots?world=petri", headers=op).json()
    ]
    assert (
        live.client.delete(f"/api/snapshots/{snap['id']}?world=petri&reason=x", headers=op).status_code == 404
    )
    assert live.client.delete("/api/snapshots/..%2Fworld?world=petri&reason=x", headers=op).status_code == 404


def test_a_governed_patch_shows_in_mutations_and_ledger_and_rolls_back(live: Live) -> None:
    viewer, op = live.headers("viewer"), live.headers("operator")
    runner = live.runtime.runner("petri")
    if runner.call(lambda: runner.governor.active()) is not None:  # an earlier test's params patch
        runner.call(lambda: runner.governance.rollback("test", "start from the base version", to_base=True))
    content = {
        "world_params": [
            {"id": "petri.params.api", "version": "1.0.0", "world": "petri", "params": {"temperature": 24}}
        ]
    }
    verdict = runner.call(lambda: runner.governance.submit_content(content, actor="test"))
    assert verdict["state"] == "active", verdict
    patch_id = verdict["patch_id"]
    mutations = live.client.get("/api/mutations?world=petri", headers=viewer).json()
    assert mutations[0]["patch_id"] == patch_id and mutations[0]["domains"] == ["world_params"]
    assert mutations[0]["state"] == "active"
    source = live.client.get(f"/api/mutations/{patch_id}/source?world=petri", headers=viewer).json()
    assert source["content"] == content
    assert live.client.get("/api/mutations/nope/source?world=petri", headers=viewer).status_code == 404
    ledger = live.client.get("/api/ledger?world=petri&limit=5", headers=viewer).json()
    assert ledger["pointer"]["active"] == patch_id and len(ledger["entries"]) == 5
    wait_for(lambda: runner.world.resources.get("gameplay_version") == patch_id)
    back = live.client.post("/api/rollback", headers=op, json={"world": "petri", "reason": "undo"})
    assert back.status_code == 200 and back.json()["undone"] == [patch_id]
    wait_for(lambda: runner.world.resources.get("gameplay_version") is None)
    again = live.client.post("/api/rollback", headers=op, json={"world": "petri", "reason": "undo"})
    assert again.status_code == 409 and again.json()["detail"]["code"] == "nothing_to_roll_back"
    events = [
        e for e in live.client.get("/api/feed?limit=1000", headers=viewer).json() if e["kind"] == "governance"
    ]
    assert [e["action"] for e in events][-2:] == ["patch", "rollback"]
    # forced activation: an unknown patch is 404; one that is not held for a person is refused
    admin, totp = new_admin(live, "forcer")
    assert (
        live.client.post(
            "/api/patches/nope/activate",
            headers=admin,
            json={"world": "petri", "reason": "x", "totp": totp.now()},
        ).status_code
        == 404
    )
    forced = live.client.post(
        f"/api/patches/{patch_id}/activate",
        headers=admin,
        json={"world": "petri", "reason": "x", "totp": totp.now()},
    )
    assert forced.status_code == 409 and forced.json()["detail"]["code"] == "illegal_transition"


def test_forced_activation_approves_a_patch_held_for_a_person(live: Live) -> None:
    import json
    from pathlib import Path

    from ouroboros.patches import sign_bundle
    from tests.patches.conftest import make_bundle

    base = Path(__file__).resolve().parents[3] / "src/ouroboros/worlds/neon/base/economy_tuning.json"
    tuning = json.loads(base.read_text())["economy_tuning"][0]
    tuning = {**tuning, "version": "1.1.0", "multipliers": {**tuning["multipliers"], "price": 1100}}
    runner = live.runtime.runner("neon")

    def submit() -> dict[str, Any]:
        gov = runner.governor
        gen = gov.new_key("gen", ["items", "economy_tuning"])
        doc = sign_bundle(make_bundle(gov, {"economy_tuning": [tuning]}, gen), gov.local_key("server"))
        return gov.submit(doc, actor="test").as_dict()

    held = runner.call(submit)
    assert held["state"] == "validated" and "economy_tuning" in held["evidence"]["awaiting"], held
    admin, totp = new_admin(live, "approver")
    body = {"world": "neon", "reason": "prices up 10 %"}
    refused = live.client.post(f"/api/patches/{held['patch_id']}/activate", headers=admin, json=body)
    assert refused.status_code == 403
    assert runner.call(lambda: runner.governor.ledger.state_of(held["patch_id"])) == "validated"
    done = live.client.post(
        f"/api/patches/{held['patch_id']}/activate", headers={**admin, "X-TOTP": totp.now()}, json=body
    )
    assert done.status_code == 200 and done.json()["state"] == "active", done.text


def test_neon_params_go_through_governance(live: Live) -> None:
    op = live.headers("operator")
    unknown = live.client.put(
        "/api/world/params", headers=op, json={"world": "neon", "params": {"warp_speed": 9}, "reason": "x"}
    )
    assert unknown.status_code == 422 and "warp_speed" in unknown.text
    runner = live.runtime.runner("neon")
    before = runner.governance.params()["start_credits"]
    done = live.client.put(
        "/api/world/params",
        headers=op,
        json={"world": "neon", "params": {"start_credits": before + 50}, "reason": "richer newcomers"},
    )
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "active", done.json()
    wait_for(lambda: runner.governance.params()["start_credits"] == before + 50)
