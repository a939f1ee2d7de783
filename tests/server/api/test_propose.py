"""``POST /api/queue/propose``: an operator asks the running council for one proposal, which is
queued for a person; bad input is 422 and stores nothing; a refusing council is 409."""

from __future__ import annotations

from typing import Any

from .conftest import Live


def _propose(live: Live, role: str | None, **body: Any) -> Any:
    doc = {"world": "neon", "type": "ITEM", "seed": 4242, "reason": "see one", **body}
    return live.client.post("/api/queue/propose", headers=live.headers(role), json=doc)


def _queue_ids(live: Live) -> set[str]:
    """The queued proposals people asked for (the live city's director queues its own as it runs,
    from its first step on: those carry the rule that made them, and are not counted here)."""
    listed = live.client.get("/api/queue?world=neon", headers=live.headers("viewer")).json()
    return {item["proposal_id"] for item in listed if not (item.get("job") or {}).get("rule")}


def test_an_operator_queues_a_proposal_through_the_council(live: Live) -> None:
    assert _propose(live, None).status_code == 401
    assert _propose(live, "viewer").status_code == 403
    before = _queue_ids(live)
    made = _propose(live, "operator", seed=4242, reason="a knife for the test")
    assert made.status_code == 201, made.text
    doc = made.json()
    assert doc["state"] == "queued" and doc["proposal_id"] and doc["summary"], doc
    assert _queue_ids(live) == before | {doc["proposal_id"]}
    request_id = made.headers["X-Request-ID"]
    rows = live.client.get(f"/api/audit?request_id={request_id}", headers=live.headers("admin")).json()
    assert [(r["actor"], r["status"], r["reason"]) for r in rows] == [
        ("operator1", 201, "a knife for the test")
    ]
    feed = live.client.get("/api/feed?limit=1000", headers=live.headers("viewer")).json()
    assert any(e.get("action") == "propose" and e.get("id") == doc["proposal_id"] for e in feed)
    # the same seed on the same content is the same proposal (deterministic), not a second one
    again = _propose(live, "operator", seed=4242)
    assert again.status_code == 201 and again.json()["proposal_id"] == doc["proposal_id"]
    approved = live.client.post(
        f"/api/queue/{doc['proposal_id']}/approve",
        headers=live.headers("operator"),
        json={"world": "neon", "reason": "ok"},
    )
    assert approved.status_code == 200, approved.text


def test_bad_type_seed_or_context_is_422_and_stores_nothing(live: Live) -> None:
    before = _queue_ids(live)
    for bad in (
        {"type": "DRAGON"},
        {"type": 7},
        {"seed": -1},
        {"seed": 2**53},
        {"seed": "12"},
        {"seed": True},
        {"context": {"no_such_key": 1}},
        {"context": {"intensity": 500}},
        {"context": "x"},
        {"world": "mars"},
        {"reason": ""},
        {"extra": 1},
    ):
        response = _propose(live, "operator", **bad)
        assert response.status_code == 422, (bad, response.text)
    assert _queue_ids(live) == before


def test_a_refusing_council_is_409(live: Live) -> None:
    runner = live.runtime.runner("neon")
    council = runner.council
    switch = runner.governor.killswitch
    before = _queue_ids(live)
    runner.call(lambda: switch.set(True, "test", "hold"))
    try:
        refused = _propose(live, "operator", seed=77)
        assert refused.status_code == 409 and refused.json()["detail"]["code"] == "killswitch_engaged"
    finally:
        runner.call(lambda: switch.set(False, "test", "go"))
    runner.call(lambda: council.director.emergency_stop("test", "hold"))
    try:
        stopped = _propose(live, "operator", seed=78)
        assert stopped.status_code == 409 and stopped.json()["detail"]["code"] == "director_stopped"
    finally:
        runner.call(lambda: council.director.resume("test", "go"))
    path = council.guardrails_file.path
    saved = path.read_bytes() if path.exists() else None
    path.write_text("{not json")
    try:
        broken = _propose(live, "operator", seed=79)
        assert broken.status_code == 409 and broken.json()["detail"]["code"] == "guardrails_invalid"
    finally:
        if saved is None:
            path.unlink()
        else:
            path.write_bytes(saved)
    assert _queue_ids(live) == before
    assert _propose(live, "operator", seed=80).status_code == 201
