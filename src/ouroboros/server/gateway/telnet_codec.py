"""The telnet protocol as pure code: a byte parser, option negotiation and output encoding.

No sockets here, so all of it is tested (and fuzzed) with plain bytes.

``TelnetParser.feed`` promises, for any bytes in any chunking:

- it never raises, and its memory is bounded (``max_line_bytes`` per line, ``max_sub_bytes``
  per subnegotiation; the excess is dropped, and the line is marked ``truncated``);
- ``IAC IAC`` is one data byte 0xFF; commands (``IAC WILL/WONT/DO/DONT opt``, ``IAC SB ... IAC
  SE``, ``IAC NOP`` and the other two-byte commands) never end up in a line, even split across
  reads;
- a line ends at CR LF, CR NUL, a bare LF or a bare CR; the line end is not part of the line, and a
  CR LF split across two reads is one line end. NUL bytes are dropped.

``TelnetOptions`` offers GMCP and refuses every other option, answering each request at most
once and never answering an answer, so negotiation cannot loop.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from typing import Any

from ouroboros.server.gateway.ansi import render_text
from ouroboros.server.gateway.game import Event

IAC = 255
DONT = 254
DO = 253
WONT = 252
WILL = 251
SB = 250
GA = 249
NOP = 241
SE = 240
GMCP = 201
CR = 13
LF = 10
NUL = 0


@dataclass(frozen=True)
class Line:
    data: bytes
    truncated: bool = False


@dataclass(frozen=True)
class Negotiation:
    command: int  # WILL, WONT, DO or DONT
    option: int


@dataclass(frozen=True)
class Subnegotiation:
    option: int
    payload: bytes


@dataclass(frozen=True)
class Command:
    command: int  # NOP, AYT, IP, ... (a two-byte IAC command)


TelnetEvent = Line | Negotiation | Subnegotiation | Command


class _State(enum.Enum):
    DATA = 0
    CR = 1  # just saw CR: a following LF or NUL belongs to that line end
    IAC = 2
    NEGOTIATE = 3
    SB_OPTION = 4
    SB_DATA = 5
    SB_IAC = 6


class TelnetParser:
    """Turns received bytes into lines and telnet commands; keeps state between reads."""

    def __init__(self, *, max_line_bytes: int = 4096, max_sub_bytes: int = 8192) -> None:
        self._max_line = max_line_bytes
        self._max_sub = max_sub_bytes
        self._state = _State.DATA
        self._line = bytearray()
        self._line_truncated = False
        self._command = 0
        self._sub_option = 0
        self._sub = bytearray()
        self._sub_overflow = False

    def _data_byte(self, byte: int) -> None:
        if len(self._line) < self._max_line:
            self._line.append(byte)
        else:
            self._line_truncated = True

    def _end_line(self, out: list[TelnetEvent]) -> None:
        out.append(Line(bytes(self._line), self._line_truncated))
        self._line.clear()
        self._line_truncated = False

    def feed(self, data: bytes) -> list[TelnetEvent]:
        out: list[TelnetEvent] = []
        for byte in data:
            self._step(byte, out)
        return out

    def _step(self, byte: int, out: list[TelnetEvent]) -> None:
        state = self._state
        if state is _State.CR:
            self._state = _State.DATA
            if byte in (LF, NUL):
                return
            state = _State.DATA
        if state is _State.DATA:
            if byte == IAC:
                self._state = _State.IAC
            elif byte in (CR, LF):
                self._end_line(out)
                if byte == CR:
                    self._state = _State.CR
            elif byte != NUL:
                self._data_byte(byte)
        elif state is _State.IAC:
            self._after_iac(byte, out)
        elif state is _State.NEGOTIATE:
            out.append(Negotiation(self._command, byte))
            self._state = _State.DATA
        elif state is _State.SB_OPTION:
            self._sub_option = byte
            self._sub.clear()
            self._sub_overflow = False
            self._state = _State.SB_DATA
        elif state is _State.SB_DATA:
            if byte == IAC:
                self._state = _State.SB_IAC
            else:
                self._sub_byte(byte)
        else:  # SB_IAC
            if byte == IAC:
                self._sub_byte(IAC)
                self._state = _State.SB_DATA
            elif byte == SE:
                if not self._sub_overflow:
                    out.append(Subnegotiation(self._sub_option, bytes(self._sub)))
                self._sub.clear()
                self._state = _State.DATA
            else:  # a malformed subnegotiation: drop it and read the command that interrupted it
                self._sub.clear()
                self._after_iac(byte, out)

    def _sub_byte(self, byte: int) -> None:
        if len(self._sub) < self._max_sub:
            self._sub.append(byte)
        else:
            self._sub_overflow = True

    def _after_iac(self, byte: int, out: list[TelnetEvent]) -> None:
        self._state = _State.DATA
        if byte == IAC:
            self._data_byte(IAC)
        elif byte in (WILL, WONT, DO, DONT):
            self._command = byte
            self._state = _State.NEGOTIATE
        elif byte == SB:
            self._state = _State.SB_OPTION
        elif byte > SE:  # NOP, DM, BRK, IP, AO, AYT, EC, EL, GA
            out.append(Command(byte))
        # IAC SE outside a subnegotiation, or IAC followed by a non-command byte: ignored


def escape_iac(data: bytes) -> bytes:
    """Data bytes as sent: every 0xFF doubled."""
    return data.replace(b"\xff", b"\xff\xff")


def negotiation(command: int, option: int) -> bytes:
    return bytes((IAC, command, option))


def gmcp_frame(package: str, data: Any) -> bytes:
    """``IAC SB GMCP <package> <json> IAC SE``."""
    body = json.dumps(data, separators=(",", ":"), default=str)
    payload = f"{package} {body}".encode()
    return bytes((IAC, SB, GMCP)) + escape_iac(payload) + bytes((IAC, SE))


class TelnetOptions:
    """The server's side of option negotiation: GMCP offered, everything else refused."""

    def __init__(self) -> None:
        self.gmcp = False
        self._gmcp_offered = False  # our WILL GMCP awaits the client's answer

    def offer(self) -> bytes:
        """The bytes that open a connection: ``IAC WILL GMCP``."""
        self._gmcp_offered = True
        return negotiation(WILL, GMCP)

    def answer(self, event: Negotiation) -> bytes:
        """The reply (maybe none) to one negotiation from the client."""
        command, option = event.command, event.option
        if option == GMCP and command == DO:
            reply = b"" if (self.gmcp or self._gmcp_offered) else negotiation(WILL, GMCP)
            self.gmcp, self._gmcp_offered = True, False
            return reply
        if option == GMCP and command == DONT:
            reply = negotiation(WONT, GMCP) if self.gmcp else b""
            self.gmcp, self._gmcp_offered = False, False
            return reply
        if command == DO:
            return negotiation(WONT, option)
        if command == WILL:
            return negotiation(DONT, option)
        return b""  # WONT / DONT of an option that is off anyway


_RENDERED: dict[tuple[str, str], bytes] = {}
_RENDERED_MAX = 4096


def _text_bytes(style: str, text: str) -> bytes:
    # one say reaches everyone in the room: render it once, not once per listener
    key = (style, text)
    data = _RENDERED.get(key)
    if data is None:
        if len(_RENDERED) >= _RENDERED_MAX:
            _RENDERED.clear()
        data = _RENDERED[key] = escape_iac(render_text(style, text).encode())
    return data


def encode_event(event: Event, *, gmcp: bool) -> bytes:
    """The bytes a telnet client gets for one game event (empty for events it does not get)."""
    kind = event.get("type")
    if kind == "text":
        return _text_bytes(str(event.get("style", "info")), str(event.get("text", "")))
    if kind == "disconnect":
        return escape_iac(render_text("system", str(event.get("reason", "Goodbye."))).encode())
    if kind == "gmcp" and gmcp:
        return gmcp_frame(str(event.get("package", "")), event.get("data", {}))
    if kind == "prompt":  # a line of its own (nothing else is ever glued to it), GA marks it
        return escape_iac(render_text("system", str(event.get("text", ""))).encode()) + bytes((IAC, GA))
    if kind == "error":  # a transport-level error event, as text
        return escape_iac(render_text("error", str(event.get("message", ""))).encode())
    return b""
