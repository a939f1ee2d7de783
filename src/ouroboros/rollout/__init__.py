"""Staged rollout of a patch over cohorts and shards, watched by KPIs, rolled back on a breach.

``cohorts`` buckets accounts; ``analysis`` judges a window of KPIs per arm; ``controller`` is the
state machine that promotes, holds and rolls back; ``store`` records it in the ledger; ``router``
says which version a player gets at login. See docs/adr/0017-staged-rollout.md.
"""

from __future__ import annotations

from ouroboros.rollout.cohorts import BUCKETS, bucket, in_treatment, in_treatment_bp, pct_to_bp

__all__ = ["BUCKETS", "bucket", "in_treatment", "in_treatment_bp", "pct_to_bp"]
