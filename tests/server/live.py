"""Live gateways on loopback for end-to-end tests, and a raw telnet client that speaks the
protocol through ``TelnetParser`` (so tests see exactly the bytes a MUD client would)."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from ouroboros.server.gateway.accounts import AccountStore
from ouroboros.server.gateway.session import SessionLimits, SessionRegistry
from ouroboros.server.gateway.telnet import serve_telnet
from ouroboros.server.gateway.telnet_codec import (
    DO,
    GMCP,
    WILL,
    Line,
    Negotiation,
    Subnegotiation,
    TelnetParser,
    negotiation,
)
from ouroboros.server.gateway.websocket import serve_websocket
from tests.server.conftest import FAST_LIMITS
from tests.server.fakegame import FakeGame

ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class Live:
    game: FakeGame
    registry: SessionRegistry
    telnet_port: int
    websocket_port: int
    alerts: list[dict[str, Any]]

    @property
    def websocket_uri(self) -> str:
        return f"ws://127.0.0.1:{self.websocket_port}"


@asynccontextmanager
async def live_servers(
    accounts: AccountStore,
    *,
    limits: SessionLimits = FAST_LIMITS,
    idle_timeout_s: float = 60.0,
    max_buffered_bytes: int = 1024 * 1024,
    clock: Callable[[], float] | None = None,
) -> AsyncIterator[Live]:
    game = FakeGame()
    alerts: list[dict[str, Any]] = []
    if clock is None:
        registry = SessionRegistry(game, accounts, limits=limits, on_alert=alerts.append)
    else:
        registry = SessionRegistry(game, accounts, limits=limits, clock=clock, on_alert=alerts.append)
    ticker = asyncio.create_task(game.run_ticks())
    telnet = await serve_telnet(
        game, registry, "127.0.0.1", 0, idle_timeout_s, max_buffered_bytes=max_buffered_bytes
    )
    websocket = await serve_websocket(game, registry, "127.0.0.1", 0, idle_timeout_s=idle_timeout_s)
    try:
        yield Live(
            game, registry, telnet.sockets[0].getsockname()[1], websocket.sockets[0].getsockname()[1], alerts
        )
    finally:
        registry.close_all()
        telnet.close()
        websocket.close()
        await websocket.wait_closed()
        ticker.cancel()
        await asyncio.gather(ticker, return_exceptions=True)
        await asyncio.sleep(0.01)  # let closing connections finish their handlers


class RawTelnet:
    """A minimal MUD client over asyncio streams."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, accept_gmcp: bool) -> None:
        self.reader = reader
        self.writer = writer
        self.accept_gmcp = accept_gmcp
        self.parser = TelnetParser(max_line_bytes=1 << 24)
        self.raw = bytearray()
        self.lines: list[str] = []
        self.gmcp: list[tuple[str, Any]] = []
        self.eof = False

    @classmethod
    async def connect(cls, port: int, *, accept_gmcp: bool = True) -> RawTelnet:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer, accept_gmcp)

    def send_line(self, text: str) -> None:
        self.writer.write(text.encode() + b"\r\n")

    def _absorb(self, data: bytes) -> None:
        self.raw += data
        for event in self.parser.feed(data):
            if isinstance(event, Line):
                self.lines.append(ANSI.sub("", event.data.decode("utf-8", "replace")))
            elif isinstance(event, Negotiation) and event.command == WILL and event.option == GMCP:
                if self.accept_gmcp:
                    self.writer.write(negotiation(DO, GMCP))
            elif isinstance(event, Subnegotiation) and event.option == GMCP:
                package, _, body = event.payload.decode().partition(" ")
                self.gmcp.append((package, json.loads(body)))

    async def read_until(self, done: Callable[[RawTelnet], bool], timeout_s: float = 5.0) -> None:
        async with asyncio.timeout(timeout_s):
            while not done(self):
                data = await self.reader.read(65536)
                if not data:
                    self.eof = True
                    if not done(self):
                        raise EOFError(f"closed before expected output; lines: {self.lines[-5:]}")
                    return
                self._absorb(data)

    async def expect(self, text: str, timeout_s: float = 5.0) -> None:
        await self.read_until(lambda c: any(text in line for line in c.lines), timeout_s)

    async def until_closed(self, timeout_s: float = 5.0) -> None:
        async with asyncio.timeout(timeout_s):
            while data := await self.reader.read(65536):
                self._absorb(data)
        self.eof = True

    def close(self) -> None:
        self.writer.close()
