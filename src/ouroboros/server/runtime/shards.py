"""A world run as N shards inside its runner (``go --shards neon=2``): ``ShardSet``.

The runner keeps the world's one governed folder (ledger, pointer, council, API) and ticks every
shard on its tick thread, one after the other, at the world's pace. Shard 0 is the saved world
(``runner.world``, what the API shows); shard ``k`` keeps its own saved state in
``<data>/<world>/shards/<k>/`` (a played world's store, or ``<world>.snapshot``) and starts from the
world's base the first time. What it promises:

- **Each shard follows its own version.** At every tick boundary the router of now (the active
  pointer as the stable version, and the rollout the control thread last polled) decides the
  version of each shard (``Router.step``: a promotion waits for the shard to drain, a rollback
  switches at once and moves its sessions); each shard's ``ShardFollower`` then queues the
  switch, applied by the shard's next tick (the one door). With no rollout every shard follows
  the active pointer, as one world does.
- **Each shard reports every tick** (``TickReport``: tick time, faults, money supply, moderation
  incidents, quests started and completed, the accounts online — or, for a world without
  players, entity ids) into the world's ``KpiBook``, stamped with the runner's tick (shards tick
  in step, so a window is the same ticks in every arm). Counters come from the world's
  ``spec.metrics`` (cumulative: ``script_faults``, ``quests_started``, ``quests_completed``,
  ``moderation_incidents``; the report holds what one tick added).
- **The control thread steers.** ``poll`` (on the world's control thread, every tick-second)
  runs the ``RolloutDriver`` (judging windows, following the ledger) and re-checks the live
  rollout's bundle; the state it returns is what the next boundary follows, and a new phase or
  stage is a ``rollout`` event on the feed.
- **Hard guards act at once.** A shard whose tick raises counts a fault, raises the
  ``tick_thread_crash`` guard (the live rollout rolls back) and goes on ticking; one that raises
  ``MAX_CRASHES_IN_A_ROW`` ticks in a row stops the world as one world's crash does. A shard on
  the rollout's treatment whose world breaks one of its invariants (``WorldSpec.invariants``,
  checked after every tick of every shard) raises ``invariant_broken``. A rollout bundle that no
  longer verifies (its hash or signatures) raises ``bundle_unverified``.
- **Characters live in the character store** (``shard_characters``, ADR 0020): a shard claims a
  character when it enters, saves it at autosave and releases it after the tick that applied its
  leave; its money supply and job counters count only the characters it holds, so a character
  moving between shards never looks like inflation.
- Nothing in a tick reads the wall clock or the global random: tick times are measured around
  the ticks, never inside them.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import TYPE_CHECKING, Any

from ouroboros.engine import World
from ouroboros.errors import BadInputError, OuroborosError
from ouroboros.patches import write_atomic
from ouroboros.rollout.analysis import WindowSample
from ouroboros.rollout.controller import RolloutState
from ouroboros.rollout.kpis import KpiBook, TickReport
from ouroboros.rollout.router import Fleet, Router
from ouroboros.server.runtime.shard_characters import HOMES_FILE, ShardCharacters

if TYPE_CHECKING:
    from ouroboros.rollout.driver import RolloutDriver
    from ouroboros.rollout.shards import ShardFollower
    from ouroboros.server.gateway.sharded import ShardedGame
    from ouroboros.server.runtime.runner import WorldRunner
    from ouroboros.worlds.spec import GameHook

SHARDS_DIR = "shards"
#: a shard whose tick raises this many times in a row stops its world
MAX_CRASHES_IN_A_ROW = 3
#: tick reports a world keeps per shard (a window longer than this is judged on its newest part)
KEEP_TICKS = 36_000
#: entity ids a shard of a world without players reports as its exposures, at most
EXPOSED_ENTITIES_MAX = 256
COUNTERS = ("script_faults", "quests_started", "quests_completed", "moderation_incidents")
TICK_THREAD_CRASH = "tick_thread_crash"
INVARIANT_BROKEN = "invariant_broken"
BUNDLE_UNVERIFIED = "bundle_unverified"


class LockedBook:
    """The world's ``KpiBook``, shared by the tick thread (``observe``) and the control thread
    (``window``)."""

    def __init__(self, book: KpiBook) -> None:
        self.book = book
        self._lock = threading.Lock()

    def observe(self, shard: str, version: str | None, report: TickReport) -> None:
        with self._lock:
            self.book.observe(shard, version, report)

    def guard(self, name: str, tick: int) -> None:
        with self._lock:
            self.book.guard(name, tick)

    def window(self, state: RolloutState, start_tick: int, end_tick: int) -> WindowSample:
        with self._lock:
            return self.book.window(state, start_tick, end_tick)


class ShardSet:
    """The shards of one world in its runner (see the module docstring)."""

    def __init__(self, runner: WorldRunner, count: int) -> None:
        self.runner = runner
        self.names = [f"{runner.name}-{k}" for k in range(count)]
        self.folders = [runner.folder] + [runner.folder / SHARDS_DIR / str(k) for k in range(1, count)]
        self.worlds: list[World] = [runner.world]
        for k in range(1, count):
            world = self._load(k)
            world.start()
            self.worlds.append(world)
        pace = runner.pace if runner.pace > 0 else 30.0
        book = KpiBook(ticks_per_second=pace, tick_budget_ms=1000.0 / pace, keep_ticks=KEEP_TICKS)
        self.book = LockedBook(book)
        self.tick = runner.world.tick  # the runner's tick: every shard's reports are stamped with it
        self.state: RolloutState | None = None  # the rollout the boundaries follow (set by ``poll``)
        self.fleet = Fleet(
            {n: w.resources.get("gameplay_version") for n, w in zip(self.names, self.worlds, strict=True)}
        )
        self.game: ShardedGame | None = None
        self.characters: ShardCharacters | None = None  # a played world's (``open_game``)
        self._followers: list[ShardFollower] | None = None  # the tick thread's (its ledger connection)
        self._counters: list[dict[str, int]] = [{} for _ in self.names]
        self._crashes = [0] * count
        self._broken: list[list[str]] = [[] for _ in self.names]  # what each shard's last check found
        self._invariant_guarded: str | None = None  # the rollout the invariant guard was raised for
        self._exposed: list[frozenset[str]] = [frozenset() for _ in self.names]
        self._driver: RolloutDriver | None = None  # the control thread's
        self._poll_pending = False

    # -- loading and saving ------------------------------------------------------------------------
    def _load(self, k: int) -> World:
        from ouroboros.worlds import build_world

        runner, folder = self.runner, self.folders[k]
        settings = runner.governance.settings()
        seed, config = int(settings.get("seed", 0)), dict(settings.get("config") or {})
        game = runner.spec.game
        if runner.options.fresh and folder.exists():
            for path in sorted(folder.iterdir()):
                if path.is_file():
                    path.unlink()
        if game is not None:
            saved = game.load(folder) if folder.exists() else None
            return saved or build_world(runner.name, seed, config)
        path = folder / f"{runner.name}.snapshot"
        world = build_world(runner.name, seed, config)
        if path.exists():
            try:
                world.restore(path.read_bytes())
            except OuroborosError as exc:
                raise BadInputError(f"snapshot {path}: {exc.message} (use --fresh to start over)") from exc
        return world

    def open_game(self, hook: GameHook) -> ShardedGame:
        """The played world's game: one live game per shard behind one ``ShardedGame``."""
        from ouroboros.server.gateway.sharded import ShardedGame

        pace = self.runner.pace or 1e6
        self.characters = ShardCharacters(
            self.runner.folder,
            self.names,
            self.worlds,
            hook,
            fresh=self.runner.options.fresh,
            character_metrics=self.runner.spec.character_metrics,
        )
        games = {}
        for name, world, folder in zip(self.names, self.worlds, self.folders, strict=True):
            folder.mkdir(parents=True, exist_ok=True)
            games[name] = hook.open(world, folder, pace)
        self.game = ShardedGame(
            games,
            self.fleet.running,
            router=Router(None, None),  # the first boundary gives it the router of now
            tick=lambda: self.tick,
            seat=self._seat,
            noun=hook.noun,
        )
        return self.game

    def _seat(self, character: str, shard: str) -> str | None:
        """On the tick thread, between ticks: claim ``character`` for ``shard`` (``None``: it may
        enter; else the line the player is told)."""
        if self.characters is None or self.game is None:
            return None
        with self.runner.lock:
            return self.characters.seat(character, shard, self.game)

    def save(self) -> None:
        """Under the lock, after the runner saved shard 0 (or the game every shard): the other
        shards of a world without players, or every character the shards hold."""
        if self.game is not None:  # the game saved every shard (``ShardedGame.save``)
            if self.characters is not None and self.characters.store is not None:
                self.characters.save()
            return
        for world, folder in zip(self.worlds[1:], self.folders[1:], strict=True):
            folder.mkdir(parents=True, exist_ok=True)
            write_atomic(folder / f"{self.runner.name}.snapshot", world.snapshot())

    # -- the tick thread -----------------------------------------------------------------------
    def _read_stable(self) -> str | None:
        """The active pointer (the stable version), read every tick as a world follows it (one
        indexed read of the ledger, about 14 µs)."""
        return self._followers_now()[0].ledger.pointer().active

    def _followers_now(self) -> list[ShardFollower]:
        if self._followers is None:
            from ouroboros.patches import Ledger
            from ouroboros.rollout.shards import ShardFollower

            ledger = Ledger(self.runner.folder, verify=False)
            self._followers = [ShardFollower(ledger) for _ in self.names]
        return self._followers

    def close(self) -> None:
        """On the tick thread, as it ends (after the last save): every held character written
        and released, the character store and the followers' ledger connection closed."""
        if self.characters is not None:
            with self.runner.lock:
                self.characters.close()
        if self._followers is not None:
            self._followers[0].ledger.close()
            self._followers = None

    def step(self) -> Any:
        """Under the runner's lock: one tick of every shard; shard 0's engine report (for the
        optimizer of a world without players), ``None`` for a played world."""
        followers = self._followers_now()
        tick = self.tick
        characters = self.characters if self.game is not None else None
        if characters is not None:
            characters.open()
        router = Router(self._read_stable(), self.state)
        if self.game is not None:
            running = self.game.boundary(router, tick)
        else:
            self.fleet, _ = router.step(self.fleet, tick)
            running = dict(self.fleet.running)
        for name, world, follower in zip(self.names, self.worlds, followers, strict=True):
            follower.sync(world, running[name])
        first = None
        for k, (name, world) in enumerate(zip(self.names, self.worlds, strict=True)):
            crashed = False
            t0 = time.perf_counter()
            try:
                if self.game is not None:
                    self.game.shards[name].step()
                else:
                    report = world.step()
                    first = report if k == 0 else first
                self._crashes[k] = 0
            except Exception as exc:
                crashed = True
                self._crashed(k, tick, exc)
            ms = (time.perf_counter() - t0) * 1e3
            if characters is not None and self.game is not None:
                characters.after_tick(k, self.game.shards[name].present)
            self._report(k, tick, ms, crashed)
            if not crashed:
                self._check_invariants(k, tick)
        if characters is not None:
            characters.settle(self.game)
        self.tick = tick + 1
        return first

    def _crashed(self, k: int, tick: int, exc: Exception) -> None:
        self._crashes[k] += 1
        message = f"shard {self.names[k]}: {type(exc).__name__}: {exc}"
        self.runner.feed.publish("error", self.runner.name, source="shard", message=message)
        self.book.guard(TICK_THREAD_CRASH, tick)
        self.post_guard(TICK_THREAD_CRASH)
        if self._crashes[k] >= MAX_CRASHES_IN_A_ROW:
            raise exc

    def _check_invariants(self, k: int, tick: int) -> None:
        """After shard ``k``'s tick: the world's invariants. Broken on the live rollout's treatment,
        it is the ``invariant_broken`` hard guard (once per rollout: the rollout rolls back);
        broken anywhere, each new finding is an error on the feed."""
        check = self.runner.spec.invariants
        if check is None:
            return
        world = self.worlds[k]
        broken = check(world)
        if broken and broken != self._broken[k]:
            message = f"shard {self.names[k]}: invariant broken at tick {world.tick}: {'; '.join(broken)}"
            self.runner.feed.publish("error", self.runner.name, source="shard", message=message)
        self._broken[k] = broken
        state = self.state
        if (
            broken
            and state is not None
            and not state.terminal
            and world.resources.get("gameplay_version") == state.patch_id
            and self._invariant_guarded != state.rollout_id
        ):
            self._invariant_guarded = state.rollout_id
            self.book.guard(INVARIANT_BROKEN, tick)
            self.post_guard(INVARIANT_BROKEN)

    def _report(self, k: int, tick: int, ms: float, crashed: bool) -> None:
        world, name = self.worlds[k], self.names[k]
        metrics = self.runner.spec.metrics
        gauges = dict(metrics(world)) if metrics is not None else {}
        added: dict[str, int] = {}
        last = self._counters[k]
        for counter in COUNTERS:
            value = gauges.get(counter)
            if value is None:
                continue
            now = int(value)
            added[counter] = max(0, now - last[counter]) if counter in last else 0
            last[counter] = now
        money = gauges.get("money_supply")
        if self.characters is not None and self.characters.character_metrics is not None:
            money, held_added = self.characters.counts(k, world, gauges)
            added.update(held_added)
        if self.game is not None:
            exposed = self.game.exposed(name)
        else:
            exposed = frozenset(_entity_sample(world))
            if exposed == self._exposed[k]:  # one shared set while it holds (the book keeps many)
                exposed = self._exposed[k]
            self._exposed[k] = exposed
        report = TickReport(
            tick,
            ms,
            faults=added.get("script_faults", 0) + (1 if crashed else 0),
            money_supply=None if money is None else int(money),
            moderation_incidents=added.get("moderation_incidents", 0),
            exposed=exposed,
            quests_started=added.get("quests_started", 0),
            quests_completed=added.get("quests_completed", 0),
        )
        self.book.observe(name, world.resources.get("gameplay_version"), report)

    def maybe_poll(self, every: int) -> None:
        """After a tick: every ``every`` ticks, the control thread polls the rollout."""
        if self._poll_pending or self.tick % max(1, every):
            return
        self._poll_pending = True
        try:
            self.runner.post(self._poll)
        except RuntimeError:  # the runner is stopping
            self._poll_pending = False

    def post_guard(self, name: str) -> None:
        with contextlib.suppress(RuntimeError):  # the runner is stopping
            self.runner.post(self._guard, name)

    # -- the control thread --------------------------------------------------------------------
    def driver(self) -> RolloutDriver:
        if self._driver is None:
            from ouroboros.rollout.driver import RolloutDriver
            from ouroboros.rollout.service import RolloutService

            self._driver = RolloutDriver(RolloutService(self.runner.governor), self.book, lambda: self.tick)
        return self._driver

    def _poll(self) -> None:
        try:
            if not self.runner.governance.is_open:
                return
            driver = self.driver()
            state = driver.poll()
            if state is not None and not state.terminal and not self._bundle_verifies(state.patch_id):
                self.book.guard(BUNDLE_UNVERIFIED, self.tick)
                state = driver.guard(BUNDLE_UNVERIFIED)
            self._adopt(state)
        except Exception as exc:  # the rollout failing must never stop the world
            message = f"{type(exc).__name__}: {exc}"
            self.runner.feed.publish("error", self.runner.name, source="rollout", message=message)
        finally:
            self._poll_pending = False

    def _guard(self, name: str) -> None:
        try:
            if self.runner.governance.is_open:
                self._adopt(self.driver().guard(name))
        except Exception as exc:
            message = f"{type(exc).__name__}: {exc}"
            self.runner.feed.publish("error", self.runner.name, source="rollout", message=message)

    def _adopt(self, state: RolloutState | None) -> None:
        """The state the next boundary follows; a new phase or stage goes to the feed."""
        before, self.state = self.state, state

        def mark(s: RolloutState | None) -> tuple[str, str, int] | None:
            return None if s is None else (s.rollout_id, str(s.phase), s.stage)

        if state is None or mark(before) == mark(state):
            return
        self.runner.feed.publish(
            "rollout",
            self.runner.name,
            rollout_id=state.rollout_id,
            patch_id=state.patch_id,
            phase=str(state.phase),
            stage=state.stage,
            pct_bp=state.pct_bp,
            reason=state.reason,
        )

    def _bundle_verifies(self, patch_id: str) -> bool:
        """The live rollout's bundle still has its hash and trusted signatures (its expiry is the
        last stage's to check, when the governor approves it)."""
        from ouroboros.patches import stages

        gov = self.runner.governor
        doc = gov.ledger.bundle(patch_id)
        if doc is None:
            return False
        reasons, _ = stages.recheck(doc, gov.keyring())
        return all(r.code == "expired" for r in reasons)

    # -- the operator's view -------------------------------------------------------------------
    def status(self) -> list[dict[str, Any]]:
        out = []
        for name, world in zip(self.names, self.worlds, strict=True):
            players = len(self.game.fleet.on(name)) if self.game is not None else None
            out.append(
                {
                    "shard": name,
                    "version": world.resources.get("gameplay_version"),
                    "following": self.fleet_running().get(name),
                    "players": players,
                    "tick": world.tick,
                }
            )
        return out

    def fleet_running(self) -> dict[str, str | None]:
        return dict((self.game.fleet if self.game is not None else self.fleet).running)


def _entity_sample(world: World) -> list[str]:
    """Up to ``EXPOSED_ENTITIES_MAX`` entity ids (a world without players: its exposures)."""
    out: list[str] = []
    for chunk in world.query():
        for entity in chunk.ids[: EXPOSED_ENTITIES_MAX - len(out)].tolist():
            out.append(str(entity))
        if len(out) >= EXPOSED_ENTITIES_MAX:
            break
    return out


__all__ = ["HOMES_FILE", "SHARDS_DIR", "LockedBook", "ShardSet"]
