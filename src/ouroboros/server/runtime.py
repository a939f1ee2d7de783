"""The one-process runtime that ``ouroboros go`` starts: every world live, governed and controllable.

``Runtime(data_dir, worlds=("neon", "petri"))`` owns, per world, a ``WorldRunner``:

- the world and its tick thread, at the world's own pace (petri 30 ticks/s, neon its ``tick_hz``);
  neon's thread runs an asyncio loop that also serves the city's telnet and WebSocket gateways;
- the world's governed data folder ``<data>/<world>/`` (``world.json``, ledger, keyring and a
  ``server`` signing key, made on first start), followed before every tick (``PointerFollower``);
- a *control thread* that alone touches the governor, the council and the evolution loop: SQLite
  connections belong to the thread that opened them, so every governance call from the API or
  from a tick thread is handed to it (``runner.call(fn)``);
- petri: an *evolution thread* where an evolution cycle is evaluated on a fork of the dish taken
  between two ticks, while the dish ticks on; the cycle is planned and delivered on the control
  thread (the accepted trait reaches the dish through the active pointer at a tick boundary);
- tick statistics, STOP/GO (pausing ticking; players stay connected), parameters and snapshots
  (``<data>/<world>/snapshots/<id>.snapshot`` plus a JSON sidecar), one taken of the clean state
  before the director starts.

What it promises:

- The wall clock paces ticks and never reaches a world; every change to a world from outside
  (parameters, restore, pointer switches) happens under the runner's lock, between two ticks.
- ``stop()`` stops every tick thread at a tick boundary and saves each world (petri to
  ``<data>/petri/petri.snapshot``, neon to ``<data>/neon/neon.db``).
- Everything that happens that an operator should see (governance verdicts, director decisions,
  evolution steps, controls) is published on ``runtime.feed``: a bounded deque with subscribers.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import itertools
import json
import re
import secrets
import statistics
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from ouroboros.engine import World
from ouroboros.errors import BadInputError, OuroborosError
from ouroboros.patches.atomic import write_atomic

T = TypeVar("T")
WORLDS = ("neon", "petri")
PETRI_TICKS_PER_SECOND = 30.0
COUNCIL_EVERY_S = 1.0
CONTROL_TIMEOUT_S = 120.0
SNAPSHOT_ID = re.compile(r"^[0-9]{10}-[0-9a-f]{8}$")
SERVER_KEY = "server"
FEED_SIZE = 1000


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Feed:
    """What happened, newest last: a bounded deque of events with subscribers (thread-safe)."""

    def __init__(self, maxlen: int = FEED_SIZE) -> None:
        self._events: deque[dict[str, Any]] = deque(maxlen=maxlen)
        self._lock = threading.Lock()
        self._seq = itertools.count(1)
        self._subscribers: list[Callable[[dict[str, Any]], None]] = []

    def publish(self, kind: str, world: str | None = None, **data: Any) -> dict[str, Any]:
        with self._lock:
            event = {"seq": next(self._seq), "at": _now(), "kind": kind, "world": world, **data}
            self._events.append(event)
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


@dataclass(frozen=True)
class RuntimeOptions:
    """How the runtime runs its worlds; ``None`` paces mean each world's own."""

    ticks_per_second: float | None = None
    max_ticks: int | None = None
    fresh: bool = False
    seed: int | None = None
    petri_config: Mapping[str, Any] | None = None
    host: str = "127.0.0.1"
    telnet_port: int = 4000
    ws_port: int = 4001
    optimizer: bool = True
    council: bool = True
    governance_budgets: Mapping[str, int] | None = None


class WorldRunner:
    """One live world: its tick thread, its lock, its control thread and its governed folder."""

    def __init__(self, name: str, data: Path, options: RuntimeOptions, feed: Feed) -> None:
        self.name = name
        self.folder = data / name
        self.root = data
        self.options = options
        self.feed = feed
        self.lock = threading.RLock()
        self.paused = threading.Event()
        self.finished = threading.Event()
        self._stop = threading.Event()
        self.tick_ms: deque[float] = deque(maxlen=2048)
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
        self._events: deque[dict[str, Any]] = deque(maxlen=500)
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
        from ouroboros.patches.activation import PointerFollower

        # the follower's ledger connection belongs to the tick thread: it syncs on the first tick
        self.follower = PointerFollower(self.folder)
        self._force_sync = True
        self.pace = self._pace()

    # -- governance, on the control thread ------------------------------------------------------
    def call(self, fn: Callable[[], T], timeout_s: float = CONTROL_TIMEOUT_S) -> T:
        """Run ``fn`` on this world's control thread (where the governor lives) and return its
        result or raise its error."""
        return self._control.submit(fn).result(timeout=timeout_s)

    def _open_governance(self) -> None:
        from ouroboros.patches.governor import DEFAULT_WORLD, Governor

        self.folder.mkdir(parents=True, exist_ok=True)
        if self.name == "petri":
            defaults: dict[str, Any] = dict(DEFAULT_WORLD)
            if self.options.petri_config is not None:
                defaults["config"] = dict(self.options.petri_config)
        else:
            defaults = {"world": self.name, "seed": 0, "config": {}}
        if self.options.seed is not None:
            defaults["seed"] = self.options.seed
        if self.options.governance_budgets:
            defaults["budgets"] = dict(self.options.governance_budgets)
        world_file = self.folder / "world.json"
        if self.options.fresh and world_file.exists():
            # a fresh world may take a new seed or size: the folder's patches then apply to it
            doc = json.loads(world_file.read_bytes())
            if isinstance(doc, dict):
                doc["seed"] = defaults["seed"] if self.options.seed is not None else doc.get("seed", 0)
                if self.name == "petri" and self.options.petri_config is not None:
                    doc["config"] = defaults["config"]
                write_atomic(world_file, (json.dumps(doc, sort_keys=True) + "\n").encode())
        self.governor = Governor(self.folder, world_defaults=defaults)
        if self.governor.world_name != self.name:
            raise BadInputError(f"{self.folder} is set up for world {self.governor.world_name!r}")
        recorded = self.governor.settings.get("seed", 0)
        if self.options.seed is not None and recorded != self.options.seed:
            raise BadInputError(
                f"the saved {self.name} world has seed {recorded}, not {self.options.seed}"
                " (use --fresh to start over)"
            )
        if not (self.governor.keys_dir / f"{SERVER_KEY}.key").exists():
            self.governor.new_key(SERVER_KEY, ["*"], actor="ouroboros go")

    def _close_governance(self) -> None:
        for part in (self.evolution, self.council):
            if part is not None and hasattr(part, "close"):
                with contextlib.suppress(Exception):
                    part.close()
        if self.governor is not None:
            with contextlib.suppress(Exception):
                self.governor.close()
            self.governor = None

    def settings(self) -> dict[str, Any]:
        return dict(self.call(lambda: self.governor.settings))

    # -- the world ------------------------------------------------------------------------------
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
        """Ticks per second; 0 runs as fast as it can."""
        if self.options.ticks_per_second is not None:
            return self.options.ticks_per_second
        if self.name == "neon":
            from ouroboros.worlds.neon.tables import tables

            return float(tables(self.world).params["tick_hz"])
        return PETRI_TICKS_PER_SECOND

    def step(self) -> None:
        """One tick under the lock: follow the pointer, tick, feed the optimizer and the council."""
        with self.lock:
            force, self._force_sync = self._force_sync, False
            self.follower.sync(self.world, force=force)
            t0 = time.perf_counter()
            if self.game is not None:
                self.game.step()
                report = None
            else:
                report = self.world.step()
            ms = (time.perf_counter() - t0) * 1e3
            self.tick_ms.append(ms)
            if self.optimizer is not None and report is not None:
                self.optimizer.after_tick(report)
            for hook in self.after_tick:
                try:
                    hook(self.world, ms)
                except Exception as exc:  # a viewer's failure never stops the world
                    self.feed.publish("error", self.name, source="after_tick", message=str(exc))
        self.rate.append(time.monotonic())
        self._maybe_council()

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

    # -- evolution (petri) ----------------------------------------------------------------------
    def evolve(self, reason: str | None, actor: str, timeout_s: float = CONTROL_TIMEOUT_S) -> dict[str, Any]:
        """An operator's evolution cycle: planned between two ticks (after the cycle under way,
        if one is), evaluated while the dish ticks on, delivered at a tick boundary. Returns its
        outcome event."""
        loop = self.evolution
        if loop is None:
            raise OuroborosError("the evolution loop is not running", code="no_evolution")
        deadline = time.monotonic() + timeout_s

        def start() -> tuple[Future[dict[str, Any]], bool]:
            if self._cycle_done is not None:
                return self._cycle_done, False
            return self._launch_cycle(loop.prepare_trigger(reason, actor)), True

        while True:
            done, ours = self.call(start, timeout_s)
            left = max(0.0, deadline - time.monotonic())
            if ours:
                return done.result(timeout=left)
            wait([done], timeout=left)  # another cycle first: one cycle at a time
            if time.monotonic() >= deadline:
                raise OuroborosError("an evolution cycle is still under way", code="cycle_under_way")

    @property
    def evolving(self) -> bool:
        """Whether an evolution cycle is under way."""
        return self._cycle_done is not None

    def _launch_cycle(self, cycle: Any) -> Future[dict[str, Any]]:
        """On the control thread: evaluate ``cycle`` on the evolution thread, without the lock,
        then finish it back on the control thread. The future is its outcome event."""
        loop, done = self.evolution, Future[dict[str, Any]]()
        if self._evolver is None:
            self._evolver = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{self.name}-evolution")
        self._cycle, self._cycle_done = cycle, done

        def finish(error: BaseException | None) -> None:  # control thread
            try:
                if error is not None:
                    raise error
                done.set_result(loop.finish(cycle))
            except Exception as exc:  # a failed cycle never stops the world
                message = f"{type(exc).__name__}: {exc}"
                self.feed.publish("error", self.name, source="evolution", message=message)
                done.set_exception(exc)
            finally:
                self._cycle = self._cycle_done = None

        def evaluate() -> None:  # evolution thread
            error: BaseException | None = None
            try:
                loop.evaluate(cycle)
            except Exception as exc:
                error = exc
            try:
                self._control.submit(finish, error)
            except RuntimeError:  # the runner is shutting down: nothing is delivered
                self._cycle = self._cycle_done = None
                done.set_exception(OuroborosError("the server stopped", code="stopped"))

        self._evolver.submit(evaluate)
        return done

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

    # -- params ---------------------------------------------------------------------------------
    def params(self) -> dict[str, int]:
        with self.lock:
            if self.name == "neon":
                from ouroboros.worlds.neon.tables import tables

                return dict(tables(self.world).params)
            return {k: int(v) for k, v in self.world.resources.get("params", {}).items()}

    def set_params(self, values: Mapping[str, int], actor: str, reason: str) -> dict[str, Any]:
        """petri: ``set_param`` inputs (checked now, applied at the next tick boundary). neon: a
        governed ``world_params`` patch signed by the server key (its verdict is returned)."""
        if self.name == "neon":
            return self._propose_neon_params(values, actor, reason)
        with self.lock:
            checked = []
            from ouroboros.worlds.petri.params import check_param

            for name, value in values.items():
                try:
                    checked.append(check_param(name, value))
                except OuroborosError as exc:
                    raise BadInputError(exc.message) from exc
            for name, value in checked:
                self.world.submit("set_param", {"name": name, "value": value})
        self.feed.publish("params", self.name, actor=actor, reason=reason, params=dict(checked))
        return {"world": self.name, "queued": dict(checked), "applies_at_tick": self.world.tick + 1}

    def _propose_neon_params(self, values: Mapping[str, int], actor: str, reason: str) -> dict[str, Any]:
        from ouroboros.worlds.neon.params import DEFAULT_PARAMS

        unknown = sorted(set(values) - set(DEFAULT_PARAMS))
        if unknown:
            raise BadInputError(f"neon has no parameter {', '.join(unknown)}")
        current = self.params()
        merged = {k: int(current.get(k, DEFAULT_PARAMS[k])) for k in current} | dict(values)

        def submit() -> dict[str, Any]:
            gov = self.governor
            base = (gov.active_content() or {}).get("world_params") or []
            version = "1.0.0"
            for obj in base if isinstance(base, list) else []:
                if isinstance(obj, dict) and obj.get("id") == "neon.params.base":
                    version = str(obj.get("version", "1.0.0"))
            major, minor, patch = (int(x) for x in version.split(".")[:3])
            obj = {"id": "neon.params.base", "version": f"{major}.{minor}.{patch + 1}", "world": "neon"}
            content = {"world_params": [{**obj, "params": merged}]}
            return self.submit_content(content, actor=actor, kind="params")

        return self.call(submit)

    def submit_content(self, content: dict[str, Any], *, actor: str, kind: str = "patch") -> dict[str, Any]:
        """On the control thread: bundle ``content`` on the active version, sign it with the
        server key, submit it; publish and return the verdict."""
        from datetime import timedelta

        from ouroboros.engine import ENGINE_VERSION
        from ouroboros.patches.bundle import new_bundle, sign_bundle

        gov = self.governor
        active = gov.active()
        sequence = 0 if active is None else (gov.ledger.sequence_of(active) or 0) + 1
        major, minor = (int(x) for x in ENGINE_VERSION.split(".")[:2])
        compat = (
            f">={major}.{minor},<{major}.{minor + 1}" if major == 0 else f">={major}.{minor},<{major + 1}"
        )
        doc = new_bundle(
            content,
            world=self.name,
            parent_patch_id=active,
            sequence=sequence,
            author={"type": "operator", "model": None, "run_id": None},
            engine_compat=compat,
            ttl=timedelta(hours=1),
        )
        doc = sign_bundle(doc, gov.local_key(SERVER_KEY))
        verdict = gov.submit(doc, actor=actor).as_dict()
        self.feed.publish("governance", self.name, action=kind, actor=actor, verdict=verdict)
        return verdict

    # -- snapshots ------------------------------------------------------------------------------
    @property
    def snapshot_dir(self) -> Path:
        return self.folder / "snapshots"

    def snapshots(self) -> list[dict[str, Any]]:
        if not self.snapshot_dir.is_dir():
            return []
        out = []
        for meta in sorted(self.snapshot_dir.glob("*.json")):
            with contextlib.suppress(OSError, ValueError):
                out.append(json.loads(meta.read_text()))
        return out

    def snapshot_meta(self, snapshot_id: str) -> dict[str, Any] | None:
        if not SNAPSHOT_ID.match(snapshot_id):
            return None
        path = self.snapshot_dir / f"{snapshot_id}.json"
        return json.loads(path.read_text()) if path.exists() else None

    def create_snapshot(self, label: str, actor: str) -> dict[str, Any]:
        with self.lock:
            data, tick, digest = self.world.snapshot(), self.world.tick, self.world.digest().hex
        self.snapshot_dir.mkdir(parents=True, exist_ok=True)
        snapshot_id = f"{tick:010d}-{secrets.token_hex(4)}"
        meta = {
            "id": snapshot_id,
            "world": self.name,
            "tick": tick,
            "digest": digest,
            "bytes": len(data),
            "label": label,
            "actor": actor,
            "created_at": _now(),
        }
        write_atomic(self.snapshot_dir / f"{snapshot_id}.snapshot", data)
        write_atomic(self.snapshot_dir / f"{snapshot_id}.json", json.dumps(meta).encode())
        self.feed.publish("snapshot", self.name, action="create", snapshot=meta)
        return meta

    def restore_snapshot(self, snapshot_id: str, actor: str) -> dict[str, Any]:
        meta = self.snapshot_meta(snapshot_id)
        if meta is None:
            raise KeyError(snapshot_id)
        data = (self.snapshot_dir / f"{snapshot_id}.snapshot").read_bytes()
        with self.lock:
            self.world.restore(data)  # raises SnapshotError and leaves the world as it was
            if self.game is not None:  # characters online before the restore come back in
                for chunk in self.world.query("Player"):
                    chunk["Player.online"][:] = 0
                present = sorted(self.game._present)
                self.game._present.clear()
                for name in present:
                    self.game.enter(name)
            self._force_sync = True  # back onto the active version at the next tick
        self.feed.publish("snapshot", self.name, action="restore", snapshot=meta, actor=actor)
        return {**meta, "restored_at_tick": self.world.tick}

    def delete_snapshot(self, snapshot_id: str, actor: str) -> dict[str, Any]:
        meta = self.snapshot_meta(snapshot_id)
        if meta is None:
            raise KeyError(snapshot_id)
        (self.snapshot_dir / f"{snapshot_id}.snapshot").unlink(missing_ok=True)
        (self.snapshot_dir / f"{snapshot_id}.json").unlink(missing_ok=True)
        self.feed.publish("snapshot", self.name, action="delete", snapshot=meta, actor=actor)
        return meta

    # -- running ----------------------------------------------------------------------------------
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
                    self._stop.wait(0.05)
                    next_at = time.monotonic()
                    continue
                self.step()
                ran += 1
                if period:
                    next_at += period
                    now = time.monotonic()
                    if next_at < now - period:
                        next_at = now
                    self._stop.wait(max(0.0, next_at - now))
        except Exception as exc:
            self.error = f"{type(exc).__name__}: {exc}"
            self.feed.publish("error", self.name, source="ticks", message=self.error)
        finally:
            self.save()
            self.follower.close()
            self.finished.set()

    def _run_neon(self, ready: threading.Event) -> None:
        try:
            asyncio.run(self._neon_main(ready))
        except Exception as exc:
            self.error = self.error or f"{type(exc).__name__}: {exc}"
        finally:
            ready.set()
            self.finished.set()

    async def _neon_main(self, ready: threading.Event) -> None:
        from ouroboros.server import AccountStore, SessionRegistry, serve_telnet, serve_websocket
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
        registry = SessionRegistry(self.game, accounts)
        servers: list[Any] = []
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
            period = 1.0 / self.pace if self.pace > 0 else 0.0
            next_at, last_save, ran = time.monotonic(), time.monotonic(), 0
            while self._should_tick(ran):
                if self.paused.is_set():
                    await asyncio.sleep(0.05)
                    next_at = time.monotonic()
                    continue
                self.step()
                ran += 1
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


class Runtime:
    """Every world of one data folder, live in this process. See the module docstring."""

    def __init__(
        self, data_dir: Path, worlds: Iterable[str] = WORLDS, options: RuntimeOptions | None = None
    ) -> None:
        self.data_dir = Path(data_dir)
        if self.data_dir.exists() and not self.data_dir.is_dir():
            raise BadInputError(f"--data {self.data_dir} is not a folder")
        names = list(dict.fromkeys(worlds))
        for name in names:
            if name not in WORLDS:
                raise BadInputError(f"no live world {name!r} (try: {', '.join(WORLDS)})")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.options = options or RuntimeOptions()
        self.feed = Feed()
        self.runners: dict[str, WorldRunner] = {}
        self.started_at: float | None = None
        try:
            for name in names:
                self.runners[name] = WorldRunner(name, self.data_dir, self.options, self.feed)
        except BaseException:
            for runner in self.runners.values():
                runner.stop()
            raise

    @property
    def worlds(self) -> list[str]:
        return list(self.runners)

    def runner(self, world: str) -> WorldRunner:
        if world not in self.runners:
            raise KeyError(world)
        return self.runners[world]

    @property
    def council(self) -> dict[str, Any]:
        return {name: r.council for name, r in self.runners.items() if r.council is not None}

    @property
    def evolution(self) -> Any:
        petri = self.runners.get("petri")
        return None if petri is None else petri.evolution

    def _attach_ai(self) -> None:
        """Wire the council (director, queue) to each world and the evolution loop to petri,
        when those packages are installed; each runs on its world's control thread."""
        if not self.options.council:
            return
        for runner in self.runners.values():
            runner.call(functools.partial(self._attach_to, runner))

    def _attach_to(self, runner: WorldRunner) -> None:
        """On ``runner``'s control thread. Each world's council keeps its decisions and queue in
        ``<data>/<world>/ai.sqlite3``; the guardrails file ``<data>/guardrails.json`` is shared."""
        try:
            from ouroboros.ai.council import build_council
            from ouroboros.ai.guardrails import GuardrailsFile
        except ImportError:
            return
        # as the product runs it: enrich and the storyteller through the active model registry
        runner.council = build_council(
            runner.folder,
            runner.governor,
            world=runner.name,
            guardrails_file=GuardrailsFile(self.data_dir / "guardrails.json"),
            tick_hz=max(1, int(runner.pace)),
        )
        if runner.name == "neon":
            from ouroboros.ai.signals import NeonSignals

            runner._signals = NeonSignals()
        if runner.name == "petri":
            try:
                from ouroboros.ai.evolution import EvolutionLoop
            except ImportError:
                return
            feed = self.feed

            def publish(event: dict[str, Any]) -> None:
                feed.publish("evolution", "petri", event=event)

            runner.evolution = EvolutionLoop(
                runner.world, governor=runner.governor, feed=publish, world_lock=runner.lock
            )

    def start(self) -> None:
        """Snapshot each world's clean state, attach the council, then start every tick thread."""
        for runner in self.runners.values():
            runner.create_snapshot("clean state before the director", "ouroboros go")
        self._attach_ai()
        # the content tables and loaded worlds live as long as the process: keep them out of the
        # cyclic collector's full passes, which otherwise stall a tick now and then
        gc.collect()
        gc.freeze()
        started: list[WorldRunner] = []
        try:
            for runner in self.runners.values():
                runner.start()
                started.append(runner)
        except BaseException:
            for runner in started:
                runner.stop()
            raise
        self.started_at = time.monotonic()
        self.feed.publish("control", None, action="start", worlds=self.worlds)

    def pause(self, worlds: Iterable[str] | None = None) -> list[str]:
        names = list(worlds or self.runners)
        for name in names:
            self.runner(name).paused.set()
        return names

    def resume(self, worlds: Iterable[str] | None = None) -> list[str]:
        names = list(worlds or self.runners)
        for name in names:
            self.runner(name).paused.clear()
        return names

    def finished(self) -> bool:
        return all(r.finished.is_set() for r in self.runners.values())

    def stop(self) -> None:
        """Stop every world at a tick boundary and save it."""
        for runner in self.runners.values():
            runner.stop()


__all__ = ["WORLDS", "Feed", "Runtime", "RuntimeOptions", "WorldRunner"]
