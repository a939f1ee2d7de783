from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from ouroboros.server.gateway.telnet_codec import (
    DO,
    DONT,
    GMCP,
    IAC,
    NOP,
    SB,
    SE,
    WILL,
    WONT,
    Command,
    Line,
    Negotiation,
    Subnegotiation,
    TelnetOptions,
    TelnetParser,
    encode_event,
    escape_iac,
    gmcp_frame,
)

# Line text: any bytes but the line-end bytes (IAC allowed: it is sent escaped).
line_bytes = st.binary(max_size=60).map(lambda b: bytes(x for x in b if x not in (10, 13, 0)))
negotiations = st.builds(
    lambda cmd, opt: bytes((IAC, cmd, opt)), st.sampled_from([WILL, WONT, DO, DONT]), st.integers(0, 255)
)
subnegotiations = st.builds(
    lambda opt, payload: bytes((IAC, SB, opt)) + escape_iac(payload) + bytes((IAC, SE)),
    st.integers(0, 255),
    st.binary(max_size=40),
)
commands = st.sampled_from([bytes((IAC, c)) for c in range(241, 250)])
noise = st.one_of(negotiations, subnegotiations, commands)
pieces = st.one_of(line_bytes.map(lambda b: (False, b)), noise.map(lambda b: (True, b)))
line_ends = st.sampled_from([b"\r\n", b"\r\0", b"\n"])


def feed_in_chunks(parser: TelnetParser, data: bytes, cuts: list[int]) -> list[object]:
    events: list[object] = []
    start = 0
    for cut in sorted(c % (len(data) + 1) for c in cuts):
        events += parser.feed(data[start:cut])
        start = max(start, cut)
    events += parser.feed(data[start:])
    return events


def lines(events: list[object]) -> list[bytes]:
    return [e.data for e in events if isinstance(e, Line)]


@given(st.binary(max_size=4096), st.lists(st.integers(0, 4096), max_size=8))
def test_random_bytes_never_raise(data: bytes, cuts: list[int]) -> None:
    parser = TelnetParser(max_line_bytes=64, max_sub_bytes=64)
    for event in feed_in_chunks(parser, data, cuts):
        if isinstance(event, Line):
            assert len(event.data) <= 64
            assert b"\r" not in event.data and b"\n" not in event.data and b"\0" not in event.data


@given(st.binary(max_size=200).map(lambda b: bytes(x for x in b if x not in (10, 13, 0))))
def test_iac_iac_round_trips(payload: bytes) -> None:
    assert lines(TelnetParser().feed(escape_iac(payload) + b"\r\n")) == [payload]


@given(
    st.lists(st.tuples(st.lists(pieces, max_size=6), line_ends), max_size=8),
    st.lists(st.integers(0, 2000), max_size=10),
)
def test_negotiation_never_leaks_into_lines_and_split_reads_reassemble(
    script: list[tuple[list[tuple[bool, bytes]], bytes]], cuts: list[int]
) -> None:
    wire = b""
    expected: list[bytes] = []
    for line_pieces, end in script:
        text = b""
        for is_noise, piece in line_pieces:
            if is_noise:
                wire += piece
            else:
                wire += escape_iac(piece)
                text += piece
        wire += end
        expected.append(text)
    assert lines(feed_in_chunks(TelnetParser(), wire, cuts)) == expected


def test_every_line_end_and_a_split_cr_lf() -> None:
    parser = TelnetParser()
    assert lines(parser.feed(b"one\r\ntwo\r\0three\nfour\r")) == [b"one", b"two", b"three", b"four"]
    assert lines(parser.feed(b"\nfive\r\n")) == [b"five"]  # the LF finishing "four\r" is no empty line


def test_commands_and_subnegotiation_are_reported() -> None:
    events = TelnetParser().feed(
        bytes((IAC, DO, GMCP, IAC, NOP, IAC, SB, GMCP)) + b'Core.Hello {"a":"\xff\xff"}' + bytes((IAC, SE))
    )
    assert events == [
        Negotiation(DO, GMCP),
        Command(NOP),
        Subnegotiation(GMCP, b'Core.Hello {"a":"\xff"}'),
    ]


def test_overlong_lines_and_subnegotiations_stay_bounded() -> None:
    parser = TelnetParser(max_line_bytes=10, max_sub_bytes=10)
    events = parser.feed(
        b"a" * 1000 + b"\r\n" + bytes((IAC, SB, 24)) + b"x" * 1000 + bytes((IAC, SE)) + b"ok\n"
    )
    assert events == [Line(b"a" * 10, truncated=True), Line(b"ok")]


def test_options_offer_gmcp_and_refuse_the_rest_without_loops() -> None:
    options = TelnetOptions()
    assert options.offer() == bytes((IAC, WILL, GMCP))
    assert options.answer(Negotiation(DO, GMCP)) == b""  # the answer to our offer: no reply
    assert options.gmcp
    assert options.answer(Negotiation(DO, GMCP)) == b""  # already on
    assert options.answer(Negotiation(WILL, 31)) == bytes((IAC, DONT, 31))  # NAWS refused
    assert options.answer(Negotiation(DO, 1)) == bytes((IAC, WONT, 1))  # ECHO refused
    assert options.answer(Negotiation(WONT, 31)) == b""
    assert options.answer(Negotiation(DONT, 1)) == b""
    assert options.answer(Negotiation(DONT, GMCP)) == bytes((IAC, WONT, GMCP))
    assert not options.gmcp
    assert options.answer(Negotiation(DONT, GMCP)) == b""


def test_a_client_refusing_gmcp_gets_no_reply() -> None:
    options = TelnetOptions()
    options.offer()
    assert options.answer(Negotiation(DONT, GMCP)) == b""
    assert not options.gmcp


def test_text_events_are_coloured_crlf_and_terminal_safe() -> None:
    out = encode_event({"type": "text", "style": "combat", "text": "Hit!\nOuch\x1b[2J"}, gmcp=False)
    assert out == b"\x1b[1;91mHit!\r\nOuch[2J\x1b[0m\r\n"
    assert encode_event({"type": "text", "style": "info", "text": "plain"}, gmcp=False) == b"plain\r\n"


def test_gmcp_only_when_negotiated_and_iac_doubled() -> None:
    event = {"type": "gmcp", "package": "Room.Info", "data": {"name": "Neon"}}
    assert encode_event(event, gmcp=False) == b""
    frame = encode_event(event, gmcp=True)
    assert frame == bytes((IAC, SB, GMCP)) + b'Room.Info {"name":"Neon"}' + bytes((IAC, SE))
    payload = TelnetParser().feed(gmcp_frame("X", {"v": "\u00ff"}))
    assert isinstance(payload[0], Subnegotiation)
    package, _, body = payload[0].payload.decode().partition(" ")
    assert (package, json.loads(body)) == ("X", {"v": "\u00ff"})


@given(st.text(max_size=80))
def test_a_prompt_is_a_line_of_its_own_marked_by_ga(text: str) -> None:
    data = encode_event({"type": "prompt", "text": text}, gmcp=False)
    assert data.endswith(b"\r\n\xff\xf9")  # CR LF, then IAC GA
    assert b"\xff\xf9" not in data[:-2]  # nothing in the text can forge a GA
