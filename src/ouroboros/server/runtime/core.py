"""``Runtime``: every world of one data folder live in this process, with the AI attached.

It makes one ``WorldRunner`` per world, snapshots the clean state of each world that starts new
(not of a resumed one), attaches each world's council (``build_council``: the director, the
approval queue, enrich through the model registry), the director's reader of each world that has
one (``spec.signals``) and the evolution loop of each world that evolves (``spec.evolution``) on
the worlds' control threads, then starts every tick thread. STOP/GO (``pause``/``resume``) is kept per world
across restarts.
"""

from __future__ import annotations

import functools
import gc
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ouroboros import tracing
from ouroboros.errors import BadInputError
from ouroboros.server.runtime.eventlog import EVENTS_FILE, EventLog
from ouroboros.server.runtime.feed import Feed
from ouroboros.server.runtime.inputlog import InputRecorder
from ouroboros.server.runtime.options import MAX_SHARDS, RuntimeOptions
from ouroboros.server.runtime.parts import EvolutionLoopPart
from ouroboros.server.runtime.runner import WorldRunner

if TYPE_CHECKING:
    from ouroboros.ai.council import Council


class Runtime:
    """Every world of one data folder, live in this process. See the module docstring."""

    def __init__(
        self, data_dir: Path, worlds: Iterable[str] | None = None, options: RuntimeOptions | None = None
    ) -> None:
        from ouroboros.worlds import live_worlds, world_names

        self.data_dir = Path(data_dir)
        if self.data_dir.exists() and not self.data_dir.is_dir():
            raise BadInputError(f"--data {self.data_dir} is not a folder")
        names = list(dict.fromkeys(live_worlds() if worlds is None else worlds))
        for name in names:
            if name not in world_names():
                raise BadInputError(f"no world {name!r} (try: {', '.join(world_names())})")
        self.options = options or RuntimeOptions()
        for name, count in (self.options.shards or {}).items():
            if name not in names:
                raise BadInputError(f"--shards: {name!r} is not a world this runtime runs")
            if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_SHARDS:
                raise BadInputError(f"--shards {name}: a count from 1 to {MAX_SHARDS}, not {count!r}")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.events = EventLog(self.data_dir / EVENTS_FILE) if self.options.event_log else None
        self.feed = Feed(self.options.feed_max_events, log=self.events)
        self.runners: dict[str, WorldRunner] = {}
        self.recorders: dict[str, InputRecorder] = {}
        self.started_at: float | None = None
        try:
            for name in names:
                self.runners[name] = WorldRunner(name, self.data_dir, self.options, self.feed)
        except BaseException:
            for runner in self.runners.values():
                runner.stop()
            if self.events is not None:
                self.events.close()
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
    def evolution(self) -> EvolutionLoopPart | None:
        """The evolution loop of the first world that runs one (None: none does)."""
        return next((r.evolution.loop for r in self.runners.values() if r.evolution.loop is not None), None)

    def _attach_ai(self) -> None:
        """Wire the council (director, queue) to each world and the evolution loop to each world
        that evolves, when those packages are installed; each runs on its world's control thread."""
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
        council = build_council(
            runner.folder,
            runner.governor,
            world=runner.name,
            guardrails_file=GuardrailsFile(self.data_dir / "guardrails.json"),
            tick_hz=max(1, int(runner.pace)),
            enrich_timeout_s=self.options.enrich_timeout_s,
            model_defaults=self.options.model_defaults,
        )
        council.before_high_risk = functools.partial(runner.snapshots.auto, actor="ouroboros go")
        # a world run as shards advances rollouts: its council stages by the default plans
        council.staged_by_default = runner.shards is not None
        runner.council = council
        self._attach_tools(runner, council)
        if runner.spec.signals is not None:
            runner._signals = runner.spec.signals()
        if runner.spec.evolution is not None:
            try:
                from ouroboros.ai.evolution import EvolutionLoop, RegistryCoder
            except ImportError:
                return
            feed, name = self.feed, runner.name
            # the genetic coder, joined by the model serving trait_code once `models set` names one
            council.models.current()  # read on this (control) thread; the coder reads it later
            coder = RegistryCoder(council.models, timeout_s=self.options.enrich_timeout_s)

            def publish(event: dict[str, Any]) -> None:
                feed.publish("evolution", name, event=event)

            loop = EvolutionLoop(
                runner.world,
                governor=runner.governor,
                coder=coder,
                feed=publish,
                world_lock=runner.lock,
                pace=runner.wait_for_idle,
            )
            loop.staged_by_default = runner.shards is not None
            runner.evolution.loop = loop

    def _attach_tools(self, runner: WorldRunner, council: Council) -> None:
        """The operator's MCP tools for the council (``<data>/council_tools.json``), if any; a bad
        file is an error on the feed and the council runs without tools."""
        from ouroboros.ai.tools import TOOLS_FILE, CouncilTools, load_config
        from ouroboros.errors import OuroborosError

        try:
            config = load_config(self.data_dir / TOOLS_FILE)
        except OuroborosError as exc:
            self.feed.publish("error", runner.name, source="council_tools", message=exc.message)
            return
        if config is None:
            return

        def record(outcome: str, why: dict[str, Any]) -> None:
            council.store.record_decision(runner.world.tick, "mcp_tool", outcome, why, None, None)

        council.tools = CouncilTools(
            config, record, banned=lambda: tuple(getattr(council.guardrails(), "banned_words", ()) or ())
        )

    def start(self) -> None:
        """Snapshot the clean state of each world that starts new (a resumed world keeps the one
        taken when it was new), attach the council, then start every tick thread."""
        for runner in self.runners.values():
            if not runner.resumed:
                runner.snapshots.create_clean("ouroboros go")
        self._attach_ai()
        # the content tables and loaded worlds live as long as the process: keep them out of the
        # cyclic collector's full passes, which otherwise stall a tick now and then
        gc.collect()
        gc.freeze()
        if self.options.input_log:
            for name, runner in self.runners.items():
                recorder = InputRecorder(
                    runner.folder,
                    segment_ticks=self.options.input_log_segment_ticks,
                    keep_segments=self.options.input_log_keep_segments,
                )
                with runner.lock:
                    recorder.begin(runner.world)  # the first segment starts from the state now
                runner.after_tick.append(recorder.after_tick)
                self.recorders[name] = recorder
        every = self.options.trace_tick_every
        if every > 0 and tracing.enabled():  # sampled ticks; with tracing off, no hook at all
            for name, runner in self.runners.items():
                runner.after_tick.append(functools.partial(_trace_tick, name, every))
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

    def pause(
        self, worlds: Iterable[str] | None = None, *, actor: str | None = None, reason: str | None = None
    ) -> list[str]:
        """STOP: the worlds pause at their next tick boundary, and stay STOPped across a restart."""
        names = list(worlds or self.runners)
        runners = [self.runner(name) for name in names]  # an unknown world changes nothing
        for runner in runners:
            runner.set_paused(True, actor, reason)
        return names

    def resume(
        self, worlds: Iterable[str] | None = None, *, actor: str | None = None, reason: str | None = None
    ) -> list[str]:
        """GO: the worlds tick again (and start ticking on the next ``go``)."""
        names = list(worlds or self.runners)
        runners = [self.runner(name) for name in names]
        for runner in runners:
            runner.set_paused(False, actor, reason)
        return names

    def finished(self) -> bool:
        return all(r.finished.is_set() for r in self.runners.values())

    def stop(self) -> None:
        """Stop every world at a tick boundary and save it; close the input and event logs."""
        for runner in self.runners.values():
            runner.stop()
        for recorder in self.recorders.values():
            recorder.close()
        if self.events is not None:
            self.events.close()


def _trace_tick(name: str, every: int, world: Any, ms: float) -> None:
    if world.tick % every == 0:
        tracing.record("tick", ms / 1e3, world=name, tick=world.tick, entities=world.entity_count)


__all__ = ["Runtime"]
