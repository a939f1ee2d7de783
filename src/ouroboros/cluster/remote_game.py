"""A shard in another process, seen by the gateway as a ``LiveGame`` (``server.gateway.game``).

The gateway keeps the sockets and sessions; players' operations go to the shard's input stream
in the order they were typed, and the shard's events come back on the gateway's own stream. While
the shard restarts (a crash, an upgrade, a scheduled soft restart) its input waits in the stream
— nothing is lost and the connections stay open — and every connected player is told once, in
one line; the restarted shard reads on where the stream stands, so their next command is
answered by it. While Redis itself is away the operations wait here, in order, and go when it is
back.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis
import redis.exceptions

from ouroboros.cluster import keys

Event = dict[str, Any]
Deliver = Callable[[str, list[Event]], None]
RESTART_NOTICE = "The city flickers: its shard is restarting. Your next command will be answered."
REDIS_ERRORS = (redis.exceptions.RedisError, OSError)
log = logging.getLogger("ouroboros.cluster")


class RemoteGame:
    def __init__(
        self,
        url: str,
        shard: str,
        gateway: str,
        name: str = "shard",
        grace_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.shard = shard
        self.gateway = gateway
        self.grace_s = grace_s
        self._clock = clock
        self._r = aioredis.Redis.from_url(url, decode_responses=True, socket_timeout=5.0)
        self._present: set[str] = set()
        self._subscribers: list[Deliver] = []
        self._outbox: collections.deque[dict[str, str]] = collections.deque()
        self._wake = asyncio.Event()
        self._boot: str | None = None
        self._seen_at = clock()
        self._told_for: str | None = None  # the outage (old boot id) players were told of
        self.notices = 0

    # -- LiveGame -------------------------------------------------------------------------------
    def enter(self, character: str) -> None:
        if character not in self._present:
            self._present.add(character)
            self._send({"op": "enter", "c": character})

    def command(self, character: str, line: str) -> None:
        if character in self._present:
            self._send({"op": "command", "c": character, "line": line})

    def leave(self, character: str) -> None:
        if character in self._present:
            self._present.discard(character)
            self._send({"op": "leave", "c": character})

    def present(self, character: str) -> bool:
        return character in self._present

    def subscribe(self, deliver: Deliver) -> Callable[[], None]:
        self._subscribers.append(deliver)
        return lambda: self._subscribers.remove(deliver) if deliver in self._subscribers else None

    def _send(self, op: dict[str, str]) -> None:
        self._outbox.append({**op, "gw": self.gateway})
        self._wake.set()

    def _deliver(self, character: str, events: list[Event]) -> None:
        for deliver in list(self._subscribers):
            deliver(character, events)

    # -- the loops ------------------------------------------------------------------------------
    async def run_ticks(self) -> None:
        try:
            await asyncio.gather(self._write_loop(), self._read_loop(), self._watch_loop())
        finally:
            await self._r.aclose()

    async def _write_loop(self) -> None:
        stream = keys.shard_in(self.shard)
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._outbox:
                batch = list(self._outbox)
                try:
                    async with self._r.pipeline(transaction=False) as pipe:
                        for op in batch:
                            pipe.xadd(stream, op, maxlen=100_000, approximate=True)  # type: ignore[arg-type]
                        await pipe.execute()
                except REDIS_ERRORS:
                    await asyncio.sleep(0.2)  # redis is away: keep them, in order, and retry
                    continue
                for _ in batch:
                    self._outbox.popleft()

    async def _read_loop(self) -> None:
        stream = keys.gateway_out(self.gateway)
        cursor: Any = None
        while True:
            try:
                if cursor is None:
                    last = await self._r.xrevrange(stream, count=1)
                    cursor = last[0][0] if last else "0-0"
                got: Any = await self._r.xread({stream: cursor}, count=500, block=200)
            except REDIS_ERRORS:
                await asyncio.sleep(0.2)
                continue
            for _, entries in got or ():
                for entry_id, fields in entries:
                    cursor = entry_id
                    try:
                        events = json.loads(fields["events"])
                    except (KeyError, ValueError):
                        continue
                    if fields.get("b"):  # the shard life that sent it: a restart shows here too
                        self.observe(fields["b"])
                    if fields.get("c") in self._present:
                        try:
                            self._deliver(fields["c"], events)
                        except Exception:  # one session's failure is not every player's
                            log.exception("gateway %s: delivering to %s failed", self.gateway, fields["c"])

    async def _watch_loop(self) -> None:
        alive = keys.shard_alive(self.shard)
        while True:
            boot: Any
            try:
                boot = await self._r.get(alive)
            except REDIS_ERRORS:
                boot = None
            try:
                self.observe(boot)
            except Exception:  # a session that fails to take a line never stops the watch
                log.exception("gateway %s: telling players of a restart failed", self.gateway)
            await asyncio.sleep(0.1)

    def observe(self, boot: str | None) -> None:
        """One look at the shard's heartbeat: tell players once per restart, whether it shows as
        a lapse (longer than ``grace_s``) or only as a new boot id (a quick restart)."""
        now = self._clock()
        if boot is not None and boot == self._boot:
            self._seen_at = now
            return
        if boot is None:
            if self._boot is not None and now - self._seen_at > self.grace_s:
                self._tell(self._boot)
            return
        if self._boot is not None:
            self._tell(self._boot)  # a new incarnation: told now unless the lapse told already
        self._boot, self._seen_at = boot, now

    def _tell(self, old_boot: str) -> None:
        if self._told_for == old_boot:
            return
        self._told_for = old_boot
        self.notices += 1
        event = {"type": "text", "style": "system", "text": RESTART_NOTICE}
        for character in sorted(self._present):
            self._deliver(character, [event])


__all__ = ["RESTART_NOTICE", "RemoteGame"]
