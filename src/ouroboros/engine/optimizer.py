"""The engine that rewrites itself: analyzer, optimizer and rewriter over system variants.

A world's hot systems may have several implementations (``Variant``), bit-identical by contract.
``Optimizer`` watches the profiler between ticks and swaps variants as the workload changes:

- **Analyzer** (``analyze``): which systems are hot (share of the tick), the trend of the entity
  count, and for every other variant its expected time at the current size — from what was
  measured (live, or in a guard) at a similar size — and the cost of switching (a ``prepare``
  such as a JIT compile, measured once).
- **Rules** (``_choose``), deterministic: a variant measured faster at this size by the gain
  threshold, after paying its switch cost amortised over ``switch_horizon_ticks``, wins; an
  unmeasured variant is tried only where its ``min_size``/``max_size`` hint says it suits the
  size; a variant known to be much slower is never guarded (its fork tick would blow the budget);
  a candidate a guard kept or aborted is not guarded again at a similar size for
  ``retry_after_ticks`` (measured or not: a noisy sample does not restart guards), nor is the
  variant a switch left.
- **Rewriter** (the guard): the candidate runs on a fork of the live world, one fork tick per
  live tick, fed exactly the live tick's inputs (the fork drops the inputs pending when it was
  made); every tick the fork's digest must equal the live one.
  After ``guard_ticks`` the candidate is kept only if its measured time beats the current
  variant's by ``min_gain_permille``; the swap happens at a tick boundary. A digest mismatch
  rolls back (the live world never ran the candidate), blacklists that variant of that system for
  the session and writes a diagnostic report. A fork tick over ``budget_factor`` × the live tick
  aborts the guard, the untimed warm-up tick included.
- **Control**: operators can freeze rewriting and force variants (a forced variant is applied at
  once and never rewritten). What the constructor is given (``--optimizer off``,
  ``--force-variant``) holds for the session: the control file may freeze but not unfreeze a
  world started frozen, may not change a variant forced at start, and releases only what it
  forced itself. Every decision — what, why, measured before and after — is appended to the
  history (a JSON-lines file when a path is given, read back at start so it survives a restart;
  each start is an entry, so a reader knows which decisions still hold).

The optimizer never touches world state: variants are bit-identical, guards run on forks, and all
timing happens between ticks. It imports nothing else of ours.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ouroboros.engine.errors import EngineError
from ouroboros.engine.profiler import ENTITIES, TICK
from ouroboros.engine.world import TickReport, World

CONTROL_FILE = "optimizer.json"
LAYOUT = "layout"  # the storage layout, chosen like a system's variant
LAYOUTS = ("soa", "aos")
HISTORY_FILE = "optimizer-history.jsonl"


@dataclass(frozen=True)
class OptimizerConfig:
    check_every_ticks: int = 8
    guard_ticks: int = 4
    min_gain_permille: int = 100  # a candidate must be ≥ 10 % faster to be kept
    hot_share_permille: int = 20  # systems taking ≥ 2 % of the tick are considered
    budget_factor: float = 2.0  # a guard tick may cost at most 2× the live tick's budget
    similar_size_factor: float = 1.6  # measurements within ×1.6 of the size count as "this size"
    retry_after_ticks: int = 200  # a kept (not faster) candidate is not retried sooner at this size
    warmup_samples: int = 1  # guard ticks not timed (first calls, caches)
    include_layout: bool = True  # the storage layout (soa/aos) is a candidate too, guarded alone
    layout_min_size: int = 2_000  # below this the layout is not worth a guard
    switch_horizon_ticks: int = 1_000  # a switch's cost (JIT compile, conversion) is spread over this


@dataclass
class Trial:
    """One system's candidate inside a guard, with the times measured live and on the fork."""

    system: str
    candidate: str
    current: str
    size: int
    live_ms: list[float] = field(default_factory=list)
    fork_ms: list[float] = field(default_factory=list)


@dataclass
class Guard:
    """A fork running candidates (one per system; several systems at once when the rules find
    several) alongside the live world."""

    trials: list[Trial]
    fork: World
    started_tick: int
    ticks: int = 0

    def systems(self) -> set[str]:
        return {t.system for t in self.trials}


@dataclass(frozen=True)
class Candidate:
    system: str
    variant: str
    size: int
    current_ms: float
    expected_ms: float | None  # None: never measured at this size
    why: str


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
        self.measured: dict[tuple[str, str], list[tuple[int, float]]] = {}
        self.tried: dict[tuple[str, str], tuple[int, int]] = {}  # → (tick, size) of the last keep
        # systems guarded one at a time: the layout (its timing is the whole tick) and any system
        # whose mixed guard once failed
        self.alone: set[str] = {LAYOUT}
        self.prepared: dict[tuple[str, str], float] = {}
        self.converted: dict[str, tuple[int, float]] = {}  # layout → (entities, ms) of its last conversion
        self._control_stamp: tuple[int, int] | None = None
        self._since_check = 0
        if data is not None:
            data.mkdir(parents=True, exist_ok=True)
            self.history = read_history(data / HISTORY_FILE)
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

    def current(self, system: str, world: World | None = None) -> str:
        w = world or self.world
        return w.default_layout if system == LAYOUT else w.schedule.get(system).variant

    def _apply(self, world: World, system: str, variant: str) -> str:
        if system == LAYOUT:
            before = world.default_layout
            world.set_layout(variant)
            return before
        return world.set_variant(system, variant)

    def _suits(self, system: str, variant: str, size: int) -> bool:
        if system == LAYOUT:
            return size >= self.config.layout_min_size
        return self.world.schedule.variants(system)[variant].suits(size)

    def _kind(self, system: str, variant: str) -> str:
        return "layout" if system == LAYOUT else self.world.schedule.variants(system)[variant].kind

    def _size(self, system: str) -> int:
        return self.world.entity_count if system == LAYOUT else self.world.system_size(system)

    @staticmethod
    def _sample(world: World, system: str) -> Any:
        return world.profiler.recent(TICK if system == LAYOUT else system, 1)

    # -- control ---------------------------------------------------------------------------------
    def force(self, system: str, variant: str, why: str = "forced by an operator") -> None:
        variants = self.choices().get(system, [])
        if variant not in variants:
            raise EngineError(f"system {system!r} has no variant {variant!r} (has {sorted(variants)})")
        self._prepare(system, variant)
        before = self._apply(self.world, system, variant)
        self.forced[system] = variant
        if self.guard is not None and system in self.guard.systems():
            self.guard = None
        self._log("force", system, before, variant, why)

    def release(self, system: str, why: str = "no longer forced") -> None:
        self.forced_at_start.pop(system, None)
        self.forced_by_file.pop(system, None)
        if self.forced.pop(system, None) is not None:
            self._log("release", system, None, None, why)

    def freeze(self, frozen: bool = True, why: str = "by an operator") -> None:
        if frozen != self.frozen:
            self.frozen = frozen
            self.guard = None
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
            t0 = time.perf_counter()
            if spec.prepare is not None:
                spec.prepare()
            self.prepared[key] = (time.perf_counter() - t0) * 1e3
        return self.prepared[key]

    def after_tick(self, report: TickReport) -> None:
        """Between two ticks: feed the guard, or look for a better variant every few ticks."""
        self._read_control()
        self._record_live()
        if self.guard is not None:
            self._advance_guard(report)
            return
        if self.frozen:
            return
        self._since_check += 1
        if self._since_check < self.config.check_every_ticks:
            return
        self._since_check = 0
        candidates = self._choose()
        if candidates:
            self._start_guard(candidates)

    def _record_live(self) -> None:
        for system in self.choices():
            last = self._sample(self.world, system)
            if last.size:
                key = (system, self.current(system))
                samples = self.measured.setdefault(key, [])
                samples.append((self._size(system), float(last[0]) / 1e6))
                del samples[:-256]

    # -- analyzer --------------------------------------------------------------------------------
    def analyze(self) -> dict[str, Any]:
        prof = self.world.profiler
        window = self.config.check_every_ticks * 2
        tick = prof.recent(TICK, window)
        tick_ms = float(statistics.median(tick.tolist())) / 1e6 if tick.size else 0.0
        counts = prof.recent(ENTITIES, window).tolist()
        trend = 0.0
        if len(counts) >= 2:
            trend = (counts[-1] - counts[0]) / max(1, len(counts) - 1)
        systems = {}
        for system, names in self.choices().items():
            recent = prof.recent(TICK if system == LAYOUT else system, window)
            ms = float(statistics.median(recent.tolist())) / 1e6 if recent.size else 0.0
            size = self._size(system)
            others = {}
            for name in names:
                if name == self.current(system):
                    continue
                others[name] = {
                    "expected_ms": self._estimate(system, name, size),
                    "switch_cost_ms": self._switch_cost(system, name, size),
                    "blacklisted": (system, name) in self.blacklist,
                }
            systems[system] = {
                "variant": self.current(system),
                "ms": ms,
                "share_permille": int(ms * 1000 / tick_ms) if tick_ms else 0,
                "size": size,
                "others": others,
            }
        return {"tick_ms": tick_ms, "entity_trend_per_tick": trend, "systems": systems}

    def _switch_cost(self, system: str, variant: str, size: int) -> float | None:
        """What switching to ``variant`` costs once, in ms, if known: its ``prepare`` (a JIT
        compile), or for a layout its last conversion on a guard's fork, scaled to ``size``."""
        if system == LAYOUT:
            if variant not in self.converted:
                return None
            at_size, ms = self.converted[variant]
            return ms * max(size, 1) / max(at_size, 1)
        return self.prepared.get((system, variant))

    def _amortised(self, cost_ms: float | None) -> float:
        """A switch cost spread over ``switch_horizon_ticks``, in ms a tick."""
        return (cost_ms or 0.0) / max(1, self.config.switch_horizon_ticks)

    def _estimate(self, system: str, variant: str, size: int) -> float | None:
        f = self.config.similar_size_factor
        near = [ms for n, ms in self.measured.get((system, variant), ()) if size / f <= max(n, 1) <= size * f]
        return float(statistics.median(near)) if near else None

    def _relative_elsewhere(self, system: str, candidate: str, current: str, size: int) -> float | None:
        """How the candidate compared with the current variant where both were measured at the
        size nearest to ``size`` (a ratio of times), if they ever were."""
        sizes = {n for n, _ in self.measured.get((system, candidate), ())}
        if not sizes:
            return None
        nearest = min(sizes, key=lambda n: abs(math.log(max(n, 1)) - math.log(max(size, 1))))
        cand = self._estimate(system, candidate, nearest)
        cur = self._estimate(system, current, nearest)
        if cand is None or not cur:
            return None
        return cand / cur

    def _choose(self) -> list[Candidate]:
        """The best candidate of every hot system, guarded together (a system that once failed
        in company is guarded alone)."""
        analysis = self.analyze()
        tick_ms = analysis["tick_ms"]
        chosen: list[Candidate] = []
        gain_needed = 1 - self.config.min_gain_permille / 1000
        extra_ms = 0.0
        for system, info in sorted(analysis["systems"].items(), key=lambda kv: -kv[1]["ms"]):
            if system in self.forced or info["share_permille"] < self.config.hot_share_permille:
                continue
            size, current_ms = info["size"], info["ms"]
            best: Candidate | None = None
            for name, other in info["others"].items():
                if other["blacklisted"] or self._tried_recently(system, name, size):
                    continue
                expected = other["expected_ms"]
                amortised = self._amortised(other["switch_cost_ms"])
                if amortised >= current_ms * gain_needed:
                    continue  # even a free tick would not pay for the switch
                if expected is not None:
                    if expected + amortised >= current_ms * gain_needed:
                        continue  # measured here and not better enough, the switch paid for
                    why = f"measured {expected:.3f} ms against {current_ms:.3f} ms at about {size} entities"
                    if amortised:
                        why += f" (switch cost {amortised:.3f} ms a tick)"
                    expected += amortised  # ranked by the net gain
                else:
                    if not self._suits(system, name, size):
                        continue
                    # measured slower at a nearby size: explore again only after the size moved
                    # a whole order of magnitude from there
                    ratio = self._relative_elsewhere(system, name, self.current(system), size)
                    if ratio is not None and ratio >= 1 + self.config.min_gain_permille / 1000:
                        sizes = [n for n, _ in self.measured.get((system, name), ())]
                        if any(size / 10 < n < size * 10 for n in sizes):
                            continue
                    kind = self._kind(system, name)
                    why = f"unmeasured at {size} entities; its hint ({kind}) suits this size"
                candidate = Candidate(system, name, size, current_ms, expected, why)
                if best is None or _rank(candidate) > _rank(best):
                    best = candidate
            if best is None:
                continue
            # never guard what would blow the tick budget (a known-slower variant)
            slower_by = (best.expected_ms - current_ms) if best.expected_ms is not None else 0.0
            if tick_ms and (tick_ms + extra_ms + slower_by) > tick_ms * self.config.budget_factor:
                continue
            if system in self.alone or any(c.system in self.alone for c in chosen):
                if not chosen:
                    return [best]
                continue
            extra_ms += max(slower_by, 0.0)
            chosen.append(best)
        return chosen

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
        fork = self.world.fork()
        # The fork copied the inputs pending now; the live tick will apply them and
        # ``_advance_guard`` hands the fork exactly those, so the fork must not hold them twice.
        fork._pending.clear()
        trials = []
        for c in candidates:
            self._prepare(c.system, c.variant)
            t0 = time.perf_counter()
            self._apply(fork, c.system, c.variant)
            if c.system == LAYOUT:
                self.converted[c.variant] = (c.size, (time.perf_counter() - t0) * 1e3)
            current = self.current(c.system)
            trials.append(Trial(c.system, c.variant, current, c.size))
            self._log("guard", c.system, current, c.variant, c.why, size=c.size)
        self.guard = Guard(trials, fork, self.world.tick)

    def _advance_guard(self, report: TickReport) -> None:
        g = self.guard
        assert g is not None
        for inp in report.inputs:
            g.fork.submit(inp.kind, inp.payload)
        t0 = time.perf_counter_ns()
        fork_report = g.fork.step()
        fork_tick_ms = (time.perf_counter_ns() - t0) / 1e6
        g.ticks += 1
        live = report.digest if report.digest is not None else self.world.digest()
        theirs = fork_report.digest if fork_report.digest is not None else g.fork.digest()
        if live.combined != theirs.combined:
            self._guard_failed(g, live, theirs)
            return
        timed = g.ticks > self.config.warmup_samples
        for t in g.trials:
            live_sys = self._sample(self.world, t.system)
            fork_sys = self._sample(g.fork, t.system)
            if timed and live_sys.size and fork_sys.size:
                t.live_ms.append(float(live_sys[0]) / 1e6)
                t.fork_ms.append(float(fork_sys[0]) / 1e6)
        live_tick = self.world.profiler.recent(TICK, 1)
        budget_ms = float(live_tick[0]) / 1e6 if live_tick.size else fork_tick_ms
        # the warm-up tick is not timed, but it is held to the budget like any other: a spike
        # there (a compile, a cold cache) is one the live world would pay after a switch
        if fork_tick_ms > budget_ms * self.config.budget_factor:
            self.guard = None
            for t in g.trials:
                self._remember(t)
                self.tried[(t.system, t.candidate)] = (self.world.tick, t.size)
                self._log(
                    "abort",
                    t.system,
                    t.current,
                    t.candidate,
                    f"a guard tick took {fork_tick_ms:.2f} ms, over {self.config.budget_factor}x the "
                    f"live tick ({budget_ms:.2f} ms)",
                    size=t.size,
                )
            return
        if g.ticks < self.config.guard_ticks:
            return
        self.guard = None
        for t in g.trials:
            self._decide(t, g.ticks)

    def _decide(self, t: Trial, ticks: int) -> None:
        self._remember(t)
        before = statistics.median(t.live_ms) if t.live_ms else None
        after = statistics.median(t.fork_ms) if t.fork_ms else None
        amortised = self._amortised(self._switch_cost(t.system, t.candidate, t.size))
        faster = (
            before is not None
            and after is not None
            and after + amortised <= before * (1 - self.config.min_gain_permille / 1000)
        )
        if faster and not self.frozen and t.system not in self.forced:
            self._apply(self.world, t.system, t.candidate)
            # the variant left is not guarded back at this size on the strength of a noisy sample
            self.tried[(t.system, t.current)] = (self.world.tick, t.size)
            self._log(
                "switch",
                t.system,
                t.current,
                t.candidate,
                f"digests identical over {ticks} ticks and {before:.3f} → {after:.3f} ms",
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
                "digests identical but not faster enough" if before is not None else "no timing",
                size=t.size,
                before_ms=before,
                after_ms=after,
            )

    def _remember(self, t: Trial) -> None:
        samples = self.measured.setdefault((t.system, t.candidate), [])
        samples.extend((t.size, ms) for ms in t.fork_ms)
        del samples[:-256]

    def _guard_failed(self, g: Guard, live: Any, theirs: Any) -> None:
        self.guard = None
        sections = [name for (name, a), (_, b) in zip(live.sections, theirs.sections, strict=False) if a != b]
        if len(g.trials) > 1:  # which one? guard each alone from now on
            for t in g.trials:
                self.alone.add(t.system)
                self._log(
                    "guard_split",
                    t.system,
                    t.current,
                    t.candidate,
                    f"digest differs at tick {live.tick} with {len(g.trials)} candidates at once; "
                    "each will be guarded alone",
                    size=t.size,
                )
            return
        (t,) = g.trials
        self.blacklist.add((t.system, t.candidate))
        report = {
            "system": t.system,
            "variant": t.candidate,
            "current": t.current,
            "tick": live.tick,
            "guard_started_at": g.started_tick,
            "differing_sections": sections,
            "live_digest": live.hex,
            "candidate_digest": theirs.hex,
        }
        path = None
        if self.data is not None:
            folder = self.data / "optimizer-diagnostics"
            folder.mkdir(exist_ok=True)
            path = folder / f"tick{live.tick}-{t.system}-{t.candidate}.json"
            path.write_text(json.dumps(report, indent=2) + "\n")
        self._log(
            "guard_failed",
            t.system,
            t.current,
            t.candidate,
            f"digest differs at tick {live.tick} in {', '.join(sections) or 'the combined hash'}; "
            "rolled back and blacklisted for this session",
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
        if self.data is not None:
            with open(self.data / HISTORY_FILE, "a", encoding="utf-8") as f:
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


def _rank(c: Candidate) -> tuple[int, float]:
    """Measured gains first (biggest first), then unmeasured candidates by the current time."""
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
