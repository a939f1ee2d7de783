from __future__ import annotations

import asyncio
import json
import socket
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from ouroboros.errors import ClientFrameError
from ouroboros.server.gateway.accounts import AccountStore
from ouroboros.server.gateway.session import TAKEN_OVER_TEXT
from ouroboros.server.gateway.websocket import MAX_FRAME_BYTES, parse_client_frame
from tests.server.conftest import run
from tests.server.fakegame import ROOM_INFO
from tests.server.live import RawTelnet, live_servers


def line(text: str) -> str:
    return json.dumps({"type": "line", "line": text})


async def recv_until(ws: ClientConnection, wanted: dict[str, Any], seen: list[dict[str, Any]]) -> None:
    async with asyncio.timeout(5):
        while not any(all(event.get(k) == v for k, v in wanted.items()) for event in seen):
            seen.append(json.loads(await ws.recv()))


def test_parse_client_frame() -> None:
    assert parse_client_frame(line("look")) == "look"
    for frame, code in [
        (b"\x00\x01", "binary_frame"),
        ("not json", "bad_json"),
        ("[" * 3000 + "]" * 3000, "frame_too_large"),
        ("[" * 2000 + "]" * 2000, "bad_json"),  # too deep for the decoder: no RecursionError escapes
        ('{"type": "line"}', "bad_frame"),
        ('{"type": "say", "line": "x"}', "bad_frame"),
        ('{"type": "line", "line": 5}', "bad_frame"),
        ("5", "bad_frame"),
        (line("x" * MAX_FRAME_BYTES), "frame_too_large"),
    ]:
        try:
            parse_client_frame(frame)
        except ClientFrameError as error:
            assert error.code == code, frame[:20]
        else:
            raise AssertionError(f"accepted {frame[:20]!r}")


def test_a_session_over_websocket(accounts: AccountStore) -> None:
    async def main() -> None:
        async with live_servers(accounts) as live, connect(live.websocket_uri) as ws:
            seen: list[dict[str, Any]] = []
            await recv_until(ws, {"type": "text", "style": "room_title"}, seen)
            assert "FAKE CITY" in seen[0]["text"] and "connect NAME PASSWORD" in seen[0]["text"]

            await ws.send(line("create molly razorgirl"))
            await recv_until(ws, {"type": "gmcp", "package": "Room.Info"}, seen)
            assert {"type": "text", "style": "system", "text": "Welcome to the city, Molly."} in seen
            assert {"type": "gmcp", "package": "Room.Info", "data": ROOM_INFO} in seen

            await ws.send(line("say hi there"))
            await recv_until(ws, {"type": "text", "style": "say", "text": "Molly says: hi there"}, seen)
            await ws.send(line("quit"))
            await recv_until(ws, {"type": "disconnect"}, seen)
            async with asyncio.timeout(5):
                await ws.wait_closed()
            async with asyncio.timeout(5):
                while ("leave", "Molly", "") not in live.game.applied:
                    await asyncio.sleep(0.01)

    run(main())


def test_bad_frames_get_errors_and_the_connection_survives(accounts: AccountStore) -> None:
    async def main() -> None:
        async with live_servers(accounts) as live, connect(live.websocket_uri) as ws:
            seen: list[dict[str, Any]] = []
            await ws.send(line("create molly razorgirl"))
            await recv_until(ws, {"type": "gmcp"}, seen)
            bad_frames: list[tuple[str | bytes, str]] = [
                ("{not json", "bad_json"),
                (json.dumps({"type": "line"}), "bad_frame"),
                (json.dumps(["line", "look"]), "bad_frame"),
                (b"\x81\xff binary", "binary_frame"),
                (line("x" * 5000), "frame_too_large"),
            ]
            for frame, code in bad_frames:
                await ws.send(frame)
                await recv_until(ws, {"type": "error", "code": code}, seen)
            errors = [e for e in seen if e["type"] == "error"]
            assert all(e["message"] for e in errors)
            await ws.send(line("say still here"))
            await recv_until(ws, {"text": "Molly says: still here"}, seen)

    run(main())


def test_websocket_login_takes_over_a_telnet_session(accounts: AccountStore) -> None:
    async def main() -> None:
        async with live_servers(accounts) as live:
            telnet = await RawTelnet.connect(live.telnet_port)
            telnet.send_line("create molly razorgirl")
            await telnet.expect("A drone hums.")
            async with connect(live.websocket_uri) as ws:
                seen: list[dict[str, Any]] = []
                await ws.send(line("connect molly razorgirl"))
                await recv_until(ws, {"type": "gmcp", "package": "Room.Info"}, seen)
                await telnet.until_closed()
                assert TAKEN_OVER_TEXT in telnet.lines
                assert live.registry.characters == ["Molly"]

    run(main())


def test_a_websocket_client_that_does_not_read_is_dropped(accounts: AccountStore) -> None:
    async def main() -> None:
        async with live_servers(accounts) as live:
            bystander = await RawTelnet.connect(live.telnet_port)
            bystander.send_line("create case cowboy99")
            await bystander.expect("A drone hums.")

            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.connect(("127.0.0.1", live.websocket_port))
            async with connect(live.websocket_uri, sock=sock, max_queue=1, close_timeout=0.1) as ws:
                await ws.send(line("create molly razorgirl"))
                for _ in range(15):  # 15 frames of 500 KiB that the client never reads
                    await ws.send(line("spam 500"))
                async with asyncio.timeout(10):
                    while ("leave", "Molly", "") not in live.game.applied:
                        await asyncio.sleep(0.01)
            assert live.registry.characters == ["Case"]
            bystander.send_line("say still fine")
            await bystander.expect("Case says: still fine")
            bystander.close()

    run(main())
