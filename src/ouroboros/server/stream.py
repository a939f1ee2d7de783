"""The live world stream: frames of a running world, fanned out to many WebSocket clients.

A *frame* is what a viewer draws: every entity (id, position, energy per mille, kind, flags) and
every resource (food in petri, rooms in neon). Under ``BINARY_MIN_ENTITIES`` entities it travels
as JSON text ``{"type": "frame", "world", "tick", "entities": [...], "resources": [...]}``; at or
above it as a binary message (little-endian): an 8-byte header (u16 magic 0x4F42 'OB', u8 version
1, u8 world kind, u16 entity count, u16 resource count), then 16 bytes per entity (u32 id, i32 x,
i32 y, u16 energy_permille, u8 kind, u8 flags), then 12 bytes per resource (u32 id, i32 x, i32 y).
Ids are an entity's index (the low 32 bits of its engine id: unique among the living).
Feed messages are JSON ``{"type": "feed", "event": {...}}``.

What it promises:

- Snapshots (``petri_frame``, ``neon_frame``) only read numpy columns into fresh arrays; they
  write nothing back, so calling one between two ticks never changes a digest. They must be
  called where no tick runs at the same time (the tick thread after ``step()``, or a task on the
  loop that ticks).
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
import weakref
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from fastapi import FastAPI, WebSocket
from starlette.websockets import WebSocketDisconnect

from ouroboros.errors import OuroborosError

if TYPE_CHECKING:
    from ouroboros.engine import World

log = logging.getLogger(__name__)

MAGIC = 0x4F42
VERSION = 1
WORLD_KINDS: dict[str, int] = {"petri": 0, "neon": 1}
WORLD_NAMES: dict[int, str] = {v: k for k, v in WORLD_KINDS.items()}
BINARY_MIN_ENTITIES = 200
MAX_FRAME_ITEMS = 0xFFFF  # the header's u16 counts

HEADER_DTYPE = np.dtype(
    [("magic", "<u2"), ("version", "u1"), ("world", "u1"), ("entities", "<u2"), ("resources", "<u2")]
)
ENTITY_DTYPE = np.dtype(
    [("id", "<u4"), ("x", "<i4"), ("y", "<i4"), ("energy", "<u2"), ("kind", "u1"), ("flags", "u1")]
)
RESOURCE_DTYPE = np.dtype([("id", "<u4"), ("x", "<i4"), ("y", "<i4")])

#: Entity kinds.
KIND_MOLBOT = 0
KIND_PLAYER = 1
KIND_NPC = 2
#: Entity flags: petri, a molbot too young to reproduce; neon, an actor in a fight.
FLAG_YOUNG = 1
FLAG_FIGHTING = 1

DEFAULT_FPS = 30
DEFAULT_FRAME_QUEUE = 2
DEFAULT_FEED_QUEUE = 64
MAX_CLIENT_MESSAGE_BYTES = 4096
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009

Entities = npt.NDArray[np.void]


class FrameError(OuroborosError):
    """A frame that cannot be encoded or decoded (bad magic, truncated, counts out of range)."""

    code = "bad_frame"


@dataclass(frozen=True)
class Frame:
    """One picture of a world: ``entities`` in ``ENTITY_DTYPE``, ``resources`` in
    ``RESOURCE_DTYPE``. ``tick`` is ``None`` for a decoded binary frame (its header has none)."""

    world: str
    tick: int | None
    entities: Entities
    resources: Entities


# -- codec ---------------------------------------------------------------------------------------
def _as_records(rows: Any, dtype: np.dtype, what: str) -> Entities:
    if isinstance(rows, np.ndarray) and rows.dtype == dtype:
        return rows
    if isinstance(rows, np.ndarray) and rows.dtype.names is not None:
        try:
            out = np.zeros(len(rows), dtype=dtype)
            for name in dtype.names or ():
                out[name] = rows[name] if name in rows.dtype.names else 0
            return out
        except (ValueError, OverflowError) as exc:
            raise FrameError(f"{what}: {exc}") from exc
    if not isinstance(rows, Sequence):
        raise FrameError(f"{what} must be a structured array or a list of dicts, got {type(rows).__name__}")
    names = dtype.names or ()
    out = np.zeros(len(rows), dtype=dtype)
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise FrameError(f"{what}[{i}] must be a dict, got {type(row).__name__}")
        for name in names:
            value = row.get(name, 0)
            if not isinstance(value, int) or isinstance(value, bool):
                raise FrameError(f"{what}[{i}].{name} must be an integer, got {value!r}")
            info = np.iinfo(dtype[name])
            if not info.min <= value <= info.max:
                raise FrameError(f"{what}[{i}].{name}={value} is outside [{info.min}, {info.max}]")
            out[i][name] = value
    return out


def encode_frame(world_kind: str, tick: int, entities: Any, resources: Any) -> bytes | str:
    """The message for one frame: JSON text under ``BINARY_MIN_ENTITIES`` entities, else bytes.

    ``entities``/``resources``: structured arrays (``ENTITY_DTYPE``/``RESOURCE_DTYPE``) or lists
    of dicts with those fields. Raises ``FrameError`` for an unknown world or too many items."""
    if world_kind not in WORLD_KINDS:
        raise FrameError(f"unknown world {world_kind!r} (known: {', '.join(WORLD_KINDS)})")
    ents = _as_records(entities, ENTITY_DTYPE, "entities")
    res = _as_records(resources, RESOURCE_DTYPE, "resources")
    if len(ents) > MAX_FRAME_ITEMS or len(res) > MAX_FRAME_ITEMS:
        raise FrameError(f"a frame carries at most {MAX_FRAME_ITEMS} entities and resources each")
    if len(ents) < BINARY_MIN_ENTITIES:
        doc = {
            "type": "frame",
            "world": world_kind,
            "tick": int(tick),
            "entities": [
                {"id": int(e[0]), "x": int(e[1]), "y": int(e[2]), "energy": int(e[3]), "kind": int(e[4]),
                 "flags": int(e[5])}
                for e in ents.tolist()
            ],
            "resources": [{"id": int(r[0]), "x": int(r[1]), "y": int(r[2])} for r in res.tolist()],
        }  # fmt: skip
        return json.dumps(doc, separators=(",", ":"))
    header = np.array([(MAGIC, VERSION, WORLD_KINDS[world_kind], len(ents), len(res))], dtype=HEADER_DTYPE)
    return header.tobytes() + ents.tobytes() + res.tobytes()


def decode_binary_frame(data: bytes | bytearray | memoryview) -> Frame:
    """Parse a binary frame; ``FrameError`` saying what is wrong with a bad one."""
    buf = bytes(data)
    if len(buf) < HEADER_DTYPE.itemsize:
        raise FrameError(f"frame of {len(buf)} bytes is shorter than the {HEADER_DTYPE.itemsize}-byte header")
    head = np.frombuffer(buf, dtype=HEADER_DTYPE, count=1)[0]
    if int(head["magic"]) != MAGIC:
        raise FrameError(f"bad magic 0x{int(head['magic']):04X} (expected 0x{MAGIC:04X})")
    if int(head["version"]) != VERSION:
        raise FrameError(f"unsupported frame version {int(head['version'])} (this reader knows {VERSION})")
    world = WORLD_NAMES.get(int(head["world"]))
    if world is None:
        raise FrameError(f"unknown world kind {int(head['world'])}")
    n_ent, n_res = int(head["entities"]), int(head["resources"])
    want = HEADER_DTYPE.itemsize + n_ent * ENTITY_DTYPE.itemsize + n_res * RESOURCE_DTYPE.itemsize
    if len(buf) != want:
        raise FrameError(f"frame of {len(buf)} bytes, but its header announces {want} bytes")
    at = HEADER_DTYPE.itemsize
    ents = np.frombuffer(buf, dtype=ENTITY_DTYPE, count=n_ent, offset=at).copy()
    res = np.frombuffer(buf, dtype=RESOURCE_DTYPE, count=n_res, offset=at + n_ent * ENTITY_DTYPE.itemsize)
    return Frame(world, None, ents, res.copy())


# -- snapshots -----------------------------------------------------------------------------------
def _permille(value: npt.NDArray[Any], most: npt.NDArray[Any]) -> npt.NDArray[np.uint16]:
    v = np.clip(value.astype(np.int64), 0, None) * 1000 // np.maximum(most.astype(np.int64), 1)
    return np.clip(v, 0, 1000).astype(np.uint16)


def petri_frame(world: World) -> Frame:
    """Molbots (positions in world units) and food of a petri world; at most ``MAX_FRAME_ITEMS``
    of each (the first in storage order)."""
    from ouroboros.worlds.petri.components import FOOD, MOLBOT
    from ouroboros.worlds.petri.params import FP_SHIFT
    from ouroboros.worlds.petri.systems import MATURITY_TICKS

    parts = []
    for chunk in world.query(*MOLBOT):
        n = min(chunk.count, MAX_FRAME_ITEMS)
        e = np.empty(n, dtype=ENTITY_DTYPE)
        e["id"] = chunk.ids[:n]  # the low 32 bits: the entity's index
        e["x"] = chunk["Position.x"][:n] >> FP_SHIFT
        e["y"] = chunk["Position.y"][:n] >> FP_SHIFT
        e["energy"] = _permille(chunk["Body.energy"][:n], chunk["Body.max_energy"][:n])
        e["kind"] = KIND_MOLBOT
        e["flags"] = np.where(chunk["Body.age"][:n] < MATURITY_TICKS, FLAG_YOUNG, 0)
        parts.append(e)
    food = []
    for chunk in world.query(*FOOD):
        n = min(chunk.count, MAX_FRAME_ITEMS)
        r = np.empty(n, dtype=RESOURCE_DTYPE)
        r["id"] = chunk.ids[:n]
        r["x"] = chunk["Position.x"][:n] >> FP_SHIFT
        r["y"] = chunk["Position.y"][:n] >> FP_SHIFT
        food.append(r)
    ents = np.concatenate(parts)[:MAX_FRAME_ITEMS] if parts else np.empty(0, dtype=ENTITY_DTYPE)
    res = np.concatenate(food)[:MAX_FRAME_ITEMS] if food else np.empty(0, dtype=RESOURCE_DTYPE)
    return Frame("petri", world.tick, ents, res)


_ROOM_GRID: weakref.WeakKeyDictionary[Any, tuple[int, int, npt.NDArray[np.int32], Entities]] = (
    weakref.WeakKeyDictionary()
)


def _room_grid(world: World) -> tuple[npt.NDArray[np.int32], Entities]:
    """(x, y) per room slot, and the rooms of the current content as frame resources; cached
    until the content or the slot list changes."""
    from ouroboros.worlds.neon.city import state
    from ouroboros.worlds.neon.tables import tables

    neon = state(world)
    room_ids: list[str] = neon["room_ids"]
    content = world.meta.get("neon_content")
    hit = _ROOM_GRID.get(world)
    if hit is not None and hit[0] == id(content) and hit[1] == len(room_ids):
        return hit[2], hit[3]
    rooms = tables(world).rooms
    retired = neon.get("retired_rooms", {})
    xy = np.zeros((len(room_ids), 2), dtype=np.int32)
    for slot, rid in enumerate(room_ids):
        coords = (rooms.get(rid) or retired.get(rid) or {}).get("coords") or {}
        xy[slot] = (int(coords.get("x", 0)), int(coords.get("y", 0)))
    live = []
    for index, rid in enumerate(sorted(rooms)):
        coords = rooms[rid].get("coords") or {}
        live.append((index, int(coords.get("x", 0)), int(coords.get("y", 0))))
    res = np.array(live[:MAX_FRAME_ITEMS], dtype=RESOURCE_DTYPE)
    _ROOM_GRID[world] = (id(content), len(room_ids), xy, res)
    return xy, res


def neon_frame(world: World) -> Frame:
    """Online players and npcs of a neon world at their room's grid coordinates ((0, 0) for a room
    without any); every room of the current content as a resource (id: its index in the sorted
    room ids of that content)."""
    from ouroboros.worlds.neon.components import NPC, PLAYER

    xy, rooms = _room_grid(world)
    parts = []
    for comps, kind in ((PLAYER, KIND_PLAYER), (NPC, KIND_NPC)):
        for chunk in world.query(*comps):
            keep = np.ones(chunk.count, dtype=bool)
            if kind == KIND_PLAYER:
                keep = chunk["Player.online"] != 0
            room = chunk["Place.room"][keep].astype(np.int64)
            e = np.empty(room.size, dtype=ENTITY_DTYPE)
            e["id"] = chunk.ids[keep]
            if len(xy):
                valid = (room >= 0) & (room < len(xy))
                at = xy[np.clip(room, 0, len(xy) - 1)]
                e["x"] = np.where(valid, at[:, 0], -1)
                e["y"] = np.where(valid, at[:, 1], -1)
            else:
                e["x"] = e["y"] = -1
            e["energy"] = _permille(chunk["Actor.hp"][keep], chunk["Actor.max_hp"][keep])
            e["kind"] = kind
            e["flags"] = np.where(chunk["Actor.target"][keep] != 0, FLAG_FIGHTING, 0)
            parts.append(e)
    ents = np.concatenate(parts)[:MAX_FRAME_ITEMS] if parts else np.empty(0, dtype=ENTITY_DTYPE)
    return Frame("neon", world.tick, ents, rooms)


SNAPSHOTS: dict[str, Callable[[World], Frame]] = {"petri": petri_frame, "neon": neon_frame}


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
        if world not in WORLD_KINDS:
            raise FrameError(f"unknown world {world!r} (known: {', '.join(WORLD_KINDS)})")
        if not 1 <= fps <= 240 or frame_queue < 1 or feed_queue < 1:
            raise FrameError("fps must be in [1, 240] and the queues at least 1 long")
        self.world = world
        self.period_s = 1.0 / fps
        self.frame_queue = frame_queue
        self.feed_queue = feed_queue
        self.snapshot = snapshot or SNAPSHOTS[world]
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
