"""One live world: ``WorldRunner`` ticks it on its own thread at its own pace, under its lock.

- petri ticks on a plain thread (30 ticks/s unless told otherwise); neon's thread runs an asyncio
  loop that also serves the city's telnet and WebSocket gateways, at the city's ``tick_hz``;
- before every tick the runner follows the governed folder's active pointer (``PointerFollower``,
  whose ledger connection belongs to the tick thread);
- every second of ticks, the director observes and the council acts on the control thread (see
  ``governance``), and petri's evolution loop may start a cycle (see ``evolution``), whose fork
  ticks run in the dish's idle time between paced ticks (``wait_for_idle``);
- tick statistics, STOP/GO (``paused``: players stay connected), ``after_tick`` hooks (stream hubs,
  metrics: a failing one is reported on the feed and never stops the world);
- ``stop()`` stops the tick thread at a tick boundary and saves the world (petri to
  ``<data>/petri/petri.snapshot``, neon to ``<data>/neon/neon.db``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import statistics
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ouroboros.engine import World
from ouroboros.errors import BadInputError, OuroborosError
from ouroboros.patches import write_atomic
from ouroboros.server.runtime.evolution import EvolvingRunner
from ouroboros.server.runtime.feed import Feed, _now
from ouroboros.server.runtime.governance import GovernedRunner
from ouroboros.server.runtime.options import COUNCIL_EVERY_S, PETRI_TICKS_PER_SECOND, RuntimeOptions
from ouroboros.server.runtime.players import PlayersMixin
from ouroboros.server.runtime.snapshots import SnapshotsMixin

#: ``<data>/<world>/run_state.json``: STOP/GO as the operator last left it.
RUN_STATE_FILE = "run_state.json"
#: the longest an evaluation waits for the dish's idle time before a fork tick (a dish slower than
#: its pace has none; the cycle then goes on, slowly, within its budget)
IDLE_WAIT_MAX_S = 0.5


class WorldRunner(GovernedRunner, SnapshotsMixin, EvolvingRunner, PlayersMixin):
    """One live world: its tick thread, its lock, its control thread and its governed folder."""

    def __init__(self, name: str, data: Path, options: RuntimeOptions, feed: Feed) -> None:
        self.name = name
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
        self.council: Any = None
        self.evolution: Any = None
        self.governor: Any = None  # only ever used on the control thread
        self._control = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{name}-control")
        self._evolver: ThreadPoolExecutor | None = None  # petri, once the evolution loop is attached
        self._cycle: Any = None  # the evolution cycle under way (set and cleared on the control thread)
        self._cycle_done: Future[dict[str, Any]] | None = None  # and its outcome
        self._council_pending = False
        self._events: deque[dict[str, Any]] = deque(maxlen=options.council_events_max)
        self._signals: Any = None
        self._thread: threading.Thread | None = None
        self.game: Any = None
        self.optimizer: Any = None
        #: called under the lock after every tick with (world, tick ms): stream hubs, metrics
        self.after_tick: list[Callable[[World, float], None]] = []
        try:
            self.call(self._open_governance)
            self.world = self._load_world()
        except BaseException:
            self.call(self._close_governance)
            self._control.shutdown(wait=True)
            raise
        self.world.start()
        self._load_control()
        from ouroboros.patches import PointerFollower

        # the follower's ledger connection belongs to the tick thread: it syncs on the first tick
        self.follower = PointerFollower(self.folder)
        self._force_sync = True
        self.pace = self._pace()

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

        settings = self.settings()
        seed, config = int(settings.get("seed", 0)), dict(settings.get("config") or {})
        if self.name == "neon":
            from ouroboros.worlds.neon.store import CityStore

            store = CityStore(self.folder)
            try:
                saved = None if self.options.fresh else store.load()
            finally:
                store.close()
            self.resumed = saved is not None
            return saved or build_world("neon", seed, config)
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
        """Ticks per second; 0 runs as fast as it can. neon's is its ``tick_hz`` (held to the
        parameter's bounds, whatever a saved world says) unless the options set a pace."""
        if self.options.ticks_per_second is not None:
            return self.options.ticks_per_second
        if self.name == "neon":
            from ouroboros.worlds.neon.params import PARAMS
            from ouroboros.worlds.neon.tables import tables

            bounds = PARAMS["tick_hz"]
            return float(min(max(int(tables(self.world).params["tick_hz"]), bounds.low), bounds.high))
        return PETRI_TICKS_PER_SECOND

    def _follow_pace(self) -> None:
        """Under the lock, after a tick: a version that changed neon's ``tick_hz`` has just
        landed (or a restore brought another back), so the next tick is paced by it."""
        if self.name != "neon" or self.options.ticks_per_second is not None:
            return
        pace = self._pace()
        if pace == self.pace:
            return
        before, self.pace = self.pace, pace
        if self.game is not None:
            self.game.tick_hz = pace
        director = getattr(self.council, "director", None)
        if director is not None and hasattr(director, "tick_hz"):
            # the director counts its throttles in ticks: a minute is now this many
            self._control.submit(setattr, director, "tick_hz", max(1, int(pace)))
        self.feed.publish("pace", self.name, tick=self.world.tick, before_hz=before, pace_hz=pace)

    def step(self) -> None:
        """One tick under the lock: follow the pointer, tick, feed the optimizer and the council."""
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
            ms = (time.perf_counter() - t0) * 1e3
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
        self.rate.append(time.monotonic())
        self._maybe_council()

    def _after_migration(self) -> None:
        """Under the lock, after a tick that landed a version: its migration report goes to the
        feed now and to the ledger on the control thread (where the governor's connection lives)."""
        from ouroboros.worlds import MIGRATION_SCRATCH

        report = self.world.scratch.get(MIGRATION_SCRATCH)
        if report is None:
            return
        summary = {k: report[k] for k in ("from", "to", "tick", "counts")}
        self.feed.publish("migration", self.name, report=summary)
        self._control.submit(self._record_migration, report)

    def _record_migration(self, report: dict[str, Any]) -> None:
        from ouroboros.patches import record_migration

        try:
            if self.governor is not None:
                record_migration(self.governor.ledger, report, actor="ouroboros go")
        except OuroborosError as exc:  # the ledger refusing never stops the world
            self.feed.publish("error", self.name, source="migration", message=exc.message)

    def _maybe_council(self) -> None:
        if self._council_pending or (self.council is None and self.evolution is None):
            return
        every = max(1, int(self.pace * COUNCIL_EVERY_S)) if self.pace > 0 else 30
        if self.world.tick % every:
            return
        self._council_pending = True
        with self.lock:
            events = list(self._events)
            self._events.clear()
            kpis, tick = self.kpis(), self.world.tick
            if self._signals is not None:  # neon: what the director reads from the city
                signals = self._signals.read(self.world)
                events, kpis = events + list(signals.events), {**kpis, **signals.kpis}
        self._control.submit(self._council_step, events, kpis, tick)

    def _council_step(self, events: list[dict[str, Any]], kpis: dict[str, Any], tick: int) -> None:
        """On the control thread: the director observes and the council acts; petri's evolution
        loop looks at the dish (between two ticks) and, when a cycle is due, starts it on the
        evolution thread. Its events reach the feed through its feed callback."""
        try:
            if self.council is not None:
                for what in self.council.step(events, kpis, tick) or []:
                    self.feed.publish("director", self.name, event=what)
            if self.evolution is not None and self._cycle_done is None:
                cycle = self.evolution.prepare()  # holds the lock itself, briefly
                if cycle is not None:
                    self._launch_cycle(cycle)
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
            "tick": self.world.tick,
            "paused": self.paused.is_set(),
            "running": self._thread is not None and self._thread.is_alive(),
            "pace_hz": self.pace,
            "ticks_per_second": round(rate, 2),
            "tick_p50_ms": round(statistics.median(times), 3) if times else 0.0,
            "tick_p95_ms": round(times[min(len(times) - 1, int(len(times) * 0.95))], 3) if times else 0.0,
            "samples": len(times),
            "error": self.error,
        }

    def start(self) -> None:
        if self.name == "petri" and self.options.optimizer:
            from ouroboros.engine.optimizer import Optimizer

            self.optimizer = Optimizer(self.world, data=self.folder)
            self.optimizer.prepare_all()
        if self.name == "neon":
            ready = threading.Event()
            self._thread = threading.Thread(
                target=self._run_neon, args=(ready,), name="neon-ticks", daemon=True
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
            self.finished.set()

    def wait_for_idle(self) -> None:
        """Called by the evolution thread before each fork tick: wait (at most ``IDLE_WAIT_MAX_S``)
        while the dish is ticking, so an evaluation runs in the dish's idle time between paced
        ticks and the dish keeps its pace (the two threads share one interpreter lock; a fork tick
        begun in the idle time delays the next live tick by one fork tick at most). A dish run as
        fast as it can, or stopped, is never waited for."""
        if self.pace > 0 and not self._stop.is_set() and not self.finished.is_set():
            self._idle.wait(IDLE_WAIT_MAX_S)

    def _run_neon(self, ready: threading.Event) -> None:
        try:
            asyncio.run(self._neon_main(ready))
        except Exception as exc:
            self.error = self.error or f"{type(exc).__name__}: {exc}"
        finally:
            ready.set()
            self.finished.set()

    async def _neon_main(self, ready: threading.Event) -> None:
        from ouroboros.server.gateway import AccountStore, SessionRegistry, serve_telnet, serve_websocket
        from ouroboros.worlds.neon.runtime import NeonGame
        from ouroboros.worlds.neon.store import CityStore

        loop = asyncio.get_running_loop()

        def quiet_cancel(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
            # connections still open at shutdown are cancelled: that is the plan, not an error
            if not isinstance(context.get("exception"), asyncio.CancelledError):
                loop.default_exception_handler(context)

        loop.set_exception_handler(quiet_cancel)
        store = CityStore(self.folder)
        self.game = NeonGame(self.world, store, tick_hz=self.pace or 1e6)
        accounts = AccountStore(self.folder / "neon.db")

        def alert(event: dict[str, Any]) -> None:  # a telnet / WebSocket login lockout began
            self.feed.publish("security", self.name, **event)

        registry = SessionRegistry(self.game, accounts, limits=self.options.session_limits, on_alert=alert)
        servers: list[Any] = []
        from ouroboros.server.runtime.inbox import GoLock, Inbox

        try:
            go_lock = GoLock(self.folder)
        except OSError:
            self.error = f"another ouroboros go runs {self.folder}"
            accounts.close()
            store.close()
            return
        inbox = Inbox(self.folder)
        try:
            try:
                telnet = await serve_telnet(self.game, registry, self.options.host, self.options.telnet_port)
                servers.append(telnet)
                ws = await serve_websocket(self.game, registry, self.options.host, self.options.ws_port)
                servers.append(ws)
            except OSError as exc:
                self.error = f"cannot listen on {self.options.host}: {exc.strerror or exc}"
                return
            self.ports = {
                "telnet": telnet.sockets[0].getsockname()[1],
                "ws": next(iter(ws.sockets)).getsockname()[1],
            }
            ready.set()
            next_at, last_save, ran = time.monotonic(), time.monotonic(), 0
            while self._should_tick(ran):
                inbox.serve(self.answer_local)  # `ouroboros players --data`, STOPped or not
                self._tell_stop_and_go()
                if self.paused.is_set():
                    await asyncio.sleep(0.05)
                    next_at = time.monotonic()
                    continue
                self.step()
                ran += 1
                period = 1.0 / self.pace if self.pace > 0 else 0.0  # a new tick_hz lands at a tick
                now = time.monotonic()
                if now - last_save >= self.game.autosave_s:
                    self.save()
                    last_save = now
                next_at += period
                if next_at < now - period:
                    next_at = now
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        except Exception as exc:
            self.error = f"{type(exc).__name__}: {exc}"
            self.feed.publish("error", self.name, source="ticks", message=self.error)
        finally:
            registry.close_all()
            for server in servers:
                server.close()
            await asyncio.sleep(0.05)  # let the closed sessions' handlers finish
            self.save()
            self.follower.close()
            accounts.close()
            store.close()
            go_lock.release()

    def _tell_stop_and_go(self) -> None:
        """On the city's loop: players hear STOP once, and GO; their commands meanwhile are
        answered by the game (``NeonGame.freeze``)."""
        stopped = self.paused.is_set()
        if self.game is None or stopped == (self.game.frozen is not None):
            return
        note = self._run_note or {}
        why = f" ({note['reason']})" if note.get("reason") else ""
        if stopped:
            self.game.freeze(f"The city freezes: its operators pressed STOP{why}. Nothing moves until GO.")
        else:
            self.game.thaw(f"The city moves again: its operators pressed GO{why}.")

    def save(self) -> None:
        with self.lock:
            if self.game is not None:
                self.game.save()
            elif self.name != "neon":
                write_atomic(self.folder / f"{self.name}.snapshot", self.world.snapshot())

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)
        cycle = self._cycle
        if cycle is not None:  # stops at its next candidate; nothing is delivered
            cycle.cancel()
        if self._evolver is not None:
            self._evolver.shutdown(wait=True)
        with contextlib.suppress(RuntimeError):  # already shut down
            self._control.submit(self._close_governance)
        self._control.shutdown(wait=True)


__all__ = ["RUN_STATE_FILE", "WorldRunner"]
