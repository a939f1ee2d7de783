from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ouroboros.server.gateway.hygiene import clean_line
from ouroboros.server.gateway.login import parse_login_line
from ouroboros.server.gateway.throttle import (
    AddressGate,
    Admission,
    FailureThrottle,
    FloodGuard,
    InputBudget,
    LockoutPolicy,
    LoginGuard,
    TokenBucket,
    failure_delay_s,
)
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


# -- LoginGuard, InputBudget, AddressGate ----------------------------------------------------------


@given(st.lists(st.tuples(st.booleans(), st.booleans(), st.sampled_from(["a", "b"])), max_size=200))
def test_a_login_guard_admits_no_more_failures_than_its_policy_however_attempts_interleave(
    ops: list[tuple[bool, bool, str]],
) -> None:
    clock = FakeClock()
    guard = LoginGuard(
        {"account": LockoutPolicy(max_failures=3), "address": LockoutPolicy(max_failures=5)}, clock=clock
    )
    in_flight: list[list[str]] = []
    failed: dict[str, int] = {}
    for start, fails, who in ops:
        keys = [f"account:{who}", "address:1.2.3.4"]
        if start or not in_flight:
            if guard.begin(keys) == 0:
                in_flight.append(keys)
            continue
        settled = in_flight.pop(0)
        guard.end(settled, not fails)
        if fails:
            for key in settled:
                failed[key] = failed.get(key, 0) + 1
    assert failed.get("account:a", 0) <= 3 and failed.get("account:b", 0) <= 3
    assert failed.get("address:1.2.3.4", 0) <= 5


def test_a_lockout_doubles_and_ends() -> None:
    clock = FakeClock()
    guard = LoginGuard(
        {"account": LockoutPolicy(max_failures=2, lockout_s=10, max_lockout_s=25)}, clock=clock
    )
    keys = ["account:x"]
    seconds = []
    for _ in range(4):
        for _ in range(2):
            assert guard.begin(keys) == 0
            started = guard.end(keys, False)
        seconds.append(started[0].seconds)
        assert guard.begin(keys) == started[0].seconds
        clock.now += started[0].seconds
    assert seconds == [10, 20, 25, 25]
    assert guard.begin(keys) == 0
    guard.end(keys, True, clear_on_success=keys)  # a success forgets the failures


def test_an_input_budget_counts_bytes_and_refills() -> None:
    clock = FakeClock()
    budget = InputBudget(100.0, 1000, clock)
    assert budget.charge(1000) == 0
    assert budget.charge(50) == pytest.approx(0.5)
    clock.now += 1.0
    assert budget.charge(40) == 0


def test_an_address_gate_counts_connections_before_login_and_their_rate() -> None:
    clock = FakeClock()
    gate = AddressGate(max_unauthenticated=2, connects_per_s=1.0, connect_burst=3, clock=clock)
    assert gate.admit("a") is None and gate.admit("a") is None
    assert "have not logged in" in (gate.admit("a") or "")
    gate.logged_in("a")
    assert gate.admit("a") is None  # the third of the burst
    gate.logged_in("a")
    assert "new connections" in (gate.admit("a") or "")
    assert gate.admit("b") is None  # another address is its own
    clock.now += 1.0
    assert gate.admit("a") is None
