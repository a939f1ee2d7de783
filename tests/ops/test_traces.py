"""Traces: an approval's time is broken down (HTTP request → queue → pipeline stages → activation
on the tick thread) and served for the proposal and for the patch; model calls carry model,
tokens, latency and cache hit; with tracing off nothing is kept and the route says so."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ouroboros import tracing
from tests.server.api.conftest import Live, start_live, wait_for


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    tracing.configure(buffer_spans=50_000)
    try:
        yield from start_live(tmp_path_factory.mktemp("traced"))
    finally:
        tracing.shutdown()


def _traces(live: Live, **query: str) -> dict[str, object]:
    got = live.client.get("/api/traces", params=query, headers=live.headers("viewer"))
    assert got.status_code == 200, got.text
    return got.json()


def test_an_approval_is_traced_from_the_request_to_the_activation(live: Live) -> None:
    doc = {"world": "neon", "type": "ITEM", "seed": 777, "reason": "trace me"}
    made = live.client.post("/api/queue/propose", headers=live.headers("operator"), json=doc)
    assert made.status_code == 201, made.text
    proposal = made.json()["proposal_id"]
    approved = live.client.post(
        f"/api/queue/{proposal}/approve",
        headers=live.headers("operator"),
        json={"world": "neon", "reason": "ok"},
    )
    assert approved.status_code == 200, approved.text
    spans = _traces(live, proposal_id=proposal)["spans"]
    names = [s["name"] for s in spans]  # type: ignore[index]
    assert f"HTTP POST /api/queue/{proposal}/approve" in names
    for stage in ("queue.approve", "pipeline.submit", "stage.integrity", "stage.schema", "stage.policy"):
        assert stage in names, names
    by_id = {s["span_id"]: s for s in spans}  # type: ignore[index]
    submit = next(s for s in spans if s["name"] == "pipeline.submit")  # type: ignore[index]
    # the control thread's pipeline is a child of the HTTP request's trace
    root = submit
    while root["parent_id"] is not None:
        root = by_id[root["parent_id"]]
    assert root["name"].startswith("HTTP POST") and root["duration_ms"] >= submit["duration_ms"]
    patch_id = submit["attributes"].get("ouroboros.patch_id")
    assert isinstance(patch_id, str)

    def live_activations() -> list[dict[str, object]]:
        got = _traces(live, patch_id=patch_id)["spans"]
        return [
            s
            for s in got  # type: ignore[union-attr]
            if s["name"] == "activation" and s["attributes"].get("ouroboros.patch_id") == patch_id
        ]

    # the pipeline's forks activate it too; the live world's tick thread lands it at a boundary
    wait_for(lambda: any(s["parent_id"] is None for s in live_activations()), 20)
    landed = next(s for s in live_activations() if s["parent_id"] is None)
    migrations = [
        s
        for s in _traces(live, patch_id=patch_id)["spans"]  # type: ignore[union-attr]
        if s["name"] == "migration" and s["parent_id"] == landed["span_id"]
    ]
    assert migrations, "the city migrated its state as the version landed: a span of its own"


def test_model_calls_carry_model_tokens_latency_and_cache_hit(live: Live) -> None:
    buffer = tracing.buffer()
    assert buffer is not None
    calls = [s for s in buffer.spans() if s["name"] == "model.call"]
    assert calls, "the council's enrichment went through the model registry"
    attrs = calls[-1]["attributes"]
    for key in ("model", "provider", "role", "tokens_in", "tokens_out", "latency_ms", "cache_hit", "ok"):
        assert f"ouroboros.{key}" in attrs


def test_the_route_needs_an_id_and_a_token(live: Live) -> None:
    assert live.client.get("/api/traces", headers=live.headers("viewer")).status_code == 422
    assert live.client.get("/api/traces?patch_id=x'y", headers=live.headers("viewer")).status_code == 422
    assert live.client.get("/api/traces?patch_id=abc").status_code == 401
    assert _traces(live, patch_id="no-such-patch") == {"spans": [], "traces": [], "slowest": []}


def test_with_tracing_off_nothing_is_kept_and_the_route_says_so() -> None:
    was = tracing.buffer()
    tracing.shutdown()
    try:
        with tracing.span("x") as current:
            assert current is None
        tracing.record("y", 0.1)
        assert tracing.buffer() is None
        assert tracing.carry(len) is len
    finally:
        if was is not None:
            tracing.configure(buffer_spans=50_000)
