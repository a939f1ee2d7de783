from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ouroboros.server.hygiene import clean_line
from ouroboros.server.login import parse_login_line
from ouroboros.server.throttle import Admission, FailureThrottle, FloodGuard, TokenBucket, failure_delay_s
from tests.server.conftest import FakeClock


def test_clean_line_strips_controls_and_escape_sequences() -> None:
    assert clean_line(b"\x1b[31mred\x07 \x00alert\r").text == "[31mred alert"
    assert clean_line("say\thi\u200b there\u202e").text == "say hi there"
    assert clean_line(b"  look  ").text == "look"


def test_clean_line_replaces_invalid_utf8() -> None:
    assert clean_line(b"say caf\xc3\xa9 \xff\xfe").text == "say café \ufffd\ufffd"


def test_clean_line_cuts_overlong_lines_on_a_character_boundary() -> None:
    line = clean_line("é" * 300, max_bytes=512)  # 600 bytes
    assert line.truncated
    assert line.text == "é" * 256
    assert not clean_line("é" * 256, max_bytes=512).truncated


@given(st.binary(max_size=2048) | st.text(max_size=1024))
def test_clean_line_always_gives_short_printable_text(raw: bytes | str) -> None:
    line = clean_line(raw, max_bytes=512)
    assert len(line.text.encode("utf-8")) <= 512
    assert all(ch.isprintable() for ch in line.text)


def test_token_bucket_allows_a_burst_then_the_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(8.0, 16, clock)
    assert all(bucket.take() for _ in range(16))
    assert not bucket.take()
    clock.now += 0.25
    assert bucket.take() and bucket.take()
    assert not bucket.take()


def test_flood_guard_warns_once_then_disconnects_a_sustained_flood() -> None:
    clock = FakeClock()
    guard = FloodGuard(lines_per_s=8, burst=16, disconnect_after_dropped=200, quiet_s=10, clock=clock)
    verdicts = [guard.admit() for _ in range(16 + 200)]
    assert verdicts[:16] == [Admission.ACCEPT] * 16
    assert verdicts[16] is Admission.DROP_AND_WARN
    assert set(verdicts[17:]) == {Admission.DROP}
    assert guard.admit() is Admission.DISCONNECT


def test_flood_guard_forgets_a_flood_after_a_quiet_spell() -> None:
    clock = FakeClock()
    guard = FloodGuard(lines_per_s=8, burst=16, disconnect_after_dropped=200, quiet_s=10, clock=clock)
    for _ in range(100):
        guard.admit()
    clock.now += 60
    for _ in range(16):
        assert guard.admit() is Admission.ACCEPT
    assert guard.admit() is Admission.DROP_AND_WARN  # a new flood, counted from zero


def test_failure_delay_doubles_to_a_cap() -> None:
    assert [failure_delay_s(n, 0.5, 8.0) for n in range(7)] == [0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert failure_delay_s(10**9, 0.5, 8.0) == 8.0


def test_failure_throttle_counts_per_name_resets_and_forgets() -> None:
    clock = FakeClock()
    throttle = FailureThrottle(base_delay_s=0.5, max_delay_s=8.0, clock=clock, forget_after_s=900, max_keys=3)
    throttle.record_failure("case")
    throttle.record_failure("case")
    assert throttle.delay_s("case") == 1.0
    assert throttle.delay_s("molly") == 0.0
    throttle.reset("case")
    assert throttle.delay_s("case") == 0.0
    throttle.record_failure("case")
    clock.now += 901
    assert throttle.delay_s("case") == 0.0
    for name in ["a", "b", "c", "d"]:
        throttle.record_failure(name)
    assert throttle.failures("a") == 0  # oldest dropped: memory stays bounded
    assert throttle.failures("d") == 1


def test_login_commands_parse_and_hide_the_password() -> None:
    command = parse_login_line("CONNECT case my secret pass")
    assert (command.verb, command.name, command.password) == ("connect", "case", "my secret pass")
    assert "secret" not in repr(command)
    assert parse_login_line("create bob").verb == "usage"
    assert parse_login_line("").verb == "empty"
    assert parse_login_line("dance").verb == "unknown"
    assert parse_login_line("login bob hunter22").verb == "connect"
    assert parse_login_line("help").verb == "help"
    assert parse_login_line("quit").verb == "quit"
