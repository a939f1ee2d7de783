"""The council over the admin API: the director's sliders and stop, the approval queue (list,
diff, edit, approve, reject, undo), the guardrails (applied without a restart) and petri's
evolution loop."""

from __future__ import annotations

import time
from typing import Any

import pytest

from ouroboros.ai.proposals import ProposalType

from .conftest import Live, new_admin, wait_for


def _status(live: Live) -> dict[str, Any]:
    response = live.client.get("/api/director?world=neon", headers=live.headers("viewer"))
    assert response.status_code == 200, response.text
    return dict(response.json())


def _propose(live: Live, seed: int) -> dict[str, Any]:
    runner = live.runtime.runner("neon")
    council = runner.council
    record: dict[str, Any] = runner.call(
        lambda: council.propose(ProposalType.ITEM, seed, queue=True, actor="test")
    )
    return record


def test_the_director_sliders_and_modes(live: Live) -> None:
    op = live.headers("operator")
    status = _status(live)
    assert set(status["sliders"]) == {"chaos", "aggression", "expansion"} and "decisions" in status
    done = live.client.post(
        "/api/director", headers=op, json={"world": "neon", "sliders": {"chaos": 70}, "reason": "x"}
    )
    assert done.status_code == 200 and done.json()["sliders"]["chaos"] == 70
    for bad in ({"chaos": 101}, {"chaos": "lots"}, {"gravity": 5}):
        response = live.client.post(
            "/api/director", headers=op, json={"world": "neon", "sliders": bad, "reason": "x"}
        )
        assert response.status_code == 422, bad
    assert _status(live)["sliders"]["chaos"] == 70
    toggled = live.client.post(
        "/api/director",
        headers=op,
        json={"world": "neon", "toggles": {"human_in_the_loop": True}, "reason": "x"},
    )
    assert toggled.json()["toggles"]["human_in_the_loop"] is True
    for action, mode in (("pause", "paused"), ("stop", "stopped"), ("resume", "running")):
        response = live.client.post(
            f"/api/director/{action}", headers=op, json={"world": "neon", "reason": "x"}
        )
        assert response.status_code == 200, response.text
        assert _status(live)["mode"] == mode
    decisions = live.client.get("/api/director?world=petri", headers=live.headers("viewer"))
    assert decisions.status_code == 200  # petri has its own council


def test_the_queue_lists_diffs_edits_and_decides(live: Live) -> None:
    op, viewer = live.headers("operator"), live.headers("viewer")
    first = _propose(live, 11)
    assert first["state"] == "queued", first
    pid = first["proposal_id"]
    listed = live.client.get("/api/queue?world=neon&state=queued", headers=viewer).json()
    assert pid in [item["proposal_id"] for item in listed]
    assert live.client.get("/api/queue?world=neon&state=nonsense", headers=viewer).status_code == 422
    diff = live.client.get(f"/api/queue/{pid}/diff?world=neon", headers=viewer).json()
    # what enrich rewrote (through the model registry) is words only: the proposal's flavour paths
    enriched = {c["path"]: c["after"] for c in diff["changes"]}
    assert set(enriched) <= set(first["generated"]["flavour"]), diff["changes"]
    item = next(iter(diff["validated"]["items"]))
    renamed = live.client.post(
        f"/api/queue/{pid}/edit",
        headers=op,
        json={
            "world": "neon",
            "payload_patch": {"items": {item["id"]: {"name": "Glass Knife"}}},
            "reason": "better",
        },
    )
    assert renamed.status_code == 200, renamed.text
    diff = live.client.get(f"/api/queue/{pid}/diff?world=neon", headers=viewer).json()
    edited = {c["path"]: c["after"] for c in diff["changes"]}
    assert edited == {**enriched, "/items/0/name": "Glass Knife"}, diff["changes"]
    bad_edit = live.client.post(
        f"/api/queue/{pid}/edit",
        headers=op,
        json={"world": "neon", "payload_patch": {"items": {"no.such.item": {"name": "x"}}}, "reason": "x"},
    )
    assert bad_edit.status_code == 422
    assert (
        live.client.get(f"/api/queue/{pid}/diff?world=neon", headers=viewer).json()["changes"]
        == diff["changes"]
    )
    assert (
        live.client.post(
            f"/api/queue/{pid}/undo", headers=op, json={"world": "neon", "reason": "x"}
        ).status_code
        == 409
    )
    rejected = live.client.post(
        f"/api/queue/{pid}/reject", headers=op, json={"world": "neon", "reason": "no"}
    )
    assert rejected.status_code == 200, rejected.text
    assert live.runtime.runner("neon").call(lambda: live.runtime.runner("neon").council.queue.get(pid))[
        "state"
    ] == ("rejected")
    second = _propose(live, 12)
    approved = live.client.post(
        f"/api/queue/{second['proposal_id']}/approve", headers=op, json={"world": "neon", "reason": "ok"}
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["proposal_state"] in ("active", "awaiting", "refused"), approved.json()
    for action in ("approve", "reject", "edit", "undo"):
        body: dict[str, Any] = {"world": "neon", "reason": "x"}
        if action == "edit":
            body["payload_patch"] = {}
        assert live.client.post(f"/api/queue/nope/{action}", headers=op, json=body).status_code == 404
    assert live.client.get("/api/queue/nope/diff?world=neon", headers=viewer).status_code == 404
    feed = live.client.get("/api/feed?limit=1000", headers=viewer).json()
    assert {"reject", "edit", "approve"} <= {e.get("action") for e in feed if e["kind"] == "queue"}


def test_guardrails_apply_without_a_restart_and_bad_ones_change_nothing(live: Live) -> None:
    admin = live.headers("admin")
    current = live.client.get("/api/guardrails", headers=live.headers("viewer")).json()
    assert "max_weapon_damage" in current
    bad = live.client.put(
        "/api/guardrails",
        headers=admin,
        json={"guardrails": {**current, "max_weapon_damage": "many"}, "reason": "x"},
    )
    assert bad.status_code == 422
    assert live.client.get("/api/guardrails", headers=admin).json() == current
    assert current["rollout_plans"] is None  # staging off unless the operator turns it on
    for plans in ({"WORLD_EXPANSION": "1,10,50"}, {"SPELL": "global"}):
        bad_plan = live.client.put(
            "/api/guardrails",
            headers=admin,
            json={"guardrails": {**current, "rollout_plans": plans}, "reason": "x"},
        )
        assert bad_plan.status_code == 422 and "rollout_plans" in bad_plan.text, bad_plan.text
    assert live.client.get("/api/guardrails", headers=admin).json() == current
    lower = max(1, current["max_weapon_damage"] // 2)
    done = live.client.put(
        "/api/guardrails",
        headers=admin,
        json={"guardrails": {**current, "max_weapon_damage": lower}, "reason": "x"},
    )
    assert done.status_code == 200 and done.json()["max_weapon_damage"] == lower
    runner = live.runtime.runner("neon")
    assert runner.call(lambda: runner.council.guardrails().max_weapon_damage) == lower


@pytest.mark.slow
def test_evolution_trigger_and_history(live: Live) -> None:
    op = live.headers("operator")
    started = time.monotonic()
    triggered = live.client.post("/api/evolution/trigger", headers=op, json={"reason": "see it work"})
    assert triggered.status_code == 202, triggered.text
    assert time.monotonic() - started < 2.0  # accepted, not waited for
    trigger_id = triggered.json()["trigger_id"]

    def requested() -> bool:
        history = live.client.get("/api/evolution/history?limit=50", headers=live.headers("viewer")).json()
        return any(e["type"] == "trigger_requested" and e["reason"] == "see it work" for e in history)

    wait_for(requested, timeout_s=30)
    wait_for(
        lambda: any(
            e.get("trigger_id") == trigger_id and e.get("action") in ("outcome", "failed")
            for e in live.runtime.feed.recent(1000)
        ),
        timeout_s=60,
    )
    feed = live.client.get("/api/feed?limit=1000", headers=op).json()
    assert any(e["kind"] == "evolution" for e in feed)


def test_the_director_shows_the_model_registry_and_how_enrichment_went(live: Live) -> None:
    """The runtime runs the product's council (``build_council``): proposals are enriched through
    the active model registry, whose roles and per-role stats the director's status shows."""
    runner = live.runtime.runner("neon")
    assert runner.council.models is not None  # enrich goes through the registry
    before = _status(live)["models"]
    assert before["version"] and before["roles"], before
    assert all(a["provider"] for a in before["roles"].values())
    record = _propose(live, 424242)
    assert record["enrich"] is not None, record  # the enrich report is kept with the proposal
    after = _status(live)["models"]
    # at least ours (the director may have enriched its own proposals meanwhile)
    done = after["enrich"]["enriched"] + after["enrich"]["fallback"]
    assert done >= before["enrich"]["enriched"] + before["enrich"]["fallback"] + 1, after
    ours = len(record["enrich"]["calls"])
    assert ours >= 1 and sum(row["calls"] for row in after["stats"]) >= ours + sum(
        row["calls"] for row in before["stats"]
    ), (record["enrich"], after["stats"])


def test_turning_human_review_off_is_an_admin_override_with_totp(live: Live) -> None:
    """With ``human_in_the_loop`` off generated content flows unreviewed: an operator is refused,
    an admin needs a fresh TOTP code, and a refused request changes nothing (sliders included)."""
    on = {"world": "neon", "toggles": {"human_in_the_loop": True}, "reason": "review"}
    assert live.client.post("/api/director", headers=live.headers("operator"), json=on).status_code == 200
    chaos = _status(live)["sliders"]["chaos"]
    off = {
        "world": "neon",
        "sliders": {"chaos": (chaos + 13) % 100},
        "toggles": {"human_in_the_loop": False},
        "reason": "let it flow",
    }
    headers, totp = new_admin(live, "hitl_admin")
    for who, extra in (
        (live.headers("operator"), {}),
        (headers, {}),
        (headers, {"totp": "000000" if totp.now() != "000000" else "111111"}),
    ):
        refused = live.client.post("/api/director", headers=who, json={**off, **extra})
        assert refused.status_code == 403, refused.text
        status = _status(live)
        assert status["toggles"]["human_in_the_loop"] is True and status["sliders"]["chaos"] == chaos
    done = live.client.post("/api/director", headers=headers, json={**off, "totp": totp.now()})
    assert done.status_code == 200, done.text
    assert done.json()["toggles"]["human_in_the_loop"] is False
    assert live.client.post("/api/director", headers=live.headers("operator"), json=on).status_code == 200
