"""The live world stream: frames of a running world (``ouroboros.server.stream.frames``), fanned out to
many WebSocket clients. Feed messages are JSON ``{"type": "feed", "event": {...}}``.

What it promises:

- A frame is encoded once and the same bytes go to every client.
- Every client has a small bounded frame queue where the newest frame wins: a slow client has
  its oldest waiting frames dropped (and counted), never buffered without bound. Feed messages
  have their own bounded queue. Memory per client is bounded whatever the client does.
- The WebSocket endpoint refuses a missing or bad token and an unknown world with close code
  1008; a malformed client message gets an error message and the connection goes on; a message
  over ``MAX_CLIENT_MESSAGE_BYTES`` closes the connection with 1009.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, WebSocket
from starlette.websockets import WebSocketDisconnect

from ouroboros.errors import FrameError, OuroborosError
from ouroboros.server.stream.frames import (  # re-exported: the stream's public names include the codec
    BINARY_MIN_ENTITIES,
    ENTITY_DTYPE,
    HEADER_DTYPE,
    MAGIC,
    MAX_FRAME_ITEMS,
    RESOURCE_DTYPE,
    VERSION,
    Entities,
    Frame,
    decode_binary_frame,
    encode_frame,
    frame_source,
    world_kinds,
    world_of_kind,
)

if TYPE_CHECKING:
    from ouroboros.engine import World

__all__ = [
    "BINARY_MIN_ENTITIES",
    "CLOSE_POLICY",
    "CLOSE_TOO_BIG",
    "DEFAULT_FEED_QUEUE",
    "DEFAULT_FPS",
    "DEFAULT_FRAME_QUEUE",
    "ENTITY_DTYPE",
    "HEADER_DTYPE",
    "MAGIC",
    "MAX_CLIENT_MESSAGE_BYTES",
    "MAX_FRAME_ITEMS",
    "RESOURCE_DTYPE",
    "VERSION",
    "Entities",
    "Frame",
    "FrameError",
    "StreamClient",
    "StreamHub",
    "decode_binary_frame",
    "encode_frame",
    "frame_source",
    "mount_world_stream",
    "world_kinds",
    "world_of_kind",
]

log = logging.getLogger(__name__)

DEFAULT_FPS = 30
DEFAULT_FRAME_QUEUE = 2
DEFAULT_FEED_QUEUE = 64
MAX_CLIENT_MESSAGE_BYTES = 4096
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009

# -- fan-out -------------------------------------------------------------------------------------
Message = bytes | str
Send = Callable[[Message], Awaitable[None]]


class StreamClient:
    """One viewer: a bounded frame queue (newest wins), a bounded feed queue, and one sender."""

    def __init__(self, send: Send, principal: Any, *, frame_queue: int, feed_queue: int) -> None:
        self.principal = principal
        self.frames: deque[Message] = deque(maxlen=frame_queue)
        self.feed: deque[str] = deque(maxlen=feed_queue)
        self.frames_sent = 0
        self.frames_dropped = 0
        self.feed_sent = 0
        self.feed_dropped = 0
        self.closed = False
        self.send_lock = asyncio.Lock()
        self._send = send
        self._wake = asyncio.Event()

    def push_frame(self, payload: Message) -> bool:
        """Queue a frame; False when that dropped the oldest waiting one."""
        dropped = len(self.frames) == self.frames.maxlen
        if dropped:
            self.frames_dropped += 1
        self.frames.append(payload)
        self._wake.set()
        return not dropped

    def push_feed(self, payload: str) -> bool:
        dropped = len(self.feed) == self.feed.maxlen
        if dropped:
            self.feed_dropped += 1
        self.feed.append(payload)
        self._wake.set()
        return not dropped

    async def send(self, payload: Message) -> None:
        """Send one message now (replies to the client's own messages go this way)."""
        async with self.send_lock:
            await self._send(payload)

    async def run(self) -> None:
        """Send what is queued until the connection fails or ``close()``; feed goes first."""
        try:
            while not self.closed:
                await self._wake.wait()
                self._wake.clear()
                while not self.closed and (self.feed or self.frames):
                    if self.feed:
                        await self.send(self.feed.popleft())
                        self.feed_sent += 1
                    else:
                        await self.send(self.frames.popleft())
                        self.frames_sent += 1
        except Exception as exc:  # a send to a closed connection: this client is done
            log.debug("stream client stopped: %r", exc)
        finally:
            self.closed = True

    def close(self) -> None:
        self.closed = True
        self._wake.set()


class StreamHub:
    """Frames and feed of one world for every attached client.

    Producers: ``offer(world)`` from the tick thread after each ``step()`` (rate-limited to
    ``fps``), ``publish(frame)`` / ``publish_feed(event)`` from any thread, or ``produce()`` as a
    task on the loop that ticks. Clients attach and detach on the hub's event loop."""

    def __init__(
        self,
        world: str,
        *,
        fps: int = DEFAULT_FPS,
        frame_queue: int = DEFAULT_FRAME_QUEUE,
        feed_queue: int = DEFAULT_FEED_QUEUE,
        snapshot: Callable[[World], Frame] | None = None,
    ) -> None:
        source = snapshot or frame_source(world)  # FrameError: no such world, or one not streamed
        if not 1 <= fps <= 240 or frame_queue < 1 or feed_queue < 1:
            raise FrameError("fps must be in [1, 240] and the queues at least 1 long")
        self.world = world
        self.period_s = 1.0 / fps
        self.frame_queue = frame_queue
        self.feed_queue = feed_queue
        self.snapshot = source
        self.clients: set[StreamClient] = set()
        self.last_frame: Message | None = None
        self.frames_published = 0
        self.feed_published = 0
        self.encode_seconds_total = 0.0
        self._gone_sent = 0
        self._gone_dropped = 0
        self._gone_feed_dropped = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._next_due = 0.0

    # -- counters (read by metrics) --
    @property
    def frames_sent(self) -> int:
        return self._gone_sent + sum(c.frames_sent for c in list(self.clients))

    @property
    def frames_dropped(self) -> int:
        return self._gone_dropped + sum(c.frames_dropped for c in list(self.clients))

    @property
    def feed_dropped(self) -> int:
        return self._gone_feed_dropped + sum(c.feed_dropped for c in list(self.clients))

    # -- clients (on the loop) --
    def attach(self, send: Send, principal: Any = None) -> StreamClient:
        """A new client on the running loop; it gets the latest frame at once."""
        self._loop = asyncio.get_running_loop()
        client = StreamClient(send, principal, frame_queue=self.frame_queue, feed_queue=self.feed_queue)
        self.clients.add(client)
        if self.last_frame is not None:
            client.push_frame(self.last_frame)
        return client

    def detach(self, client: StreamClient) -> None:
        client.close()
        if client in self.clients:
            self.clients.discard(client)
            self._gone_sent += client.frames_sent
            self._gone_dropped += client.frames_dropped
            self._gone_feed_dropped += client.feed_dropped

    # -- producers (any thread) --
    def offer(self, world: World, now: float | None = None) -> bool:
        """Publish a frame of ``world`` if one is due (``fps``) and anyone watches. Call it where
        no tick runs meanwhile (after ``step()``); reads the wall clock, never inside a tick."""
        if not self.clients:
            return False
        now = time.monotonic() if now is None else now
        if now < self._next_due - 0.002:
            return False
        # keep the cadence on average; after a stall, start again from now
        self._next_due = max(self._next_due + self.period_s, now)
        self.publish(self.snapshot(world))
        return True

    def publish(self, frame: Frame) -> Message:
        """Encode ``frame`` once and queue it for every client."""
        t0 = time.perf_counter()
        payload = encode_frame(frame.world, frame.tick or 0, frame.entities, frame.resources)
        self.encode_seconds_total += time.perf_counter() - t0
        self.frames_published += 1
        self._on_loop(self._fan_out, payload)
        return payload

    def publish_feed(self, event: Mapping[str, Any]) -> None:
        payload = json.dumps({"type": "feed", "event": dict(event)}, separators=(",", ":"), default=str)
        self.feed_published += 1
        self._on_loop(self._fan_out_feed, payload)

    def _on_loop(self, fn: Callable[[Any], None], payload: Any) -> None:
        loop = self._loop
        if loop is None:
            if fn == self._fan_out:
                self.last_frame = payload
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            fn(payload)
            return
        try:
            loop.call_soon_threadsafe(fn, payload)
        except RuntimeError:  # the loop is closed: nobody is watching any more
            self._loop = None

    def _fan_out(self, payload: Message) -> None:
        self.last_frame = payload
        for client in list(self.clients):
            client.push_frame(payload)

    def _fan_out_feed(self, payload: str) -> None:
        for client in list(self.clients):
            client.push_feed(payload)

    async def produce(self, world: World, stop: asyncio.Event) -> None:
        """Publish frames at ``fps`` until ``stop`` is set: a task on the loop that also ticks
        ``world`` (so no tick runs while a snapshot is read)."""
        while not stop.is_set():
            self.offer(world)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.period_s)

    def stats(self) -> dict[str, Any]:
        return {
            "world": self.world,
            "clients": len(self.clients),
            "frames_published": self.frames_published,
            "frames_sent": self.frames_sent,
            "frames_dropped": self.frames_dropped,
            "feed_published": self.feed_published,
            "feed_dropped": self.feed_dropped,
        }


# -- the WebSocket endpoint ----------------------------------------------------------------------
Authenticate = Callable[[str | None], Any | None]
OnClientMessage = Callable[[Any, dict[str, Any]], dict[str, Any] | Awaitable[dict[str, Any]]]


def _error(code: str, message: str) -> str:
    return json.dumps({"type": "error", "code": code, "message": message})


def _parse_client_message(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A client message as a dict with a string ``type``, else ``FrameError``."""
    if raw.get("bytes") is not None:
        raise FrameError("binary messages are not accepted: send JSON text")
    text = raw.get("text")
    if not isinstance(text, str):
        raise FrameError("empty message")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FrameError(f"message is not JSON: {exc.msg} at character {exc.pos}") from exc
    except RecursionError as exc:
        raise FrameError("message is nested too deeply") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("type"), str):
        raise FrameError('a message is a JSON object with a string "type", e.g. {"type": "ping"}')
    return doc


def _message_size(raw: Mapping[str, Any]) -> int:
    text, data = raw.get("text"), raw.get("bytes")
    if isinstance(text, str):
        return len(text.encode("utf-8", "surrogatepass"))
    return len(data) if isinstance(data, bytes | bytearray) else 0


def mount_world_stream(
    app: FastAPI,
    hubs: Mapping[str, StreamHub],
    authenticate: Authenticate,
    on_client_message: OnClientMessage | None = None,
    *,
    path: str = "/ws/world-stream",
) -> None:
    """Add ``WebSocket {path}?world=NAME&token=TOKEN`` streaming ``hubs[NAME]`` to ``app``.

    ``authenticate(token)`` gives the principal or ``None`` (an exception refuses too);
    ``on_client_message(principal, msg)`` answers a client message, a dict or an awaitable of one
    (it authorises: raise an ``OuroborosError`` to refuse). Both run on the event loop, so a
    synchronous one must be quick. ``{"type": "ping"}`` is answered ``{"type": "pong"}`` here."""

    @app.websocket(path)
    async def world_stream(websocket: WebSocket) -> None:
        await websocket.accept()
        token = websocket.query_params.get("token")
        try:
            principal = authenticate(token)
        except Exception:  # an authenticator that fails refuses; it never lets anyone in
            log.exception("world-stream authentication failed")
            principal = None
        if principal is None:
            await websocket.close(CLOSE_POLICY, "missing or invalid token")
            return
        name = websocket.query_params.get("world", "")
        hub = hubs.get(name)
        if hub is None:
            await websocket.close(CLOSE_POLICY, f"unknown world {name!r} (known: {', '.join(sorted(hubs))})")
            return

        async def send(payload: Message) -> None:
            if isinstance(payload, bytes):
                await websocket.send_bytes(payload)
            else:
                await websocket.send_text(payload)

        client = hub.attach(send, principal)
        sender = asyncio.create_task(client.run())
        try:
            await _serve_client(websocket, client, principal, on_client_message)
        except WebSocketDisconnect:
            pass
        finally:
            client.close()
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender
            hub.detach(client)

    _ = world_stream


async def _serve_client(
    websocket: WebSocket, client: StreamClient, principal: Any, on_client_message: OnClientMessage | None
) -> None:
    while not client.closed:
        raw = await websocket.receive()
        if raw.get("type") == "websocket.disconnect":
            raise WebSocketDisconnect(int(raw.get("code", 1000)))
        if _message_size(raw) > MAX_CLIENT_MESSAGE_BYTES:
            async with client.send_lock:
                await websocket.close(CLOSE_TOO_BIG, f"messages are at most {MAX_CLIENT_MESSAGE_BYTES} bytes")
            return
        try:
            msg = _parse_client_message(raw)
        except FrameError as exc:
            await client.send(_error(exc.code, exc.message))
            continue
        reply = await _answer(msg, principal, on_client_message)
        await client.send(json.dumps(reply, default=str))


async def _answer(
    msg: dict[str, Any], principal: Any, on_client_message: OnClientMessage | None
) -> dict[str, Any]:
    if msg["type"] == "ping":
        return {"type": "pong"}
    if on_client_message is None:
        return {"type": "error", "code": "unsupported", "message": "this stream takes no messages"}
    try:
        reply = on_client_message(principal, msg)
        if inspect.isawaitable(reply):
            reply = await reply
        if not isinstance(reply, dict):
            raise TypeError(f"the handler answered {type(reply).__name__}, not a dict")
        return reply
    except OuroborosError as exc:
        return {"type": "error", "code": exc.code, "message": exc.message}
    except Exception:  # a bug in the handler must not end the stream; it is logged
        log.exception("client message handler failed on %r", msg.get("type"))
        return {"type": "error", "code": "internal", "message": "the server could not handle this message"}
