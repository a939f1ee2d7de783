"""Slowing players down: a token bucket for input lines, a flood guard on top of it, and a
growing delay after failed logins.

Everything here is pure bookkeeping with an injected clock (seconds, monotonic): no sleeping, no
I/O, so it is tested without waiting. Memory is bounded: the failure throttle forgets old entries
and keeps at most ``max_keys`` names.
"""

from __future__ import annotations

import enum
from collections import OrderedDict
from collections.abc import Callable

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
