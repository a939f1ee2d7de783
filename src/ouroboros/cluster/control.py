"""One world's side of a cluster's control process: versions out to the shards, reports in.

``WorldControl`` lives where the world's governor lives (its control thread). ``poll()``:

- publishes, per shard, the version it should run — the ledger's active pointer, or
  ``Router.desired`` over the world's shards while a rollout is live (the router is the rollout
  driver's when one is given) — as one key per shard (``keys.shard_version``: the version, the
  stable one and the live rollout's id) and a pub/sub nudge (``keys.world_versions``), and for
  the gateway in front of the shards the world's route (``keys.world_route``: the stable version,
  the rollout's state and the shards being drained, ``route_doc``). A promotion never moves a live
  session: a shard ``desired`` moves from the stable version to the patch keeps its version while
  its last report says players are on it (no new login goes there), and is switched once a report
  says none is; a rollback or an abort switches at once (``draining``). Only what changed is
  written, everything again every ``REPUBLISH_S`` and after Redis was away (a Redis that came back
  empty is filled again). The shards are those that registered (``keys.world_shards``);
- reads the shards' tick reports (``keys.world_ticks``) into a ``KpiBook`` (a report out of
  order — a shard restarted from an older save — is dropped, never fatal), remembers each
  shard's last report (tick, version, players) for status, and hands a shard's offline-revert
  guard to the rollout driver (the rollout rolls back).

At each council step (``council_input``, on the control thread) it reads the director's signals the
shards sent since its cursor (``keys.world_signals``; the cursor is kept in Redis,
``keys.world_signals_seen``, so a restarted control goes on where the last left off, and a Redis
that came back empty is read from its start) and gives the council what ``go``'s runner would: the
union of their events, each tagged with its ``shard`` (at most ``MAX_COUNCIL_EVENTS`` wait, the
oldest dropped), and the KPIs of the shards heard from in the last ``STALE_S`` combined by
``combine_kpis`` (counts summed; ratios weighted by each shard's players online; ticks the
highest; lists united; anything else the freshest shard's). Redis away: the council steps with what
was read before (never raises, never waits on a Redis already found away).

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
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import redis

from ouroboros.cluster import keys
from ouroboros.cluster.follow import INVARIANT_BROKEN, OFFLINE_GUARD, REDIS_ERRORS, Wanted
from ouroboros.errors import BadInputError, OuroborosError
from ouroboros.patches import Governor
from ouroboros.rollout.controller import LIVE, Phase
from ouroboros.rollout.kpis import KpiBook, TickReport
from ouroboros.rollout.router import Router

REPUBLISH_S = 5.0
#: where a world's control process records which workers' results took effect (``EffectLog``)
EFFECTS_FILE = "effects.sqlite3"
#: a shard whose last report is older than this does not count as running (``status``)
STALE_S = 5.0
#: the shards' director events waiting for the council's next step (the oldest dropped first)
MAX_COUNCIL_EVENTS = 500
#: a numeric KPI whose name holds one of these is a ratio or a rate: weighted by players, not summed
RATIO_MARKS = ("permille", "percent", "ratio", "rate", "mean", "avg", "share", "fraction", "_ms")
log = logging.getLogger("ouroboros.cluster")
_UNKNOWN = object()


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
        #: the version each shard was last told to run (kept while Redis is away: a drain's memory)
        self.told: dict[str, str | None] = {}
        #: the shards registered at the last publish: more than one, and a rollout has a control arm
        self.shard_count = 0
        self._published_at = float("-inf")
        self._cursor = "0-0"
        #: each shard's last report: tick, version, players online, report time (this clock)
        self.latest: dict[str, dict[str, Any]] = {}
        self.guards: list[tuple[str, str, int]] = []  # (shard, guard, tick)
        self._lock = threading.Lock()  # ``latest`` is read by the API's threads (``status``)
        self.reachable: bool = True
        #: the evolving world's dish as the control mirrors it (``cluster.evolution.DishMirror``)
        self.mirror: Any = None
        # the director's signals: events waiting for the council, each shard's last KPIs
        self._signals_cursor: str | None = None  # read from ``keys.world_signals_seen`` at first
        self.signal_events: deque[dict[str, Any]] = deque(maxlen=MAX_COUNCIL_EVENTS)
        #: each shard's last signals: (receipt time on this clock, their tick, their KPIs)
        self.signal_kpis: dict[str, tuple[float, int, dict[str, Any]]] = {}
        governor.activation_gate = self.gate

    def dish(self) -> dict[str, Any] | None:
        """The snapshot of the dish the evolution loop looks at (shard, tick), once there is one."""
        return None if self.mirror is None else self.mirror.status()

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
            **({"dish": dish} if (dish := self.dish()) is not None else {}),
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
        """Write the keys that changed (all of them every ``republish_s``); the number written.

        The world's route (``keys.world_route``) goes first in the pipeline, so whoever sees a shard
        switch to what it was told also finds the route that told it (the gateway relies on it)."""
        members: Any = self.r.smembers(keys.world_shards(self.world))
        shards: list[str] = sorted(members)
        self.shard_count = len(shards)
        desired = router.desired(shards) if shards else {}
        held, draining = self.draining(router, desired)
        desired.update(held)
        r = router.rollout
        live = r.rollout_id if r is not None and r.phase in LIVE else None
        docs = {keys.shard_version(s): Wanted(desired[s], router.stable, live).as_json() for s in shards}
        route = {keys.world_route(self.world): route_doc(router, draining)}
        now = self.clock()
        if now - self._published_at >= self.republish_s:
            changed, self._published_at = {**route, **docs}, now
        else:
            changed = {k: d for k, d in {**route, **docs}.items() if self.published.get(k) != d}
        if not changed:
            return 0
        with self.r.pipeline(transaction=False) as pipe:
            for key, doc in changed.items():  # the route first (dicts keep their order)
                pipe.set(key, doc)
            pipe.publish(keys.world_versions(self.world), "1")
            pipe.execute()
        self.published.update(changed)
        self.told.update(desired)
        return len(changed)

    def draining(
        self, router: Router, desired: Mapping[str, str | None]
    ) -> tuple[dict[str, str | None], list[str]]:
        """A promotion drains a shard first (ADR 0017): the shards ``desired`` moves to the rollout's
        patch (live, or complete: its last promotion) that still reported players (fresh in the
        last ``STALE_S``) keep the version they run (``held``: shard → that version); ``draining``
        names every shard being promoted that has not yet reported running the patch — the held
        ones and those just told to switch — so the gateway sends no new login there. A rollback
        or an abort holds nothing: it switches at once."""
        r = router.rollout
        if r is None or not (r.phase in LIVE or r.phase is Phase.COMPLETE):
            return {}, []
        now = self.clock()
        with self._lock:
            latest = {s: dict(v) for s, v in self.latest.items()}
        held: dict[str, str | None] = {}
        draining: list[str] = []
        for shard, want in sorted(desired.items()):
            report = latest.get(shard)
            if want != r.patch_id or (report and report["version"] == want):
                continue
            if shard in self.told:
                current: Any = self.told[shard]
            else:  # a control that (re)started: what the shard last said it runs
                current = report["version"] if report else _UNKNOWN
            if current == want:  # told already, not switched yet: still no new login
                draining.append(shard)
            elif current is not _UNKNOWN:  # it runs the stable version (or the one before a completion)
                draining.append(shard)
                fresh = report is not None and now - report["at"] < STALE_S
                if fresh and report is not None and report["players"] > 0:
                    held[shard] = current
        return held, draining

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

    def read_signals(self, count: int = 1000) -> int:
        """Read the director's signals the shards sent since the last call; the documents read."""
        stream, seen = keys.world_signals(self.world), keys.world_signals_seen(self.world)
        if self._signals_cursor is None:
            cursor: Any = self.r.get(seen)
            self._signals_cursor = cursor or "0-0"
        before, read = self._signals_cursor, 0
        while True:
            got: Any = self.r.xread({stream: self._signals_cursor}, count=count)
            n = 0
            for _, entries in got or ():
                for entry_id, fields in entries:
                    self._signals_cursor = entry_id
                    n += 1
                    read += self._take_signals(fields.get("s", ""), fields.get("d", ""))
            if n < count:
                break
        if self._signals_cursor != before:
            self.r.set(seen, self._signals_cursor)
        return read

    def _take_signals(self, shard: str, body: str) -> int:
        try:
            doc = json.loads(body)
            tick, events, kpis = int(doc["t"]), doc.get("e", []), doc.get("k", {})
        except (ValueError, TypeError, KeyError):
            return 0  # not a document of ours
        if not shard or not isinstance(events, list) or not isinstance(kpis, dict):
            return 0
        for event in events:
            if isinstance(event, dict) and "kind" in event:
                self.signal_events.append(event if "shard" in event else {**event, "shard": shard})
        self.signal_kpis[shard] = (self.clock(), tick, kpis)
        return 1

    def council_input(self) -> tuple[list[dict[str, Any]], dict[str, Any], int]:
        """On the control thread, at a council step: the events, KPIs and tick to give the council
        (see the module docstring). Redis away: what was read before; never raises."""
        if self.reachable:
            try:
                self.read_signals()
            except REDIS_ERRORS:
                self.reachable = False
                self._signals_cursor = None  # Redis may come back empty: ask it again
            except redis.exceptions.RedisError as exc:
                log.warning("world %s: the shards' signals cannot be read: %s", self.world, exc)
        events = list(self.signal_events)
        self.signal_events.clear()
        now = self.clock()
        fresh = {s: (t, k) for s, (at, t, k) in self.signal_kpis.items() if now - at < STALE_S}
        status = self.status()
        kpis = {**combine_kpis(fresh), "tick": status["tick"], "players_online": status["players_online"]}
        return events, kpis, status["tick"]

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
                    "tick": tick, "version": version, "at": self.clock(),
                    "players": int(doc["p"]) if isinstance(doc.get("p"), int) else len(report.exposed),
                }  # fmt: skip
            if doc.get("g") == OFFLINE_GUARD:
                self.guards.append((shard, OFFLINE_GUARD, tick))
                log.warning("world %s: shard %s reverted a rollout on its own (no Redis)", self.world, shard)
                if self.driver is not None:
                    self.driver.guard(OFFLINE_GUARD)
            elif doc.get("g") == INVARIANT_BROKEN:
                self.guards.append((shard, INVARIANT_BROKEN, tick))
                log.error("world %s: shard %s broke an invariant on the treatment: %s", self.world, shard,
                          str(doc.get("gm", ""))[:500])  # fmt: skip
                if self.book is not None:
                    self.book.guard(INVARIANT_BROKEN, tick)
                if self.driver is not None:
                    self.driver.guard(INVARIANT_BROKEN)
            if self.book is not None:
                with contextlib.suppress(BadInputError):  # a restarted shard repeating saved ticks
                    self.book.observe(shard, version, report)
        return taken

    def close(self) -> None:
        if self.governor.activation_gate == self.gate:
            self.governor.activation_gate = None
        self.r.close()


def combine_kpis(shards: Mapping[str, tuple[int, Mapping[str, Any]]]) -> dict[str, Any]:
    """One world's KPIs from its shards' (``{shard: (tick, kpis)}``): a number is summed (players,
    population, money supply: counts), except a tick (``tick``, ``*_tick``: the highest) and a ratio
    or rate (a name with one of ``RATIO_MARKS``: the mean weighted by each shard's players online,
    plain when no shard has one; an int stays an int, rounded); a flag is true when any shard's is;
    a list is the sorted union of the shards'; anything else (a version, a text) is the freshest
    shard's (highest tick, then name)."""
    order = sorted(shards, key=lambda s: (shards[s][0], s))  # the freshest last
    names: dict[str, None] = {}
    for shard in order:
        names.update(dict.fromkeys(shards[shard][1]))
    weight = {s: _players(shards[s][1]) for s in order}
    out: dict[str, Any] = {}
    for name in names:
        have = [(s, shards[s][1][name]) for s in order if name in shards[s][1]]
        values = [v for _, v in have]
        if all(isinstance(v, bool) for v in values):
            out[name] = any(values)
        elif all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            if name == "tick" or name.endswith("_tick"):
                out[name] = max(values)
            elif any(mark in name for mark in RATIO_MARKS):
                weights = [weight[s] for s, _ in have]
                if sum(weights) <= 0:
                    weights = [1] * len(have)
                mean = sum(w * v for w, v in zip(weights, values, strict=True)) / sum(weights)
                out[name] = round(mean) if all(isinstance(v, int) for v in values) else mean
            else:
                out[name] = sum(values)
        elif all(isinstance(v, list) for v in values):
            united = {json.dumps(x, sort_keys=True): x for v in values for x in v}
            out[name] = [united[k] for k in sorted(united)]
        else:
            out[name] = values[-1]
    return out


def _players(kpis: Mapping[str, Any]) -> int:
    for name in ("players_online", "online_players"):
        value = kpis.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return 0


def route_doc(router: Router, draining: Sequence[str] = ()) -> str:
    """The world's route as JSON: its stable version, the rollout its router follows (live, or
    the one that just ended, so that a gateway moves the sessions off a rolled-back patch) and the
    shards a promotion is draining (``WorldControl.draining``: no new login goes there)."""
    rollout = None if router.rollout is None else router.rollout.as_dict()
    doc = {"stable": router.stable, "rollout": rollout, "draining": sorted(draining)}
    return json.dumps(doc, sort_keys=True, separators=(",", ":"))


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
    ``council_every_s`` the council's step with what the shards reported: their director's signals
    (``WorldControl.council_input``: the union of their events, their KPIs combined), the tick and
    the players online. Each runner carries its control as ``runner.shards`` (the API answers from it).

    With ``offload`` (``cluster up`` with workers) each council's director jobs go to the workers
    as ``gen`` jobs (``ai.offload.GenOffload`` over the Redis queue, low-priority ones deferred
    while the lag is over ``lag_limit``), and on the council's timer the results are turned into
    proposals once each through ``EffectLog(DATA/<world>/effects.sqlite3)`` — a restarted control
    process never proposes twice. Redis away: the council generates in-process and says so.

    With ``llm_jobs`` (``cluster up --llm-url``) the council's model calls — every role assigned a
    model, not the offline grammars — are ``llm`` jobs answered by the ``llm`` workers
    (``ai.offload.JobModel``); without, they are made in this process, as ``go`` makes them.

    A world that evolves has its evolution loop run here on a mirror of the dish its shard
    publishes (``cluster.evolution``): each round the newest snapshot is restored and the loop
    looks at it; with ``offload`` its candidates are ``evolve`` jobs for the workers, else they
    are evaluated here; the accepted change is submitted once (the world's ``EffectLog``)."""

    def __init__(
        self,
        url: str,
        runtime: Any,
        *,
        every_s: float = 0.2,
        council_every_s: float = 1.0,
        offload: bool = False,
        lag_limit: int | None = None,
        llm_jobs: bool = False,
    ) -> None:
        self.runtime = runtime
        self.every_s = every_s
        self.council_every_s = council_every_s
        self.controls: dict[str, WorldControl] = {}
        #: per world with a council, when offloading: its queue and the once-log of its results
        self.effects: dict[str, Any] = {}
        #: per world that evolves: its dish's mirror, once-log and evolve queue (``cluster.evolution``)
        self.evolution: dict[str, Any] = {}
        #: per world whose council's model calls go to the ``llm`` workers: their queue
        self.llm_queues: dict[str, Any] = {}
        for name, runner in runtime.runners.items():
            control = runner.call(lambda runner=runner: world_control(url, runner))
            runner.shards = control
            self.controls[name] = control
            if runner.evolution.loop is not None:
                self.evolution[name] = runner.call(lambda runner=runner: _evolution(url, runner, offload))
                control.mirror = self.evolution[name][0]
            if offload and runner.council is not None:
                self.effects[name] = runner.call(lambda runner=runner: _offload(url, runner, lag_limit))
            if llm_jobs and runner.council is not None and runner.council.models is not None:
                self.llm_queues[name] = runner.call(lambda runner=runner: _llm_jobs(url, runner))

    def run(self, stop: threading.Event) -> None:
        council_at = time.monotonic()
        while not stop.wait(self.every_s):
            for name, runner in self.runtime.runners.items():
                try:
                    runner.call(self.controls[name].step)
                    if name in self.evolution:
                        runner.call(self.evolution[name][0].step)
                except Exception as exc:  # one world's trouble never stops the others
                    self.runtime.feed.publish(
                        "error", name, source="control", message=f"{type(exc).__name__}: {exc}"
                    )
            if time.monotonic() - council_at >= self.council_every_s:
                council_at = time.monotonic()
                for name, runner in self.runtime.runners.items():
                    if runner.council is None:
                        continue
                    if name in self.effects:
                        runner.post(self.apply_results, name)
                    # with a control arm (two shards or more) a rollout advances here: the
                    # council and the evolution loop stage by the default plans (ADR 0017)
                    staged = self.controls[name].shard_count > 1
                    runner.council.staged_by_default = staged
                    if runner.evolution.loop is not None:
                        runner.evolution.loop.staged_by_default = staged
                    runner.post(self.council_step, name)

    def council_step(self, name: str) -> None:
        """On the world's control thread: the council's step with what its shards reported."""
        runner = self.runtime.runners[name]
        events, kpis, tick = self.controls[name].council_input()
        runner._council_step(events, kpis, tick)

    def apply_results(self, name: str) -> list[dict[str, Any]]:
        """On the world's control thread: the workers' proposals since the last call, each once
        (Redis away: none now, the next call catches up)."""
        from ouroboros.errors import ClusterError

        runner = self.runtime.runners[name]
        try:
            made: list[dict[str, Any]] = runner.council.apply_results(self.effects[name])
        except ClusterError as exc:
            log.warning("world %s: the workers' results cannot be read: %s", name, exc.message)
            return []
        for record in made:
            self.runtime.feed.publish("director", name, event=record)
        return made

    def close(self) -> None:
        for name, runner in self.runtime.runners.items():
            runner.shards = None
            evolution = self.evolution.pop(name, None)
            if evolution is not None:
                from ouroboros.cluster.evolution import detach

                with contextlib.suppress(Exception):
                    runner.call(lambda runner=runner, evolution=evolution: detach(runner, evolution))
            with contextlib.suppress(Exception):
                runner.call(self.controls[name].close)
            llm = self.llm_queues.pop(name, None)
            if llm is not None:
                with contextlib.suppress(Exception):
                    runner.call(lambda runner=runner: runner.council.models.serve_through(None))
                llm.close()
            effects = self.effects.pop(name, None)
            if effects is not None:
                with contextlib.suppress(Exception):
                    runner.call(lambda runner=runner, effects=effects: _stop_offload(runner, effects))


def _offload(url: str, runner: Any, lag_limit: int | None) -> Any:
    """On ``runner``'s control thread: its council's director jobs to the workers; the EffectLog."""
    from ouroboros.ai.offload import DEFAULT_LAG_LIMIT, GenOffload
    from ouroboros.cluster.effects import EffectLog
    from ouroboros.cluster.redis_queue import RedisJobQueue

    queue = RedisJobQueue(url, ("gen",), socket_timeout_s=2.0)
    runner.council.offload = GenOffload(queue, DEFAULT_LAG_LIMIT if lag_limit is None else lag_limit)
    return EffectLog(runner.folder / EFFECTS_FILE)


def _evolution(url: str, runner: Any, offload: bool) -> Any:
    """On ``runner``'s control thread: its evolution loop on the dish its shard publishes."""
    from ouroboros.cluster.evolution import attach

    return attach(url, runner, offload)


def _llm_jobs(url: str, runner: Any) -> Any:
    """On ``runner``'s control thread: its council's model calls as ``llm`` jobs; their queue."""
    from ouroboros.ai.offload import JobModel
    from ouroboros.cluster.redis_queue import RedisJobQueue

    queue = RedisJobQueue(url, ("llm",), socket_timeout_s=2.0)
    world = runner.name
    runner.council.models.serve_through(lambda _assignment: JobModel(queue, world))
    return queue


def _stop_offload(runner: Any, effects: Any) -> None:
    offload, runner.council.offload = runner.council.offload, None
    if offload is not None:
        offload.queue.close()
    effects.close()


__all__ = [
    "EFFECTS_FILE",
    "MAX_COUNCIL_EVENTS",
    "RATIO_MARKS",
    "REPUBLISH_S",
    "STALE_S",
    "ControlPlane",
    "WorldControl",
    "combine_kpis",
    "route_doc",
    "world_control",
]
