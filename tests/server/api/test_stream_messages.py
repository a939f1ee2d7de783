"""A world-stream client sets parameters over the socket, on a real server (uvicorn on a port, a
real WebSocket client): a viewer is refused, an operator's change lands at the next tick, bad
values get an error message and the stream stays open; every attempt is audited."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from websockets.sync.client import ClientConnection, connect

from .conftest import Live, start_live, wait_for


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Live, int]]:
    """The live runtime's app behind uvicorn on a free port."""
    lives = start_live(tmp_path_factory.mktemp("stream"))
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
        yield live, port
    finally:
        server.should_exit = True
        thread.join(20)
        next(lives, None)  # stops the runtime


def _reply(ws: ClientConnection, timeout_s: float = 20.0) -> dict[str, Any]:
    """The next message that is not a frame or a feed message."""
    deadline = time.monotonic() + timeout_s
    while True:
        raw = ws.recv(timeout=max(0.1, deadline - time.monotonic()))
        if isinstance(raw, bytes):
            continue
        doc: dict[str, Any] = json.loads(raw)
        if doc.get("type") not in ("frame", "feed"):
            return doc


def _stream(served: tuple[Live, int], role: str) -> ClientConnection:
    live, port = served
    return connect(f"ws://127.0.0.1:{port}/ws/world-stream?world=petri&token={live.tokens[role]}")


def _params(live: Live) -> dict[str, int]:
    got: dict[str, int] = live.client.get(
        "/api/world/params?world=petri", headers=live.headers("viewer")
    ).json()["params"]
    return got


def _ws_audit(live: Live) -> list[tuple[str, int]]:
    return [(r["actor"], r["status"]) for r in live.auth.audit_rows(200) if r["method"] == "WS"]


def test_a_viewer_may_not_set_parameters(served: tuple[Live, int]) -> None:
    live = served[0]
    before = _params(live)
    with _stream(served, "viewer") as ws:
        ws.send(
            json.dumps({"type": "set_params", "world": "petri", "params": {"max_food": 1234}, "reason": "x"})
        )
        reply = _reply(ws)
        assert reply["type"] == "error" and reply["code"] == "forbidden", reply
        ws.send(json.dumps({"type": "ping"}))
        assert _reply(ws) == {"type": "pong"}  # still open
    runner = live.runtime.runner("petri")
    tick = runner.world.tick
    wait_for(lambda: runner.world.tick > tick + 1)  # a tick boundary passed: nothing was queued
    assert _params(live) == before
    assert ("viewer1", 403) in _ws_audit(live)


def test_an_operator_sets_parameters_and_bad_values_are_an_error_not_a_disconnect(
    served: tuple[Live, int],
) -> None:
    live = served[0]
    target = 2000 if _params(live)["max_food"] != 2000 else 2100
    with _stream(served, "operator") as ws:
        for bad, code in (
            ({"params": {"max_food": -5}}, "bad_input"),
            ({"params": {"max_food": "many"}}, "bad_message"),
            ({"params": {"gravity": 3}}, "bad_input"),
            ({"params": {}}, "bad_message"),
            ({"world": "mars"}, "bad_message"),
            ({"reason": ""}, "bad_message"),
            ({"type": "teleport"}, "unknown_type"),
        ):
            doc = {"type": "set_params", "world": "petri", "params": {"max_food": 5}, "reason": "x", **bad}
            ws.send(json.dumps(doc))
            reply = _reply(ws)
            assert reply["type"] == "error" and reply["code"] == code and reply["message"], (bad, reply)
        assert _params(live)["max_food"] != target
        ws.send(
            json.dumps(
                {
                    "type": "set_params",
                    "world": "petri",
                    "params": {"max_food": target},
                    "reason": "less food",
                }
            )
        )
        reply = _reply(ws)
        assert reply["type"] == "params" and reply["result"]["ok"], reply
        assert reply["result"]["state"] == "active", reply
    wait_for(lambda: _params(live)["max_food"] == target)
    rows = [r for r in live.auth.audit_rows(200) if r["method"] == "WS" and r["actor"] == "operator1"]
    assert (rows[0]["status"], rows[0]["reason"]) == (200, "less food")
    assert {r["status"] for r in rows[1:]} <= {422}, rows


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.fixed_dictionaries(
        {"type": st.just("set_params")},
        optional={
            "world": st.sampled_from(["petri", "neon", "mars"]) | JSON,
            "params": st.dictionaries(st.sampled_from(["gravity", "max_food", "x"]), JSON, max_size=3) | JSON,
            "reason": st.text(max_size=5) | JSON,
            "extra": JSON,
        },
    )
)
def test_any_message_gets_one_answer_and_the_stream_stays_open(
    served: tuple[Live, int], msg: dict[str, Any]
) -> None:
    params = msg.get("params")
    # never a real change (every value an integer): only the answers to bad messages are looked at
    assume(
        not (
            isinstance(params, dict)
            and params
            and all(isinstance(v, int) and not isinstance(v, bool) for v in params.values())
        )
    )
    with _stream(served, "operator") as ws:
        ws.send(json.dumps(msg))
        reply = _reply(ws)
        assert reply["type"] == "error" and reply["code"] and reply["message"], (msg, reply)
        ws.send(json.dumps({"type": "ping"}))
        assert _reply(ws) == {"type": "pong"}
