"""Slowloris against the API's HTTP server on real sockets: a client that sends its request
headers a byte at a time is cut off at the header deadline (uvicorn's own h11 protocol never cuts
it off), while whole requests, keep-alive and WebSocket upgrades work as before."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from fastapi import FastAPI, WebSocket
from websockets.sync.client import connect

from ouroboros.server.api.http_deadline import header_deadline_protocol

from .conftest import wait_for

DEADLINE_S = 0.5


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/ping")
    def ping() -> dict[str, str]:
        return {"pong": "yes"}

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(await websocket.receive_text())
        await websocket.close()

    _ = ping, ws
    return app


def _serve(http: object) -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    config = uvicorn.Config(
        _app(),
        host="127.0.0.1",
        port=port,
        log_config=None,
        lifespan="off",
        http=http,
        ws="websockets-sansio",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started, timeout_s=20)
        yield port
    finally:
        server.should_exit = True
        thread.join(20)


@pytest.fixture(scope="module")
def guarded() -> Iterator[int]:
    yield from _serve(header_deadline_protocol(DEADLINE_S))


@pytest.fixture(scope="module")
def plain() -> Iterator[int]:
    yield from _serve("h11")


def _trickle(port: int, give_up_s: float) -> float | None:
    """Send request headers one byte every 50 ms, never finishing; seconds until the server
    closed the connection, or None if it had not after ``give_up_s``."""
    request = b"GET /ping HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 10_000
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.settimeout(0.05)
        for byte in request:
            if time.monotonic() - started > give_up_s:
                return None
            try:
                sock.sendall(bytes([byte]))
                if sock.recv(1024) == b"":
                    return time.monotonic() - started
            except TimeoutError:
                continue
            except (ConnectionError, OSError):
                return time.monotonic() - started
    return None


def test_uvicorn_alone_never_cuts_off_a_slow_header(plain: int) -> None:
    assert _trickle(plain, give_up_s=3 * DEADLINE_S + 1) is None  # why the deadline is needed


def test_incomplete_headers_are_cut_off_at_the_deadline(guarded: int) -> None:
    closed_after = _trickle(guarded, give_up_s=10)
    assert closed_after is not None and closed_after < DEADLINE_S + 2


def test_a_silent_connection_is_cut_off_too(guarded: int) -> None:
    with socket.create_connection(("127.0.0.1", guarded)) as sock:
        sock.settimeout(10)
        assert sock.recv(1024) == b""


def test_whole_requests_keep_alive_and_websockets_still_work(guarded: int) -> None:
    with socket.create_connection(("127.0.0.1", guarded)) as sock:
        sock.settimeout(10)
        for _ in range(3):  # three requests on one connection, each well inside the deadline
            sock.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
            got = b""
            while b'{"pong":"yes"}' not in got:
                chunk = sock.recv(4096)
                assert chunk, got
                got += chunk
            assert got.startswith(b"HTTP/1.1 200")
    with connect(f"ws://127.0.0.1:{guarded}/ws") as ws:
        time.sleep(DEADLINE_S * 2)  # past the header deadline: an upgraded connection is not under it
        ws.send("echo")
        assert ws.recv(timeout=10) == "echo"
