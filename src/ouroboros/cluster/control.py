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
import threading
import time
from collections.abc import Callable
from typing import Any

import redis

from ouroboros.cluster import keys
from ouroboros.cluster.follow import OFFLINE_GUARD, REDIS_ERRORS, Wanted
from ouroboros.errors import BadInputError, OuroborosError
from ouroboros.patches import Governor
from ouroboros.rollout.controller import LIVE
from ouroboros.rollout.kpis import KpiBook, TickReport
from ouroboros.rollout.router import Router

REPUBLISH_S = 5.0
#: a shard whose last report is older than this does not count as running (``status``)
STALE_S = 5.0
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
        self._lock = threading.Lock()  # ``latest`` is read by the API's threads (``status``)
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

    def tick(self) -> int:
        """The rollout's tick clock: the lowest tick every shard has reported (0 before any)."""
        with self._lock:
            return min((v["tick"] for v in self.latest.values()), default=0)

    def status(self) -> dict[str, Any]:
        """What the shards last reported, for the API: each shard's tick, version and players."""
        now = self.clock()
        with self._lock:
            shards = {s: {**v, "age_s": round(now - v["at"], 3)} for s, v in sorted(self.latest.items())}
        for v in shards.values():
            del v["at"]
        return {
            "served_by": "shards",
            "running": any(v["age_s"] < STALE_S for v in shards.values()),
            "tick": max((v["tick"] for v in shards.values()), default=0),
            "players_online": sum(v["players"] for v in shards.values()),
            "redis_reachable": self.reachable,
            "shards": shards,
        }

    def step(self) -> dict[str, Any]:
        """On the control thread: the rollout driver judges what the reports completed (a refusal
        is logged, never raised), then ``poll``."""
        if self.driver is not None:
            try:
                self.driver.poll()
            except OuroborosError as exc:
                log.warning("world %s: the rollout driver: %s", self.world, exc.message)
        return self.poll()

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
            with self._lock:
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


def world_control(url: str, runner: Any) -> WorldControl:
    """On ``runner``'s control thread: its world's ``WorldControl``, with a ``KpiBook`` at the
    world's pace and a ``RolloutDriver`` on the shards' tick clock."""
    from ouroboros.rollout.driver import RolloutDriver
    from ouroboros.rollout.service import RolloutService

    pace = runner.pace if runner.pace > 0 else 10.0
    book = KpiBook(ticks_per_second=pace, tick_budget_ms=1000.0 / pace)
    control = WorldControl(url, runner.name, runner.governor, book=book)
    control.driver = RolloutDriver(RolloutService(runner.governor), book, control.tick)
    return control


class ControlPlane:
    """A cluster's control process over a ``Runtime`` whose worlds tick on shards: every
    ``every_s`` each world's ``WorldControl.step`` on its control thread, and every
    ``council_every_s`` the council's step with what the shards reported (its tick, players
    online). Each runner carries its control as ``runner.shards`` (the API answers from it)."""

    def __init__(self, url: str, runtime: Any, *, every_s: float = 0.2, council_every_s: float = 1.0) -> None:
        self.runtime = runtime
        self.every_s = every_s
        self.council_every_s = council_every_s
        self.controls: dict[str, WorldControl] = {}
        for name, runner in runtime.runners.items():
            control = runner.call(lambda runner=runner: world_control(url, runner))
            runner.shards = control
            self.controls[name] = control

    def run(self, stop: threading.Event) -> None:
        council_at = time.monotonic()
        while not stop.wait(self.every_s):
            for name, runner in self.runtime.runners.items():
                try:
                    runner.call(self.controls[name].step)
                except Exception as exc:  # one world's trouble never stops the others
                    self.runtime.feed.publish(
                        "error", name, source="control", message=f"{type(exc).__name__}: {exc}"
                    )
            if time.monotonic() - council_at >= self.council_every_s:
                council_at = time.monotonic()
                for name, runner in self.runtime.runners.items():
                    if runner.council is None:
                        continue
                    status = self.controls[name].status()
                    kpis = {"tick": status["tick"], "players_online": status["players_online"]}
                    runner.post(runner._council_step, [], kpis, status["tick"])

    def close(self) -> None:
        for name, runner in self.runtime.runners.items():
            runner.shards = None
            with contextlib.suppress(Exception):
                runner.call(self.controls[name].close)


__all__ = ["REPUBLISH_S", "STALE_S", "ControlPlane", "WorldControl", "world_control"]
