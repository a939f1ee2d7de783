"""The telnet gateway: an asyncio TCP server that speaks telnet to a ``Session`` per connection.

What it promises:

- On connect the server offers GMCP (``IAC WILL GMCP``); a client that answers ``DO GMCP`` gets
  gmcp events as ``IAC SB GMCP <package> <json> IAC SE``, others never see them. Every other
  option is refused (see ``telnet_codec.TelnetOptions``).
- Text events arrive ANSI-coloured by style with CR LF line ends, 0xFF bytes doubled.
- A connection that sends no line for ``idle_timeout_s`` is told and closed, and one that has
  not logged in within ``SessionLimits.login_deadline_s`` too.
- Every byte read is charged to the session's input budget before it is parsed (negotiation
  and ``IAC NOP`` included): before login a connection over budget is dropped, after login its
  reading pauses until the budget refills. Reads are at most ``READ_CHUNK_BYTES``, so one read
  costs the event loop (which the city's ticks share) a bounded amount of parsing.
- Per-address limits on connections that have not logged in are the registry's
  (``SessionRegistry.open`` refuses).
- Backpressure: writes never wait for a client, and a client whose unsent output passes
  ``max_buffered_bytes`` is dropped at once, so a client that does not read cannot grow the
  server's memory.
- Whatever bytes a client sends, only its own connection can end: errors are caught and logged
  per connection.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from ouroboros.server.gateway.game import Event, LiveGame
from ouroboros.server.gateway.session import Session, SessionRegistry
from ouroboros.server.gateway.telnet_codec import (
    Line,
    Negotiation,
    TelnetOptions,
    TelnetParser,
    encode_event,
)

log = logging.getLogger(__name__)

DEFAULT_IDLE_TIMEOUT_S = 30 * 60.0
DEFAULT_MAX_BUFFERED_BYTES = 1024 * 1024
READ_CHUNK_BYTES = 4096


class TelnetConnection:
    """One client socket as a session ``Transport``."""

    def __init__(self, writer: asyncio.StreamWriter, *, max_buffered_bytes: int) -> None:
        self._writer = writer
        self._max_buffered = max_buffered_bytes
        self.options = TelnetOptions()
        self.closing = False
        peer = writer.get_extra_info("peername")
        self.peer = f"telnet:{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else "telnet:?"
        self.address = str(peer[0]) if isinstance(peer, tuple) else "?"

    def write(self, data: bytes) -> None:
        if self.closing or not data:
            return
        self._writer.write(data)
        if self._writer.transport.get_write_buffer_size() > self._max_buffered:
            log.info("dropping %s: it does not read its output", self.peer)
            self.closing = True
            self._writer.transport.abort()

    def send(self, events: Sequence[Event]) -> None:
        gmcp = self.options.gmcp
        self.write(b"".join(encode_event(event, gmcp=gmcp) for event in events))

    def close(self) -> None:
        if not self.closing:
            self.closing = True
            self._writer.close()  # sends what is buffered, then closes


async def _read_lines(
    reader: asyncio.StreamReader,
    connection: TelnetConnection,
    session: Session,
    idle_timeout_s: float,
) -> None:
    loop = asyncio.get_running_loop()
    parser = TelnetParser()
    last_line_at = loop.time()
    while not session.closed:
        login_left = session.login_time_left()
        if login_left <= 0:
            session.close("You did not log in in time. Disconnecting.")
            return
        remaining = last_line_at + idle_timeout_s - loop.time()
        if remaining <= 0:
            session.close("You have been idle too long. Disconnecting.")
            return
        try:
            data = await asyncio.wait_for(reader.read(READ_CHUNK_BYTES), min(remaining, login_left))
        except TimeoutError:
            continue
        if not data:
            return
        # every byte is charged before any is parsed: negotiation and IAC NOP cost like text
        pause_s = session.charge_input(len(data))
        if pause_s is None:
            return
        if await _handle_bytes(parser, data, connection, session):
            last_line_at = loop.time()
        if pause_s > 0 and not session.closed:
            await asyncio.sleep(pause_s)  # over budget: read no more until it refills


async def _handle_bytes(
    parser: TelnetParser, data: bytes, connection: TelnetConnection, session: Session
) -> bool:
    """Parse one read and act on it; whether it held a line (which resets the idle clock)."""
    saw_line = False
    for event in parser.feed(data):
        if isinstance(event, Line):
            saw_line = True
            await session.handle_line(event.data)
            if session.closed:
                break
        elif isinstance(event, Negotiation):
            connection.write(connection.options.answer(event))
        # subnegotiations (a client's GMCP Core.Hello, ...) and bare commands need no answer
    return saw_line


async def _serve_connection(
    registry: SessionRegistry,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    *,
    idle_timeout_s: float,
    max_buffered_bytes: int,
) -> None:
    connection = TelnetConnection(writer, max_buffered_bytes=max_buffered_bytes)
    connection.write(connection.options.offer())
    session = registry.open(connection)
    if session is None:
        return
    try:
        await _read_lines(reader, connection, session, idle_timeout_s)
    except (ConnectionError, OSError):
        pass
    except Exception:
        log.exception("telnet connection %s failed", connection.peer)
    finally:
        session.connection_lost()
        connection.close()


async def serve_telnet(
    game: LiveGame,
    registry: SessionRegistry,
    host: str,
    port: int,
    idle_timeout_s: float = DEFAULT_IDLE_TIMEOUT_S,
    *,
    max_buffered_bytes: int = DEFAULT_MAX_BUFFERED_BYTES,
) -> asyncio.Server:
    """Start listening on ``host:port`` (port 0 picks a free one: read ``server.sockets``)."""
    if registry.game is not game:
        raise ValueError("the registry belongs to another game")

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _serve_connection(
            registry, reader, writer, idle_timeout_s=idle_timeout_s, max_buffered_bytes=max_buffered_bytes
        )

    return await asyncio.start_server(on_connect, host, port)
