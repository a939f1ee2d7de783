"""One world's side of a cluster's control process: versions out to the shards, reports in.

``WorldControl`` lives where the world's governor lives (its control thread). ``poll()``:

- publishes, per shard, the version it should run — the ledger's active pointer, or
  ``Router.desired`` over the world's shards while a rollout is live (the router is the rollout
  driver's when one is given) — as one key per shard (``keys.shard_version``: the version, the
  stable one and the live rollout's id) and a pub/sub nudge (``keys.world_versions``). Only
  what changed is written, everything again every ``REPUBLISH_S`` and after Redis was away (a
  Redis that came back empty is filled again). The shards are those that registered
  (``keys.world_shards``);
- reads the shards' tick reports (``keys.world_ticks``) into a ``KpiBook`` (a report out of
  order — a shard restarted from an older save — is dropped, never fatal), remembers each
  shard's last report (tick, version, players) for status, and hands a shard's offline-revert
  guard to the rollout driver (the rollout rolls back).

It gates the governor (``Governor.activation_gate``): while Redis does not answer a ``PING``, new
activations are denied (exit 2, HTTP 409, audited) — the shards could not be told. Redis never
raises out of ``poll``: it returns what it could do.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import redis

from ouroboros.cluster import keys
from ouroboros.cluster.follow import OFFLINE_GUARD, REDIS_ERRORS, Wanted
from ouroboros.errors import BadInputError
from ouroboros.patches import Governor
from ouroboros.rollout.controller import LIVE
from ouroboros.rollout.kpis import KpiBook, TickReport
from ouroboros.rollout.router import Router

REPUBLISH_S = 5.0
log = logging.getLogger("ouroboros.cluster")


class WorldControl:
    def __init__(
        self,
        url: str,
        world: str,
        governor: Governor,
        *,
        book: KpiBook | None = None,
        driver: Any = None,
        clock: Callable[[], float] = time.monotonic,
        republish_s: float = REPUBLISH_S,
    ) -> None:
        self.world = world
        self.governor = governor
        self.book = book
        self.driver = driver  # a ``RolloutDriver`` (its ``router()``, ``guard()``), or None
        self.clock = clock
        self.republish_s = republish_s
        self.r = redis.Redis.from_url(
            url, decode_responses=True, socket_timeout=1.0, socket_connect_timeout=1.0
        )
        self.published: dict[str, str] = {}
        self._published_at = float("-inf")
        self._cursor = "0-0"
        #: each shard's last report: tick, version, players online, report time (this clock)
        self.latest: dict[str, dict[str, Any]] = {}
        self.guards: list[tuple[str, str, int]] = []  # (shard, guard, tick)
        self.reachable: bool = True
        governor.activation_gate = self.gate

    def gate(self) -> str | None:
        """Why activations are denied now, or ``None``: Redis must answer, or the shards could not be told."""
        try:
            self.r.ping()
        except REDIS_ERRORS as exc:
            self.reachable = False
            return (
                f"the control process cannot reach Redis ({type(exc).__name__}): the shards could not be told"
            )
        return None

    def router(self) -> Router:
        if self.driver is not None:
            router: Router = self.driver.router()
            return router
        return Router(self.governor.ledger.pointer().active)

    def poll(self) -> dict[str, Any]:
        """Publish the versions, read the reports; what happened (``reachable``, ``published``,
        ``reports``)."""
        out: dict[str, Any] = {"reachable": True, "published": 0, "reports": 0}
        try:
            out["reports"] = self.read_reports()
            out["published"] = self.publish(self.router())
        except REDIS_ERRORS:
            self.published = {}  # write everything again once it is back
            self.reachable = out["reachable"] = False
            return out
        self.reachable = True
        return out

    def publish(self, router: Router) -> int:
        """Write the keys that changed (all of them every ``republish_s``); the number written."""
        members: Any = self.r.smembers(keys.world_shards(self.world))
        shards: list[str] = sorted(members)
        if not shards:
            return 0
        desired = router.desired(shards)
        r = router.rollout
        live = r.rollout_id if r is not None and r.phase in LIVE else None
        docs = {s: Wanted(desired[s], router.stable, live).as_json() for s in shards}
        now = self.clock()
        if now - self._published_at >= self.republish_s:
            changed, self._published_at = docs, now
        else:
            changed = {s: d for s, d in docs.items() if self.published.get(s) != d}
        if not changed:
            return 0
        with self.r.pipeline(transaction=False) as pipe:
            for shard, doc in changed.items():
                pipe.set(keys.shard_version(shard), doc)
            pipe.publish(keys.world_versions(self.world), "1")
            pipe.execute()
        self.published.update(changed)
        return len(changed)

    def read_reports(self, count: int = 1000) -> int:
        """Read what the shards reported since the last call; the number of tick reports read."""
        stream = keys.world_ticks(self.world)
        got: Any = self.r.xread({stream: self._cursor}, count=count)
        read = 0
        for _, entries in got or ():
            for entry_id, fields in entries:
                self._cursor = entry_id
                read += self._take(fields.get("s", ""), fields.get("b", ""))
        return read

    def _take(self, shard: str, body: str) -> int:
        try:
            batch = json.loads(body)
        except ValueError:
            return 0
        if not shard or not isinstance(batch, list):
            return 0
        taken = 0
        for doc in batch:
            try:
                tick, version = int(doc["t"]), doc.get("v")
                report = TickReport(
                    tick=tick,
                    tick_ms=float(doc.get("ms", 0.0)),
                    faults=int(doc.get("f", 0)),
                    money_supply=None if doc.get("m") is None else int(doc["m"]),
                    exposed=frozenset(str(x) for x in doc.get("x", ())),
                )
            except (KeyError, TypeError, ValueError):
                continue  # not a report of ours
            taken += 1
            self.latest[shard] = {
                "tick": tick, "version": version, "players": len(report.exposed), "at": self.clock(),
            }  # fmt: skip
            if doc.get("g") == OFFLINE_GUARD:
                self.guards.append((shard, OFFLINE_GUARD, tick))
                log.warning("world %s: shard %s reverted a rollout on its own (no Redis)", self.world, shard)
                if self.driver is not None:
                    self.driver.guard(OFFLINE_GUARD)
            if self.book is not None:
                with contextlib.suppress(BadInputError):  # a restarted shard repeating saved ticks
                    self.book.observe(shard, version, report)
        return taken

    def close(self) -> None:
        if self.governor.activation_gate == self.gate:
            self.governor.activation_gate = None
        self.r.close()


__all__ = ["REPUBLISH_S", "WorldControl"]
