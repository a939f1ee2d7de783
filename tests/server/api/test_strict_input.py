"""Input that Python's ``json`` accepts but JSON and the server cannot hold, against a real server
(uvicorn on a port, real HTTP and WebSocket clients): ``NaN``, ``Infinity``, ``1e400``, integers
past 64 bits, lone surrogates, repeated keys, and user names with controls or lookalike spaces.
Each is one 422 (or a stream ``error``) with its audit row and a log line, never a 500."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.sync.client import connect

from ouroboros.server.api import strict_json

from .conftest import Live, start_live, wait_for


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Live, httpx.Client, int]]:
    lives = start_live(tmp_path_factory.mktemp("strict"))
    live = next(lives)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    config = uvicorn.Config(
        live.client.app, host="127.0.0.1", port=port, log_config=None, lifespan="off", ws="websockets-sansio"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started, timeout_s=20)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=20) as http:
            yield live, http, port
    finally:
        server.should_exit = True
        thread.join(20)
        next(lives, None)


def _send(
    served: tuple[Live, httpx.Client, int], method: str, path: str, body: str, role: str
) -> httpx.Response:
    live, http, _ = served
    headers = {**live.headers(role), "content-type": "application/json"}
    return http.request(method, path, content=body.encode("utf-8"), headers=headers)


def _audit_of(live: Live, response: httpx.Response) -> dict[str, Any]:
    rows = live.auth.audit_rows(5, response.headers["x-request-id"])
    assert len(rows) == 1, rows
    return rows[0]


@pytest.mark.parametrize(
    "value", ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "9" * 30, "1" + "0" * 5000]
)
def test_numbers_json_cannot_hold_are_a_422_with_an_audit_row(
    served: tuple[Live, httpx.Client, int], value: str
) -> None:
    live = served[0]
    body = f'{{"world": "petri", "params": {{"max_food": {value}}}, "reason": "numbers"}}'
    got = _send(served, "PUT", "/api/world/params", body, "operator")
    assert got.status_code == 422, got.text
    assert got.json()["code"] == "bad_json"
    row = _audit_of(live, got)
    assert (row["status"], row["actor"], row["method"]) == (422, "operator1", "PUT")


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_a_lone_surrogate_is_a_422_with_an_escaped_audit_row_and_a_log_line(
    served: tuple[Live, httpx.Client, int],
) -> None:
    live = served[0]
    body = '{"world": "petri", "params": {"max_food": 900}, "reason": "why \\ud800 not"}'
    logger, seen = logging.getLogger("ouroboros.api"), _Records()
    level, disabled = logger.level, logger.disabled
    logger.addHandler(seen)  # on the logger itself: whatever another test did to its propagation
    logger.setLevel(logging.INFO)
    logger.disabled = False
    try:
        got = _send(served, "PUT", "/api/world/params", body, "operator")
        rid = got.headers["x-request-id"]
        wait_for(lambda: any(getattr(r, "request_id", None) == rid for r in seen.records))
    finally:
        logger.removeHandler(seen)
        logger.setLevel(level)
        logger.disabled = disabled
    assert got.status_code == 422, got.text
    row = _audit_of(live, got)
    assert row["status"] == 422 and row["reason"] == "why \\ud800 not"
    assert [getattr(r, "status", None) for r in seen.records if getattr(r, "request_id", None) == rid] == [
        422
    ]
    assert (
        live.client.get("/api/world/params?world=petri", headers=live.headers("viewer")).json()["params"][
            "max_food"
        ]
        != 900
    )


def test_a_repeated_key_is_refused(served: tuple[Live, httpx.Client, int]) -> None:
    body = '{"world": "petri", "params": {"max_food": 5}, "params": {"max_food": 6}, "reason": "dup"}'
    got = _send(served, "PUT", "/api/world/params", body, "operator")
    assert got.status_code == 422 and "repeated" in got.json()["detail"]


@pytest.mark.parametrize(
    "name",
    [
        "admin\n",
        "eve\r",
        "eve\t",
        "ev\u200be",
        "eve\u00a0",
        "eve\u2028",
        "\uff45ve",
        "eve\x00",
        "Eve",
        "eve ",
    ],
)
def test_user_names_with_controls_or_lookalikes_are_refused(
    served: tuple[Live, httpx.Client, int], name: str
) -> None:
    live = served[0]
    before = {u["name"] for u in live.auth.users()}
    got = _send(
        served, "POST", "/api/users", json.dumps({"name": name, "role": "admin", "reason": "x"}), "admin"
    )
    assert got.status_code == 422, got.text
    assert _audit_of(live, got)["status"] == 422
    assert {u["name"] for u in live.auth.users()} == before


def test_the_store_refuses_a_trailing_newline_too(served: tuple[Live, httpx.Client, int]) -> None:
    with pytest.raises(ValueError):
        served[0].auth.create_user("admin\n", "admin", "test")


def _reply(ws: Any, timeout_s: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        raw = ws.recv(timeout=max(0.1, deadline - time.monotonic()))
        if isinstance(raw, bytes):
            continue
        doc: dict[str, Any] = json.loads(raw)
        if doc.get("type") not in ("frame", "feed"):
            return doc


def test_the_stream_refuses_the_same_input_with_an_audit_row(served: tuple[Live, httpx.Client, int]) -> None:
    live, _, port = served
    uri = f"ws://127.0.0.1:{port}/ws/world-stream?world=petri&token={live.tokens['operator']}"
    before = len([r for r in live.auth.audit_rows(500) if r["method"] == "WS"])
    sent = [
        '{"type": "set_params", "world": "petri", "params": {"max_food": 5}, "reason": "x \\ud800"}',
        '{"type": "set_params", "world": "petri", "params": {"max_food": NaN}, "reason": "nan"}',
        '{"type": "set_params", "world": "petri", "params": {"max_food": 1e400}, "reason": "inf"}',
    ]
    with connect(uri) as ws:
        for text in sent:
            ws.send(text)
            reply = _reply(ws)
            assert reply["type"] == "error" and reply["code"] in ("bad_json", "bad_message"), reply
        ws.send('{"type": "ping"}')
        assert _reply(ws) == {"type": "pong"}
    rows = [r for r in live.auth.audit_rows(500) if r["method"] == "WS"]
    assert len(rows) - before == len(sent)
    assert {r["status"] for r in rows[: len(sent)]} == {422}
    assert "x \\ud800" in {r["reason"] for r in rows[: len(sent)]}


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()  # NaN and infinities included
    | st.text(alphabet=st.characters(codec=None), max_size=12),  # surrogates included
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=10,
)
WRITES = [
    ("PUT", "/api/world/params", "operator"),
    ("POST", "/api/users", "admin"),
    ("POST", "/api/auth/login", "admin"),
    ("POST", "/api/control/stop", "viewer"),
    ("POST", "/api/queue/propose", "operator"),
    ("POST", "/api/snapshots", "viewer"),
]


def _encode(doc: Any) -> str:
    # json.dumps writes NaN, Infinity and lone surrogates (as \\udXXX), as a hostile client would
    return json.dumps(doc)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    where=st.sampled_from(WRITES),
    doc=st.fixed_dictionaries(
        {},
        optional={
            "world": st.sampled_from(["petri", "neon"]) | JSON_VALUES,
            "params": st.dictionaries(st.sampled_from(["max_food", "x"]), JSON_VALUES, max_size=2)
            | JSON_VALUES,
            "name": st.text(alphabet=st.characters(codec=None), max_size=10) | JSON_VALUES,
            "role": st.sampled_from(["viewer", "admin"]) | JSON_VALUES,
            "secret": st.text(max_size=10) | JSON_VALUES,
            "reason": st.text(alphabet=st.characters(codec=None), max_size=20) | JSON_VALUES,
        },
    )
    | JSON_VALUES,
    raw=st.none() | st.text(max_size=30),
)
def test_arbitrary_json_never_gives_a_500_and_every_refused_write_is_audited(
    served: tuple[Live, httpx.Client, int], where: tuple[str, str, str], doc: Any, raw: str | None
) -> None:
    live = served[0]
    method, path, role = where
    body = raw if raw is not None else _encode(doc)
    if method == "POST" and path == "/api/control/stop":
        role = "viewer"  # refused by role: nothing is ever paused by this test
    got = _send(served, method, path, body, role)
    assert got.status_code < 500, (body, got.status_code, got.text)
    row = _audit_of(live, got)
    assert row["status"] == got.status_code
    if got.status_code < 400:
        strict_json.loads(body)  # only what strict JSON accepts got through


@pytest.mark.parametrize("label", ["two\nlines", "bell\x07", "rtl\u202eeliam", "zero\u200bwidth"])
def test_labels_shown_in_lists_hold_no_controls(served: tuple[Live, httpx.Client, int], label: str) -> None:
    got = _send(
        served,
        "POST",
        "/api/users/viewer1/tokens",
        json.dumps({"label": label, "reason": "a token"}),
        "admin",
    )
    assert got.status_code == 422, got.text
    assert _audit_of(served[0], got)["status"] == 422


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    doc=st.fixed_dictionaries(
        {"type": st.just("set_params")},
        optional={
            "world": st.sampled_from(["petri"]) | JSON_VALUES,
            "params": st.dictionaries(st.sampled_from(["max_food", "x"]), JSON_VALUES, max_size=2),
            "reason": st.text(alphabet=st.characters(codec=None), max_size=20) | JSON_VALUES,
        },
    )
)
def test_arbitrary_stream_writes_are_answered_and_audited(
    served: tuple[Live, httpx.Client, int], doc: dict[str, Any]
) -> None:
    live, _, port = served
    uri = f"ws://127.0.0.1:{port}/ws/world-stream?world=petri&token={live.tokens['operator']}"
    before = len([r for r in live.auth.audit_rows(1000) if r["method"] == "WS"])
    with connect(uri) as ws:
        ws.send(json.dumps(doc))  # NaN, Infinity and lone surrogates written as a hostile client would
        reply = _reply(ws)
        assert reply["type"] in ("params", "error") and reply.get("code") != "internal", reply
        ws.send('{"type": "ping"}')
        assert _reply(ws) == {"type": "pong"}
    assert len([r for r in live.auth.audit_rows(1000) if r["method"] == "WS"]) == before + 1
