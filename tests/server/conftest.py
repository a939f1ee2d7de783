from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pytest

from ouroboros.server.gateway.accounts import AccountStore
from ouroboros.server.gateway.game import Event
from ouroboros.server.gateway.passwords import ScryptParams
from ouroboros.server.gateway.session import SessionLimits

T = TypeVar("T")

# Cheap hashes keep the gateway tests fast; tests/server/test_accounts.py checks the real defaults.
FAST_SCRYPT = ScryptParams(n=2**8, r=8, p=1)
FAST_LIMITS = SessionLimits(login_failure_base_delay_s=0.02, login_failure_max_delay_s=0.16)


def run(coro: Coroutine[Any, Any, T], timeout_s: float = 30.0) -> T:
    return asyncio.run(asyncio.wait_for(coro, timeout_s))


class FakeTransport:
    """A session transport that records what it was sent."""

    def __init__(self, peer: str = "test:1") -> None:
        self.peer = peer
        self.events: list[Event] = []
        self.closed = False

    def send(self, events: Sequence[Event]) -> None:
        if not self.closed:
            self.events.extend(events)

    def close(self) -> None:
        self.closed = True

    def texts(self) -> list[str]:
        return [str(e.get("text", e.get("reason", e.get("message", "")))) for e in self.events]

    def all_text(self) -> str:
        return "\n".join(self.texts())

    def take(self) -> list[Event]:
        events, self.events = self.events, []
        return events


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def accounts(tmp_path: Path) -> Iterator[AccountStore]:
    store = AccountStore(tmp_path / "neon.db", params=FAST_SCRYPT)
    yield store
    store.close()
