"""The rollout routes on a live runtime: a viewer reads, an operator starts, pauses, promotes
after a pass and aborts; only an admin with a fresh TOTP code forces a promotion; bad plans and
patches are 422 and change nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.server.api.conftest import Live, new_admin

REPO = Path(__file__).resolve().parents[3]


def _held_patch(live: Live) -> str:
    """A neon economy-tuning patch: the policy holds it for a person, so it stays validated."""
    from ouroboros.patches.bundle import sign_bundle
    from tests.patches.conftest import make_bundle

    base = REPO / "src/ouroboros/worlds/neon/base/economy_tuning.json"
    tuning = json.loads(base.read_text())["economy_tuning"][0]
    tuning = {**tuning, "version": "1.2.0", "multipliers": {**tuning["multipliers"], "price": 1050}}
    runner = live.runtime.runner("neon")

    def submit() -> dict[str, Any]:
        gov = runner.governor
        gen = gov.new_key("stager", ["economy_tuning"])
        doc = sign_bundle(make_bundle(gov, {"economy_tuning": [tuning]}, gen), gov.local_key("server"))
        return gov.submit(doc, actor="test").as_dict()

    held = runner.call(submit)
    assert held["state"] == "validated", held
    return str(held["patch_id"])


def _head(live: Live) -> tuple[int, str]:
    runner = live.runtime.runner("neon")
    return runner.call(lambda: runner.governor.ledger.head())  # type: ignore[no-any-return]


def test_rollouts_over_the_api(live: Live) -> None:
    client, op, viewer = live.client, live.headers("operator"), live.headers("viewer")
    empty = client.get("/api/rollouts?world=neon", headers=viewer)
    assert empty.status_code == 200 and empty.json()["rollout"] is None
    patch = _held_patch(live)
    start = {"world": "neon", "patch_id": patch, "reason": "stage the price change", "window_ticks": 200}
    before = _head(live)
    changes: list[tuple[dict[str, Any], str]] = [
        ({"plan": "10,1,100"}, "bad_input"),
        ({"plan": "1,10,150"}, "bad_input"),
        ({"patch_id": "p-nope"}, "unknown_patch"),
        ({"window_ticks": 0}, "bad_input"),
        ({"checks": [{"metric": "happiness", "limit": 1}]}, "bad_input"),
        ({"checks": [{"metric": "faults_per_1000_ticks"}]}, "bad_input"),
    ]
    for change, code in changes:
        bad = client.post("/api/rollouts", headers=op, json={**start, **change})
        assert bad.status_code == 422 and bad.json()["detail"]["code"] == code, bad.text
    assert client.post("/api/rollouts", headers=op, json={**start, "plan": [1, 100]}).status_code == 422
    assert client.post("/api/rollouts", headers=viewer, json=start).status_code == 403
    assert _head(live) == before
    checks = [
        {"metric": "faults_per_1000_ticks", "limit": 5, "margin": 1.5},
        {"metric": "tick_p99_over_budget_ms", "limit": 0},
    ]
    started = client.post("/api/rollouts", headers=op, json={**start, "checks": checks})
    assert started.status_code == 200 and started.json()["pct_bp"] == 100, started.text
    assert [c["metric"] for c in started.json()["plan"]["checks"]] == [c["metric"] for c in checks]
    again = client.post("/api/rollouts", headers=op, json=start)
    assert again.status_code == 409 and again.json()["detail"]["code"] == "rollout_live"
    status = client.get("/api/rollouts?world=neon", headers=viewer).json()
    assert status["rollout"]["plan"]["checks"] and status["version"]["activation_scope"] == "cohort"

    act = {"world": "neon", "reason": "next"}
    early = client.post("/api/rollouts/promote", headers=op, json=act)
    assert early.status_code == 409 and early.json()["detail"]["code"] == "rollout_not_passing"
    forced = {**act, "force": True}
    assert client.post("/api/rollouts/promote", headers=op, json=forced).status_code == 403
    admin, totp = new_admin(live, "stager")
    assert client.post("/api/rollouts/promote", headers=admin, json=forced).status_code == 403
    before = _head(live)
    done = client.post("/api/rollouts/promote", headers=admin, json={**forced, "totp": totp.now()})
    assert done.status_code == 200 and done.json()["pct_bp"] == 1000, done.text
    assert _head(live) != before
    # while it is live the governor activates nothing around it, not even its own patch: 409
    bypasser, bypass_totp = new_admin(live, "bypasser")
    before = _head(live)
    skip = {"world": "neon", "reason": "skip the stages", "totp": bypass_totp.now()}
    bypass = client.post(f"/api/patches/{patch}/activate", headers=bypasser, json=skip)
    assert bypass.status_code == 409 and bypass.json()["detail"]["code"] == "rollout_live", bypass.text
    assert _head(live) == before
    assert client.post("/api/rollouts/pause", headers=op, json=act).json()["phase"] == "paused"
    assert client.post("/api/rollouts/resume", headers=op, json=act).json()["phase"] == "running"
    aborted = client.post("/api/rollouts/abort", headers=op, json=act)
    assert aborted.status_code == 200 and aborted.json()["phase"] == "aborted"
    gone = client.post("/api/rollouts/abort", headers=op, json=act)
    assert gone.status_code == 409 and gone.json()["detail"]["code"] == "no_rollout"
    runner = live.runtime.runner("neon")
    assert runner.call(lambda: str(runner.governor.ledger.state_of(patch))) == "validated"
