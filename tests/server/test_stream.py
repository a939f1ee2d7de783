"""The world stream: frame codec, snapshots, the fan-out hub, and the WebSocket endpoint over a
real uvicorn server with ``websockets`` clients."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import numpy as np
import pytest
import uvicorn
from fastapi import FastAPI
from hypothesis import given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from ouroboros.engine import World
from ouroboros.errors import OuroborosError
from ouroboros.server.stream import (
    BINARY_MIN_ENTITIES,
    ENTITY_DTYPE,
    MAX_CLIENT_MESSAGE_BYTES,
    MAX_FRAME_ITEMS,
    RESOURCE_DTYPE,
    Frame,
    FrameError,
    StreamHub,
    decode_binary_frame,
    encode_frame,
    mount_world_stream,
)
from ouroboros.worlds import build_world
from ouroboros.worlds.neon.city import room_data
from ouroboros.worlds.neon.stream import KIND_NPC, neon_frame
from ouroboros.worlds.petri.params import FP_SHIFT, check_param
from ouroboros.worlds.petri.stream import KIND_MOLBOT, petri_frame
from tests.server.conftest import run

# -- codec ----------------------------------------------------------------------------------------
U32, I32, U16, U8 = (0, 2**32 - 1), (-(2**31), 2**31 - 1), (0, 2**16 - 1), (0, 255)


def _ints(bounds: tuple[int, int]) -> st.SearchStrategy[int]:
    return st.integers(*bounds)


entity_rows = st.tuples(_ints(U32), _ints(I32), _ints(I32), _ints(U16), _ints(U8), _ints(U8))
resource_rows = st.tuples(_ints(U32), _ints(I32), _ints(I32))


def _records(rows: list[tuple[int, ...]], dtype: np.dtype) -> Any:
    return np.array(rows, dtype=dtype)


@settings(max_examples=60, deadline=None)
@given(
    world=st.sampled_from(["petri", "neon"]),
    tick=st.integers(0, 2**40),
    ents=st.lists(entity_rows, max_size=320),
    res=st.lists(resource_rows, max_size=60),
)
def test_frames_round_trip_as_json_below_200_entities_and_binary_from_200(
    world: str, tick: int, ents: list[tuple[int, ...]], res: list[tuple[int, ...]]
) -> None:
    entities, resources = _records(ents, ENTITY_DTYPE), _records(res, RESOURCE_DTYPE)
    message = encode_frame(world, tick, entities, resources)
    if len(ents) < BINARY_MIN_ENTITIES:
        assert isinstance(message, str)
        doc = json.loads(message)
        assert doc["type"] == "frame" and doc["world"] == world and doc["tick"] == tick
        assert [
            (e["id"], e["x"], e["y"], e["energy"], e["kind"], e["flags"]) for e in doc["entities"]
        ] == ents
        assert [(r["id"], r["x"], r["y"]) for r in doc["resources"]] == res
    else:
        assert isinstance(message, bytes)
        assert len(message) == 12 + 16 * len(ents) + 12 * len(res)
        frame = decode_binary_frame(message)
        assert frame.world == world and frame.tick == tick % 2**32  # the live panel shows it
        assert frame.entities.tolist() == ents
        assert frame.resources.tolist() == res


def test_binary_header_layout_is_little_endian_with_the_contract_fields() -> None:
    ents = np.zeros(BINARY_MIN_ENTITIES, dtype=ENTITY_DTYPE)
    ents["id"] = np.arange(BINARY_MIN_ENTITIES)
    ents[7] = (0x01020304, -5, 70000, 999, 2, 1)
    res = np.array([(9, 1, -1)], dtype=RESOURCE_DTYPE)
    message = encode_frame("neon", 3, ents, res)
    assert isinstance(message, bytes)
    assert message[:12] == bytes([0x42, 0x4F, 2, 1, 200, 0, 1, 0, 3, 0, 0, 0])
    seventh = message[12 + 7 * 16 : 12 + 8 * 16]
    assert seventh == (
        (0x01020304).to_bytes(4, "little")
        + (-5).to_bytes(4, "little", signed=True)
        + (70000).to_bytes(4, "little", signed=True)
        + (999).to_bytes(2, "little")
        + bytes([2, 1])
    )
    assert message[-12:] == (9).to_bytes(4, "little") + (1).to_bytes(4, "little") + (-1).to_bytes(
        4, "little", signed=True
    )
    # a version-1 frame (8-byte header, no tick) from an older server still reads, tickless
    old = message[:2] + bytes([1]) + message[3:8] + message[12:]
    frame = decode_binary_frame(old)
    assert frame.tick is None and frame.entities.tolist() == decode_binary_frame(message).entities.tolist()


def test_lists_of_dicts_encode_like_arrays_and_bad_values_are_refused() -> None:
    rows = [{"id": 1, "x": 2, "y": 3, "energy": 500, "kind": 1, "flags": 0}]
    doc = json.loads(encode_frame("petri", 1, rows, [{"id": 4, "x": 5, "y": 6}]))  # type: ignore[arg-type]
    assert doc["entities"] == rows and doc["resources"] == [{"id": 4, "x": 5, "y": 6}]
    with pytest.raises(FrameError, match=r"entities\[0\]\.energy=70000 is outside"):
        encode_frame("petri", 1, [{"id": 1, "energy": 70000}], [])
    with pytest.raises(FrameError, match=r"entities\[0\]\.x must be an integer"):
        encode_frame("petri", 1, [{"id": 1, "x": 1.5}], [])
    with pytest.raises(FrameError, match="unknown world 'mars'"):
        encode_frame("mars", 1, [], [])
    with pytest.raises(FrameError, match="at most 65535"):
        encode_frame("petri", 1, np.zeros(MAX_FRAME_ITEMS + 1, dtype=ENTITY_DTYPE), [])


def _good_binary() -> bytes:
    message = encode_frame("petri", 0, np.zeros(BINARY_MIN_ENTITIES, dtype=ENTITY_DTYPE), [])
    assert isinstance(message, bytes)
    return message


@pytest.mark.parametrize(
    ("mutate", "error"),
    [
        (lambda b: b[:5], "shorter than the 8-byte header"),
        (lambda b: b[:10], "shorter than the 12-byte header"),
        (lambda b: b"XX" + b[2:], "bad magic 0x5858"),
        (lambda b: b[:2] + bytes([3]) + b[3:], "unsupported frame version 3"),
        (lambda b: b[:3] + bytes([9]) + b[4:], "unknown world kind 9"),
        (lambda b: b[:-1], "header announces 3212 bytes"),
        (lambda b: b + b"\0", "header announces 3212 bytes"),
    ],
)
def test_bad_binary_frames_are_refused_with_a_reason(mutate: Callable[[bytes], bytes], error: str) -> None:
    with pytest.raises(FrameError, match=error) as caught:
        decode_binary_frame(mutate(_good_binary()))
    assert caught.value.code == "bad_frame"


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=120))
def test_any_bytes_decode_to_a_consistent_frame_or_raise_frame_error(data: bytes) -> None:
    try:
        frame = decode_binary_frame(data)
    except FrameError:
        return
    header = 12 if frame.tick is not None else 8  # version 2 carries the tick
    assert len(data) == header + 16 * len(frame.entities) + 12 * len(frame.resources)


# -- snapshots ------------------------------------------------------------------------------------
def _petri(entities: int, seed: int = 7) -> World:
    world = build_world("petri", seed, {"entities": entities})
    world.start()
    return world


def test_petri_frame_shows_every_molbot_and_food_item_in_world_units_without_changing_the_world() -> None:
    world = _petri(300)
    world.run(5)
    digest = world.digest()
    frame = petri_frame(world)
    assert world.digest() == digest
    (mb,) = world.query("Body", "DNA", "Position", "Traits", "Velocity")
    assert len(frame.entities) == mb.count and frame.tick == world.tick == 5
    assert sorted(frame.entities["id"].tolist()) == sorted((mb.ids & 0xFFFFFFFF).tolist())
    order = np.argsort(mb.ids & 0xFFFFFFFF)
    got = frame.entities[np.argsort(frame.entities["id"])]
    assert (got["x"] == (mb["Position.x"][order] >> FP_SHIFT)).all()
    assert (got["y"] == (mb["Position.y"][order] >> FP_SHIFT)).all()
    energy = np.clip(mb["Body.energy"][order], 0, None) * 1000 // mb["Body.max_energy"][order]
    assert (got["energy"] == np.clip(energy, 0, 1000)).all()
    assert (frame.entities["kind"] == KIND_MOLBOT).all()
    food = world.count("Food", "Position")
    assert food > 0 and len(frame.resources) == food
    params = world.resources["params"]
    assert frame.resources["x"].min() >= 0 and frame.resources["x"].max() < params["width"]


def test_neon_frame_puts_npcs_on_their_rooms_grid_cells() -> None:
    world = build_world("neon", 3, {})
    world.run(3)
    frame = neon_frame(world)
    npcs = [c for c in world.query("Actor", "Npc", "Place")]
    assert len(frame.entities) == sum(c.count for c in npcs) > 0
    assert (frame.entities["kind"] == KIND_NPC).all()
    by_id = {int(e["id"]): e for e in frame.entities}
    for chunk in npcs:
        for eid, room in zip(chunk.ids.tolist(), chunk["Place.room"].tolist(), strict=True):
            coords = room_data(world, room)["coords"]
            e = by_id[eid & 0xFFFFFFFF]
            assert (int(e["x"]), int(e["y"])) == (coords["x"], coords["y"])
    assert len(frame.resources) == 453  # every room of the base city, slotted or not


# -- the hub --------------------------------------------------------------------------------------
def _frame(n: int, tick: int = 0) -> Frame:
    ents = np.zeros(n, dtype=ENTITY_DTYPE)
    ents["id"] = np.arange(n)
    return Frame("petri", tick, ents, np.zeros(0, dtype=RESOURCE_DTYPE))


class Gate:
    """A send that blocks until the test opens it: a client that reads slowly."""

    def __init__(self) -> None:
        self.got: list[Any] = []
        self.open = asyncio.Event()

    async def send(self, payload: Any) -> None:
        await self.open.wait()
        self.got.append(payload)


def test_a_slow_client_has_frames_dropped_while_a_fast_client_gets_every_frame() -> None:
    async def main() -> None:
        hub = StreamHub("petri", frame_queue=2)
        fast_got: list[Any] = []

        async def fast(payload: Any) -> None:
            fast_got.append(payload)

        slow = Gate()
        f, s = hub.attach(fast), hub.attach(slow.send)
        tasks = [asyncio.create_task(f.run()), asyncio.create_task(s.run())]
        for tick in range(50):
            hub.publish(_frame(3, tick))
            assert len(s.frames) <= 2
            await asyncio.sleep(0)
        await _until(lambda: len(fast_got) == 50)
        assert [json.loads(m)["tick"] for m in fast_got] == list(range(50))
        assert f.frames_dropped == 0
        assert s.frames_dropped == 50 - 1 - 2  # one in its send, two waiting
        slow.open.set()
        await _until(lambda: s.frames_sent + s.frames_dropped == 50)
        ticks = [json.loads(m)["tick"] for m in slow.got]
        assert ticks == [0, 48, 49]  # the newest frames won
        assert s.frames_sent + s.frames_dropped == 50 == hub.frames_published
        assert hub.frames_dropped == 47 and hub.frames_sent == 53
        for c in (f, s):
            hub.detach(c)
        assert hub.frames_dropped == 47 and hub.frames_sent == 53  # kept after the clients left
        for t in tasks:
            t.cancel()

    run(main())


def test_queues_stay_bounded_whatever_a_blocked_client_is_sent() -> None:
    async def main() -> None:
        hub = StreamHub("petri", frame_queue=3, feed_queue=5)
        gate = Gate()
        client = hub.attach(gate.send)
        task = asyncio.create_task(client.run())
        for i in range(5000):
            hub.publish(_frame(1, i))
            hub.publish_feed({"n": i})
            if i % 500 == 0:
                await asyncio.sleep(0)
            assert len(client.frames) <= 3 and len(client.feed) <= 5
        gate.open.set()
        await _until(
            lambda: (
                client.frames_sent + client.frames_dropped == 5000 == client.feed_sent + client.feed_dropped
            )
        )
        assert client.frames_sent + client.frames_dropped == 5000
        assert client.feed_sent + client.feed_dropped == 5000
        feed = [json.loads(m) for m in gate.got if json.loads(m)["type"] == "feed"]
        assert [m["event"]["n"] for m in feed][-5:] == list(range(4995, 5000))
        task.cancel()

    run(main())


def test_offer_keeps_the_frame_rate_whatever_the_tick_rate_and_skips_work_without_clients() -> None:
    async def main() -> None:
        calls: list[int] = []

        def snapshot(world: Any) -> Frame:
            calls.append(1)
            return _frame(1)

        hub = StreamHub("petri", fps=30, snapshot=snapshot)
        assert not hub.offer(object(), now=0.0)  # type: ignore[arg-type]
        assert calls == []
        hub.attach(Gate().send)
        for hz in (30, 50, 120):
            hub._next_due = 0.0
            sent = sum(hub.offer(object(), now=10.0 * hz + i / hz) for i in range(hz * 2))  # type: ignore[arg-type]
            assert 59 <= sent <= 61, (hz, sent)

    run(main())


def test_frames_published_from_another_thread_reach_clients_on_the_loop() -> None:
    async def main() -> None:
        hub = StreamHub("petri")
        got: list[Any] = []

        async def send(payload: Any) -> None:
            got.append(payload)

        client = hub.attach(send)
        task = asyncio.create_task(client.run())
        thread = threading.Thread(target=lambda: [hub.publish(_frame(2, t)) for t in range(3)])
        thread.start()
        thread.join()
        for _ in range(100):
            if len(got) + client.frames_dropped == 3:
                break
            await asyncio.sleep(0.005)
        assert json.loads(got[-1])["tick"] == 2
        task.cancel()

    run(main())


# -- the WebSocket endpoint -----------------------------------------------------------------------
OPERATOR = {"name": "op", "role": "operator"}
VIEWER = {"name": "eve", "role": "viewer"}


def _authenticate(token: str | None) -> Any:
    if token == "crash":
        raise RuntimeError("the account store is down")
    return {"op-token": OPERATOR, "view-token": VIEWER}.get(token or "")


def _on_message(worlds: dict[str, World]) -> Callable[[Any, dict[str, Any]], Any]:
    async def handle(principal: Any, msg: dict[str, Any]) -> dict[str, Any]:
        if msg["type"] == "crash":
            raise KeyError("a bug in the handler")
        if msg["type"] != "set_param":
            raise OuroborosError(f"unknown message type {msg['type']!r}", code="bad_message")
        if principal["role"] == "viewer":
            raise OuroborosError("viewers may not set parameters", code="forbidden")
        name, value = check_param(msg.get("name"), msg.get("value"))
        worlds["petri"].submit("set_param", {"name": name, "value": value})
        return {"type": "param_set", "name": name, "value": value}

    return handle


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", ws="websockets-sansio"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield port
    finally:
        server.should_exit = True
        await task
        sock.close()


async def _until(condition: Callable[[], Any], timeout_s: float = 5.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.005)


def _app(worlds: dict[str, World]) -> tuple[FastAPI, dict[str, StreamHub]]:
    app = FastAPI()
    hubs = {name: StreamHub(name) for name in worlds}
    mount_world_stream(app, hubs, _authenticate, _on_message(worlds))
    return app, hubs


async def _closed(ws: ClientConnection) -> tuple[int, str]:
    with pytest.raises(ConnectionClosed) as caught:
        await asyncio.wait_for(ws.recv(), 5)
    rcvd = caught.value.rcvd
    assert rcvd is not None
    return rcvd.code, rcvd.reason


def test_the_endpoint_refuses_missing_and_bad_tokens_and_unknown_worlds_with_1008() -> None:
    async def main() -> None:
        app, _ = _app({"petri": _petri(10)})
        async with serving(app) as port:
            base = f"ws://127.0.0.1:{port}/ws/world-stream"
            for query in ("?world=petri", "?world=petri&token=nope", "?world=petri&token=crash"):
                async with connect(base + query) as ws:
                    assert await _closed(ws) == (1008, "missing or invalid token")
            async with connect(base + "?world=mars&token=view-token") as ws:
                code, reason = await _closed(ws)
                assert code == 1008 and "unknown world 'mars'" in reason and "petri" in reason

    run(main())


def test_clients_get_json_frames_under_200_entities_and_binary_frames_from_200() -> None:
    async def main() -> None:
        small, big = _petri(50, seed=1), _petri(500, seed=2)
        app, hubs = _app({"petri": small, "neon": big})  # the neon hub streams a petri dish here
        hubs["neon"].snapshot = petri_frame
        async with serving(app) as port:
            base = f"ws://127.0.0.1:{port}/ws/world-stream?token=view-token&world="
            async with connect(base + "petri") as a, connect(base + "neon") as b:
                await _until(lambda: hubs["petri"].clients and hubs["neon"].clients)
                assert hubs["petri"].offer(small) and hubs["neon"].offer(big)
                doc = json.loads(await asyncio.wait_for(a.recv(), 5))
                assert doc["type"] == "frame" and doc["world"] == "petri" and doc["tick"] == 0
                assert len(doc["entities"]) == small.count("Body") == 50
                data = await asyncio.wait_for(b.recv(), 5)
                assert isinstance(data, bytes)
                frame = decode_binary_frame(data)
                assert len(frame.entities) == big.count("Body") == 500
                assert frame.entities.tobytes() == petri_frame(big).entities.tobytes()
            await _until(lambda: not hubs["petri"].clients and not hubs["neon"].clients)

    run(main())


def test_set_param_round_trips_and_viewers_are_refused() -> None:
    async def main() -> None:
        world = _petri(10)
        app, _ = _app({"petri": world})
        async with serving(app) as port:
            base = f"ws://127.0.0.1:{port}/ws/world-stream?world=petri&token="
            async with connect(base + "op-token") as op, connect(base + "view-token") as viewer:
                await op.send(json.dumps({"type": "set_param", "name": "temperature", "value": 35}))
                assert json.loads(await asyncio.wait_for(op.recv(), 5)) == {
                    "type": "param_set",
                    "name": "temperature",
                    "value": 35,
                }
                await op.send(json.dumps({"type": "set_param", "name": "temperature", "value": 999}))
                reply = json.loads(await asyncio.wait_for(op.recv(), 5))
                assert reply["type"] == "error" and reply["code"] == "world" and "outside" in reply["message"]
                await viewer.send(json.dumps({"type": "set_param", "name": "temperature", "value": 10}))
                reply = json.loads(await asyncio.wait_for(viewer.recv(), 5))
                assert reply == {
                    "type": "error",
                    "code": "forbidden",
                    "message": "viewers may not set parameters",
                }
        world.step()
        assert world.resources["params"]["temperature"] == 35

    run(main())


def test_malformed_messages_get_an_error_and_the_stream_goes_on_but_oversized_ones_close_1009() -> None:
    async def main() -> None:
        app, _ = _app({"petri": _petri(10)})
        url = "ws://127.0.0.1:{}/ws/world-stream?world=petri&token=view-token"
        async with serving(app) as port, connect(url.format(port)) as ws:
            cases: list[tuple[str | bytes, str]] = [
                ("not json", "not JSON"),
                ("[1, 2]", 'string "type"'),
                ('{"type": 3}', 'string "type"'),
                (b"\x00\x01", "binary messages are not accepted"),
                ("[" * 2000 + "]" * 2000, "nested too deeply"),
            ]
            for bad, says in cases:
                await ws.send(bad)
                reply = json.loads(await asyncio.wait_for(ws.recv(), 5))
                assert reply["type"] == "error" and says in reply["message"], (bad, reply)
            await ws.send('{"type": "crash"}')
            reply = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert reply["code"] == "internal"
            await ws.send('{"type": "ping"}')
            assert json.loads(await asyncio.wait_for(ws.recv(), 5)) == {"type": "pong"}
            await ws.send("x" * (MAX_CLIENT_MESSAGE_BYTES + 1))
            code, reason = await _closed(ws)
            assert code == 1009 and "at most 4096 bytes" in reason

    run(main())
