"""Staged rollout of a patch over cohorts and shards, watched by KPIs, rolled back on a breach.

``cohorts`` buckets accounts; ``plan`` is a rollout's stages and limits; ``analysis`` judges a
window of KPIs per arm; ``kpis`` turns shards' tick reports into such windows; ``controller`` is
the state machine that promotes, holds and rolls back; ``store`` records it in the ledger;
``service`` is the shell the CLI and the API call; ``router`` says which version and shard a
player gets at login. See docs/adr/0017-staged-rollout.md.
"""

from __future__ import annotations

from ouroboros.rollout.analysis import (
    DEFAULT_CHECKS,
    HARD_GUARDS,
    ArmWindow,
    Check,
    Outcome,
    WindowSample,
    WindowVerdict,
    judge,
)
from ouroboros.rollout.cohorts import BUCKETS, bucket, in_treatment, in_treatment_bp, pct_to_bp
from ouroboros.rollout.controller import Controller, KpiSource, Phase, RolloutState
from ouroboros.rollout.kpis import KpiBook, TickReport
from ouroboros.rollout.plan import RolloutPlan, parse_plan
from ouroboros.rollout.router import Fleet, Move, Router, Session
from ouroboros.rollout.store import RolloutStore, VersionMeta

__all__ = [
    "BUCKETS",
    "DEFAULT_CHECKS",
    "HARD_GUARDS",
    "ArmWindow",
    "Check",
    "Controller",
    "Fleet",
    "KpiBook",
    "KpiSource",
    "Move",
    "Outcome",
    "Phase",
    "RolloutPlan",
    "RolloutState",
    "RolloutStore",
    "Router",
    "Session",
    "TickReport",
    "VersionMeta",
    "WindowSample",
    "WindowVerdict",
    "bucket",
    "in_treatment",
    "in_treatment_bp",
    "judge",
    "parse_plan",
    "pct_to_bp",
]
