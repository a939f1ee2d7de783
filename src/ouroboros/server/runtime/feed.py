"""What happened in a runtime, for operators: a bounded, thread-safe feed with subscribers.

With an ``EventLog`` (``eventlog.py``) every event is also appended to the durable log, the feed's
``seq`` continues after the log's last id, and the feed starts with the log's newest events (so a
restart loses nothing an operator was looking at)."""

from __future__ import annotations

import contextlib
import itertools
import threading
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ouroboros.server.runtime.eventlog import EventLog

FEED_SIZE = 1000


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Feed:
    """What happened, newest last: a bounded deque of events with subscribers (thread-safe)."""

    def __init__(self, maxlen: int = FEED_SIZE, log: EventLog | None = None) -> None:
        self._events: deque[dict[str, Any]] = deque(maxlen=maxlen)
        self._lock = threading.Lock()
        self.log = log
        first = 1
        if log is not None:
            self._events.extend(log.events(limit=maxlen))
            first = log.last_id() + 1
        self._seq = itertools.count(first)
        self._subscribers: list[Callable[[dict[str, Any]], None]] = []

    def publish(self, kind: str, world: str | None = None, **data: Any) -> dict[str, Any]:
        with self._lock:
            event = {"seq": next(self._seq), "at": _now(), "kind": kind, "world": world, **data}
            self._events.append(event)
            if self.log is not None:
                self.log.append(event)
            subscribers = list(self._subscribers)
        for deliver in subscribers:
            with contextlib.suppress(Exception):  # a broken subscriber never stops the feed
                deliver(event)
        return event

    def recent(self, limit: int = 100, after: int = 0) -> list[dict[str, Any]]:
        with self._lock:
            events = [e for e in self._events if e["seq"] > after]
        return events[-limit:] if limit > 0 else []

    def subscribe(self, deliver: Callable[[dict[str, Any]], None]) -> Callable[[], None]:
        with self._lock:
            self._subscribers.append(deliver)

        def unsubscribe() -> None:
            with self._lock:
                if deliver in self._subscribers:
                    self._subscribers.remove(deliver)

        return unsubscribe


__all__ = ["FEED_SIZE", "Feed"]
