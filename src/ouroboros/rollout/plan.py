"""A rollout's plan: the stages (percentages of accounts in the treatment), the analysis window,
the exposures a window needs, how many failed windows roll back, and the checks. Frozen data,
checked whole when made: a bad plan is one ``BadInputError`` with one clear reason.

A plan's stages are strictly increasing, each in (0, 100] in steps of 0.01, and end at 100: the
last stage is the patch active for everyone (the rollout completes there; it is not analysed).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ouroboros.errors import BadInputError
from ouroboros.rollout.analysis import DEFAULT_CHECKS, Check
from ouroboros.rollout.cohorts import BUCKETS, pct_to_bp

DEFAULT_PLAN = "1,10,50,100"
DEFAULT_WINDOW_TICKS = 600  # one minute at 10 ticks a second
DEFAULT_MIN_EXPOSURES = 20
DEFAULT_THRESHOLD = 2
DEFAULT_WINDOWS_PER_STAGE = 1
MAX_WINDOW_TICKS = 10_000_000
MAX_STAGES = 20
#: a version's ``activation_scope``: everyone, some shards, or a cohort of accounts
SCOPES = ("cohort", "shard")
ACTIVATION_SCOPES = ("global", "shard", "cohort")


@dataclass(frozen=True)
class RolloutPlan:
    stages_bp: tuple[int, ...]  # treatment share of each stage in basis points (100 = 1 %)
    window_ticks: int = DEFAULT_WINDOW_TICKS
    min_exposures: int = DEFAULT_MIN_EXPOSURES
    threshold: int = DEFAULT_THRESHOLD  # failed windows that roll back
    windows_per_stage: int = DEFAULT_WINDOWS_PER_STAGE  # passing windows before a promotion
    checks: tuple[Check, ...] = field(default=DEFAULT_CHECKS)
    scope: str = "cohort"  # how the treatment is chosen: "cohort" (accounts) or "shard" (canary shards)

    def __post_init__(self) -> None:
        stages = self.stages_bp
        if not stages:
            raise BadInputError("a rollout plan needs at least one stage")
        if len(stages) > MAX_STAGES:
            raise BadInputError(f"a rollout plan has at most {MAX_STAGES} stages, not {len(stages)}")
        for bp in stages:
            if isinstance(bp, bool) or not isinstance(bp, int) or not 0 < bp <= BUCKETS:
                raise BadInputError(f"a stage must be over 0 and at most 100 percent, not {_pct(bp)}")
        for a, b in itertools.pairwise(stages):
            if b <= a:
                raise BadInputError(f"a plan's stages must increase: {_pct(b)} follows {_pct(a)}")
        if stages[-1] != BUCKETS:
            raise BadInputError(f"a plan ends at 100 (everyone), not {_pct(stages[-1])}")
        _positive("--window-ticks", self.window_ticks, MAX_WINDOW_TICKS)
        _positive("--min-exposures", self.min_exposures, 10**9)
        _positive("--threshold", self.threshold, 1000)
        _positive("--windows-per-stage", self.windows_per_stage, 1000)
        if self.scope not in SCOPES:
            raise BadInputError(f"a rollout's scope is cohort or shard, not {self.scope!r}")
        if not self.checks:
            raise BadInputError("a rollout needs at least one check")

    @property
    def percents(self) -> tuple[float, ...]:
        return tuple(bp / 100 for bp in self.stages_bp)

    def as_dict(self) -> dict[str, Any]:
        return {
            "stages_bp": list(self.stages_bp),
            "percents": list(self.percents),
            "window_ticks": self.window_ticks,
            "min_exposures": self.min_exposures,
            "threshold": self.threshold,
            "windows_per_stage": self.windows_per_stage,
            "checks": [c.as_dict() for c in self.checks],
            "scope": self.scope,
        }

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> RolloutPlan:
        try:
            return cls(
                tuple(doc["stages_bp"]),
                doc["window_ticks"],
                doc["min_exposures"],
                doc["threshold"],
                doc["windows_per_stage"],
                tuple(Check(c["metric"], c.get("limit"), c.get("margin")) for c in doc["checks"]),
                doc.get("scope", "cohort"),
            )
        except (KeyError, TypeError) as exc:
            raise BadInputError(f"a stored rollout plan is malformed: {exc}") from exc


def _pct(bp: object) -> str:
    return f"{bp / 100:g}" if isinstance(bp, int) and not isinstance(bp, bool) else repr(bp)


def _positive(flag: str, value: object, most: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
        raise BadInputError(f"{flag} must be a whole number from 1 to {most}, not {value!r}")


def parse_stages(text: str) -> tuple[int, ...]:
    """``"1,10,50,100"`` as basis points; one clear reason for anything else."""
    if not isinstance(text, str) or not text.strip():
        raise BadInputError("--plan needs comma-separated percentages, such as 1,10,50,100")
    out = []
    for part in text.split(","):
        part = part.strip().removesuffix("%")
        try:
            value = float(part)
        except ValueError:
            raise BadInputError(f"--plan: {part!r} is not a percentage") from None
        if not 0 < value <= 100:
            raise BadInputError(f"--plan: a stage must be over 0 and at most 100 percent, not {part}")
        out.append(pct_to_bp(value))
    return tuple(out)


def parse_check(text: str) -> Check:
    """``METRIC[:limit=N][:margin=N]`` (``faults_per_1000_ticks:limit=5:margin=1``) as a check."""
    metric, *parts = text.strip().split(":")
    values: dict[str, float] = {}
    for part in parts:
        key, _, number = part.partition("=")
        if key not in ("limit", "margin") or key in values:
            raise BadInputError(f"--check {text!r}: expected METRIC[:limit=N][:margin=N]")
        try:
            values[key] = float(number)
        except ValueError:
            raise BadInputError(f"--check {text!r}: {number!r} is not a number") from None
        if not math.isfinite(values[key]):
            raise BadInputError(f"--check {text!r}: {number!r} is not a finite number")
    return Check(metric, values.get("limit"), values.get("margin"))


def parse_plan(
    text: str = DEFAULT_PLAN,
    *,
    window_ticks: int = DEFAULT_WINDOW_TICKS,
    min_exposures: int = DEFAULT_MIN_EXPOSURES,
    threshold: int = DEFAULT_THRESHOLD,
    windows_per_stage: int = DEFAULT_WINDOWS_PER_STAGE,
    scope: str = "cohort",
    checks: tuple[Check, ...] = DEFAULT_CHECKS,
) -> RolloutPlan:
    if len({c.metric for c in checks}) != len(checks):
        raise BadInputError("each metric may be checked once")
    return RolloutPlan(
        parse_stages(text), window_ticks, min_exposures, threshold, windows_per_stage, checks, scope
    )


__all__ = [
    "ACTIVATION_SCOPES",
    "DEFAULT_PLAN",
    "SCOPES",
    "RolloutPlan",
    "parse_check",
    "parse_plan",
    "parse_stages",
]
