"""Slowing players and guessers down: a token bucket for input lines, a flood guard on top of it,
a growing delay after failed logins, and ``LoginGuard``: failed attempts per account and per
address with lockout (the telnet login, the API's login and TOTP checks).

Everything here is pure bookkeeping with an injected clock (seconds, monotonic): no sleeping, no
I/O, so it is tested without waiting. Memory is bounded: the failure throttle forgets old entries
and keeps at most ``max_keys`` names.
"""

from __future__ import annotations

import enum
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

Clock = Callable[[], float]


class TokenBucket:
    """``rate_per_s`` tokens a second, at most ``burst`` saved up; a line costs one token."""

    def __init__(self, rate_per_s: float, burst: int, clock: Clock) -> None:
        if rate_per_s <= 0 or burst < 1:
            raise ValueError("a token bucket needs a positive rate and a burst of at least 1")
        self._rate = rate_per_s
        self._burst = float(burst)
        self._clock = clock
        self._tokens = float(burst)
        self._last = clock()

    def take(self) -> bool:
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._last) * self._rate)
        self._last = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False


class Admission(enum.Enum):
    ACCEPT = "accept"
    DROP_AND_WARN = "drop_and_warn"  # the first dropped line of a flood: tell the player once
    DROP = "drop"
    DISCONNECT = "disconnect"  # a sustained flood


class FloodGuard:
    """Admits input lines at a bounded rate. A flood is a run of dropped lines with no gap longer
    than ``quiet_s`` between drops; more than ``disconnect_after_dropped`` drops in one flood
    disconnects."""

    def __init__(
        self,
        *,
        lines_per_s: float,
        burst: int,
        disconnect_after_dropped: int,
        quiet_s: float,
        clock: Clock,
    ) -> None:
        self._bucket = TokenBucket(lines_per_s, burst, clock)
        self._limit = disconnect_after_dropped
        self._quiet_s = quiet_s
        self._clock = clock
        self._dropped = 0
        self._last_drop = float("-inf")

    def admit(self) -> Admission:
        if self._bucket.take():
            return Admission.ACCEPT
        now = self._clock()
        if now - self._last_drop > self._quiet_s:
            self._dropped = 0
        self._last_drop = now
        self._dropped += 1
        if self._dropped > self._limit:
            return Admission.DISCONNECT
        return Admission.DROP_AND_WARN if self._dropped == 1 else Admission.DROP


def failure_delay_s(failures: int, base_s: float, cap_s: float) -> float:
    """No delay before the first failure, then ``base_s`` doubling per failure up to ``cap_s``."""
    if failures <= 0:
        return 0.0
    return min(cap_s, base_s * 2.0 ** min(failures - 1, 32))


class FailureThrottle:
    """Failed logins per name, shared by every connection: each failure makes the next attempt on
    that name wait longer. A success resets the name; entries untouched for ``forget_after_s``
    are forgotten."""

    def __init__(
        self,
        *,
        base_delay_s: float,
        max_delay_s: float,
        clock: Clock,
        forget_after_s: float = 900.0,
        max_keys: int = 10_000,
    ) -> None:
        self._base = base_delay_s
        self._cap = max_delay_s
        self._clock = clock
        self._forget_after_s = forget_after_s
        self._max_keys = max_keys
        self._failures: OrderedDict[str, tuple[int, float]] = OrderedDict()  # key -> (count, last)

    def _prune(self, now: float) -> None:
        while self._failures:
            key, (_count, last) = next(iter(self._failures.items()))
            if now - last <= self._forget_after_s and len(self._failures) <= self._max_keys:
                break
            del self._failures[key]

    def failures(self, key: str) -> int:
        self._prune(self._clock())
        entry = self._failures.get(key)
        return 0 if entry is None else entry[0]

    def delay_s(self, key: str) -> float:
        return failure_delay_s(self.failures(key), self._base, self._cap)

    def record_failure(self, key: str) -> None:
        now = self._clock()
        count = self.failures(key) + 1
        self._failures.pop(key, None)
        self._failures[key] = (count, now)  # most recent last, so pruning drops the oldest
        self._prune(now)

    def reset(self, key: str) -> None:
        self._failures.pop(key, None)


@dataclass(frozen=True)
class LockoutPolicy:
    """How many failed attempts one key (an account, an address) may make within ``window_s``
    before it is locked out; the lockout lasts ``lockout_s``, doubling for each lockout in a row
    up to ``max_lockout_s`` (a key that stays clean for ``max_lockout_s`` starts again at
    ``lockout_s``)."""

    max_failures: int
    window_s: float = 300.0
    lockout_s: float = 60.0
    max_lockout_s: float = 3600.0

    def __post_init__(self) -> None:
        if self.max_failures < 1 or self.window_s <= 0 or not 0 < self.lockout_s <= self.max_lockout_s:
            raise ValueError("a lockout policy needs max_failures >= 1 and positive times")


ACCOUNT_LOCKOUT = LockoutPolicy(max_failures=5)
ADDRESS_LOCKOUT = LockoutPolicy(max_failures=20)


@dataclass(frozen=True)
class Lockout:
    """A lockout that just began: what to alert about."""

    key: str
    failures: int
    seconds: float


@dataclass
class _KeyState:
    failures: list[float] = field(default_factory=list)  # times of failures in the window
    in_flight: int = 0
    locked_until: float = float("-inf")
    strikes: int = 0  # lockouts in a row
    last: float = 0.0


class LoginGuard:
    """Failed attempts per key with lockout, shared by every connection of a surface.

    An attempt is admitted by ``begin(keys)`` only when no key is locked and no key's failures
    plus attempts still in flight have reached its policy's ``max_failures``: so a hundred
    parallel connections get no more tries than one. ``end(keys, ok)`` settles it: a failure
    counts against every key and may start lockouts (returned, to be alerted); a success clears
    the ``clear_on_success`` keys (the account, not the address). Keys are ``kind:value`` strings
    whose ``kind`` picks the policy. Memory is bounded by ``max_keys`` (least recently touched
    forgotten first)."""

    def __init__(self, policies: dict[str, LockoutPolicy], *, clock: Clock, max_keys: int = 100_000) -> None:
        self._policies = dict(policies)
        self._clock = clock
        self._max_keys = max_keys
        self._keys: OrderedDict[str, _KeyState] = OrderedDict()
        self._lock = threading.Lock()  # the API checks from its worker threads

    def _policy(self, key: str) -> LockoutPolicy:
        return self._policies[key.partition(":")[0]]

    def _state(self, key: str, now: float) -> _KeyState:
        state = self._keys.pop(key, None)
        policy = self._policy(key)
        if state is None:
            state = _KeyState()
        elif state.locked_until < now and now - state.last > policy.max_lockout_s:
            state.strikes = 0
        state.failures = [t for t in state.failures if now - t < policy.window_s]
        state.last = now
        self._keys[key] = state
        while len(self._keys) > self._max_keys:
            self._keys.popitem(last=False)
        return state

    def locked_for(self, keys: Sequence[str]) -> float:
        """Seconds until every key may try again (0: they may now)."""
        with self._lock:
            return self._locked_for(keys)

    def _locked_for(self, keys: Sequence[str]) -> float:
        now = self._clock()
        waits = [0.0]
        for key in keys:
            state = self._state(key, now)
            if state.locked_until > now:
                waits.append(state.locked_until - now)
            elif len(state.failures) + state.in_flight >= self._policy(key).max_failures:
                waits.append(
                    max(0.0, state.failures[0] + self._policy(key).window_s - now) if state.failures else 1.0
                )
        return max(waits)

    def begin(self, keys: Sequence[str]) -> float:
        """Admit one attempt (returns 0, and the attempt is in flight until ``end``) or refuse it
        (returns the seconds to wait; nothing is counted)."""
        with self._lock:
            wait = self._locked_for(keys)
            if wait > 0:
                return wait
            now = self._clock()
            for key in keys:
                self._state(key, now).in_flight += 1
            return 0.0

    def end(self, keys: Sequence[str], ok: bool, *, clear_on_success: Sequence[str] = ()) -> list[Lockout]:
        """Settle an attempt ``begin`` admitted; the lockouts this failure started."""
        with self._lock:
            return self._end(keys, ok, clear_on_success)

    def _end(self, keys: Sequence[str], ok: bool, clear_on_success: Sequence[str]) -> list[Lockout]:
        now = self._clock()
        started: list[Lockout] = []
        for key in keys:
            state = self._state(key, now)
            state.in_flight = max(0, state.in_flight - 1)
            if ok:
                if key in clear_on_success:
                    state.failures.clear()
                    state.strikes = 0
                continue
            state.failures.append(now)
            policy = self._policy(key)
            if len(state.failures) >= policy.max_failures:
                seconds = min(policy.max_lockout_s, policy.lockout_s * 2.0 ** min(state.strikes, 32))
                state.locked_until = now + seconds
                state.strikes += 1
                started.append(Lockout(key, len(state.failures), seconds))
                state.failures.clear()
        return started


class InputBudget:
    """Bytes a connection may send: ``bytes_per_s``, at most ``burst_bytes`` saved up. Every byte
    counts (telnet negotiation and ``IAC NOP`` as much as text). ``charge(n)`` spends ``n`` and
    says how far over budget the connection now is, in seconds of refill (0: within budget)."""

    def __init__(self, bytes_per_s: float, burst_bytes: int, clock: Clock) -> None:
        if bytes_per_s <= 0 or burst_bytes < 1:
            raise ValueError("an input budget needs a positive rate and burst")
        self._rate = bytes_per_s
        self._burst = float(burst_bytes)
        self._clock = clock
        self._tokens = float(burst_bytes)
        self._last = clock()

    def charge(self, n: int) -> float:
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._last) * self._rate) - n
        self._last = now
        return 0.0 if self._tokens >= 0 else -self._tokens / self._rate


class AddressGate:
    """Connections per client address before login: at most ``max_unauthenticated`` open at once
    and ``connects_per_s`` new ones a second (``connect_burst`` saved up). ``admit`` says why an
    address is refused (``None``: let it in, counted as unauthenticated until ``logged_in`` or
    ``closed``). Bounded memory: idle addresses are forgotten."""

    def __init__(
        self,
        *,
        max_unauthenticated: int,
        connects_per_s: float,
        connect_burst: int,
        clock: Clock,
        max_addresses: int = 100_000,
    ) -> None:
        self._max = max_unauthenticated
        self._rate = connects_per_s
        self._burst = connect_burst
        self._clock = clock
        self._max_addresses = max_addresses
        self._open: dict[str, int] = {}
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def admit(self, address: str) -> str | None:
        if self._open.get(address, 0) >= self._max:
            return f"too many connections from {address} that have not logged in"
        bucket = self._buckets.pop(address, None) or TokenBucket(self._rate, self._burst, self._clock)
        self._buckets[address] = bucket
        while len(self._buckets) > self._max_addresses:
            self._buckets.popitem(last=False)
        if not bucket.take():
            return f"too many new connections from {address}"
        self._open[address] = self._open.get(address, 0) + 1
        return None

    def unauthenticated(self, address: str) -> int:
        return self._open.get(address, 0)

    def logged_in(self, address: str) -> None:
        """An admitted connection from ``address`` logged in (or closed): no longer counted."""
        count = self._open.get(address, 0) - 1
        if count > 0:
            self._open[address] = count
        else:
            self._open.pop(address, None)
