"""Every route × every role: who is let through and who is refused, and a refused request changes
nothing (no feed event, the worlds tick on, the audit says who was refused). The table is checked
against the app's own routes, so a new route cannot escape it."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.routing import APIRoute

from .conftest import Live

ROLES = (None, "viewer", "operator", "admin")
RANK = {None: -1, "viewer": 0, "operator": 1, "admin": 2}

#: (method, path, least role). Writes are sent an empty body: a caller let through gets 422 (the
#: body is checked after the role), so the table itself never changes anything.
ROUTES = [
    ("GET", "/api/auth/me", "viewer"),
    ("GET", "/api/users", "admin"),
    ("POST", "/api/users", "admin"),
    ("POST", "/api/users/viewer1/tokens", "admin"),
    ("GET", "/api/users/viewer1/tokens", "admin"),
    ("POST", "/api/users/viewer1/tokens/0123456789abcdef/revoke", "admin"),
    ("GET", "/api/audit", "admin"),
    ("GET", "/api/world/state?world=petri", "viewer"),
    ("GET", "/api/world/state?world=neon", "viewer"),
    ("GET", "/api/world/params?world=petri", "viewer"),
    ("PUT", "/api/world/params", "operator"),
    ("POST", "/api/world/params", "operator"),
    ("GET", "/api/stats", "viewer"),
    ("GET", "/api/worlds", "viewer"),
    ("POST", "/api/control/stop", "operator"),
    ("POST", "/api/control/go", "operator"),
    ("GET", "/api/feed", "viewer"),
    ("GET", "/api/events", "viewer"),
    ("GET", "/api/traces?patch_id=nope", "viewer"),
    ("GET", "/api/snapshots?world=neon", "viewer"),
    ("POST", "/api/snapshots", "operator"),
    ("POST", "/api/snapshots/0000000000-00000000/restore", "admin"),
    ("DELETE", "/api/snapshots/0000000000-00000000?world=petri", "operator"),
    ("GET", "/api/mutations?world=petri", "viewer"),
    ("GET", "/api/mutations/nope/source?world=petri", "viewer"),
    ("GET", "/api/ledger?world=neon", "viewer"),
    ("POST", "/api/rollback", "operator"),
    ("GET", "/api/killswitch", "viewer"),
    ("POST", "/api/killswitch/engage", "operator"),
    ("POST", "/api/killswitch/release", "admin"),
    ("POST", "/api/patches/nope/activate", "admin"),
    ("GET", "/api/rollouts?world=neon", "viewer"),
    ("GET", "/api/cluster", "viewer"),
    ("POST", "/api/rollouts", "operator"),
    ("POST", "/api/rollouts/pause", "operator"),
    ("POST", "/api/rollouts/resume", "operator"),
    ("POST", "/api/rollouts/abort", "operator"),
    ("POST", "/api/rollouts/promote", "operator"),
    ("GET", "/api/director?world=neon", "viewer"),
    ("POST", "/api/director", "operator"),
    ("POST", "/api/director/pause", "operator"),
    ("POST", "/api/director/resume", "operator"),
    ("POST", "/api/director/stop", "operator"),
    ("GET", "/api/queue?world=neon", "viewer"),
    ("GET", "/api/queue/q1/diff?world=neon", "viewer"),
    ("POST", "/api/queue/q1/approve", "operator"),
    ("POST", "/api/queue/q1/reject", "operator"),
    ("POST", "/api/queue/q1/edit", "operator"),
    ("POST", "/api/queue/q1/undo", "operator"),
    ("GET", "/api/guardrails", "viewer"),
    ("PUT", "/api/guardrails", "admin"),
    ("POST", "/api/evolution/trigger", "operator"),
    ("GET", "/api/evolution/history", "viewer"),
    ("GET", "/metrics", "viewer"),
    ("GET", "/openapi.json", "viewer"),
    ("POST", "/api/queue/propose", "operator"),
    ("GET", "/api/snapshots/0000000000-00000000/restore-preview?world=neon", "viewer"),
    ("GET", "/api/worlds/neon/players", "viewer"),
    ("GET", "/api/worlds/neon/feedback", "viewer"),
    ("GET", "/api/worlds/neon/players/Nobody", "viewer"),
    ("POST", "/api/worlds/neon/players/Nobody/move", "operator"),
    ("GET", "/api/auth/sessions", "viewer"),
    ("POST", "/api/auth/sessions/0123456789abcdef/revoke", "viewer"),
    ("POST", "/api/auth/tokens/0123456789abcdef/revoke", "viewer"),
    ("GET", "/api/auth/stream-ticket", "viewer"),
    ("GET", "/api/profiler?world=petri", "viewer"),
    ("POST", "/api/profiler/freeze", "operator"),
    ("POST", "/api/profiler/force", "operator"),
    ("POST", "/api/profiler/release", "operator"),
    ("GET", "/api/alerts", "viewer"),
    ("GET", "/api/history?world=neon", "viewer"),
    ("GET", "/api/worlds/neon/overview", "viewer"),
]
#: the only routes open without a token
OPEN = {("GET", "/health"), ("POST", "/api/auth/login"), ("POST", "/api/auth/logout")}

#: GET routes that answer 404 for the made-up id in their path once the caller is let through
UNKNOWN_ID = {
    "/api/traces?patch_id=nope",
    "/api/mutations/nope/source?world=petri",
    "/api/queue/q1/diff?world=neon",
    "/api/snapshots/0000000000-00000000/restore-preview?world=neon",
    "/api/worlds/neon/players/Nobody",
}


def _app_routes(routes: list[Any]) -> list[APIRoute]:
    """Every HTTP route of the app, through included routers."""
    found: list[APIRoute] = []
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            found += _app_routes(list(included.routes))
        elif isinstance(route, APIRoute):
            found.append(route)
    return found


def _template(live: Live, method: str, path: str) -> str | None:
    concrete = path.split("?")[0]
    for route in _app_routes(list(live.client.app.routes)):  # type: ignore[attr-defined]
        if method in (route.methods or set()) and route.path_regex.match(concrete):
            return route.path
    return None


def test_the_table_names_every_route_of_the_app(live: Live) -> None:
    served = {
        (method, route.path)
        for route in _app_routes(list(live.client.app.routes))  # type: ignore[attr-defined]
        for method in (route.methods or set()) - {"HEAD"}
    }
    table = {(method, _template(live, method, path)) for method, path, _ in ROUTES}
    assert None not in {t for _, t in table}, "a table row matches no route"
    assert served - OPEN == table, (sorted(served - OPEN - table), sorted(table - served))


def test_the_councils_and_the_evolution_loop_run_so_no_route_may_answer_503(live: Live) -> None:
    assert live.runtime.runner("neon").council is not None
    assert live.runtime.runner("petri").council is not None
    assert live.runtime.evolution is not None


def _expected_get(path: str) -> set[int]:
    return {404} if path in UNKNOWN_ID else {200}


def _own_events(live: Live, after: int, who: str) -> list[dict[str, Any]]:
    """Feed events since ``after`` made by ``who`` (the worlds' own events may come meanwhile)."""
    return [e for e in live.runtime.feed.recent(1000, after) if e.get("actor") == who]


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "anonymous")
@pytest.mark.parametrize(("method", "path", "least"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_every_route_lets_in_exactly_the_roles_it_names(
    live: Live, method: str, path: str, least: str, role: str | None
) -> None:
    before_seq = max((e["seq"] for e in live.runtime.feed.recent(1)), default=0)
    paused_before = {n: r.paused.is_set() for n, r in live.runtime.runners.items()}
    body: dict[str, object] | None = None if method in ("GET", "DELETE") else {}
    response = live.client.request(method, path, headers=live.headers(role), json=body)
    if RANK[role] < RANK[least]:
        assert response.status_code == (401 if role is None else 403), response.text
        assert response.json()["detail"]
        if role is None:
            assert response.headers["www-authenticate"] == "Bearer"
        # nothing changed: no feed event, no pause, and the refusal is audited if it was a write
        who = {None: "anonymous", "viewer": "viewer1", "operator": "operator1"}[role]
        assert _own_events(live, before_seq, who) == []
        assert {n: r.paused.is_set() for n, r in live.runtime.runners.items()} == paused_before
        if method != "GET":
            row = live.auth.audit_rows(1, response.headers["x-request-id"])[0]
            assert (row["status"], row["actor"], row["path"]) == (
                response.status_code,
                {None: "anonymous", "viewer": "viewer1", "operator": "operator1"}[role],
                path.split("?")[0],
            )
    elif method == "GET":
        assert response.status_code in _expected_get(path), response.text
    else:
        assert response.status_code == 422, response.text  # let through; the empty body is refused
        assert response.json()["detail"]


@pytest.mark.parametrize(
    "authorization",
    ["Bearer nope", "Bearer ", "Basic YWRtaW46YWRtaW4=", "bearer ob_" + "A" * 43, "Bearer " + "x" * 300],
)
def test_bad_tokens_get_401(live: Live, authorization: str) -> None:
    response = live.client.get("/api/stats", headers={"Authorization": authorization})
    assert response.status_code == 401, response.text
    assert response.json()["detail"]


def test_health_and_login_are_open(live: Live) -> None:
    health = live.client.get("/health")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert set(health.json()["worlds"]) == {"neon", "petri"}
    assert live.client.post("/api/auth/login", json={"secret": "wrong"}).status_code == 401
