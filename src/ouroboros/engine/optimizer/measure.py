"""The analyzer and the rules: what every variant is expected to cost here, from measurement
only, and which candidates are worth a guard (deterministic, within the tick budget).

What is expected comes from measurement only: a time measured at a similar size, else the speed
ratio against the current variant measured at other sizes, widened by ``ratio_drift_per_decade``
for every factor of ten between there and here (half that where ratios at two sizes or more give
a trend). A candidate is guarded when it is measured or predicted faster by the gain threshold
after paying its switch cost (amortised over ``switch_horizon_ticks``), or, never measured, when
its ``min_size``/``max_size`` hint suits the size; and only when the guard's predicted cost fits
the tick budget (the pessimistic end of the prediction; a never-measured candidate is taken to be
just fast enough to win). A candidate a guard kept or aborted, and the variant a switch left, are
not guarded again at a similar size for ``retry_after_ticks``.
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from collections.abc import Mapping
from typing import Any

import numpy as np

from ouroboros.engine.optimizer.model import (
    COPY_MS_FIXED,
    COPY_NS_PER_BYTE,
    LAYOUT,
    LAYOUTS,
    Candidate,
    OptimizerConfig,
    Trial,
    rank,
)
from ouroboros.engine.profiler import ENTITIES, TICK
from ouroboros.engine.schedule import TICK_PHASES
from ouroboros.engine.world import World

__all__ = ["Measurements"]

Samples = dict[Any, list[tuple[int, float]]]


class Measurements:
    """What was measured of one world's variants, and the rules that read it."""

    def __init__(self, world: World, config: OptimizerConfig) -> None:
        self.world = world
        self.config = config
        self.blacklist: set[tuple[str, str]] = set()
        self.measured: Samples = {}  # (system, variant) → (size, ms) samples
        self.ratios: Samples = {}  # (system, a, b) → (size, a/b) measured in shadows
        self.tried: dict[tuple[str, str], tuple[int, int]] = {}  # → (tick, size) of the last keep
        self.prepared: dict[tuple[str, str], float] = {}
        self.converted: dict[str, tuple[int, float]] = {}  # layout → (entities, ms) of its last conversion
        self.base: deque[float] = deque(maxlen=config.check_every_ticks * 2)  # tick ms, no guard cost
        self.overhead: dict[str, tuple[int, float]] = {}  # system → (size, ms) of a shadow's copies
        self.clean = 0  # ticks since the size moved, a guard ran or a variant changed
        self._regime: int | None = None  # the entity count the recent samples were taken around

    # -- what can be chosen: every system's variants, and the storage layout -----------------------
    def choices(self) -> dict[str, list[str]]:
        table = dict(self.world.variants())
        if self.config.include_layout:
            table[LAYOUT] = list(LAYOUTS)
        return table

    def current(self, system: str) -> str:
        return self.world.default_layout if system == LAYOUT else self.world.schedule.get(system).variant

    def apply(self, system: str, variant: str) -> str:
        """Run ``variant`` of ``system`` from the next tick on; returns the variant it replaced."""
        if system == LAYOUT:
            before = self.world.default_layout
            t0 = self.world.clock()
            self.world.set_layout(variant)
            if variant != before:
                self.converted[variant] = (self.world.entity_count, (self.world.clock() - t0) / 1e6)
            return before
        return self.world.set_variant(system, variant)

    def suits(self, system: str, variant: str, size: int) -> bool:
        if system == LAYOUT:
            return size >= self.config.layout_min_size
        return self.world.schedule.variants(system)[variant].suits(size)

    def kind(self, system: str, variant: str) -> str:
        return "layout" if system == LAYOUT else self.world.schedule.variants(system)[variant].kind

    def size(self, system: str) -> int:
        return self.world.entity_count if system == LAYOUT else self.world.system_size(system)

    def prepare(self, system: str, variant: str) -> float:
        """A variant's ``prepare`` (a JIT compile), run once per process; its cost in ms."""
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

    # -- what every tick adds ----------------------------------------------------------------------
    def track(self, extra_ms: float, shadowed: bool) -> bool:
        """Per tick, and cheap: the tick without the guard's cost, and how many ticks since the
        size moved, a guard ran or a variant changed (the profiler's samples there are clean).
        True when the size moved to a new regime with this tick."""
        last = self.world.profiler.last(TICK)
        if last is None:
            return False
        count, f = self.world.entity_count, self.config.similar_size_factor
        if self._regime is None or not self._regime / f <= count <= self._regime * f:
            # a new size: what was measured before no longer describes a tick here, and this
            # tick, which made the change, describes none
            self._regime = count
            self.base.clear()
            self.clean = 0
            return True
        self.base.append(last / 1e6 - extra_ms)
        self.clean = 0 if shadowed else self.clean + 1
        return False

    def record_live(self) -> None:
        """At a check: each current variant's recent clean time, at its size."""
        for system in self.choices():
            ms = self.system_ms(system)
            if ms:
                self.note(self.measured, (system, self.current(system)), self.size(system), ms)

    @staticmethod
    def note(table: Samples, key: Any, size: int, value: float) -> None:
        samples = table.setdefault(key, [])
        samples.append((size, value))
        if len(samples) > 512:
            del samples[:-256]  # the latest 256 to 512 samples are kept

    def measure(self, t: Trial) -> tuple[float | None, float | None]:
        """(current, candidate) ms: a variant's own times; a layout's whole tick, the guard's
        systems' differences added to the tick as it was meanwhile."""
        timed = [p for p in t.parts if p.live_ms]
        if not timed:
            return None, None
        if t.system != LAYOUT:
            return statistics.median(timed[0].live_ms), statistics.median(timed[0].shadow_ms)
        before = statistics.median(t.base_ms) if t.base_ms else self.tick_ms()
        delta = sum(statistics.median(p.shadow_ms) - statistics.median(p.live_ms) for p in timed)
        return before, before + delta

    def remember(self, t: Trial) -> None:
        before, after = self.measure(t)
        if before is None or after is None or (t.system == LAYOUT and not all(p.live_ms for p in t.parts)):
            return  # nothing timed, or a layout judged on some of its systems only
        self.note(self.measured, (t.system, t.candidate), t.size, after)
        if before > 0 and after > 0:
            self.note(self.ratios, (t.system, t.candidate, t.current), t.size, after / before)
            self.note(self.ratios, (t.system, t.current, t.candidate), t.size, before / after)

    # -- analyzer --------------------------------------------------------------------------------
    def tick_ms(self) -> float:
        return float(statistics.median(self.base)) if self.base else 0.0

    def budget_ms(self) -> float:
        """What a guard may add to a tick."""
        return (self.config.budget_factor - 1) * self.tick_ms()

    def system_ms(self, system: str) -> float:
        """A system's median over its recent clean ticks (the whole tick for the layout)."""
        if system == LAYOUT:
            return self.tick_ms()
        n = min(self.clean, self.config.check_every_ticks * 2)
        samples = self.world.profiler.recent(system, n).tolist() if n else None
        return float(statistics.median(samples)) / 1e6 if samples else 0.0

    def spread(self, system: str, variant: str, size: int) -> float | None:
        """The relative spread (stdev / mean) of a variant's times measured at a similar size."""
        f = self.config.similar_size_factor
        near = [ms for n, ms in self.measured.get((system, variant), ()) if size / f <= max(n, 1) <= size * f]
        if len(near) < 2 or statistics.fmean(near) <= 0:
            return None
        return statistics.stdev(near) / statistics.fmean(near)

    def analyze(self) -> dict[str, Any]:
        tick_ms = self.tick_ms()
        counts = self.world.profiler.recent(ENTITIES, self.config.check_every_ticks * 2).tolist()
        trend = (counts[-1] - counts[0]) / max(1, len(counts) - 1) if len(counts) >= 2 else 0.0
        systems = {}
        for system, names in self.choices().items():
            ms, size, current = self.system_ms(system), self.size(system), self.current(system)
            others = {}
            for name in names:
                if name != current:
                    others[name] = {
                        "expected_ms": self.estimate(system, name, size),
                        "ratio_bounds": self.bounds(system, name, current, size),
                        "switch_cost_ms": self.switch_cost(system, name, size),
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

    def switch_cost(self, system: str, variant: str, size: int) -> float | None:
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

    def amortised(self, cost_ms: float | None) -> float:
        """A switch cost spread over ``switch_horizon_ticks``, in ms a tick."""
        return (cost_ms or 0.0) / max(1, self.config.switch_horizon_ticks)

    def estimate(self, system: str, variant: str, size: int) -> float | None:
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
                other = self.estimate(system, b, n)
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

    def bounds(self, system: str, candidate: str, current: str, size: int) -> tuple[float, float] | None:
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

    # -- rules -----------------------------------------------------------------------------------
    def choose(self, forced: Mapping[str, str]) -> tuple[list[Candidate], list[Candidate]]:
        """(chosen, considered): the best candidate of every hot system, as many guarded
        together as the budget allows (the layout, which shadows every hot system, alone); and
        every candidate the rules let through, the chosen ones among them."""
        analysis = self.analyze()
        budget = (self.config.budget_factor - 1) * analysis["tick_ms"]
        found: list[Candidate] = []
        considered: list[Candidate] = []
        for system, info in analysis["systems"].items():
            if system in forced or info["share_permille"] < self.config.hot_share_permille:
                continue
            best: Candidate | None = None
            for name, other in info["others"].items():
                c = self._consider(system, name, info, other, budget)
                if c is not None:
                    considered.append(c)
                if c is not None and (best is None or rank(c) > rank(best)):
                    best = c
            if best is not None:
                found.append(best)
        found.sort(key=rank, reverse=True)
        considered.sort(key=rank, reverse=True)
        chosen: list[Candidate] = []
        spent = 0.0
        for c in found:
            if c.system == LAYOUT or any(o.system == LAYOUT for o in chosen):
                if not chosen:
                    return [c], considered
                continue
            if spent + c.cost_ms <= budget:
                chosen.append(c)
                spent += c.cost_ms
        return chosen, considered

    def _consider(
        self, system: str, name: str, info: dict[str, Any], other: dict[str, Any], budget: float
    ) -> Candidate | None:
        """``name`` as a candidate for ``system``, or ``None`` when the rules rule it out."""
        size, current_ms = info["size"], info["ms"]
        if other["blacklisted"] or self.tried_recently(system, name, size):
            return None
        if system == LAYOUT and not self.suits(system, name, size):
            return None  # too small for a layout to matter, whatever was measured
        gain_needed = 1 - self.config.min_gain_permille / 1000
        amortised = self.amortised(other["switch_cost_ms"])
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
        elif self.suits(system, name, size):
            factor, ranked = gain_needed, None
            why = f"unmeasured at {size} entities; its hint ({self.kind(system, name)}) suits this size"
        else:
            return None
        if system == LAYOUT:
            parts = self.layout_parts()
            if not parts:
                return None
            cost = max(self.system_ms(p) * factor + self.copy_ms(p) for p in parts)
        else:
            cost = current_ms * factor + self.copy_ms(system)
        if cost > budget:
            return None  # a guard run here would cost more than the tick budget allows
        if amortised and ranked is not None:
            why += f" (switch cost {amortised:.3f} ms a tick)"
        return Candidate(system, name, size, current_ms, ranked, factor, cost, why)

    def copy_ms(self, system: str) -> float:
        """A shadow's copies and comparison for ``system`` at its size now: from its last run at
        a similar size, else from the bytes it would copy (``COPY_MS_FIXED`` + ``COPY_NS_PER_BYTE``,
        rough and on the safe side)."""
        size = max(self.world.system_size(system), 1)
        last = self.overhead.get(system)
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

    def layout_parts(self) -> list[str]:
        """The systems a layout guard shadows: of the hot systems whose speed a layout can change
        (those that declare component access), the slowest, until they cover
        ``layout_cover_permille`` of the time of them all (in schedule order)."""
        tick_ms = self.tick_ms()
        hot = {}
        for phase in TICK_PHASES:
            for spec in self.world.schedule.phase(phase):
                ms = self.system_ms(spec.name)
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

    def tried_recently(self, system: str, variant: str, size: int) -> bool:
        last = self.tried.get((system, variant))
        if last is None:
            return False
        tick, at_size = last
        f = self.config.similar_size_factor
        similar = at_size / f <= max(size, 1) <= at_size * f
        return similar and self.world.tick - tick < self.config.retry_after_ticks
