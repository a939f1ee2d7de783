"""A shard following its world's governed folder: the version the control process gives it.

The control process (``cluster.control``) publishes, per shard, the version it should run — the
active pointer, or ``Router.desired`` while a rollout is live — to a Redis key
(``keys.shard_version``) with a pub/sub nudge (``keys.world_versions``). ``ShardLink`` reads it on
a thread of its own (``run``: it waits for a nudge, at most ``REFRESH_S``, then reads the key), so
Redis never holds a tick up. At each tick boundary the tick thread calls ``at_tick``: it switches
with ``ShardFollower.sync`` — the content read the checked way from the ledger file of
``<data>/<world>/`` on this machine — and leaves a ``TickReport``, which the link thread sends to
the world's report stream (``keys.world_ticks``) in batches, for the control's ``KpiBook``.

What it promises:

- **No barrier.** The tick thread reads one reference and appends to one bounded deque; it never
  waits on Redis or on another shard. A switch is one ``gameplay.activate`` input, queued once.
- **Nothing published yet** (a fresh cluster, no control process so far): the shard follows the
  ledger's active pointer, read at most once per ``REFRESH_S``. A ledger that does not exist is
  never founded here; the shard runs what it has.
- **Redis away**: the shard keeps ticking on the version it was given; its reports wait (bounded,
  the oldest dropped first: the control's book then sees a gap, never a healthy arm).
- **Fail safe.** A shard that has not reached Redis for ``REVERT_AFTER_S`` (30 s on the injected
  clock) while it is given an unpromoted rollout's treatment version goes back to the stable
  version on its own, and stays there for that rollout. When Redis is back its reports carry the
  guard ``shard_reverted_offline``, which the control process hands to the rollout driver (a
  hard guard: the rollout rolls back).
- **The director's signals** (``on_tick``, ``on_dish_tick``): once per second of ticks
  (``SIGNALS_EVERY_S`` worth of the game's ticks, at a boundary where ``world.tick`` is a multiple of
  it, as ``go``'s runner does) the tick thread reads what ``go`` gives the council — ``world_kpis``
  plus the world's ``spec.signals()`` reader, when it has one — and leaves it as one document
  ``{"t": tick, "e": events, "k": kpis}``; the link thread sends it to ``keys.world_signals`` (capped
  ``MAXLEN ~``). Redis away: the newest ``MAX_PENDING_SIGNALS`` wait, the oldest dropped (their
  events are lost; the KPIs of a newer one stand for them).
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from ouroboros.cluster import keys
from ouroboros.engine import World

#: a shard out of touch with Redis this long reverts an unpromoted rollout's treatment on its own
REVERT_AFTER_S = 30.0
#: the longest the link waits between two reads of its key (and two report batches)
REFRESH_S = 1.0
#: reports kept while Redis is away (two minutes of a 50 Hz city), the oldest dropped first
MAX_PENDING_REPORTS = 6000
#: a switch queued but not landed, or a version whose content was refused, is tried again after this
RETRY_AFTER_S = 5.0
OFFLINE_GUARD = "shard_reverted_offline"
#: a report's guard when the shard, on a rollout's treatment, broke one of its world's invariants
INVARIANT_BROKEN = "invariant_broken"
#: the director's signals are read once per this many seconds of ticks (``go``'s council pace)
SIGNALS_EVERY_S = 1.0
#: signal documents kept while Redis is away (two minutes of them), the oldest dropped first
MAX_PENDING_SIGNALS = 120
#: the world's signals stream keeps about this many documents (every shard's together)
SIGNALS_MAXLEN = 2000
REDIS_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)
log = logging.getLogger("ouroboros.cluster")


@dataclass(frozen=True)
class Wanted:
    """What the control process published for one shard."""

    version: str | None
    stable: str | None
    rollout: str | None = None  # the live rollout's id, when ``version`` may be its treatment

    @property
    def treatment(self) -> bool:
        return self.rollout is not None and self.version != self.stable

    def as_json(self) -> str:
        return json.dumps(
            {"version": self.version, "stable": self.stable, "rollout": self.rollout}, sort_keys=True
        )

    @staticmethod
    def parse(raw: str | None) -> Wanted | None:
        """The published document, or ``None`` for none (or one that is not ours: never trusted)."""
        if raw is None:
            return None
        try:
            doc = json.loads(raw)
        except ValueError:
            return None
        if not isinstance(doc, dict):
            return None
        fields = (doc.get("version"), doc.get("stable"), doc.get("rollout"))
        if not all(v is None or isinstance(v, str) for v in fields):
            return None
        return Wanted(*fields)


def target_version(
    wanted: Wanted | None,
    pointer: str | None,
    offline_s: float,
    reverted_rollout: str | None,
    revert_after_s: float = REVERT_AFTER_S,
) -> tuple[str | None, bool]:
    """The version to run and whether it is an offline revert. Pure: ``pointer`` is the ledger's
    active version (used while nothing is published), ``offline_s`` how long Redis has been away."""
    if wanted is None:
        return pointer, False
    if wanted.treatment and (offline_s >= revert_after_s or wanted.rollout == reverted_rollout):
        return wanted.stable, True
    return wanted.version, False


class ShardLink:
    """One shard's link to its world's control: versions in, tick reports out."""

    def __init__(
        self,
        url: str,
        world: str,
        shard: str,
        ledger_folder: Path,
        *,
        clock: Callable[[], float] = time.monotonic,
        revert_after_s: float = REVERT_AFTER_S,
        refresh_s: float = REFRESH_S,
        max_pending: int = MAX_PENDING_REPORTS,
    ) -> None:
        self.world_name = world
        self.shard = shard
        self.folder = ledger_folder
        self.clock = clock
        self.revert_after_s = revert_after_s
        self.refresh_s = refresh_s
        self.r = redis.Redis.from_url(
            url, decode_responses=True, socket_timeout=2.0, socket_connect_timeout=2.0
        )
        self._pubsub: Any = None
        self._key = keys.shard_version(shard)
        #: the last document read (``None``: nothing published, or never read)
        self.wanted: Wanted | None = None
        self.contact_at = clock()  # the last time Redis answered (boot counts)
        self._pending: deque[dict[str, Any]] = deque(maxlen=max_pending)
        self._signals: deque[dict[str, Any]] = deque(maxlen=MAX_PENDING_SIGNALS)
        self._reader: Any = _NOTHING  # the world's ``SignalsReader`` (made on the tick thread)
        #: signal documents written to ``keys.world_signals``
        self.signals_sent = 0
        # the tick thread's own: the ledger and the followers live on it
        self._follower: Any = None
        self._owner = 0
        self._pointer: str | None = None
        self._pointer_at = float("-inf")
        self._queued: object = _NOTHING  # the switch queued, and when: retried after ``RETRY_AFTER_S``
        self._refused: object = _NOTHING  # the version whose content was refused, and when
        self._tried_at = float("-inf")
        self.reverted_rollout: str | None = None
        self._snapshot: tuple[int, str | None, bytes] | None = None  # handed over by the tick thread
        #: snapshots written to ``keys.shard_snapshot`` (an evolving world's dish, ``offer_snapshot``)
        self.snapshots_sent = 0
        #: why the shard is not on the version it was given (``None``: it is, or it is switching)
        self.refusal: str | None = None
        self._closed = False
        self._invariants: object = _NOTHING  # the world's check (``WorldSpec.invariants``), once known
        self._broken: list[str] = []  # what the last check found
        self._invariant_guarded: str | None = None  # the rollout this shard raised the guard for

    # -- the link thread ----------------------------------------------------------------------------
    def refresh(self, wait_s: float = 0.0) -> bool:
        """One round with Redis: wait up to ``wait_s`` for a nudge, read the key, send the pending
        reports. False when Redis did not answer (the shard goes on as it is)."""
        try:
            if wait_s > 0:
                if self._pubsub is None:
                    self._pubsub = self.r.pubsub(ignore_subscribe_messages=True)
                    self._pubsub.subscribe(keys.world_versions(self.world_name))
                self._pubsub.get_message(timeout=wait_s)
            with self.r.pipeline(transaction=False) as pipe:  # one round trip
                pipe.sadd(keys.world_shards(self.world_name), self.shard)  # again: Redis may come back empty
                pipe.get(self._key)
                raw: Any = pipe.execute()[1]
            self._send_reports()
            self._send_signals()
            self._send_snapshot()
        except REDIS_ERRORS:
            if self._pubsub is not None:
                with contextlib.suppress(Exception):
                    self._pubsub.close()
                self._pubsub = None
            return False
        self.wanted = Wanted.parse(raw)
        self.contact_at = self.clock()
        return True

    def _send_reports(self) -> None:
        if not self._pending:
            return
        batch = list(self._pending)
        body = json.dumps(batch, separators=(",", ":"))
        self.r.xadd(
            keys.world_ticks(self.world_name), {"s": self.shard, "b": body}, maxlen=20_000, approximate=True
        )
        for _ in batch:  # only what went; reports added meanwhile stay
            self._pending.popleft()

    def _send_signals(self) -> None:
        if not self._signals:
            return
        batch = list(self._signals)
        with self.r.pipeline(transaction=False) as pipe:
            for doc in batch:
                body = json.dumps(doc, separators=(",", ":"), default=_plain)
                pipe.xadd(
                    keys.world_signals(self.world_name),
                    {"s": self.shard, "d": body},
                    maxlen=SIGNALS_MAXLEN,
                    approximate=True,
                )
            pipe.execute()
        for _ in batch:  # only what went; documents added meanwhile stay
            self._signals.popleft()
        self.signals_sent += len(batch)

    def offer_snapshot(self, tick: int, version: str | None, data: bytes) -> None:
        """The tick thread hands over the dish's snapshot taken at its boundary (one reference
        written: the link thread compresses and writes it; a newer one replaces one not yet sent)."""
        self._snapshot = (tick, version, data)

    def _send_snapshot(self) -> None:
        taken = self._snapshot
        if taken is None:
            return
        from ouroboros.cluster.dish import encode_snapshot

        self.r.set(keys.shard_snapshot(self.shard), encode_snapshot(*taken))
        if self._snapshot is taken:  # kept when Redis failed (raised above) or a newer came meanwhile
            self._snapshot = None
        self.snapshots_sent += 1

    def run(self, stop: threading.Event) -> None:
        """The link thread: refresh until ``stop``; a Redis away is retried every ``refresh_s``."""
        while not stop.is_set():
            try:
                answered = self.refresh(self.refresh_s)
            except Exception:
                if self._closed:  # closed under a round in flight: the client's buffer is gone
                    return
                raise
            if not answered:
                stop.wait(self.refresh_s)

    def close(self) -> None:
        self._closed = True
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                self._pubsub.close()
        self.r.close()
        if self._follower is not None and self._owner == threading.get_ident():
            self._follower.ledger.close()  # on the tick thread, whose connection it is
        self._follower = None

    # -- the tick thread ----------------------------------------------------------------------------
    def _ledger_follower(self) -> Any:
        if self._follower is None:
            from ouroboros.patches import LEDGER_FILE, Ledger
            from ouroboros.rollout.shards import ShardFollower

            if not (self.folder / LEDGER_FILE).exists():
                return None  # no governed folder yet: never found one from a shard
            self._follower = ShardFollower(Ledger(self.folder, verify=False))
            self._owner = threading.get_ident()
        return self._follower

    def _pointer_now(self, now: float) -> str | None:
        if now - self._pointer_at >= self.refresh_s:
            self._pointer_at = now
            follower = self._ledger_follower()
            if follower is not None:
                self._pointer = follower.ledger.pointer().active
        return self._pointer

    def at_tick(
        self,
        world: World,
        tick_ms: float,
        *,
        faults: int = 0,
        money_supply: int | None = None,
        exposed: Iterable[str] = (),
        players: int | None = None,
    ) -> None:
        """At a tick boundary: queue the switch to the version wanted now, and leave the report
        of the tick that just ran (on the version it ran). ``players``: the players online when
        they are not the exposures (a world without players: 0)."""
        ran = world.resources.get("gameplay_version")
        report: dict[str, Any] = {"t": world.tick, "ms": round(tick_ms, 3), "v": ran, "f": faults}
        if money_supply is not None:
            report["m"] = money_supply
        if exposed:
            report["x"] = sorted(exposed)
        if players is not None:
            report["p"] = players
        now = self.clock()
        wanted = self.wanted
        pointer = self._pointer_now(now) if wanted is None else None
        version, reverting = target_version(
            wanted, pointer, now - self.contact_at, self.reverted_rollout, self.revert_after_s
        )
        if reverting and wanted is not None and self.reverted_rollout != wanted.rollout:
            self.reverted_rollout = wanted.rollout
            log.warning(
                "shard %s: no Redis for %.0f s: back to %s from rollout %s's treatment",
                self.shard, now - self.contact_at, wanted.stable or "base", wanted.rollout,
            )  # fmt: skip
            report["g"] = OFFLINE_GUARD
        if wanted is not None and not wanted.treatment:
            self.reverted_rollout = None  # the rollout is over: nothing left to hold back from
        self._guard_invariants(world, ran, wanted, report)
        self._pending.append(report)
        self._switch(world, ran, version)

    def _guard_invariants(
        self, world: World, ran: str | None, wanted: Wanted | None, report: dict[str, Any]
    ) -> None:
        """Check the world's invariants; broken on the rollout's treatment, the report carries the
        ``invariant_broken`` guard (once per rollout: it rolls back)."""
        broken = self._broken_invariants(world)
        if not broken or wanted is None or not wanted.treatment or ran != wanted.version:
            return
        if self._invariant_guarded == wanted.rollout:
            return
        self._invariant_guarded = wanted.rollout
        report.setdefault("g", INVARIANT_BROKEN)
        report["gm"] = "; ".join(broken)[:500]

    def _broken_invariants(self, world: World) -> list[str]:
        """The world's invariants after a tick (``WorldSpec.invariants``); a new finding is logged.
        Never raises: a checker that fails is a finding."""
        if self._invariants is _NOTHING:
            from ouroboros.worlds import spec_of

            self._invariants = spec_of(world).invariants
        check = self._invariants
        if check is None:
            return []
        try:
            broken: list[str] = check(world)  # type: ignore[operator]
        except Exception as exc:
            broken = [f"the invariants' check raised {type(exc).__name__}: {exc}"]
        if broken and broken != self._broken:
            log.error("shard %s: invariant broken at tick %d: %s", self.shard, world.tick, "; ".join(broken))
        self._broken = broken
        return broken

    def read_signals(self, world: World, every_ticks: int) -> None:
        """At a tick boundary (the tick thread): when ``world.tick`` is a multiple of
        ``every_ticks``, read the director's signals as ``go`` does and leave them for the link
        thread. Never raises: a world whose reader fails is logged and goes on."""
        if world.tick % max(1, every_ticks):
            return
        from ouroboros.worlds import spec_of, world_kpis

        try:
            if self._reader is _NOTHING:
                make = spec_of(world).signals
                self._reader = None if make is None else make()
            kpis = dict(world_kpis(world))
            events: list[dict[str, Any]] = []
            if self._reader is not None:
                signals = self._reader.read(world)
                events, kpis = list(signals.events), {**kpis, **signals.kpis}
        except Exception:  # the director's view is never worth a tick
            log.exception("shard %s: reading the director's signals failed", self.shard)
            return
        self._signals.append({"t": world.tick, "e": events, "k": kpis})

    def on_tick(self, game: Any) -> Callable[[], None]:
        """``run_shard``'s ``on_tick`` for a live game with a ``world`` (its tick times, its
        characters present, its money supply sampled once per ``refresh_s``, when it has them) and
        its director's signals once per second of ticks (``read_signals``)."""
        from ouroboros.worlds import world_kpis

        sampled: list[Any] = [float("-inf"), None]
        every = _ticks_per_signal(game)

        def hook() -> None:
            world = game.world
            now = self.clock()
            if now - sampled[0] >= self.refresh_s:
                money = world_kpis(world).get("money_supply")
                sampled[:] = [now, money if isinstance(money, int) else None]
            times = getattr(game, "tick_ms", None)
            self.at_tick(
                world,
                times[-1] if times else 0.0,
                money_supply=sampled[1],
                exposed=getattr(game, "characters_present", ()),
            )
            self.read_signals(world, every)

        return hook

    def on_dish_tick(self, game: Any, snapshot_every_s: float | None = None) -> Callable[[], None]:
        """``run_shard``'s ``on_tick`` for a world without players (``cluster.dish.DishGame``): its
        tick times, no players, its entity ids as exposures once per ``refresh_s``; with
        ``snapshot_every_s``, a snapshot of the dish handed to this link that often."""
        marks = [float("-inf"), float("-inf")]  # exposures sampled, snapshot taken
        every = _ticks_per_signal(game)

        def hook() -> None:
            world = game.world
            now = self.clock()
            exposed: list[str] = []
            if now - marks[0] >= self.refresh_s:
                marks[0] = now
                exposed = game.entity_ids()
            if snapshot_every_s is not None and now - marks[1] >= snapshot_every_s:
                marks[1] = now
                self.offer_snapshot(world.tick, world.resources.get("gameplay_version"), world.snapshot())
            times = game.tick_ms
            self.at_tick(world, times[-1] if times else 0.0, exposed=exposed, players=0)
            self.read_signals(world, every)

        return hook

    def _switch(self, world: World, ran: str | None, version: str | None) -> None:
        if version == ran:
            self._queued = self._refused = _NOTHING
            self.refusal = None
            return
        now = self.clock()
        if (version == self._queued or version == self._refused) and now - self._tried_at < RETRY_AFTER_S:
            return  # queued for the next tick boundary, or its content cannot be trusted (yet)
        self._tried_at = now
        follower = self._ledger_follower()
        if follower is None:
            self.refusal = f"no ledger in {self.folder}: the shard keeps its version"
            self._refused = version
            return
        if follower.sync(world, version) is False:
            self.refusal = follower.refusal
            self._refused = version
            return
        self.refusal = None
        self._queued = version


def _ticks_per_signal(game: Any) -> int:
    """The ticks in ``SIGNALS_EVERY_S`` of ``game``'s pace (30 for a game that has none)."""
    hz = getattr(game, "tick_hz", 0) or 0
    return max(1, int(hz * SIGNALS_EVERY_S)) if hz > 0 else 30


def _plain(value: Any) -> Any:
    """JSON for what ``json`` does not know: numpy scalars and arrays, sets; else their text."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    return str(value)


class _Nothing:
    def __repr__(self) -> str:
        return "NOTHING"


_NOTHING = _Nothing()


__all__ = [
    "INVARIANT_BROKEN",
    "MAX_PENDING_REPORTS",
    "MAX_PENDING_SIGNALS",
    "OFFLINE_GUARD",
    "REFRESH_S",
    "RETRY_AFTER_S",
    "REVERT_AFTER_S",
    "SIGNALS_EVERY_S",
    "SIGNALS_MAXLEN",
    "ShardLink",
    "Wanted",
    "target_version",
]
