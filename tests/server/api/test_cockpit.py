"""The operator's cockpit on the API: browser sessions that last (and end when revoked), the
charts' server-side history, alerts (with a real webhook receiver), the engine's profiler and its
controls, the ``?status=`` filter and ``/admin``."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ouroboros.engine.clock import ManualClock
from ouroboros.server.api import ApiSettings, AuthStore, create_app
from ouroboros.server.api.auth import SESSION_COOKIE, AuthError
from ouroboros.server.runtime.alerts import AlertCenter, Webhook, check_webhook_url
from ouroboros.server.runtime.feed import Feed
from ouroboros.server.runtime.history import History

from .conftest import Live, wait_for


def seconds(clock: ManualClock) -> Any:
    return lambda: clock() / 1e9


# -- sessions -------------------------------------------------------------------------------------
def test_a_login_gives_an_httponly_strict_cookie_that_knows_the_role_until_revoked(live: Live) -> None:
    fresh = live.auth.create_user("browser1", "operator", "test")
    client = TestClient(live.client.app)
    login = client.post("/api/auth/login", json={"secret": fresh["token"]})
    assert login.status_code == 200, login.text
    cookie = login.headers["set-cookie"]
    assert f"{SESSION_COOKIE}=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Max-Age=604800" in cookie
    me = client.get("/api/auth/me")  # no token: the cookie alone, as after a reload
    assert me.json() == {"user": "browser1", "role": "operator"}
    mine = client.get("/api/auth/sessions").json()
    assert mine["current"] in [s["id"] for s in mine["sessions"]]
    assert [t["label"] for t in mine["tokens"]] == ["first"]
    # a write on the cookie is audited under the user's name
    stop = client.post("/api/control/stop", json={"world": "nowhere", "reason": "x"})
    assert stop.status_code == 422
    assert live.auth.audit_rows(1, stop.headers["x-request-id"])[0]["actor"] == "browser1"
    revoked = client.post(f"/api/auth/sessions/{mine['current']}/revoke", json={"reason": "lost laptop"})
    assert revoked.status_code == 200, revoked.text
    assert client.get("/api/auth/me").status_code == 401
    again = client.post(f"/api/auth/sessions/{mine['current']}/revoke", json={"reason": "twice"})
    assert again.status_code == 401  # the session is gone: so is the right to use it


def test_sign_out_ends_the_session_and_only_ones_own_sessions_can_be_revoked(live: Live) -> None:
    a = live.auth.create_user("browser2", "viewer", "test")
    client = TestClient(live.client.app)
    client.post("/api/auth/login", json={"secret": a["token"]})
    sid = client.get("/api/auth/sessions").json()["current"]
    other = live.client.post(
        f"/api/auth/sessions/{sid}/revoke", headers=live.headers("operator"), json={"reason": "not mine"}
    )
    assert other.status_code == 404
    out = client.post("/api/auth/logout")
    assert out.json() == {"signed_out": True} and SESSION_COOKIE in out.headers["set-cookie"]
    client.cookies.set(SESSION_COOKIE, "obs_" + "x" * 40)
    assert client.get("/api/auth/me").status_code == 401


def test_a_session_ends_at_its_expiry(tmp_path: Path) -> None:
    clock = ManualClock()
    store = AuthStore(tmp_path, clock=seconds(clock))
    try:
        first = store.ensure_first_admin()
        assert first is not None
        secret, sid = store.create_session("admin", ttl_s=3600)
        assert store.session_user(secret).role == "admin"
        assert [s["id"] for s in store.sessions("admin")] == [sid]
        clock.advance(3599 * 10**9)
        assert store.session_user(secret).name == "admin"
        clock.advance(2 * 10**9)
        with pytest.raises(AuthError):
            store.session_user(secret)
        assert store.sessions("admin") == []
        ticket = store.stream_ticket(store.authenticate(store.new_token("admin", "t")), ttl_s=60)
        assert store.ticket_user(ticket).name == "admin"
        clock.advance(61 * 10**9)
        with pytest.raises(AuthError):
            store.ticket_user(ticket)
    finally:
        store.close()


def test_the_world_stream_takes_a_signed_in_browsers_ticket(live: Live) -> None:
    ticket = live.client.get("/api/auth/stream-ticket", headers=live.headers("viewer")).json()["ticket"]
    with live.client.websocket_connect(f"/ws/world-stream?world=petri&token={ticket}") as ws:
        assert ws.receive() is not None
    from starlette.websockets import WebSocketDisconnect

    with (
        pytest.raises(WebSocketDisconnect),
        live.client.websocket_connect("/ws/world-stream?world=petri&token=obt_nope") as ws,
    ):
        ws.receive_text()


# -- history ----------------------------------------------------------------------------------------
def test_history_keeps_one_sample_a_second_with_human_names() -> None:
    clock = ManualClock()
    wall = iter(range(1_000_000))
    history = History(keep=3, every_s=1.0, clock=seconds(clock), wall=lambda: float(next(wall)))
    for i in range(5):
        assert history.due("petri")
        kpis = {"tick": i, "entity_count": 10 + i, "flag": True, "deaths": {"age": i}}
        history.sample("petri", {"tick": i, "tick_p95_ms": 1.5}, kpis)
        assert not history.due("petri")
        clock.advance(10**9)
    out = history.series("petri")
    assert out["tick"] == [2, 3, 4]  # the ring keeps the newest
    assert out["series"]["entity_count"] == {
        "label": "Population",
        "unit": "entities",
        "values": [12, 13, 14],
    }
    assert out["series"]["tick_p95_ms"]["label"] == "Tick time, 95th percentile"
    assert "flag" not in out["series"] and "tick" not in out["series"]
    assert out["series"]["deaths.age"]["label"] == "Deaths of old age"
    assert history.series("petri", seconds=1)["tick"] == [3, 4]


def test_the_charts_history_is_served_from_the_runtime(live: Live) -> None:
    def sampled() -> bool:
        got = live.client.get("/api/history?world=petri", headers=live.headers("viewer")).json()
        return len(got["t"]) >= 2

    wait_for(sampled, 15)
    got = live.client.get("/api/history?world=petri", headers=live.headers("viewer")).json()
    assert got["series"]["tick_p50_ms"]["unit"] == "ms"
    assert len(got["series"]["tick_p50_ms"]["values"]) == len(got["t"])
    assert live.client.get("/api/history?world=mars", headers=live.headers("viewer")).status_code == 422


# -- alerts -----------------------------------------------------------------------------------------
def test_rollbacks_switches_and_storms_raise_alerts_once() -> None:
    clock = ManualClock()
    feed = Feed()
    center = AlertCenter(feed, clock=seconds(clock), storm_errors=3, storm_window_s=60)
    feed.publish("governance", "neon", action="rollback", actor="ops")
    feed.publish("governance", "neon", action="patch", verdict={"state": "rolled_back"})
    feed.publish("killswitch", "petri", engaged=True, actor="ops", reason="test")
    feed.publish("economy", "neon", action="hold", reason="inflation over the guard")
    feed.publish("params", "petri", actor="ops")  # not an alert
    for _ in range(7):
        feed.publish("error", "petri", source="council", message="boom")
    kinds = [(a["kind"], a.get("automatic")) for a in center.recent()]
    assert kinds == [
        ("rollback", False),
        ("rollback", True),
        ("killswitch", None),
        ("economic_hold", None),
        ("fault_storm", None),
    ]
    clock.advance(61 * 10**9)
    for _ in range(3):
        feed.publish("error", "petri", source="council", message="again")
    assert [a["kind"] for a in center.recent(after=5)] == ["fault_storm"]
    for _ in range(3):
        feed.publish("worker", "petri", action="restart", process="sandbox")
    assert center.recent(1)[0]["kind"] == "restart_loop"
    center.observe_kpis("neon", {"held_transactions": 2, "npcs": 3})  # the base
    center.observe_kpis("neon", {"held_transactions": 2})
    assert center.recent(1)[0]["kind"] == "restart_loop"
    center.observe_kpis("neon", {"held_transactions": 5})
    held = center.recent(1)[0]
    assert (held["kind"], held["world"], held["new"]) == ("economic_hold", "neon", 3)


class _Receiver(BaseHTTPRequestHandler):
    got: list[dict[str, Any]] = []
    fail_first = 1

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if _Receiver.fail_first > 0:
            _Receiver.fail_first -= 1
            self.send_response(500)
        else:
            _Receiver.got.append(body)
            self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_a_webhook_gets_each_alert_as_json_retried_after_a_failure() -> None:
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    waits: list[float] = []
    hook = Webhook(f"http://127.0.0.1:{server.server_port}/alerts", sleep=waits.append, backoff_s=0.5)
    try:
        feed = Feed()
        AlertCenter(feed, webhook=hook)
        feed.publish("killswitch", "neon", engaged=True, actor="ops", reason="drill")
        hook.drain()
        assert [(a["kind"], a["world"], a["engaged"]) for a in _Receiver.got] == [
            ("killswitch", "neon", True)
        ]
        assert waits == [0.5] and hook.status()["sent"] == 1
    finally:
        hook.close()
        server.shutdown()


def test_a_dead_webhook_never_blocks_and_gives_up_after_its_tries() -> None:
    gate = threading.Event()
    calls: list[int] = []

    def post(url: str, doc: dict[str, Any], timeout: float) -> None:
        calls.append(1)
        gate.wait(5)
        raise OSError("connection refused")

    hook = Webhook("http://127.0.0.1:9/", post=post, tries=3, sleep=lambda s: None)
    for i in range(2000):  # the queue fills; offering never waits
        hook.offer({"seq": i})
    assert hook.dropped > 0
    gate.set()
    hook.close(0.1)


@given(st.text(max_size=40))
def test_a_webhook_url_is_http_or_refused(url: str) -> None:
    try:
        assert check_webhook_url(url).startswith(("http://", "https://"))
    except Exception as exc:
        assert "--alert-webhook" in str(exc)


def test_engaging_the_kill_switch_is_an_alert_on_the_api(live: Live) -> None:
    before = live.client.get("/api/alerts", headers=live.headers("viewer")).json()["last_seq"]
    ok = live.client.post(
        "/api/killswitch/engage", headers=live.headers("operator"), json={"world": "neon", "reason": "drill"}
    )
    assert ok.status_code == 200, ok.text
    got = live.client.get(f"/api/alerts?after={before}", headers=live.headers("viewer")).json()["alerts"]
    assert [(a["kind"], a["world"], a["actor"]) for a in got] == [("killswitch", "neon", "operator1")]
    live.runtime.runner("neon").call(
        lambda: live.runtime.runner("neon").governor.killswitch.set(False, "test", "back")
    )


# -- the profiler -----------------------------------------------------------------------------------
def test_the_profiler_shows_each_system_per_tick_and_its_controls_are_audited(live: Live) -> None:
    got = live.client.get("/api/profiler?world=petri&ticks=50", headers=live.headers("viewer")).json()
    n = len(got["ticks"])
    assert 0 < n <= 50 and len(got["tick_ms"]) == n
    assert got["systems"] and all(len(s["ms"]) == n for s in got["systems"])
    for d in got["in_window"]:  # a rewrite in view carries the profiler's own before/after
        if d.get("system") in {s["name"] for s in got["systems"]} and d["tick"] > got["ticks"][0]:
            assert d["measured_before_ms"] is not None and d["measured_ticks"][0] > 0
    assert all(s["column_bytes"] >= 0 for s in got["systems"])
    assert got["hardware"]["available"] in (True, False)
    if not got["hardware"]["available"]:
        assert got["hardware"]["reason"]
    system, variants = next((k, v) for k, v in got["variants"].items() if len(v) > 1)
    bad = live.client.post(
        "/api/profiler/force",
        headers=live.headers("operator"),
        json={"world": "petri", "system": system, "variant": "nope", "reason": "try"},
    )
    assert bad.status_code == 422
    forced = live.client.post(
        "/api/profiler/force",
        headers=live.headers("operator"),
        json={"world": "petri", "system": system, "variant": variants[-1], "reason": "compare"},
    )
    assert forced.status_code == 200, forced.text
    control = json.loads((live.runtime.runner("petri").folder / "optimizer.json").read_text())
    assert control["forced"] == {system: variants[-1]}
    row = live.auth.audit_rows(1, forced.headers["x-request-id"])[0]
    assert (row["actor"], row["reason"], row["status"]) == ("operator1", "compare", 200)
    released = live.client.post(
        "/api/profiler/release",
        headers=live.headers("operator"),
        json={"world": "petri", "system": system, "reason": "done"},
    )
    assert released.json()["control"]["forced"] == {}
    again = live.client.post(
        "/api/profiler/release",
        headers=live.headers("operator"),
        json={"world": "petri", "system": system, "reason": "done"},
    )
    assert again.status_code == 409
    frozen = live.client.post(
        "/api/profiler/freeze",
        headers=live.headers("operator"),
        json={"world": "petri", "frozen": True, "reason": "steady"},
    )
    assert frozen.json()["control"]["frozen"] is True
    live.client.post(
        "/api/profiler/freeze",
        headers=live.headers("operator"),
        json={"world": "petri", "frozen": False, "reason": "go"},
    )


# -- small promises -------------------------------------------------------------------------------
def test_mutations_honour_the_status_filter(live: Live) -> None:
    h = live.headers("viewer")
    assert live.client.get("/api/mutations?world=neon&status=bogus", headers=h).status_code == 422
    active = live.client.get("/api/mutations?world=neon&status=active", headers=h).json()
    assert all(p["state"] == "active" for p in active)
    for p in live.client.get("/api/mutations?world=neon", headers=h).json():
        assert p["what"] and "state" in p


def test_admin_serves_the_dashboard(live: Live, tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<html>the dashboard</html>")
    app = create_app(live.runtime, settings=ApiSettings(web_dist=tmp_path), auth=live.auth)
    with TestClient(app) as client:
        for path in ("/admin/", "/"):
            page = client.get(path)
            assert page.status_code == 200 and "the dashboard" in page.text
        assert client.get("/admin", follow_redirects=True).status_code == 200


def test_the_apps_alerts_reach_its_webhook(live: Live) -> None:
    _Receiver.got, _Receiver.fail_first = [], 0
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings = ApiSettings(alert_webhook=f"http://127.0.0.1:{server.server_port}/hook")
    app = create_app(live.runtime, settings=settings, auth=live.auth)
    try:
        live.runtime.feed.publish("governance", "petri", action="rollback", actor="someone")
        app.state.alerts.webhook.drain()
        assert [(a["kind"], a["actor"]) for a in _Receiver.got] == [("rollback", "someone")]
    finally:
        app.state.alerts.close()
        server.shutdown()


def test_a_session_only_login_hands_no_token_to_the_page(live: Live) -> None:
    fresh = live.auth.reset_secret("viewer1", "a browser login")
    client = TestClient(live.client.app)
    before = len(live.auth.tokens("viewer1"))
    login = client.post("/api/auth/login", json={"secret": fresh.one_time_secret, "session_only": True})
    assert login.status_code == 200 and login.json()["token"] is None
    assert len(live.auth.tokens("viewer1")) == before  # no token minted behind the page's back
    assert client.get("/api/auth/me").json() == {"user": "viewer1", "role": "viewer"}
    bad = client.post("/api/auth/login", json={"secret": "x", "session_only": "yes"})
    assert bad.status_code == 422


def test_the_city_map_names_districts_and_places_npcs_in_rooms(live: Live) -> None:
    got = live.client.get("/api/worlds/neon/overview", headers=live.headers("viewer")).json()
    rooms = {r["id"]: r for r in got["rooms"]}
    assert got["districts"] and all(d["name"] and d["rooms"] > 0 for d in got["districts"])
    assert sum(d["rooms"] for d in got["districts"]) == len(rooms)
    assert got["npcs"] and all(n["room"] in rooms for n in got["npcs"])
    assert not any(r["added"] for r in rooms.values())  # the base city: nothing added yet
    none = live.client.get("/api/worlds/petri/overview", headers=live.headers("viewer"))
    assert none.status_code == 404 and "no map" in none.json()["detail"]
    assert live.client.get("/api/worlds/mars/overview", headers=live.headers("viewer")).status_code == 404


def test_a_server_started_again_and_again_is_a_restart_loop(tmp_path: Path) -> None:
    center = AlertCenter(Feed(), loop_restarts=3, loop_window_s=300)
    assert [center.record_start(tmp_path, t) for t in (0.0, 1000.0, 1100.0)] == [1, 1, 2]
    assert center.recent() == []  # restarts spread out: no loop
    assert center.record_start(tmp_path, 1200.0) == 3
    (alert,) = center.recent()
    assert (alert["kind"], alert["starts"]) == ("restart_loop", 3)
    (tmp_path / "starts.jsonl").write_text("not json\n{}\n")  # a damaged file is not a crash
    assert center.record_start(tmp_path, 5000.0) == 1


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(
    st.text(
        alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters=';,"\\'), max_size=300
    )
)
def test_any_made_up_session_cookie_is_one_clear_401(live: Live, value: str) -> None:
    client = TestClient(live.client.app)
    client.cookies.set(SESSION_COOKIE, value)
    answer = client.get("/api/auth/me")
    assert answer.status_code == 401 and answer.json()["detail"]
    stop = client.post("/api/control/stop", json={"reason": "x"})
    assert stop.status_code == 401
    assert not live.runtime.runner("petri").paused.is_set()


def test_a_rewrite_in_view_gets_the_profilers_own_before_and_after() -> None:
    from ouroboros.server.api.routes_profiler import _around

    ms = {"eat": [2.0] * 40 + [1.0] * 10}  # ticks 100..149; the switch at tick 140
    got = _around({"tick": 140, "kind": "switch", "system": "eat"}, ms, first=100)
    assert (got["measured_before_ms"], got["measured_after_ms"], got["measured_ticks"]) == (
        2.0,
        1.0,
        [30, 10],
    )
    assert _around({"tick": 140, "kind": "freeze", "system": None}, ms, first=100) == {
        "tick": 140,
        "kind": "freeze",
        "system": None,
    }
