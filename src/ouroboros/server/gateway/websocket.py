"""The WebSocket gateway: the same ``Session`` as telnet, in JSON frames (``websockets``).

Client frames are text frames ``{"type": "line", "line": "..."}``. Server frames are the game's
event dicts as they are (``text``, ``gmcp``, ``disconnect``), plus
``{"type": "error", "code": ..., "message": ...}`` for a bad client frame.

What it promises:

- A bad frame (binary, not JSON, the wrong shape, over ``MAX_FRAME_BYTES``) gets an error frame
  and the connection goes on; bad frames count against the session's flood guard like lines.
  Frames over ``MAX_MESSAGE_BYTES`` are refused by the protocol layer itself (close code 1009),
  so a client can never make the server hold a large message.
- Backpressure: output waits in a per-connection queue; a client whose queue passes
  ``max_queued_bytes`` is dropped at once. An idle connection (no line for ``idle_timeout_s``) is
  told and closed.
- Whatever a client sends, only its own connection can end.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from ouroboros.errors import ClientFrameError as FrameError
from ouroboros.server.gateway.game import Event, LiveGame
from ouroboros.server.gateway.session import Session, SessionRegistry

log = logging.getLogger(__name__)

MAX_FRAME_BYTES = 4096
MAX_MESSAGE_BYTES = 64 * 1024
DEFAULT_IDLE_TIMEOUT_S = 30 * 60.0
DEFAULT_MAX_QUEUED_BYTES = 1024 * 1024
CLOSE_WAIT_S = 5.0


def parse_client_frame(message: str | bytes) -> str:
    """The line a client frame carries; raises ``FrameError``."""
    if isinstance(message, bytes):
        raise FrameError("Binary frames are not accepted; send JSON text frames.", code="binary_frame")
    if len(message) > MAX_FRAME_BYTES or len(message.encode("utf-8", "surrogatepass")) > MAX_FRAME_BYTES:
        raise FrameError(f"Frames are limited to {MAX_FRAME_BYTES} bytes.", code="frame_too_large")
    try:
        frame = json.loads(message)
    except (ValueError, RecursionError):
        raise FrameError("A frame must be JSON.", code="bad_json") from None
    if not isinstance(frame, dict) or frame.get("type") != "line" or not isinstance(frame.get("line"), str):
        raise FrameError('Expected {"type": "line", "line": "..."}.', code="bad_frame")
    line: str = frame["line"]
    return line


class WebSocketConnection:
    """One WebSocket as a session ``Transport``; ``pump`` writes its queued frames."""

    def __init__(self, websocket: ServerConnection, *, max_queued_bytes: int) -> None:
        self._ws = websocket
        self._max_queued = max_queued_bytes
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._queued_bytes = 0
        self.closing = False
        peer = websocket.remote_address
        self.peer = f"ws:{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else "ws:?"
        self.address = str(peer[0]) if isinstance(peer, tuple) else "?"

    def send(self, events: Sequence[Event]) -> None:
        for event in events:
            if self.closing:
                return
            frame = json.dumps(event, default=str)
            self._queued_bytes += len(frame)
            if self._queued_bytes > self._max_queued:
                log.info("dropping %s: it does not read its output", self.peer)
                self.abort()
                return
            self._queue.put_nowait(frame)

    def close(self) -> None:
        if not self.closing:
            self.closing = True
            self._queue.put_nowait(None)

    def abort(self) -> None:
        self.closing = True
        self._ws.transport.abort()

    async def pump(self) -> None:
        """Send queued frames until ``close``, then close the WebSocket."""
        try:
            while (frame := await self._queue.get()) is not None:
                self._queued_bytes -= len(frame)
                await self._ws.send(frame)
            await self._ws.close()
        except ConnectionClosed:
            pass


async def _read_frames(websocket: ServerConnection, session: Session, idle_timeout_s: float) -> None:
    loop = asyncio.get_running_loop()
    last_line_at = loop.time()
    while not session.closed:
        remaining = last_line_at + idle_timeout_s - loop.time()
        if remaining <= 0:
            session.close("You have been idle too long. Disconnecting.")
            return
        login_left = session.login_time_left()
        if login_left <= 0:
            session.close("You did not log in in time. Disconnecting.")
            return
        try:
            message = await asyncio.wait_for(websocket.recv(), min(remaining, login_left))
        except TimeoutError:
            continue
        pause_s = session.charge_input(len(message))
        if pause_s is None:
            return
        if pause_s > 0:
            await asyncio.sleep(pause_s)  # over budget: read no more until it refills
        try:
            line = parse_client_frame(message)
        except FrameError as error:
            session.report_bad_input(error.code, error.message)
            continue
        last_line_at = loop.time()
        await session.handle_line(line)


async def _serve_connection(
    registry: SessionRegistry,
    websocket: ServerConnection,
    *,
    idle_timeout_s: float,
    max_queued_bytes: int,
) -> None:
    connection = WebSocketConnection(websocket, max_queued_bytes=max_queued_bytes)
    pump = asyncio.create_task(connection.pump())
    session = registry.open(connection)
    try:
        if session is not None:
            await _read_frames(websocket, session, idle_timeout_s)
    except ConnectionClosed:
        pass
    except Exception:
        log.exception("websocket connection %s failed", connection.peer)
    finally:
        if session is not None:
            session.connection_lost()
        connection.close()
        try:
            await asyncio.wait_for(pump, CLOSE_WAIT_S)  # flush what is queued, then close
        except TimeoutError:
            connection.abort()


async def serve_websocket(
    game: LiveGame,
    registry: SessionRegistry,
    host: str,
    port: int,
    *,
    idle_timeout_s: float = DEFAULT_IDLE_TIMEOUT_S,
    max_queued_bytes: int = DEFAULT_MAX_QUEUED_BYTES,
) -> Server:
    """Start listening on ``host:port`` (port 0 picks a free one: read ``server.sockets``)."""
    if registry.game is not game:
        raise ValueError("the registry belongs to another game")

    async def handler(websocket: ServerConnection) -> None:
        await _serve_connection(
            registry, websocket, idle_timeout_s=idle_timeout_s, max_queued_bytes=max_queued_bytes
        )

    return await serve(handler, host, port, max_size=MAX_MESSAGE_BYTES)
