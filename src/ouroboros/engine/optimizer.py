"""The engine that rewrites itself: analyzer, optimizer and rewriter over system variants.

A world's hot systems may have several implementations (``Variant``), bit-identical by contract,
and its storage two layouts. ``Optimizer`` watches the world between ticks and swaps them as the
workload changes:

- **Analyzer** (``analyze``): which systems are hot (share of the tick), the trend of the entity
  count, and for every other variant its expected time here and what switching would still cost
  (a layout conversion; a ``prepare`` such as a JIT compile is paid once per process, and once
  paid it is sunk). What is expected comes
  from measurement only: a time measured at a similar size, else the speed ratio against the
  current variant measured at other sizes, widened by ``ratio_drift_per_decade`` for every factor
  of ten between there and here (half that where ratios at two sizes or more give a trend).
- **Rules** (``_choose``), deterministic: a candidate is guarded when it is measured or predicted
  faster by the gain threshold after paying its switch cost (amortised over
  ``switch_horizon_ticks``), or, never measured, when its ``min_size``/``max_size`` hint suits the
  size; and only when the guard's predicted cost fits the tick budget (the pessimistic end of the
  prediction; a never-measured candidate is taken to be just fast enough to win). A candidate a
  guard kept or aborted, and the variant a switch left, are not guarded again at a similar size
  for ``retry_after_ticks``.
- **Rewriter** (the guard) runs *shadows*: in each live tick the guarded system runs as usual and,
  right after it, the candidate runs on a shadow, a private world holding copies of what the
  system may see at that point of the tick (the columns it declares, resources, meta, scratch, the
  tick and so its random streams). Both outputs (written columns, queued commands, resources,
  meta, scratch) must be identical, bit for bit, which by induction over the systems of a tick is
  what keeps the digest sequence unchanged. A guard thus costs the candidate system and some
  copies, never a whole fork tick, and it is planned so that it never costs more than
  ``budget_factor`` × the tick: a guard predicted over that is not started, a run predicted over
  it is not run (the guard aborts first), and a run measured over it aborts the guard. The
  layout is guarded system by system (the slowest systems that declare access, shadowed in the
  candidate layout, paced at ``layout_guard_share`` of the budget a tick). After ``guard_ticks``
  runs (the first ``warmup_samples`` untimed) a candidate is kept only if it beat the current variant by
  ``min_gain_permille`` on the same inputs; the swap happens at a tick boundary. An output
  mismatch (or an exception) drops the candidate — the live world never ran it, so there is
  nothing to roll back — blacklists it for the session and writes a diagnostic report.
- **Control**: operators can freeze rewriting and force variants (a forced variant is applied at
  once and never rewritten). What the constructor is given (``--optimizer off``,
  ``--force-variant``) holds for the session: the control file may freeze but not unfreeze a
  world started frozen, may not change a variant forced at start, and releases only what it
  forced itself. Every decision — what, why, measured before and after — is appended to the
  history (a JSON-lines file when a path is given, read back at start so it survives a restart;
  each start is an entry, so a reader knows which decisions still hold).

The optimizer never changes world state: candidates run on shadows, the live world only ever runs
a variant it ran before or one a guard proved, and all its own work happens between ticks or
beside the guarded system. It imports nothing else of ours.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import os
import statistics
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ouroboros.engine.errors import EngineError
from ouroboros.engine.profiler import ENTITIES, TICK, Profiler
from ouroboros.engine.schedule import TICK_PHASES, SystemFn, SystemSpec
from ouroboros.engine.storage import Archetype
from ouroboros.engine.world import Commands, TickReport, World

CONTROL_FILE = "optimizer.json"
LAYOUT = "layout"  # the storage layout, chosen like a system's variant
LAYOUTS = ("soa", "aos")
HISTORY_FILE = "optimizer-history.jsonl"
COPY_MS_FIXED = 0.2  # a shadow run's copies and comparison before any was measured: this,
COPY_NS_PER_BYTE = 0.5  # plus this for every byte of the columns and scratch it copies


@dataclass(frozen=True)
class OptimizerConfig:
    check_every_ticks: int = 8
    guard_ticks: int = 3  # shadow runs per guarded system, the warm-up included
    layout_guard_runs: int = 1  # shadow runs per system in a layout guard, all timed (no JIT to warm)
    layout_cover_permille: int = 800  # a layout guard shadows the slowest systems covering 80 % of them
    min_gain_permille: int = 100  # a candidate must be ≥ 10 % faster to be kept
    hot_share_permille: int = 20  # systems taking ≥ 2 % of the tick are considered
    budget_factor: float = 2.0  # no guarded tick may cost more than 2× the tick without the guard
    layout_guard_share: float = 0.5  # a layout guard adds at most this share of that budget a tick
    similar_size_factor: float = 1.6  # measurements within ×1.6 of the size count as "this size"
    ratio_drift_per_decade: float = 2.0  # how far a measured speed ratio may move per 10× of size
    retry_after_ticks: int = 200  # a kept (not faster) candidate is not retried sooner at this size
    warmup_samples: int = 1  # shadow runs not timed (first calls, caches)
    include_layout: bool = True  # the storage layout (soa/aos) is a candidate too, guarded alone
    layout_min_size: int = 2_000  # below this the layout is not worth a guard
    switch_horizon_ticks: int = 1_000  # a switch's cost (a layout conversion) is spread over this
    settle_ticks: int = 2  # ticks measured at a new size (or at start) before it is first checked
    history_max_entries: int = 1_000  # decisions kept in memory; the history file is compacted to
    # these once it holds twice as many, so a server that runs for weeks keeps both bounded


@dataclass(eq=False)
class Part:
    """One system shadowed inside a trial: the live variant's time and the shadow's, run by run."""

    system: str
    fn: SystemFn  # what runs on the shadow
    predicted_ms: float  # its extra cost a tick, until a run measures it
    runs: int = 0
    live_ms: list[float] = field(default_factory=list)
    shadow_ms: list[float] = field(default_factory=list)
    last_run: tuple[int, float] | None = None  # (size, ms) of the candidate's last run


@dataclass(eq=False)
class Trial:
    """One candidate under guard: a system's variant (one part), or a layout (a part per hot
    system, shadowed in that layout)."""

    system: str
    candidate: str
    current: str
    size: int
    parts: list[Part]
    base_ms: list[float] = field(default_factory=list)  # the ticks without the guard, meanwhile


@dataclass
class Guard:
    trials: list[Trial]
    started_tick: int
    ticks: int = 0


@dataclass(frozen=True)
class Candidate:
    system: str
    variant: str
    size: int
    current_ms: float
    expected_ms: float | None  # None: never measured at this size
    factor: float  # its time over the current one, as the guard's cost is predicted
    cost_ms: float  # what guarding it is predicted to add to a tick
    why: str


@dataclass
class _Run:
    """What one shadow run saw, handed from inside the tick to ``after_tick``."""

    trial: Trial
    part: Part
    size: int
    live_ms: float
    shadow_ms: float
    extra_ms: float  # everything the run added to the tick: copies, candidate, comparison
    differs: list[str]
    error: str | None


class Optimizer:
    """Drives one world's variants. Call ``after_tick(report)`` between ticks."""

    def __init__(
        self,
        world: World,
        config: OptimizerConfig | None = None,
        *,
        data: Path | None = None,
        forced: Mapping[str, str] | None = None,
        frozen: bool = False,
    ) -> None:
        self.world = world
        self.config = config or OptimizerConfig()
        self.data = data
        self.frozen = frozen
        self.frozen_at_start = frozen  # the control file may not unfreeze it
        self.forced: dict[str, str] = {}  # every forced system, whoever forced it
        self.forced_at_start: dict[str, str] = {}  # by the constructor: the control file keeps off
        self.forced_by_file: dict[str, str] = {}  # by the control file: the only ones it releases
        self._file_asked: dict[str, str] = {}  # what the control file asked for last time
        self.blacklist: set[tuple[str, str]] = set()
        self.guard: Guard | None = None
        self.history: list[dict[str, Any]] = []
        self._file_entries = 0  # decisions in the history file
        self.measured: dict[tuple[str, str], list[tuple[int, float]]] = {}  # (size, ms) samples
        self.ratios: dict[tuple[str, str, str], list[tuple[int, float]]] = {}  # (size, a/b) in shadows
        self.tried: dict[tuple[str, str], tuple[int, int]] = {}  # → (tick, size) of the last keep
        self.prepared: dict[tuple[str, str], float] = {}
        self.converted: dict[str, tuple[int, float]] = {}  # layout → (entities, ms) of its last conversion
        window = self.config.check_every_ticks * 2
        self._base: deque[float] = deque(maxlen=window)  # tick ms without the guard's own cost
        self._overhead: dict[str, tuple[int, float]] = {}  # system → (size, ms) of a shadow's copies
        self._regime: int | None = None  # the entity count the recent samples were taken around
        self._wrapped: dict[str, tuple[SystemFn, SystemFn]] = {}  # system → (original, wrapper)
        self._shadows: dict[str, _Shadow] = {}
        self._runs: list[_Run] = []
        self._clean = 0  # ticks since the size moved, a guard ran or a variant changed
        self._control_stamp: tuple[int, int] | None = None
        self._since_check = self.config.check_every_ticks - self.config.settle_ticks
        if data is not None:
            data.mkdir(parents=True, exist_ok=True)
            self.history = read_history(data / HISTORY_FILE)
            self._file_entries = len(self.history)
            del self.history[: max(0, len(self.history) - self.config.history_max_entries)]
            self._log(
                "start", None, None, None, "optimizer started", frozen=frozen, forced=dict(forced or {})
            )
        for system, variant in (forced or {}).items():
            self.force(system, variant, why="forced at start")
            self.forced_at_start[system] = variant
        self._read_control(force=True)

    # -- what can be chosen: every system's variants, and the storage layout -----------------------
    def choices(self) -> dict[str, list[str]]:
        table = dict(self.world.variants())
        if self.config.include_layout:
            table[LAYOUT] = list(LAYOUTS)
        return table

    def current(self, system: str) -> str:
        return self.world.default_layout if system == LAYOUT else self.world.schedule.get(system).variant

    def _apply(self, system: str, variant: str) -> str:
        if system == LAYOUT:
            before = self.world.default_layout
            t0 = self.world.clock()
            self.world.set_layout(variant)
            if variant != before:
                self.converted[variant] = (self.world.entity_count, (self.world.clock() - t0) / 1e6)
            return before
        return self.world.set_variant(system, variant)

    def _suits(self, system: str, variant: str, size: int) -> bool:
        if system == LAYOUT:
            return size >= self.config.layout_min_size
        return self.world.schedule.variants(system)[variant].suits(size)

    def _kind(self, system: str, variant: str) -> str:
        return "layout" if system == LAYOUT else self.world.schedule.variants(system)[variant].kind

    def _size(self, system: str) -> int:
        return self.world.entity_count if system == LAYOUT else self.world.system_size(system)

    def _live_fn(self, system: str) -> SystemFn:
        """The implementation the live world runs for ``system`` (under any shadow wrapper)."""
        if system in self._wrapped:
            return self._wrapped[system][0]
        return self.world.schedule.get(system).fn

    # -- control ---------------------------------------------------------------------------------
    def force(self, system: str, variant: str, why: str = "forced by an operator") -> None:
        variants = self.choices().get(system, [])
        if variant not in variants:
            raise EngineError(f"system {system!r} has no variant {variant!r} (has {sorted(variants)})")
        self._prepare(system, variant)
        if self.guard is not None:
            self._end_guard()
        before = self._apply(system, variant)
        self._clean = 0
        self.forced[system] = variant
        self._log("force", system, before, variant, why)

    def release(self, system: str, why: str = "no longer forced") -> None:
        self.forced_at_start.pop(system, None)
        self.forced_by_file.pop(system, None)
        if self.forced.pop(system, None) is not None:
            self._log("release", system, None, None, why)

    def freeze(self, frozen: bool = True, why: str = "by an operator") -> None:
        if frozen != self.frozen:
            self.frozen = frozen
            self._end_guard()
            self._log("freeze" if frozen else "unfreeze", None, None, None, why)

    def _read_control(self, force: bool = False) -> None:
        """Apply ``optimizer.json`` (written by ``ouroboros optimizer freeze|force``) when it changed."""
        if self.data is None:
            return
        path = self.data / CONTROL_FILE
        try:
            st = os.stat(path)
        except OSError:
            return
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp == self._control_stamp and not force:
            return
        self._control_stamp = stamp
        control = read_control(path)
        # started frozen (--optimizer off): the file may freeze, never unfreeze
        self.freeze(bool(control.get("frozen")) or self.frozen_at_start, why="control file")
        wanted: dict[str, str] = dict(control.get("forced", {}))
        asked_before, self._file_asked = self._file_asked, wanted
        for system, variant in wanted.items():
            if system not in self.choices():
                continue
            if system in self.forced_at_start:
                if variant != self.forced_at_start[system] and asked_before.get(system) != variant:
                    self._log(
                        "refused",
                        system,
                        self.forced_at_start[system],
                        variant,
                        "forced at start; the control file cannot change it",
                    )
                continue
            if self.forced.get(system) != variant:
                try:
                    self.force(system, variant, why="control file")
                except EngineError as exc:
                    self._log("refused", system, None, variant, exc.message)
                    continue
            self.forced_by_file[system] = variant
        for system in [s for s in self.forced_by_file if s not in wanted]:
            self.release(system, why="released by the control file")

    # -- the loop --------------------------------------------------------------------------------
    def prepare_all(self) -> dict[str, float]:
        """Run every variant's ``prepare`` now (outside any tick); returns the cost in ms of each."""
        costs = {}
        for system, names in self.world.variants().items():
            for name in names:
                costs[f"{system}={name}"] = self._prepare(system, name)
        return costs

    def _prepare(self, system: str, variant: str) -> float:
        key = (system, variant)
        if system == LAYOUT:
            return 0.0
        if key not in self.prepared:
            spec = self.world.schedule.variants(system)[variant]
            t0 = self.world.clock()
            if spec.prepare is not None:
                spec.prepare()
            self.prepared[key] = (self.world.clock() - t0) / 1e6
        return self.prepared[key]

    def after_tick(self, report: TickReport) -> None:
        """Between two ticks: feed the guard, or look for a better variant every few ticks."""
        runs, self._runs = self._runs, []
        self._track(sum(r.extra_ms for r in runs), shadowed=bool(runs))
        self._read_control()
        if self.guard is not None:
            self._advance_guard(runs)
            return
        if self.frozen:
            return
        self._since_check += 1
        if self._since_check < self.config.check_every_ticks or self._clean < self.config.settle_ticks:
            return
        self._since_check = 0
        self._record_live()
        candidates = self._choose()
        if candidates:
            self._start_guard(candidates)

    def _track(self, extra_ms: float, shadowed: bool) -> None:
        """Per tick, and cheap: the tick without the guard's cost, and how many ticks since the
        size moved, a guard ran or a variant changed (the profiler's samples there are clean)."""
        last = self.world.profiler.last(TICK)
        if last is None:
            return
        count, f = self.world.entity_count, self.config.similar_size_factor
        if self._regime is None or not self._regime / f <= count <= self._regime * f:
            # a new size: what was measured before no longer describes a tick here, and this
            # tick, which made the change, describes none
            self._regime = count
            self._base.clear()
            self._clean = 0
            self._since_check = self.config.check_every_ticks - self.config.settle_ticks - 1
            return
        self._base.append(last / 1e6 - extra_ms)
        self._clean = 0 if shadowed else self._clean + 1

    def _record_live(self) -> None:
        """At a check: each current variant's recent clean time, at its size."""
        for system in self.choices():
            ms = self._system_ms(system)
            if ms:
                self._note(self.measured, (system, self.current(system)), self._size(system), ms)

    @staticmethod
    def _note(table: dict[Any, list[tuple[int, float]]], key: Any, size: int, value: float) -> None:
        samples = table.setdefault(key, [])
        samples.append((size, value))
        if len(samples) > 512:
            del samples[:-256]  # the latest 256 to 512 samples are kept

    # -- analyzer --------------------------------------------------------------------------------
    def _tick_ms(self) -> float:
        return float(statistics.median(self._base)) if self._base else 0.0

    def _system_ms(self, system: str) -> float:
        """A system's median over its recent clean ticks (the whole tick for the layout)."""
        if system == LAYOUT:
            return self._tick_ms()
        n = min(self._clean, self.config.check_every_ticks * 2)
        samples = self.world.profiler.recent(system, n).tolist() if n else None
        return float(statistics.median(samples)) / 1e6 if samples else 0.0

    def analyze(self) -> dict[str, Any]:
        tick_ms = self._tick_ms()
        counts = self.world.profiler.recent(ENTITIES, self.config.check_every_ticks * 2).tolist()
        trend = (counts[-1] - counts[0]) / max(1, len(counts) - 1) if len(counts) >= 2 else 0.0
        systems = {}
        for system, names in self.choices().items():
            ms, size, current = self._system_ms(system), self._size(system), self.current(system)
            others = {}
            for name in names:
                if name != current:
                    others[name] = {
                        "expected_ms": self._estimate(system, name, size),
                        "ratio_bounds": self._bounds(system, name, current, size),
                        "switch_cost_ms": self._switch_cost(system, name, size),
                        "prepare_ms": self.prepared.get((system, name)),
                        "blacklisted": (system, name) in self.blacklist,
                    }
            systems[system] = {
                "variant": current,
                "ms": ms,
                "share_permille": int(ms * 1000 / tick_ms) if tick_ms else 0,
                "size": size,
                "others": others,
            }
        return {"tick_ms": tick_ms, "entity_trend_per_tick": trend, "systems": systems}

    def _switch_cost(self, system: str, variant: str, size: int) -> float | None:
        """What switching to ``variant`` would still cost, in ms, if known: for a layout its
        conversion (paid at every switch; the last one scaled to ``size``). A variant's
        ``prepare`` (a JIT compile) is paid once per process, up front (``prepare_all``) or
        between two ticks when a guard starts; once paid it is sunk, whatever is chosen next."""
        if system == LAYOUT:
            if variant not in self.converted:
                return None
            at_size, ms = self.converted[variant]
            return ms * max(size, 1) / max(at_size, 1)
        return 0.0 if (system, variant) in self.prepared else None

    def _amortised(self, cost_ms: float | None) -> float:
        """A switch cost spread over ``switch_horizon_ticks``, in ms a tick."""
        return (cost_ms or 0.0) / max(1, self.config.switch_horizon_ticks)

    def _estimate(self, system: str, variant: str, size: int) -> float | None:
        f = self.config.similar_size_factor
        near = [ms for n, ms in self.measured.get((system, variant), ()) if size / f <= max(n, 1) <= size * f]
        return float(statistics.median(near)) if near else None

    def _ratio_points(self, system: str, a: str, b: str) -> list[tuple[float, float]]:
        """(log10 size, log ratio a/b) per size class: from shadows (both on the same input), or
        else from live times of both measured at similar sizes."""
        f = self.config.similar_size_factor
        paired = self.ratios.get((system, a, b))
        if paired:
            pairs = paired
        else:
            pairs = []
            for n, ms in self.measured.get((system, a), ()):
                other = self._estimate(system, b, n)
                if other:
                    pairs.append((n, ms / other))
        points: list[tuple[float, float]] = []
        group: list[tuple[int, float]] = []
        for n, r in [*sorted(pairs), (-1, 0.0)]:
            if group and (n < 0 or n > group[0][0] * f):
                sizes = [max(m, 1) for m, _ in group]
                ratio = statistics.median(q for _, q in group)
                if ratio > 0:
                    points.append((math.log10(statistics.median(sizes)), math.log(ratio)))
                group = []
            group.append((n, r))
        return points

    def _bounds(self, system: str, candidate: str, current: str, size: int) -> tuple[float, float] | None:
        """How much slower (> 1) or faster (< 1) than ``current`` the candidate can be at ``size``,
        from the ratios measured elsewhere: the nearest one, or the trend when there are ratios at
        sizes half a decade apart or more, widened for each decade between here and there."""
        points = self._ratio_points(system, candidate, current)
        if not points:
            return None
        x = math.log10(max(size, 1))
        drift = math.log(self.config.ratio_drift_per_decade)
        distance = min(abs(x - px) for px, _ in points)
        xs = [px for px, _ in points]
        if max(xs) - min(xs) >= 0.5:
            mx, my = statistics.fmean(xs), statistics.fmean(py for _, py in points)
            slope = sum((px - mx) * (py - my) for px, py in points) / sum((px - mx) ** 2 for px in xs)
            slope = max(-drift, min(drift, slope))  # no faster than the drift it is allowed
            centre, spread = my + slope * (x - mx), drift / 2 * distance
        else:
            centre = min(points, key=lambda p: abs(x - p[0]))[1]
            spread = drift * distance
        return math.exp(centre - spread), math.exp(centre + spread)

    def _choose(self) -> list[Candidate]:
        """The best candidate of every hot system; as many guarded together as the budget allows
        (the layout, which shadows every hot system, alone)."""
        analysis = self.analyze()
        tick_ms = analysis["tick_ms"]
        budget = (self.config.budget_factor - 1) * tick_ms
        found: list[Candidate] = []
        for system, info in analysis["systems"].items():
            if system in self.forced or info["share_permille"] < self.config.hot_share_permille:
                continue
            best: Candidate | None = None
            for name, other in info["others"].items():
                c = self._consider(system, name, info, other, budget)
                if c is not None and (best is None or _rank(c) > _rank(best)):
                    best = c
            if best is not None:
                found.append(best)
        found.sort(key=_rank, reverse=True)
        chosen: list[Candidate] = []
        spent = 0.0
        for c in found:
            if c.system == LAYOUT or any(o.system == LAYOUT for o in chosen):
                if not chosen:
                    return [c]
                continue
            if spent + c.cost_ms <= budget:
                chosen.append(c)
                spent += c.cost_ms
        return chosen

    def _consider(
        self, system: str, name: str, info: dict[str, Any], other: dict[str, Any], budget: float
    ) -> Candidate | None:
        """``name`` as a candidate for ``system``, or ``None`` when the rules rule it out."""
        size, current_ms = info["size"], info["ms"]
        if other["blacklisted"] or self._tried_recently(system, name, size):
            return None
        if system == LAYOUT and not self._suits(system, name, size):
            return None  # too small for a layout to matter, whatever was measured
        gain_needed = 1 - self.config.min_gain_permille / 1000
        amortised = self._amortised(other["switch_cost_ms"])
        if amortised >= current_ms * gain_needed:
            return None  # even a free run would not pay for the switch
        expected, bounds = other["expected_ms"], other["ratio_bounds"]
        ranked: float | None = None
        if bounds is not None and (expected is None or (system, name, self.current(system)) in self.ratios):
            # ratios measured side by side on the same input beat times taken at other moments
            low, high = bounds
            if low * current_ms + amortised >= current_ms * gain_needed:
                return None  # measured slower, here or by more than the size since could change
            factor = high
            if high <= low * self.config.similar_size_factor:  # measured about here
                ranked = math.sqrt(low * high) * current_ms + amortised
            why = (
                f"measured side by side; predicted {low:.2f} to {high:.2f} times its time at {size} entities"
            )
        elif expected is not None:
            if expected + amortised >= current_ms * gain_needed:
                return None  # measured here and not better enough, the switch paid for
            factor = expected / current_ms if current_ms else 1.0
            why = f"measured {expected:.3f} ms against {current_ms:.3f} ms at about {size} entities"
            ranked = expected + amortised
        elif self._suits(system, name, size):
            factor, ranked = gain_needed, None
            why = f"unmeasured at {size} entities; its hint ({self._kind(system, name)}) suits this size"
        else:
            return None
        if system == LAYOUT:
            parts = self._layout_parts()
            if not parts:
                return None
            cost = max(self._system_ms(p) * factor + self._copy_ms(p) for p in parts)
        else:
            cost = current_ms * factor + self._copy_ms(system)
        if cost > budget:
            return None  # a guard run here would cost more than the tick budget allows
        if amortised and ranked is not None:
            why += f" (switch cost {amortised:.3f} ms a tick)"
        return Candidate(system, name, size, current_ms, ranked, factor, cost, why)

    def _copy_ms(self, system: str) -> float:
        """A shadow's copies and comparison for ``system`` at its size now: from its last run at
        a similar size, else from the bytes it would copy (``COPY_MS_FIXED`` + ``COPY_NS_PER_BYTE``,
        rough and on the safe side)."""
        size = max(self.world.system_size(system), 1)
        last = self._overhead.get(system)
        f = self.config.similar_size_factor
        if last is not None and last[0] / f <= size <= last[0] * f:
            return last[1] * size / max(last[0], 1)
        spec = self.world.schedule.get(system)
        seen = spec.reads | spec.writes
        row_bytes = [
            a.count
            * (8 + sum(col.dtype.itemsize for k, col in a.columns.items() if k.partition(".")[0] in seen))
            for a in self.world._archetypes
            if any(a.has(c) for c in seen)
        ]
        scratch = sum(v.nbytes for v in self.world.scratch.values() if isinstance(v, np.ndarray))
        return COPY_MS_FIXED + (sum(row_bytes) + scratch) * COPY_NS_PER_BYTE / 1e6

    def _layout_parts(self) -> list[str]:
        """The systems a layout guard shadows: of the hot systems whose speed a layout can change
        (those that declare component access), the slowest, until they cover
        ``layout_cover_permille`` of the time of them all (in schedule order)."""
        tick_ms = self._tick_ms()
        hot = {}
        for phase in TICK_PHASES:
            for spec in self.world.schedule.phase(phase):
                ms = self._system_ms(spec.name)
                if (
                    (spec.reads or spec.writes)
                    and tick_ms
                    and ms * 1000 / tick_ms >= self.config.hot_share_permille
                ):
                    hot[spec.name] = ms
        chosen, covered, total = set(), 0.0, sum(hot.values())
        for name, ms in sorted(hot.items(), key=lambda kv: -kv[1]):
            if covered >= total * self.config.layout_cover_permille / 1000:
                break
            chosen.add(name)
            covered += ms
        return [name for name in hot if name in chosen]

    def _tried_recently(self, system: str, variant: str, size: int) -> bool:
        last = self.tried.get((system, variant))
        if last is None:
            return False
        tick, at_size = last
        f = self.config.similar_size_factor
        similar = at_size / f <= max(size, 1) <= at_size * f
        return similar and self.world.tick - tick < self.config.retry_after_ticks

    # -- rewriter --------------------------------------------------------------------------------
    def _start_guard(self, candidates: list[Candidate]) -> None:
        trials = []
        for c in candidates:
            current = self.current(c.system)
            if c.system == LAYOUT:
                parts = [
                    Part(s, self._live_fn(s), self._system_ms(s) * c.factor + self._copy_ms(s))
                    for s in self._layout_parts()
                ]
            else:
                self._prepare(c.system, c.variant)
                fn = self.world.schedule.variants(c.system)[c.variant].fn
                parts = [Part(c.system, fn, c.cost_ms)]
            trials.append(Trial(c.system, c.variant, current, c.size, parts))
            self._log("guard", c.system, current, c.variant, c.why, size=c.size, cost_ms=c.cost_ms)
        self.guard = Guard(trials, self.world.tick)
        self._plan()

    def _advance_guard(self, runs: list[_Run]) -> None:
        g = self.guard
        assert g is not None
        self._unwrap()
        g.ticks += 1
        if not self._base:  # the size moved: nothing measured before says what a tick costs now
            for t in list(g.trials):
                self._abort(t, f"the population moved to {self.world.entity_count} entities mid-guard")
            return
        budget = (self.config.budget_factor - 1) * self._tick_ms()
        ran: list[Trial] = []
        cost = 0.0  # what the candidates cost this tick, with their usual copies (a one-off pause
        # in a copy, such as a garbage collection, is no fault of theirs)
        for r in runs:
            if r.trial not in g.trials:
                continue
            if r.error is not None or r.differs:
                self._guard_failed(r)
                continue
            p = r.part
            p.runs += 1
            p.last_run = (r.size, r.shadow_ms)
            self._overhead[p.system] = (r.size, max(0.0, r.extra_ms - r.shadow_ms))
            cost += r.shadow_ms + self._copy_ms(p.system)
            warmup = 0 if r.trial.system == LAYOUT else self.config.warmup_samples
            if p.runs > warmup:
                p.live_ms.append(r.live_ms)
                p.shadow_ms.append(r.shadow_ms)
            elif r.shadow_ms > budget:  # an over-budget warm-up is what a switch would pay: remember it
                self._note(self.measured, (r.trial.system, r.trial.candidate), r.size, r.shadow_ms)
            if r.trial not in ran:
                ran.append(r.trial)
        for t in ran:
            if t.system == LAYOUT and self._base:
                t.base_ms.append(self._base[-1])
        if cost > budget:
            for t in ran:
                self._abort(t, f"a guarded tick cost {cost:.2f} ms more, over the budget of {budget:.2f} ms")
        for t in [t for t in g.trials if all(p.runs >= self._runs_needed(t) for p in t.parts)]:
            g.trials.remove(t)
            self._decide(t, g.ticks)
        self._plan()

    def _plan(self) -> None:
        """Wrap, for the next tick, the systems each trial shadows; a trial whose next run is
        predicted over the budget is aborted before it runs."""
        g = self.guard
        if g is None:
            return
        budget = (self.config.budget_factor - 1) * self._tick_ms()
        spent = 0.0
        for t in list(g.trials):
            todo = [p for p in t.parts if p.runs < self._runs_needed(t)]
            limit = budget * (self.config.layout_guard_share if t.system == LAYOUT else 1.0)
            if not any(p.last_run for p in t.parts):
                limit = 0.0  # a first run alone: it tells how far off the predictions are
            planned: list[Part] = []
            for p in todo:
                cost = self._predict(p, t)
                if planned and spent + cost > limit:
                    continue
                if spent + cost > budget:
                    break
                planned.append(p)
                spent += cost
            if not planned:
                self._abort(
                    t,
                    f"its next run is predicted at {self._predict(todo[0], t):.2f} ms, over the "
                    f"{budget - spent:.2f} ms the tick budget has left",
                )
                continue
            layout = t.candidate if t.system == LAYOUT else self.world.default_layout
            for p in planned:
                self._wrap(t, p, layout)
        if not g.trials:
            self._end_guard()

    def _runs_needed(self, t: Trial) -> int:
        return self.config.layout_guard_runs if t.system == LAYOUT else self.config.guard_ticks

    def _predict(self, p: Part, t: Trial) -> float:
        """What a part's next run will add to its tick: its last run scaled to the size now, with
        the usual copies; before any run, what the rules predicted, corrected by how far off they
        were for the trial's parts that ran."""
        if p.last_run is None:
            off = [
                (q.last_run[1] + self._copy_ms(q.system)) / max(q.predicted_ms, 1e-6)
                for q in t.parts
                if q.last_run
            ]
            return p.predicted_ms * max(1.0, statistics.median(off) if off else 1.0)
        at_size, ms = p.last_run
        scale = self.world.system_size(p.system) / at_size if at_size else 1.0
        return ms * scale + self._copy_ms(p.system)

    def _wrap(self, trial: Trial, part: Part, layout: str) -> None:
        system = part.system
        live_fn = self._live_fn(system)

        def shadowed(world: World) -> None:
            if world is not self.world:  # a fork of the live world copied the wrapper: no shadow there
                live_fn(world)
                return
            self._shadow_run(world, trial, part, live_fn, layout)

        self._wrapped[system] = (live_fn, shadowed)
        self.world.schedule.replace_impl(system, shadowed)

    def _unwrap(self) -> None:
        for system, (original, wrapper) in self._wrapped.items():
            if self.world.schedule.get(system).fn is wrapper:  # unless someone set it since
                self.world.schedule.replace_impl(system, original)
        self._wrapped.clear()

    def _end_guard(self) -> None:
        self._unwrap()
        self.guard = None
        self._shadows.clear()
        self._runs.clear()

    def _shadow_run(self, world: World, trial: Trial, part: Part, live_fn: SystemFn, layout: str) -> None:
        """Inside the live tick: the live variant as usual, then the shadow on a copy of its input."""
        t0 = world.clock()
        spec = world.schedule.get(part.system)
        shadow = self._shadows.get(layout)
        if shadow is None:
            shadow = self._shadows[layout] = _Shadow(world, layout)
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
        self._runs.append(_Run(trial, part, size, live_ms, (t3 - t2) / 1e6, extra, differs, error))

    def _abort(self, t: Trial, why: str) -> None:
        g = self.guard
        if g is None or t not in g.trials:
            return
        g.trials.remove(t)
        self._remember(t)
        self.tried[(t.system, t.candidate)] = (self.world.tick, t.size)
        self._log("abort", t.system, t.current, t.candidate, why, size=t.size)
        if not g.trials:
            self._end_guard()

    def _measure(self, t: Trial) -> tuple[float | None, float | None]:
        """(current, candidate) ms: a variant's own times; a layout's whole tick, the guard's
        systems' differences added to the tick as it was meanwhile."""
        timed = [p for p in t.parts if p.live_ms]
        if not timed:
            return None, None
        if t.system != LAYOUT:
            return statistics.median(timed[0].live_ms), statistics.median(timed[0].shadow_ms)
        before = statistics.median(t.base_ms) if t.base_ms else self._tick_ms()
        delta = sum(statistics.median(p.shadow_ms) - statistics.median(p.live_ms) for p in timed)
        return before, before + delta

    def _remember(self, t: Trial) -> None:
        before, after = self._measure(t)
        if before is None or after is None or (t.system == LAYOUT and not all(p.live_ms for p in t.parts)):
            return  # nothing timed, or a layout judged on some of its systems only
        self._note(self.measured, (t.system, t.candidate), t.size, after)
        if before > 0 and after > 0:
            self._note(self.ratios, (t.system, t.candidate, t.current), t.size, after / before)
            self._note(self.ratios, (t.system, t.current, t.candidate), t.size, before / after)

    def _decide(self, t: Trial, ticks: int) -> None:
        self._remember(t)
        before, after = self._measure(t)
        amortised = self._amortised(self._switch_cost(t.system, t.candidate, t.size))
        faster = (
            before is not None
            and after is not None
            and after + amortised <= before * (1 - self.config.min_gain_permille / 1000)
        )
        if faster and not self.frozen and t.system not in self.forced:
            self._apply(t.system, t.candidate)
            self._clean = 0
            # the variant left is not guarded back at this size on the strength of a noisy sample
            self.tried[(t.system, t.current)] = (self.world.tick, t.size)
            self._log(
                "switch",
                t.system,
                t.current,
                t.candidate,
                f"outputs identical over {ticks} ticks and {before:.3f} → {after:.3f} ms",
                size=t.size,
                before_ms=before,
                after_ms=after,
                switch_cost_ms_per_tick=amortised or None,
            )
        else:
            self.tried[(t.system, t.candidate)] = (self.world.tick, t.size)
            self._log(
                "keep",
                t.system,
                t.current,
                t.candidate,
                "outputs identical but not faster enough" if before is not None else "no timing",
                size=t.size,
                before_ms=before,
                after_ms=after,
            )

    def _guard_failed(self, r: _Run) -> None:
        t = r.trial
        g = self.guard
        if g is not None and t in g.trials:
            g.trials.remove(t)
        self.blacklist.add((t.system, t.candidate))
        what = f"raised {r.error}" if r.error else f"differs in {', '.join(r.differs)}"
        report = {
            "system": t.system,
            "variant": t.candidate,
            "current": t.current,
            "shadowed_system": r.part.system,
            "tick": self.world.tick,
            "guard_started_at": g.started_tick if g is not None else None,
            "differing_sections": r.differs,
            "error": r.error,
            "size": r.size,
        }
        path = None
        if self.data is not None:
            folder = self.data / "optimizer-diagnostics"
            folder.mkdir(exist_ok=True)
            path = folder / f"tick{self.world.tick}-{t.system}-{t.candidate}.json"
            path.write_text(json.dumps(report, indent=2) + "\n")
        self._log(
            "guard_failed",
            t.system,
            t.current,
            t.candidate,
            f"the shadow of {r.part.system} at tick {self.world.tick} {what}; "
            "dropped (the live world never ran it) and blacklisted for this session",
            size=t.size,
            report=report,
            report_file=str(path) if path else None,
        )

    # -- history ---------------------------------------------------------------------------------
    def _log(
        self, kind: str, system: str | None, before: str | None, after: str | None, why: str, **measures: Any
    ) -> None:
        entry = {
            "tick": self.world.tick,
            "kind": kind,
            "system": system,
            "from": before,
            "to": after,
            "why": why,
            **{k: v for k, v in measures.items() if v is not None},
        }
        self.history.append(entry)
        keep = self.config.history_max_entries
        del self.history[: max(0, len(self.history) - keep)]
        if self.data is not None:
            path = self.data / HISTORY_FILE
            self._file_entries += 1
            if self._file_entries > 2 * keep:  # compact: the newest ``keep`` decisions, atomically
                tmp = path.with_name(path.name + ".tmp")
                tmp.write_text("".join(json.dumps(e, sort_keys=True) + "\n" for e in self.history), "utf-8")
                os.replace(tmp, path)
                self._file_entries = len(self.history)
                return
            with open(path, "a", encoding="utf-8") as f:
                f.write(json.dumps(entry, sort_keys=True) + "\n")

    def status(self) -> dict[str, Any]:
        return {
            "frozen": self.frozen,
            "forced": dict(self.forced),
            "variants": {**self.world.active_variants(), LAYOUT: self.world.default_layout},
            "guard": None
            if self.guard is None
            else {
                "candidates": {t.system: t.candidate for t in self.guard.trials},
                "ticks": self.guard.ticks,
            },
            "blacklist": sorted(f"{s}={v}" for s, v in self.blacklist),
            "decisions": len(self.history),
        }


class _Shadow:
    """A private world holding copies of what one system may see at one point of a live tick, in
    a chosen layout. It shares only what a system cannot change inside a tick (the schedule, the
    entity table, component and input registrations); it never steps."""

    def __init__(self, live: World, layout: str) -> None:
        w = object.__new__(World)
        w.__dict__.update(live.__dict__)
        w.profiler = Profiler(1)
        w.commands = Commands()
        w._pending = []
        w._archetypes = []
        w._by_signature = {}
        w._query_cache = {}
        w._layout_default = layout
        w.last_digest = None
        self.world = w
        self.layout = layout

    def _mirror(self, arch: Archetype, rows: int) -> Archetype:
        mirror = Archetype(arch.components, capacity=max(1, rows + rows // 4))
        mirror.set_layout(self.layout)
        return mirror

    def sync(self, live: World, spec: SystemSpec) -> None:
        """Copy what ``spec`` may see, as the live world holds it now."""
        w = self.world
        seen = spec.reads | spec.writes
        if len(w._archetypes) != len(live._archetypes):
            w._archetypes.extend(self._mirror(a, a.count) for a in live._archetypes[len(w._archetypes) :])
            w._by_signature, w._query_cache = dict(live._by_signature), {}
        for i, arch in enumerate(live._archetypes):
            n = arch.count
            m = w._archetypes[i]
            if m.capacity < n:
                m = w._archetypes[i] = self._mirror(arch, n)
            m.count = n
            m.ids[:n] = arch.ids[:n]
            if any(arch.has(c) for c in seen):
                for key, col in arch.columns.items():
                    if key.partition(".")[0] in seen:
                        m.columns[key][:n] = col[:n]
        w.tick, w.started, w._entities, w.schedule = live.tick, live.started, live._entities, live.schedule
        w.resources = _copy(live.resources)
        w.meta = _copy(live.meta)
        w.scratch = _copy(live.scratch)
        w.commands = Commands()
        w._running, w._in_tick = spec, True

    def differences(self, live: World, spec: SystemSpec, commands_from: int) -> list[str]:
        """What the system left differently here and in the live world (empty: identical)."""
        w = self.world
        out: list[str] = []
        for i, arch in enumerate(live._archetypes):
            mirror = w._archetypes[i]
            for key in arch.columns:
                if key.partition(".")[0] not in spec.writes or key in out:
                    continue
                if mirror.count != arch.count or not np.array_equal(arch.view(key), mirror.view(key)):
                    out.append(key)
        if not _plain_equal(live.resources, w.resources):
            out.append("resources")
        if not _plain_equal(live.meta, w.meta):
            out.append("meta")
        if not _same(live.commands._queue[commands_from:], w.commands._queue):
            out.append("commands")
        for key in sorted(set(live.scratch) | set(w.scratch)):
            if (
                key not in live.scratch
                or key not in w.scratch
                or not _same(live.scratch[key], w.scratch[key])
            ):
                out.append(f"scratch:{key}")
        return out


def _copy(value: Any) -> Any:
    """A deep copy of plain data, arrays and dataclasses of them (``copy.deepcopy`` for anything
    else), without ``deepcopy``'s bookkeeping: scalars and strings are shared, being immutable."""
    kind = type(value)
    if kind in (int, str, bool, float, type(None)):
        return value
    if kind is dict:
        return {k: _copy(v) for k, v in value.items()}
    if kind is list:
        return [_copy(v) for v in value]
    if kind is tuple:
        return tuple(_copy(v) for v in value)
    if kind is np.ndarray:
        return value.copy()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.replace(
            value, **{f.name: _copy(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}
        )
    return copy.deepcopy(value)


def _plain_equal(a: Any, b: Any) -> bool:
    """``==`` for plain data (fast, in C), ``_same`` where that is not enough."""
    try:
        return bool(a == b) and type(a) is type(b)
    except (TypeError, ValueError):
        return _same(a, b)


def _same(a: Any, b: Any) -> bool:
    """Bit-for-bit equality of plain data, arrays and dataclasses of them."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.shape == b.shape
            and bool(np.array_equal(a, b))
        )
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(map(_same, a, b))
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        return type(a) is type(b) and all(
            _same(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a)
        )
    if type(a).__eq__ is object.__eq__ and hasattr(a, "__dict__"):  # a copy is never `is` the original
        return type(a) is type(b) and _same(vars(a), vars(b))
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


def _rank(c: Candidate) -> tuple[int, float]:
    """Measured gains first (biggest first), then the others by the current time."""
    if c.expected_ms is not None:
        return (1, c.current_ms - c.expected_ms)
    return (0, c.current_ms)


def read_history(path: Path) -> list[dict[str, Any]]:
    """The decisions recorded in a history file (a torn last line from a crash is skipped)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    out = []
    for line in lines:
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(entry, dict):
            out.append(entry)
    return out


def read_control(path: Path) -> dict[str, Any]:
    """``{"frozen": bool, "forced": {system: variant}}``; unreadable means frozen (fail safe)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"frozen": True, "forced": {}}
    if not isinstance(doc, dict):
        return {"frozen": True, "forced": {}}
    forced = doc.get("forced", {})
    if not isinstance(forced, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in forced.items()
    ):
        return {"frozen": True, "forced": {}}
    return {"frozen": bool(doc.get("frozen", False)), "forced": forced}
