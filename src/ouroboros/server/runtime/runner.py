"""One live world: ``WorldRunner`` ticks it on its own thread at its own pace, under its lock.

- a world ticks on a plain thread (30 ticks/s unless told otherwise); a world people play (its
  ``spec.game``) ticks on a thread that runs an asyncio loop which also serves its telnet and
  WebSocket gateways, at the pace the game asks for;
- before every tick the runner follows the governed folder's active pointer (``PointerFollower``,
  whose ledger connection belongs to the tick thread);
- a control thread (``call``, ``post``) alone touches the governed folder (``runner.governance``,
  a ``governance.Governance``), the council and the evolution loop;
- every second of ticks, the director observes and the council acts on the control thread, and an
  evolving world's evolution loop may start a cycle (``runner.evolution``, an
  ``evolution.Evolution``), whose fork ticks run in the world's idle time between paced ticks
  (``wait_for_idle``);
- tick statistics, STOP/GO (``paused``: players stay connected), ``after_tick`` hooks (stream hubs,
  metrics: a failing one is reported on the feed and never stops the world);
- ``stop()`` stops the tick thread at a tick boundary and saves the world (to
  ``<data>/<world>/<world>.snapshot``, or a played world through its game's store).
"""

from __future__ import annotations

import contextlib
import json
import statistics
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ouroboros import tracing
from ouroboros.engine import World
from ouroboros.errors import BadInputError, OuroborosError
from ouroboros.patches import write_atomic
from ouroboros.server.runtime.evolution import Evolution, EvolutionHost
from ouroboros.server.runtime.feed import Feed, _now
from ouroboros.server.runtime.governance import Governance, GovernanceHost
from ouroboros.server.runtime.options import (
    CONTROL_TIMEOUT_S,
    COUNCIL_EVERY_S,
    DEFAULT_TICKS_PER_SECOND,
    RuntimeOptions,
)
from ouroboros.server.runtime.parts import CouncilPart, EvolutionPart, GovernancePart
from ouroboros.server.runtime.players import Players
from ouroboros.server.runtime.shards import ShardSet
from ouroboros.server.runtime.snapshots import Snapshots
from ouroboros.worlds.spec import RunningGame, SignalsReader

if TYPE_CHECKING:
    from ouroboros.engine.optimizer import Optimizer
    from ouroboros.patches import Governor

#: ``<data>/<world>/run_state.json``: STOP/GO as the operator last left it.
RUN_STATE_FILE = "run_state.json"
#: the longest an evaluation waits for the dish's idle time before a fork tick (a dish slower than
#: its pace has none; the cycle then goes on, slowly, within its budget)
IDLE_WAIT_MAX_S = 0.5

T = TypeVar("T")


class WorldRunner:
    """One live world: its tick thread, its lock and its control thread; its governed folder
    (``governance``), evolution cycles (``evolution``), snapshots and players are parts it is
    given as their host (the real ones unless ``governance`` or ``evolution`` build others)."""

    def __init__(
        self,
        name: str,
        data: Path,
        options: RuntimeOptions,
        feed: Feed,
        *,
        governance: Callable[[GovernanceHost], GovernancePart] = Governance,
        evolution: Callable[[EvolutionHost], EvolutionPart] = Evolution,
    ) -> None:
        from ouroboros.worlds import world_spec

        self.name = name
        self.spec = world_spec(name)
        self.folder = data / name
        self.root = data
        self.options = options
        self.feed = feed
        self.lock = threading.RLock()
        self.paused = threading.Event()
        self._run_note: dict[str, Any] | None = None  # the last STOP/GO: actor, reason
        self._reenter: list[str] = []  # characters to bring back in after a restore
        self._control_lock = threading.Lock()
        self.finished = threading.Event()
        self._stop = threading.Event()
        self._idle = threading.Event()  # set while the tick thread waits for its next tick
        self.tick_ms: deque[float] = deque(maxlen=options.tick_samples_max)
        self.rate: deque[float] = deque(maxlen=256)
        self.error: str | None = None
        self.ports: dict[str, int] = {}
        self.council: CouncilPart | None = None
        self._control = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{name}-control")
        self._council_pending = False
        self._events: deque[dict[str, Any]] = deque(maxlen=options.council_events_max)
        self._signals: SignalsReader | None = None
        self._thread: threading.Thread | None = None
        self.game: RunningGame | None = None
        self.optimizer: Optimizer | None = None
        #: called under the lock after every tick with (world, tick ms): stream hubs, metrics
        self.after_tick: list[Callable[[World, float], None]] = []
        #: the world's snapshots (``<data>/<world>/snapshots/``)
        self.snapshots = Snapshots(self)
        #: a played world's players, for its operator
        self.players = Players(self)
        #: the governed folder ``<data>/<world>/`` (its governor lives on the control thread)
        self.governance = governance(self)
        #: evolution cycles off the tick path (``evolution.loop``: attached by ``go`` to a world that evolves)
        self.evolution = evolution(self)
        try:
            self.call(self.governance.open)
            self.world: World = self._load_world()
        except BaseException:
            self.call(self._close_parts)
            self._control.shutdown(wait=True)
            raise
        self.world.start()
        self._load_control()
        from ouroboros.patches import PointerFollower

        # the follower's ledger connection belongs to the tick thread: it syncs on the first tick
        self.follower = PointerFollower(self.folder)
        self._force_sync = True
        self.pace: float = self._pace()
        #: the world's shards beyond the saved one (``go --shards``); ``None``: one world, as always
        self.shards: ShardSet | None = None
        count = options.shards_of(name)
        if count > 1:
            try:
                self.shards = ShardSet(self, count)
            except BaseException:
                self.call(self._close_parts)
                self._control.shutdown(wait=True)
                raise

    # -- the control thread ------------------------------------------------------------------------
    def call(self, fn: Callable[[], T], timeout_s: float = CONTROL_TIMEOUT_S) -> T:
        """Run ``fn`` on this world's control thread (where the governor lives) and return its
        result or raise its error."""
        return self._control.submit(tracing.carry(fn)).result(timeout=timeout_s)  # in the caller's trace

    def post(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        """Hand ``fn(*args)`` to the control thread without waiting (``RuntimeError`` once the
        runner has stopped)."""
        return self._control.submit(fn, *args)

    @property
    def governor(self) -> Governor:
        """The world's governor (``governance.governor``); only ever used on the control thread."""
        return self.governance.governor

    def _close_parts(self) -> None:
        """On the control thread: the evolution loop, the council, then the governed folder."""
        self.evolution.close()
        if self.council is not None:
            with contextlib.suppress(Exception):
                self.council.close()
        self.governance.close()

    # -- STOP/GO, kept across restarts ------------------------------------------------------------
    @property
    def run_state_file(self) -> Path:
        return self.folder / RUN_STATE_FILE

    def _load_control(self) -> None:
        """A world STOPped when the last ``go`` ended starts paused (a fresh world starts running).
        A control file that cannot be read starts it paused too: GO is the operator's to press."""
        if self.options.fresh:
            self.run_state_file.unlink(missing_ok=True)
            return
        if not self.run_state_file.exists():
            return
        try:
            doc = json.loads(self.run_state_file.read_bytes())
            paused = doc["paused"]
            if not isinstance(paused, bool):
                raise ValueError(f"'paused' is {paused!r}, not true or false")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            self.paused.set()
            self.feed.publish(
                "error", self.name, source="control", message=f"{self.run_state_file} is unreadable "
                f"({type(exc).__name__}: {exc}); starting STOPped"
            )  # fmt: skip
            return
        if paused:
            self.paused.set()
            self.feed.publish("control", self.name, action="resumed_stopped", since=doc)

    def set_paused(self, paused: bool, actor: str | None = None, reason: str | None = None) -> None:
        """STOP (``True``) or GO: ticking pauses or resumes at the next tick boundary, and the
        choice is saved to ``<data>/<world>/run_state.json`` so the next ``go`` starts the same way."""
        with self._control_lock:
            doc = {"paused": paused, "actor": actor, "reason": reason, "at": _now()}
            self._run_note = doc
            write_atomic(self.run_state_file, (json.dumps(doc, sort_keys=True) + "\n").encode())
            if paused:
                self.paused.set()
            else:
                self.paused.clear()

    def _load_world(self) -> World:
        from ouroboros.worlds import build_world

        settings = self.governance.settings()
        seed, config = int(settings.get("seed", 0)), dict(settings.get("config") or {})
        game = self.spec.game
        if game is not None:
            saved = None if self.options.fresh else game.load(self.folder)
            self.resumed = saved is not None
            return saved or build_world(self.name, seed, config)
        path = self.folder / f"{self.name}.snapshot"
        self.resumed = path.exists() and not self.options.fresh
        if not self.resumed:
            return build_world(self.name, seed, config)
        world = build_world(self.name, seed, config)
        try:
            world.restore(path.read_bytes())
        except OuroborosError as exc:
            raise BadInputError(f"snapshot {path}: {exc.message} (use --fresh to start over)") from exc
        return world

    def _pace(self) -> float:
        """Ticks per second; 0 runs as fast as it can. A played world's is what its game asks for
        (held to its bounds, whatever a saved world says) unless the options set a pace."""
        if self.options.ticks_per_second is not None:
            return self.options.ticks_per_second
        if self.spec.game is not None:
            return self.spec.game.ticks_per_second(self.world)
        return DEFAULT_TICKS_PER_SECOND

    def _follow_pace(self) -> None:
        """Under the lock, after a tick: a version that changed a played world's pace has just
        landed (or a restore brought another back), so the next tick is paced by it."""
        if self.spec.game is None or self.options.ticks_per_second is not None:
            return
        pace = self._pace()
        if pace == self.pace:
            return
        before, self.pace = self.pace, pace
        if self.game is not None:
            self.game.tick_hz = pace
        if self.council is not None:
            director = self.council.director
            # the director counts its throttles in ticks: a minute is now this many
            self.post(setattr, director, "tick_hz", max(1, int(pace)))
        self.feed.publish("pace", self.name, tick=self.world.tick, before_hz=before, pace_hz=pace)

    def step(self) -> None:
        """One tick under the lock: follow the pointer, tick, feed the optimizer and the council."""
        if self.shards is not None:
            self._step_shards(self.shards)
            return
        with self.lock:
            force, self._force_sync = self._force_sync, False
            self.follower.sync(self.world, force=force)
            if self._reenter and self.game is not None:  # after a restore, once the version is queued
                for name in self._reenter:
                    self.game.enter(name)
                self._reenter = []
            t0 = time.perf_counter()
            if self.game is not None:
                self.game.step()
                report = None
            else:
                report = self.world.step()
            self._after_step(report, (time.perf_counter() - t0) * 1e3)
        self.rate.append(time.monotonic())
        self._maybe_council()

    def _after_step(self, report: Any, ms: float) -> None:
        """Under the lock, after a tick (of the world, or of every shard): its time, the pace a
        new version asks for, a migration's report, the optimizer and the ``after_tick`` hooks."""
        self.tick_ms.append(ms)
        self._follow_pace()
        self._after_migration()
        if self.optimizer is not None and report is not None:
            self.optimizer.after_tick(report)
        for hook in self.after_tick:
            try:
                hook(self.world, ms)
            except Exception as exc:  # a viewer's failure never stops the world
                self.feed.publish("error", self.name, source="after_tick", message=str(exc))

    def _step_shards(self, shards: ShardSet) -> None:
        """One tick of every shard under the lock (each follows the version its router gives it:
        see ``shards``), then the same hooks as one world's tick; the control thread polls the
        rollout every tick-second."""
        with self.lock:
            if self._reenter and self.game is not None:  # after a restore
                for name in self._reenter:
                    self.game.enter(name)
                self._reenter = []
            t0 = time.perf_counter()
            report = shards.step()
            self._after_step(report, (time.perf_counter() - t0) * 1e3)
        self.rate.append(time.monotonic())
        shards.maybe_poll(max(1, int(self.pace * COUNCIL_EVERY_S)) if self.pace > 0 else 30)
        self._maybe_council()

    def follow_after_restore(self, reenter: list[str]) -> None:
        """Under the lock, after a restore: back onto the active version at the next tick, then
        the characters in ``reenter`` come back in."""
        self._force_sync = True
        self._reenter = list(reenter)

    def _after_migration(self) -> None:
        """Under the lock, after a tick that landed a version: its migration report goes to the
        feed now and to the ledger on the control thread (where the governor's connection lives)."""
        from ouroboros.worlds import MIGRATION_SCRATCH

        report = self.world.scratch.get(MIGRATION_SCRATCH)
        if report is None:
            return
        summary = {k: report[k] for k in ("from", "to", "tick", "counts")}
        self.feed.publish("migration", self.name, report=summary)
        self.post(self._record_migration, report)

    def _record_migration(self, report: dict[str, Any]) -> None:
        from ouroboros.patches import record_migration

        try:
            if self.governance.is_open:
                record_migration(self.governor.ledger, report, actor="ouroboros go")
        except OuroborosError as exc:  # the ledger refusing never stops the world
            self.feed.publish("error", self.name, source="migration", message=exc.message)

    def _maybe_council(self) -> None:
        if self._council_pending or (self.council is None and self.evolution.loop is None):
            return
        every = max(1, int(self.pace * COUNCIL_EVERY_S)) if self.pace > 0 else 30
        if self.world.tick % every:
            return
        self._council_pending = True
        with self.lock:
            events = list(self._events)
            self._events.clear()
            kpis, tick = self.kpis(), self.world.tick
            if self._signals is not None:  # what the director reads of the world (``spec.signals``)
                signals = self._signals.read(self.world)
                events, kpis = events + list(signals.events), {**kpis, **signals.kpis}
        self.post(self._council_step, events, kpis, tick)

    def _council_step(self, events: list[dict[str, Any]], kpis: dict[str, Any], tick: int) -> None:
        """On the control thread: the director observes and the council acts; the evolution loop
        (of a world that evolves) looks at the world (between two ticks) and, when a cycle is due,
        starts it on the evolution thread. Its events reach the feed through its feed callback."""
        try:
            if self.council is not None:
                for what in self.council.step(events, kpis, tick) or []:
                    self.feed.publish("director", self.name, event=what)
            self.evolution.maybe_start()
        except Exception as exc:  # the council failing must never stop the world
            self.feed.publish("error", self.name, source="council", message=f"{type(exc).__name__}: {exc}")
        finally:
            self._council_pending = False

    def kpis(self) -> dict[str, Any]:
        from ouroboros.worlds import world_kpis

        with self.lock:
            return world_kpis(self.world)

    def stats(self) -> dict[str, Any]:
        times = sorted(self.tick_ms)
        now = time.monotonic()
        recent = [t for t in self.rate if now - t <= 2.0]
        rate = (
            (len(recent) - 1) / (recent[-1] - recent[0])
            if len(recent) > 1 and recent[-1] > recent[0]
            else 0.0
        )
        return {
            "world": self.name,
            "played": self.spec.game is not None,
            "tick": self.world.tick,
            "paused": self.paused.is_set(),
            "running": self._thread is not None and self._thread.is_alive(),
            "pace_hz": self.pace,
            "ticks_per_second": round(rate, 2),
            "tick_p50_ms": round(statistics.median(times), 3) if times else 0.0,
            "tick_p95_ms": round(times[min(len(times) - 1, int(len(times) * 0.95))], 3) if times else 0.0,
            "samples": len(times),
            "error": self.error,
            **({"shards": self.shards.status()} if self.shards is not None else {}),
        }

    def start(self) -> None:
        if self.spec.game is None and self.options.optimizer:
            from ouroboros.ai.optimizer_advisor import live_advisor
            from ouroboros.engine.optimizer import Optimizer
            from ouroboros.optimizer_files import file_hooks

            advisor = live_advisor(getattr(self.council, "models", None))  # decision support only
            self.optimizer = Optimizer(self.world, hooks=file_hooks(self.folder), advisor=advisor)
            self.optimizer.prepare_all()
        if self.spec.game is not None:
            ready = threading.Event()
            self._thread = threading.Thread(
                target=self._run_game, args=(ready,), name=f"{self.name}-ticks", daemon=True
            )
            self._thread.start()
            ready.wait(30)
            if self.error is not None:
                self._thread.join(5)
                raise BadInputError(self.error)
        else:
            self._thread = threading.Thread(target=self._run_plain, name=f"{self.name}-ticks", daemon=True)
            self._thread.start()

    def _should_tick(self, ran: int) -> bool:
        return not self._stop.is_set() and (self.options.max_ticks is None or ran < self.options.max_ticks)

    def _run_plain(self) -> None:
        period = 1.0 / self.pace if self.pace > 0 else 0.0
        next_at, ran = time.monotonic(), 0
        try:
            while self._should_tick(ran):
                if self.paused.is_set():
                    self._idle.set()
                    self._stop.wait(0.05)
                    next_at = time.monotonic()
                    continue
                self._idle.clear()
                self.step()
                ran += 1
                if period:
                    next_at += period
                    now = time.monotonic()
                    if next_at < now - period:
                        next_at = now
                    self._idle.set()
                    self._stop.wait(max(0.0, next_at - now))
        except Exception as exc:
            self.error = f"{type(exc).__name__}: {exc}"
            self.feed.publish("error", self.name, source="ticks", message=self.error)
        finally:
            self._idle.set()
            self.save()
            self.follower.close()
            if self.shards is not None:
                self.shards.close()
            self.finished.set()

    def wait_for_idle(self) -> None:
        """Called by the evolution thread before each fork tick: wait (at most ``IDLE_WAIT_MAX_S``)
        while the dish is ticking, so an evaluation runs in the dish's idle time between paced
        ticks and the dish keeps its pace (the two threads share one interpreter lock; a fork tick
        begun in the idle time delays the next live tick by one fork tick at most). A dish run as
        fast as it can, or stopped, is never waited for."""
        if self.pace > 0 and not self._stop.is_set() and not self.finished.is_set():
            self._idle.wait(IDLE_WAIT_MAX_S)

    def _run_game(self, ready: threading.Event) -> None:
        from ouroboros.server.runtime.played import run_played

        run_played(self, ready)

    def save(self) -> None:
        with self.lock:
            if self.game is not None:
                self.game.save()
            elif self.spec.game is None:  # a played world is saved by its game, once it runs
                write_atomic(self.folder / f"{self.name}.snapshot", self.world.snapshot())
            if self.shards is not None and (self.game is not None or self.spec.game is None):
                self.shards.save()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)
        self.evolution.stop()  # the cycle under way stops at its next candidate; nothing is delivered
        with contextlib.suppress(RuntimeError):  # already shut down
            self.post(self._close_parts)
        self._control.shutdown(wait=True)


__all__ = ["RUN_STATE_FILE", "WorldRunner"]
