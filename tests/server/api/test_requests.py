"""Bad requests get one clear 4xx and change nothing; CORS is closed unless opened; the OpenAPI
document lists the routes; every request is one JSON log line."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ouroboros.server.api import ApiSettings

from .conftest import Live, start_live

SEED_PATHS = {
    "/health",
    "/api/auth/login",
    "/api/world/state",
    "/api/world/params",
    "/api/evolution/trigger",
    "/api/evolution/history",
    "/api/mutations",
    "/api/mutations/{patch_id}/source",
    "/api/stats",
    "/api/ledger",
    "/api/rollback",
    "/api/killswitch",
    "/api/killswitch/engage",
    "/api/killswitch/release",
    "/api/director",
    "/api/queue",
    "/api/queue/{item_id}/approve",
    "/api/queue/{item_id}/reject",
    "/api/queue/{item_id}/edit",
    "/api/queue/{item_id}/undo",
    "/api/queue/{item_id}/diff",
    "/api/snapshots",
    "/api/snapshots/{snapshot_id}/restore",
    "/api/snapshots/{snapshot_id}",
    "/api/guardrails",
    "/api/control/stop",
    "/api/control/go",
    "/api/feed",
    "/api/patches/{patch_id}/activate",
    "/api/users",
    "/api/audit",
}


def _snapshot_ids(live: Live) -> list[str]:
    return [
        s["id"] for s in live.client.get("/api/snapshots?world=petri", headers=live.headers("viewer")).json()
    ]


def test_a_huge_body_is_413_and_changes_nothing(live: Live) -> None:
    before = _snapshot_ids(live)
    big = {"world": "petri", "label": "x" * 300_000, "reason": "big"}
    response = live.client.post("/api/snapshots", headers=live.headers("operator"), json=big)
    assert response.status_code == 413 and "bytes" in response.json()["detail"]
    # a lying content-length does not get past the limit either
    chunks = (b'{"world": "petri", "reason": "' + b"y" * 100_000 for _ in range(4))
    streamed = live.client.post(
        "/api/snapshots",
        headers={**live.headers("operator"), "Content-Type": "application/json"},
        content=chunks,
    )
    assert streamed.status_code == 413
    assert _snapshot_ids(live) == before
    row = live.auth.audit_rows(1, response.headers["x-request-id"])[0]
    assert row["status"] == 413


@pytest.mark.parametrize("path", ["/api/guardrails", "/api/snapshots"])
def test_a_body_nested_too_deep_is_422_and_still_audited(live: Live, path: str) -> None:
    """A JSON body under the size limit but nested past what the parser follows is one clear
    422 (no traceback), changes nothing, and its audit row is written with its request id."""
    before = _snapshot_ids(live)
    guardrails = live.client.get("/api/guardrails", headers=live.headers("admin")).json()
    depth = 100_000
    for n, body in enumerate(
        (b"[" * depth + b"]" * depth, b'{"reason": "deep", "x": ' + b"[" * depth + b"]" * depth + b"}")
    ):
        request_id = f"deep-{path.rsplit('/', 1)[-1]}-{n}"
        response = live.client.request(
            "PUT" if path == "/api/guardrails" else "POST",
            path,
            headers=live.headers("admin", **{"Content-Type": "application/json", "X-Request-ID": request_id}),
            content=body,
        )
        assert response.status_code == 422 and "deep" in response.json()["detail"], response.text
        rows = live.auth.audit_rows(5, request_id)
        assert [r["status"] for r in rows] == [422], rows
    assert _snapshot_ids(live) == before
    assert live.client.get("/api/guardrails", headers=live.headers("admin")).json() == guardrails


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"world": "petri", "reason": 5}, "reason"),
        ({"world": "mars", "reason": "x"}, "world"),
        ({"world": "petri", "reason": ""}, "reason"),
        ({"world": "petri", "reason": "x", "extra": 1}, "extra"),
        ({"world": "petri", "label": ["a"], "reason": "x"}, "label"),
    ],
)
def test_wrong_types_are_422_with_the_field_and_change_nothing(
    live: Live, body: dict[str, object], field: str
) -> None:
    before = _snapshot_ids(live)
    response = live.client.post("/api/snapshots", headers=live.headers("operator"), json=body)
    assert response.status_code == 422
    assert any(d["loc"][-1] == field for d in response.json()["detail"]), response.json()
    assert _snapshot_ids(live) == before


def test_not_json_and_unknown_routes(live: Live) -> None:
    op = live.headers("operator", **{"Content-Type": "application/json"})
    assert live.client.post("/api/snapshots", headers=op, content=b"{not json").status_code == 422
    assert live.client.get("/api/nothing-here", headers=live.headers("viewer")).status_code == 404
    assert live.client.get("/api/feed?limit=0", headers=live.headers("viewer")).status_code == 422


def test_cors_is_closed_by_default(live: Live) -> None:
    origin = {"Origin": "https://evil.example"}
    response = live.client.get("/health", headers=origin)
    assert "access-control-allow-origin" not in response.headers
    preflight = live.client.options(
        "/api/control/stop", headers={**origin, "Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-origin" not in preflight.headers


@pytest.fixture(scope="module")
def open_cors(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    yield from start_live(
        tmp_path_factory.mktemp("cors"),
        ApiSettings(cors_origins=("http://localhost:5173",), max_body_bytes=1024),
    )


def test_cors_opens_only_for_the_origins_named(open_cors: Live) -> None:
    allowed = open_cors.client.get("/health", headers={"Origin": "http://localhost:5173"})
    assert allowed.headers["access-control-allow-origin"] == "http://localhost:5173"
    other = open_cors.client.get("/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
    # and the body limit is a setting
    body = {"world": "petri", "label": "z" * 2000, "reason": "x"}
    assert (
        open_cors.client.post("/api/snapshots", headers=open_cors.headers("operator"), json=body).status_code
        == 413
    )


def test_the_api_description_needs_a_token_and_the_doc_pages_are_off(live: Live) -> None:
    """Every endpoint but health and login needs a token: the OpenAPI document too."""
    assert live.client.get("/openapi.json").status_code == 401
    assert live.client.get("/openapi.json", headers={"Authorization": "Bearer nope"}).status_code == 401
    for page in ("/docs", "/redoc", "/docs/oauth2-redirect"):
        assert live.client.get(page).status_code == 404, page
        assert live.client.get(page, headers=live.headers("admin")).status_code == 404, page
    assert live.client.get("/openapi.json", headers=live.headers("viewer")).status_code == 200


def test_openapi_documents_every_route(live: Live) -> None:
    doc = live.client.get("/openapi.json", headers=live.headers("viewer")).json()
    assert "/openapi.json" in doc["paths"] and "/api/queue/propose" in doc["paths"]
    assert set(doc["paths"]) >= SEED_PATHS
    assert doc["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            assert op.get("summary"), (method, path)
            assert op.get("tags"), (method, path)
    release = doc["paths"]["/api/killswitch/release"]["post"]
    assert any(p["name"] == "X-TOTP" for p in release["parameters"])


def test_every_request_is_one_json_log_line(live: Live, caplog: pytest.LogCaptureFixture) -> None:
    from ouroboros.server.api.logs import JsonFormatter

    with caplog.at_level(logging.INFO, logger="ouroboros.api"):
        live.client.get("/api/stats", headers=live.headers("viewer", **{"X-Request-ID": "log-1"}))
    records = [r for r in caplog.records if getattr(r, "request_id", None) == "log-1"]
    assert len(records) == 1
    line = JsonFormatter().format(records[0])
    assert "\n" not in line
    doc = json.loads(line)
    assert doc["method"] == "GET" and doc["path"] == "/api/stats" and doc["status"] == 200
    assert doc["actor"] == "viewer1" and doc["ms"] >= 0


def test_the_dashboard_is_served_when_built(tmp_path: Path, live: Live) -> None:
    from fastapi.testclient import TestClient

    from ouroboros.server.api import create_app

    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "index.html").write_text("<html>ouroboros dashboard</html>")
    app = create_app(live.runtime, settings=ApiSettings(web_dist=dist), auth=live.auth)
    with TestClient(app) as client:
        assert "ouroboros dashboard" in client.get("/").text
        assert client.get("/health").json()["status"] == "ok"  # the API still wins


def test_the_world_stream_is_mounted_behind_the_same_tokens(live: Live) -> None:
    from starlette.websockets import WebSocketDisconnect

    with live.client.websocket_connect(f"/ws/world-stream?world=petri&token={live.tokens['viewer']}") as ws:
        # the feed shares the socket: a world event may arrive before the first frame
        messages = [json.loads(ws.receive_text())]
        while messages[-1]["type"] == "feed" and len(messages) < 50:
            messages.append(json.loads(ws.receive_text()))
        frame = messages[-1]
        assert frame["type"] == "frame" and frame["world"] == "petri" and len(frame["entities"]) > 0
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        live.client.websocket_connect("/ws/world-stream?world=petri&token=nope") as ws,
    ):
        ws.receive_text()
    assert refused.value.code == 1008
    metrics = live.client.get("/metrics", headers=live.headers("viewer"))
    assert metrics.status_code == 200 and "ouroboros_tick_seconds" in metrics.text


def test_metrics_need_a_bearer_token(live: Live) -> None:
    """What a Prometheus scrape job sends (``Authorization: Bearer``) is let in at any role;
    no token, a bad one or another scheme is 401 and shows no series."""
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic YWRtaW46YWRtaW4="}):
        refused = live.client.get("/metrics", headers=headers)
        assert refused.status_code == 401, refused.text
        assert refused.headers["www-authenticate"] == "Bearer"
        assert "ouroboros_" not in refused.text
    for role in ("viewer", "operator", "admin"):
        scraped = live.client.get("/metrics", headers=live.headers(role))
        assert scraped.status_code == 200, scraped.text
        assert scraped.headers["content-type"].startswith("text/plain")
        assert "ouroboros_tick_seconds_bucket" in scraped.text
    # the scrapes themselves are counted, under the route's template
    text = live.client.get("/metrics", headers=live.headers("viewer")).text
    assert 'route="/metrics"' in text


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(min_value=0, max_value=2048), st.booleans())
def test_the_body_limit_holds_at_every_size(open_cors: Live, size: int, chunked: bool) -> None:
    """1 KiB limit here: a body over it is 413 whether its length is declared or streamed; one
    under it reaches the route (login refuses the made-up secret)."""
    body = b'{"secret": "' + b"s" * size + b'"}'
    content: bytes | Iterator[bytes] = iter([body[:100], body[100:]]) if chunked else body
    response = open_cors.client.post(
        "/api/auth/login", content=content, headers={"Content-Type": "application/json"}
    )
    if len(body) > 1024:
        assert response.status_code == 413
    else:
        assert response.status_code in (401, 422) and response.json()["detail"]
