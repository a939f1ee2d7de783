from __future__ import annotations

import asyncio
import socket
from typing import cast

import telnetlib3
from telnetlib3 import TelnetReaderUnicode, TelnetWriterUnicode
from telnetlib3.telopt import GMCP as TELNETLIB3_GMCP

from ouroboros.server.gateway.accounts import AccountStore
from ouroboros.server.gateway.session import TAKEN_OVER_TEXT
from ouroboros.server.gateway.telnet_codec import GMCP, IAC, SB, SE, WILL
from tests.server.conftest import run
from tests.server.fakegame import ROOM_INFO
from tests.server.live import RawTelnet, live_servers


async def wait_for(predicate, timeout_s: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(timeout_s):
        while not predicate():
            await asyncio.sleep(0.01)


async def telnetlib3_read_until(reader: TelnetReaderUnicode, text: str, seen: list[str]) -> str:
    async with asyncio.timeout(5):
        while text not in "".join(seen):
            chunk = await reader.read(4096)
            if not chunk:
                raise EOFError("".join(seen))
            seen.append(chunk)
    return "".join(seen)


def test_a_session_through_telnetlib3_with_gmcp(accounts: AccountStore) -> None:
    async def main() -> None:
        async with live_servers(accounts) as live:
            opened = await telnetlib3.open_connection(
                "127.0.0.1", live.telnet_port, connect_minwait=0.05, connect_maxwait=1.0
            )
            reader, writer = cast(tuple[TelnetReaderUnicode, TelnetWriterUnicode], opened)  # encoding="utf8"
            seen: list[str] = []
            banner = await telnetlib3_read_until(reader, "create NAME PASSWORD", seen)
            assert "FAKE CITY" in banner
            assert writer.remote_option.enabled(TELNETLIB3_GMCP)  # the client accepted our WILL GMCP

            writer.write("create hiro katana99\r\n")
            text = await telnetlib3_read_until(reader, "Rain hisses", seen)
            assert "Welcome to the city, Hiro." in text
            assert "\x1b[1;96mNeon Alley\x1b[0m" in text  # the room title in colour
            await wait_for(lambda: "Room.Info" in writer.ctx.gmcp_data)
            assert writer.ctx.gmcp_data["Room.Info"] == ROOM_INFO

            writer.write("jack in\r\n")
            await telnetlib3_read_until(reader, "You typed: jack in", seen)
            writer.write("quit\r\n")
            await telnetlib3_read_until(reader, "See you on the street.", seen)
            async with asyncio.timeout(5):
                while await reader.read(4096):
                    pass
            await wait_for(lambda: ("leave", "Hiro", "") in live.game.applied)
            writer.close()

    run(main())


def test_raw_telnet_negotiates_gmcp_and_gets_crlf_colour(accounts: AccountStore) -> None:
    async def main() -> None:
        async with live_servers(accounts) as live:
            client = await RawTelnet.connect(live.telnet_port)
            await client.expect("connect NAME PASSWORD")
            assert bytes(client.raw[:3]) == bytes((IAC, WILL, GMCP))
            client.send_line("create molly razorgirl")
            await client.read_until(lambda c: ("Room.Info", ROOM_INFO) in c.gmcp)
            await client.expect("A drone hums.")
            raw = bytes(client.raw)
            assert b"Rain hisses on hot neon.\r\nA drone hums.\x1b[0m\r\n" in raw
            assert bytes((IAC, SB, GMCP)) + b"Room.Info {" in raw and bytes((IAC, SE)) in raw
            assert b"\n" not in raw.replace(b"\r\n", b"")  # every line end is CR LF
            client.close()

    run(main())


def test_a_client_without_gmcp_never_gets_gmcp(accounts: AccountStore) -> None:
    async def main() -> None:
        async with live_servers(accounts) as live:
            client = await RawTelnet.connect(live.telnet_port, accept_gmcp=False)
            client.send_line("create molly razorgirl")
            await client.expect("A drone hums.")
            client.send_line("look")
            await client.read_until(lambda c: sum("A drone hums." in line for line in c.lines) == 2)
            assert client.gmcp == []
            assert bytes((IAC, SB)) not in bytes(client.raw)
            client.close()

    run(main())


def test_lines_split_across_packets_and_negotiation_noise(accounts: AccountStore) -> None:
    async def main() -> None:
        async with live_servers(accounts) as live:
            client = await RawTelnet.connect(live.telnet_port)
            client.send_line("create molly razorgirl")
            await client.expect("A drone hums.")
            for piece in [b"sa", b"y he", bytes((IAC, 251, 31)), b"llo\r", b"\n", bytes((IAC, 241))]:
                client.writer.write(piece)
                await client.writer.drain()
                await asyncio.sleep(0.02)
            await client.expect("Molly says: hello")
            client.close()

    run(main())


def test_reconnecting_takes_over_the_old_connection(accounts: AccountStore) -> None:
    async def main() -> None:
        async with live_servers(accounts) as live:
            old = await RawTelnet.connect(live.telnet_port)
            old.send_line("create molly razorgirl")
            await old.expect("A drone hums.")
            new = await RawTelnet.connect(live.telnet_port)
            new.send_line("connect molly razorgirl")
            await new.expect("You take over Molly")
            await old.until_closed()
            assert TAKEN_OVER_TEXT in old.lines
            await new.expect("A drone hums.")  # the look that continues the character
            new.send_line("say back")
            await new.expect("Molly says: back")
            assert [a for a in live.game.applied if a[0] in ("enter", "leave")] == [("enter", "Molly", "")]
            new.close()

    run(main())


def test_idle_connections_are_closed(accounts: AccountStore) -> None:
    async def main() -> None:
        async with live_servers(accounts, idle_timeout_s=0.3) as live:
            client = await RawTelnet.connect(live.telnet_port)
            client.send_line("create molly razorgirl")
            await client.expect("A drone hums.")
            await client.until_closed(timeout_s=3)
            assert any("idle too long" in line for line in client.lines)
            await wait_for(lambda: ("leave", "Molly", "") in live.game.applied)

    run(main())


def test_a_client_that_does_not_read_is_dropped(accounts: AccountStore) -> None:
    async def main() -> None:
        async with live_servers(accounts, max_buffered_bytes=256 * 1024) as live:
            bystander = await RawTelnet.connect(live.telnet_port)
            bystander.send_line("create case cowboy99")
            await bystander.expect("A drone hums.")

            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.setblocking(False)
            await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", live.telnet_port))
            _reader, writer = await asyncio.open_connection(sock=sock)
            writer.write(b"create molly razorgirl\r\n" + b"spam 1024\r\n" * 15)  # 15 MiB of output
            await writer.drain()
            await wait_for(lambda: ("leave", "Molly", "") in live.game.applied, timeout_s=10)
            assert live.registry.characters == ["Case"]
            bystander.send_line("say still fine")
            await bystander.expect("Case says: still fine")
            writer.close()
            bystander.close()

    run(main())
