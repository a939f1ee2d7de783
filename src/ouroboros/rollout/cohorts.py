"""Cohorts: which accounts a rollout's treatment reaches at a given percentage.

An account's bucket is a stable hash of (salt, account id) into ``BUCKETS`` buckets; it is in the
treatment at ``pct`` percent when ``bucket < pct × 100``. This is how Unleash and LaunchDarkly
bucket, and it promises:

- **Stable.** The bucket is an 8-byte ``blake2b`` of the length-prefixed salt and the account id,
  reduced modulo ``BUCKETS``: the same in every process, on every machine, under every
  ``PYTHONHASHSEED`` (never Python's ``hash``).
- **Nested.** Growing the percentage never moves anyone out: the 1% stays in at 10%.
- **Independent.** Each rollout gets its own salt (its rollout id), so the 1% of one rollout is
  not the 1% of the next.

Percentages are given in basis points too (``pct_bp``: 1% is 100), so a plan of 0.5% is exact.
"""

from __future__ import annotations

import hashlib
import math

from ouroboros.errors import BadInputError

#: the number of buckets; one bucket is 0.01 % of the accounts
BUCKETS = 10_000
_PERSON = b"ouroboros.cohort"  # blake2b personalisation: these buckets are ours alone


def _text(value: str, what: str) -> bytes:
    if not isinstance(value, str) or not value:
        raise BadInputError(f"a cohort {what} must be a non-empty string")
    return value.encode("utf-8", errors="surrogatepass")


def bucket(salt: str, account_id: str) -> int:
    """The bucket (0 … ``BUCKETS - 1``) of ``account_id`` under ``salt`` (a rollout id)."""
    salted = _text(salt, "salt")
    h = hashlib.blake2b(digest_size=8, person=_PERSON)
    h.update(len(salted).to_bytes(4, "big") + salted)  # length-prefixed: no two (salt, id) pairs meet
    h.update(_text(account_id, "account id"))
    return int.from_bytes(h.digest(), "big") % BUCKETS


def pct_to_bp(pct: float | int) -> int:
    """A percentage (0 … 100, at most two decimals) as basis points (0 … 10,000)."""
    if isinstance(pct, bool) or not isinstance(pct, int | float):
        raise BadInputError(f"a percentage must be a number, not {pct!r}")
    if not math.isfinite(pct):
        raise BadInputError(f"a percentage must be a finite number, not {pct!r}")
    bp = round(pct * 100)
    if not 0 <= bp <= BUCKETS or abs(bp - pct * 100) > 1e-6:
        raise BadInputError(f"a percentage must be 0 … 100 in steps of 0.01, not {pct!r}")
    return bp


def in_treatment(bucket_: int, pct: float | int) -> bool:
    """Whether an account in ``bucket_`` is in the treatment at ``pct`` percent."""
    return bucket_ < pct_to_bp(pct)


def in_treatment_bp(bucket_: int, pct_bp: int) -> bool:
    """``in_treatment`` with the percentage in basis points (no float on the hot path)."""
    return bucket_ < pct_bp


__all__ = ["BUCKETS", "bucket", "in_treatment", "in_treatment_bp", "pct_to_bp"]
