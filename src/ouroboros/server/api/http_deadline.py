"""A header deadline for the API's HTTP server: slowloris clients are cut off.

uvicorn's h11 protocol times out only an idle keep-alive connection, after a response; a client
that opens a connection and sends its request headers a byte at a time is never timed out (each
byte even cancels the keep-alive timer). ``header_deadline_protocol(seconds)`` is uvicorn's h11
protocol with one more promise:

- from the moment a connection opens, and again after each response, the client has
  ``seconds`` to complete its next request's headers; otherwise the connection is closed. The
  deadline is not moved by data arriving, so a trickle of bytes buys nothing. A WebSocket
  upgrade, or a request whose headers are complete, is no longer under it.

Pass the class as ``uvicorn.Config(http=...)``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("ouroboros.api")

DEFAULT_HEADER_TIMEOUT_S = 10.0


class HeaderDeadlineProtocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline on each request's headers (see the module)."""

    header_timeout_s: float = DEFAULT_HEADER_TIMEOUT_S

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_deadline: asyncio.TimerHandle | None = None
        self._waiting_cycle: object | None = None
        self.headers_timed_out = 0

    def _arm(self) -> None:
        self._disarm()
        self._waiting_cycle = self.cycle
        self._header_deadline = self.loop.call_later(self.header_timeout_s, self._headers_too_slow)

    def _disarm(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def handle_events(self) -> None:
        super().handle_events()
        if self.cycle is not self._waiting_cycle:  # a request's headers are complete: it runs
            self._disarm()

    def handle_websocket_upgrade(self, event: Any) -> None:
        self._disarm()
        super().handle_websocket_upgrade(event)

    def on_response_complete(self) -> None:
        self._arm()  # before: a pipelined request handled inside disarms it again
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _headers_too_slow(self) -> None:
        self._header_deadline = None
        if self.cycle is not self._waiting_cycle or self.transport.is_closing():
            return
        if self.transport.get_protocol() is not self:  # upgraded to another protocol
            return
        self.headers_timed_out += 1
        log.info("closing %s: request headers incomplete after %.1f s", self.client, self.header_timeout_s)
        self.transport.close()


def header_deadline_protocol(seconds: float = DEFAULT_HEADER_TIMEOUT_S) -> type[HeaderDeadlineProtocol]:
    """The protocol class for ``uvicorn.Config(http=...)`` with a header deadline of ``seconds``."""
    if seconds <= 0:
        raise ValueError("the header deadline must be positive")
    return type("HeaderDeadlineProtocol", (HeaderDeadlineProtocol,), {"header_timeout_s": float(seconds)})


__all__ = ["DEFAULT_HEADER_TIMEOUT_S", "HeaderDeadlineProtocol", "header_deadline_protocol"]
