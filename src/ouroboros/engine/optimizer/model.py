"""The optimizer's data: its configuration, what a guard holds, and what the rules propose."""

from __future__ import annotations

from dataclasses import dataclass, field

from ouroboros.engine.schedule import SystemFn

LAYOUT = "layout"  # the storage layout, chosen like a system's variant
LAYOUTS = ("soa", "aos")
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
    history_max_entries: int = 1_000  # decisions kept in memory; the journal compacts to these once
    # it holds twice as many, so a server that runs for weeks keeps both bounded
    advisor_timeout_ms: float = 2_000.0  # advice later than this (world clock) is logged as late


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

    @property
    def id(self) -> str:
        """``system=variant``: how an advisor names it."""
        return f"{self.system}={self.variant}"


@dataclass
class Run:
    """What one shadow run saw, handed from inside the tick to ``after_tick``."""

    trial: Trial
    part: Part
    size: int
    live_ms: float
    shadow_ms: float
    extra_ms: float  # everything the run added to the tick: copies, candidate, comparison
    differs: list[str]
    error: str | None


def rank(c: Candidate) -> tuple[int, float]:
    """Measured gains first (biggest first), then the others by the current time."""
    if c.expected_ms is not None:
        return (1, c.current_ms - c.expected_ms)
    return (0, c.current_ms)


__all__ = [
    "COPY_MS_FIXED",
    "COPY_NS_PER_BYTE",
    "LAYOUT",
    "LAYOUTS",
    "Candidate",
    "Guard",
    "OptimizerConfig",
    "Part",
    "Run",
    "Trial",
    "rank",
]
