"""The rewriter: a guard runs *shadows* of its candidates inside live ticks.

In each live tick the guarded system runs as usual and, right after it, the candidate runs on a
shadow, a private world holding copies of what the system may see at that point of the tick (the
columns it declares, resources, meta, scratch, the tick and so its random streams). Both outputs
(written columns, queued commands, resources, meta, scratch) must be identical, bit for bit,
which by induction over the systems of a tick is what keeps the digest sequence unchanged. A
guard thus costs the candidate system and some copies, never a whole fork tick, and it is planned
so that it never costs more than ``budget_factor`` × the tick: a guard predicted over that is not
started, a run predicted over it is not run (the guard aborts first), and a run measured over it
aborts the guard. The layout is guarded system by system (the slowest systems that declare
access, shadowed in the candidate layout, paced at ``layout_guard_share`` of the budget a tick).

The rewriter only runs and times; what a run means (a failure, an abort, a decision) it hands to
its ``Judge``, the optimizer.
"""

from __future__ import annotations

import statistics
from typing import Protocol

from ouroboros.engine.optimizer.measure import Measurements
from ouroboros.engine.optimizer.model import LAYOUT, Candidate, Guard, Part, Run, Trial
from ouroboros.engine.optimizer.shadow import Shadow
from ouroboros.engine.schedule import SystemFn
from ouroboros.engine.world import World

__all__ = ["Judge", "Rewriter"]


class Judge(Protocol):
    """What the rewriter reports to: a trial aborted, a shadow that differed, a trial done."""

    def abort(self, t: Trial, why: str) -> None: ...

    def failed(self, r: Run) -> None: ...

    def decide(self, t: Trial, ticks: int) -> None: ...


class Rewriter:
    def __init__(self, measurements: Measurements, judge: Judge) -> None:
        self.m = measurements
        self.world = measurements.world
        self.config = measurements.config
        self.judge = judge
        self.guard: Guard | None = None
        self.runs: list[Run] = []  # handed from inside the tick to ``after_tick``
        self._wrapped: dict[str, tuple[SystemFn, SystemFn]] = {}  # system → (original, wrapper)
        self._shadows: dict[str, Shadow] = {}

    def take_runs(self) -> list[Run]:
        runs, self.runs = self.runs, []
        return runs

    def live_fn(self, system: str) -> SystemFn:
        """The implementation the live world runs for ``system`` (under any shadow wrapper)."""
        if system in self._wrapped:
            return self._wrapped[system][0]
        return self.world.schedule.get(system).fn

    def start(self, candidates: list[Candidate]) -> list[Trial]:
        m = self.m
        trials = []
        for c in candidates:
            current = m.current(c.system)
            if c.system == LAYOUT:
                parts = [
                    Part(s, self.live_fn(s), m.system_ms(s) * c.factor + m.copy_ms(s))
                    for s in m.layout_parts()
                ]
            else:
                m.prepare(c.system, c.variant)
                fn = self.world.schedule.variants(c.system)[c.variant].fn
                parts = [Part(c.system, fn, c.cost_ms)]
            trials.append(Trial(c.system, c.variant, current, c.size, parts))
        self.guard = Guard(trials, self.world.tick)
        return trials

    def advance(self, runs: list[Run]) -> None:
        g = self.guard
        assert g is not None
        m = self.m
        self.unwrap()
        g.ticks += 1
        if not m.base:  # the size moved: nothing measured before says what a tick costs now
            for t in list(g.trials):
                self.judge.abort(t, f"the population moved to {self.world.entity_count} entities mid-guard")
            return
        budget = m.budget_ms()
        ran: list[Trial] = []
        cost = 0.0  # what the candidates cost this tick, with their usual copies (a one-off pause
        # in a copy, such as a garbage collection, is no fault of theirs)
        for r in runs:
            if r.trial not in g.trials:
                continue
            if r.error is not None or r.differs:
                self.judge.failed(r)
                continue
            p = r.part
            p.runs += 1
            p.last_run = (r.size, r.shadow_ms)
            m.overhead[p.system] = (r.size, max(0.0, r.extra_ms - r.shadow_ms))
            cost += r.shadow_ms + m.copy_ms(p.system)
            warmup = 0 if r.trial.system == LAYOUT else self.config.warmup_samples
            if p.runs > warmup:
                p.live_ms.append(r.live_ms)
                p.shadow_ms.append(r.shadow_ms)
            elif r.shadow_ms > budget:  # an over-budget warm-up is what a switch would pay: remember it
                m.note(m.measured, (r.trial.system, r.trial.candidate), r.size, r.shadow_ms)
            if r.trial not in ran:
                ran.append(r.trial)
        for t in ran:
            if t.system == LAYOUT and m.base:
                t.base_ms.append(m.base[-1])
        if cost > budget:
            for t in ran:
                self.judge.abort(
                    t, f"a guarded tick cost {cost:.2f} ms more, over the budget of {budget:.2f} ms"
                )
        for t in [t for t in g.trials if all(p.runs >= self.runs_needed(t) for p in t.parts)]:
            g.trials.remove(t)
            self.judge.decide(t, g.ticks)
        self.plan()

    def plan(self) -> None:
        """Wrap, for the next tick, the systems each trial shadows; a trial whose next run is
        predicted over the budget is aborted before it runs."""
        g = self.guard
        if g is None:
            return
        budget = self.m.budget_ms()
        spent = 0.0
        for t in list(g.trials):
            todo = [p for p in t.parts if p.runs < self.runs_needed(t)]
            limit = budget * (self.config.layout_guard_share if t.system == LAYOUT else 1.0)
            if not any(p.last_run for p in t.parts):
                limit = 0.0  # a first run alone: it tells how far off the predictions are
            planned: list[Part] = []
            for p in todo:
                cost = self.predict(p, t)
                if planned and spent + cost > limit:
                    continue
                if spent + cost > budget:
                    break
                planned.append(p)
                spent += cost
            if not planned:
                self.judge.abort(
                    t,
                    f"its next run is predicted at {self.predict(todo[0], t):.2f} ms, over the "
                    f"{budget - spent:.2f} ms the tick budget has left",
                )
                continue
            layout = t.candidate if t.system == LAYOUT else self.world.default_layout
            for p in planned:
                self._wrap(t, p, layout)
        if not g.trials:
            self.end()

    def runs_needed(self, t: Trial) -> int:
        return self.config.layout_guard_runs if t.system == LAYOUT else self.config.guard_ticks

    def predict(self, p: Part, t: Trial) -> float:
        """What a part's next run will add to its tick: its last run scaled to the size now, with
        the usual copies; before any run, what the rules predicted, corrected by how far off they
        were for the trial's parts that ran."""
        m = self.m
        if p.last_run is None:
            off = [
                (q.last_run[1] + m.copy_ms(q.system)) / max(q.predicted_ms, 1e-6)
                for q in t.parts
                if q.last_run
            ]
            return p.predicted_ms * max(1.0, statistics.median(off) if off else 1.0)
        at_size, ms = p.last_run
        scale = self.world.system_size(p.system) / at_size if at_size else 1.0
        return ms * scale + m.copy_ms(p.system)

    def _wrap(self, trial: Trial, part: Part, layout: str) -> None:
        system = part.system
        live_fn = self.live_fn(system)
        live_world = self.world

        def shadowed(world: World) -> None:
            if world is not live_world:  # a fork of the live world copied the wrapper: no shadow there
                live_fn(world)
                return
            self._shadow_run(world, trial, part, live_fn, layout)

        self._wrapped[system] = (live_fn, shadowed)
        self.world.schedule.replace_impl(system, shadowed)

    def unwrap(self) -> None:
        for system, (original, wrapper) in self._wrapped.items():
            if self.world.schedule.get(system).fn is wrapper:  # unless someone set it since
                self.world.schedule.replace_impl(system, original)
        self._wrapped.clear()

    def end(self) -> None:
        self.unwrap()
        self.guard = None
        self._shadows.clear()
        self.runs.clear()

    def drop(self, t: Trial) -> bool:
        """Take ``t`` out of the guard (ending it when it was the last); False if it was not in."""
        g = self.guard
        if g is None or t not in g.trials:
            return False
        g.trials.remove(t)
        if not g.trials:
            self.end()
        return True

    def _shadow_run(self, world: World, trial: Trial, part: Part, live_fn: SystemFn, layout: str) -> None:
        """Inside the live tick: the live variant as usual, then the shadow on a copy of its input."""
        t0 = world.clock()
        spec = world.schedule.get(part.system)
        shadow = self._shadows.get(layout)
        if shadow is None:
            shadow = self._shadows[layout] = Shadow(world, layout)
        shadow.sync(world, spec)
        start = len(world.commands)
        t1 = world.clock()
        live_fn(world)
        t2 = world.clock()
        error = None
        try:
            part.fn(shadow.world)
        except Exception as exc:  # a candidate that raises is a wrong candidate
            error = f"{type(exc).__name__}: {exc}"
        t3 = world.clock()
        differs = shadow.differences(world, spec, start) if error is None else []
        t4 = world.clock()
        live_ms = (t2 - t1) / 1e6
        size = world.system_size(part.system)
        extra = (t4 - t0) / 1e6 - live_ms
        self.runs.append(Run(trial, part, size, live_ms, (t3 - t2) / 1e6, extra, differs, error))
