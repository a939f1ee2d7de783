"""Hostile input against live gateways: whatever one client sends, the server keeps serving and
another player's session keeps working."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
from collections.abc import Iterator
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from ouroboros.server.gateway.accounts import AccountStore
from tests.server.conftest import FAST_SCRYPT, run
from tests.server.live import Live, RawTelnet, live_servers

telnet_fragments = st.sampled_from(
    [
        b"\xff",
        b"\xff\xff",
        b"\xff\xfa\xc9",
        b"\xff\xf0",
        b"\xff\xfd\xc9",
        b"\xff\xfe\xc9",
        b"\xff\xfb\x18",
        b"\xff\xf4",
        b"\r",
        b"\n",
        b"\r\x00",
        b"\x00",
        b"\x1b[2J",
        b"connect case cowboy99\r\n",
        b"connect zed password\r\n",
        b"create \xc3\x28 \xff\xfe\r\n",
        b"look\r\n",
        b"quit\r\n",
    ]
)
junk = st.lists(st.one_of(st.binary(max_size=700), telnet_fragments), max_size=16)


class Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextlib.contextmanager
def watched_errors() -> Iterator[Errors]:
    handler = Errors()
    logger = logging.getLogger("ouroboros.server")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


@contextlib.contextmanager
def fresh_accounts() -> Iterator[AccountStore]:
    with (
        tempfile.TemporaryDirectory() as folder,
        AccountStore(Path(folder) / "neon.db", params=FAST_SCRYPT) as store,
    ):
        yield store


async def bystander_in(live: Live) -> RawTelnet:
    player = await RawTelnet.connect(live.telnet_port)
    player.send_line("create molly razorgirl")
    await player.expect("A drone hums.")
    return player


async def still_served(live: Live, bystander: RawTelnet, word: str) -> None:
    bystander.send_line(f"say {word}")
    await bystander.expect(f"Molly says: {word}")
    newcomer = await RawTelnet.connect(live.telnet_port)
    await newcomer.expect("connect NAME PASSWORD")
    newcomer.close()
    async with asyncio.timeout(5):
        while live.registry.characters != ["Molly"] or len(live.registry) != 1:
            await asyncio.sleep(0.01)


@settings(max_examples=40, deadline=None)
@given(chunks=junk, hang_up=st.booleans())
def test_fuzzed_telnet_bytes_never_crash_the_server(chunks: list[bytes], hang_up: bool) -> None:
    async def main() -> None:
        with fresh_accounts() as accounts, watched_errors() as errors:
            accounts.create("Case", "cowboy99")
            async with live_servers(accounts) as live:
                bystander = await bystander_in(live)
                fuzzer = await RawTelnet.connect(live.telnet_port)
                for chunk in chunks:
                    fuzzer.writer.write(chunk)
                    with contextlib.suppress(ConnectionError):
                        await fuzzer.writer.drain()
                if hang_up:
                    fuzzer.writer.transport.abort()
                else:
                    await asyncio.sleep(0.05)
                    fuzzer.close()
                await still_served(live, bystander, "ok")
                bystander.close()
            assert errors.records == []

    run(main())


@settings(max_examples=25, deadline=None)
@given(
    frames=st.lists(
        st.one_of(st.text(max_size=300), st.binary(max_size=300), st.just('{"type":"line"}')), max_size=12
    )
)
def test_fuzzed_websocket_frames_never_crash_the_server(frames: list[str | bytes]) -> None:
    async def main() -> None:
        with fresh_accounts() as accounts, watched_errors() as errors:
            async with live_servers(accounts) as live:
                bystander = await bystander_in(live)
                async with connect(live.websocket_uri) as ws:
                    for frame in frames:
                        with contextlib.suppress(ConnectionClosed):
                            await ws.send(frame)
                await still_served(live, bystander, "ok")
                bystander.close()
            assert errors.records == []

    run(main())


def test_a_flood_disconnects_only_the_flooder() -> None:
    async def main() -> None:
        with fresh_accounts() as accounts:
            async with live_servers(accounts) as live:
                bystander = await bystander_in(live)
                flooder = await RawTelnet.connect(live.telnet_port)
                flooder.writer.write(b"create zed password\r\n" + b"look\r\n" * 400)
                await flooder.until_closed()
                assert any("sending too fast" in line for line in flooder.lines)
                assert any("Too much input" in line for line in flooder.lines)
                await still_served(live, bystander, "calm")
                bystander.close()

    run(main())
