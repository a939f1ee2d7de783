"""The cohort bucketing: nested, accurate, independent between rollouts, stable across processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ouroboros.errors import BadInputError
from ouroboros.rollout.cohorts import BUCKETS, bucket, in_treatment, in_treatment_bp, pct_to_bp

ACCOUNTS = 200_000
percent_bp = st.integers(min_value=0, max_value=BUCKETS)


@cache
def buckets_of(salt: str, n: int = ACCOUNTS) -> np.ndarray:
    return np.fromiter((bucket(salt, f"acct-{i}") for i in range(n)), dtype=np.int64, count=n)


@given(
    salt=st.text(min_size=1, max_size=40),
    account=st.text(min_size=1, max_size=40),
    steps=st.lists(percent_bp, min_size=2, max_size=8).map(sorted),
)
def test_growing_the_percentage_never_moves_anyone_out(salt: str, account: str, steps: list[int]) -> None:
    b = bucket(salt, account)
    assert 0 <= b < BUCKETS
    inside = [in_treatment_bp(b, bp) for bp in steps]
    # once in, in at every larger percentage: the sequence is some False then only True
    assert inside == sorted(inside)
    assert in_treatment_bp(b, BUCKETS) and not in_treatment_bp(b, 0)


@settings(max_examples=40, deadline=None)
@given(bp=percent_bp)
def test_the_measured_fraction_is_within_half_a_point_of_the_target(bp: int) -> None:
    measured = float(np.mean(buckets_of("rollout-a") < bp))
    assert abs(measured - bp / BUCKETS) <= 0.005


@settings(max_examples=3, deadline=None)
@given(salt=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=24))
def test_the_fraction_holds_for_any_salt(salt: str) -> None:
    b = buckets_of(salt)
    for bp in (100, 1_000, 5_000):
        assert abs(float(np.mean(b < bp)) - bp / BUCKETS) <= 0.005


def test_two_rollouts_draw_independent_cohorts() -> None:
    a, b = buckets_of("rollout-a"), buckets_of("rollout-b")
    assert abs(float(np.corrcoef(a, b)[0, 1])) < 0.02
    in_a, in_b = a < 1_000, b < 1_000  # two 10 % cohorts share about 1 %, not 10 %
    assert abs(float(np.mean(in_a & in_b)) - 0.01) < 0.002
    assert float(np.mean(a == b)) < 0.001  # not the same buckets shifted


def test_every_process_computes_the_same_buckets() -> None:
    ids = [f"acct-{i}" for i in range(0, 5_000, 37)] + ["ünïcode", "x" * 300]
    code = (
        "import json,sys\nfrom ouroboros.rollout.cohorts import bucket\n"
        "ids=json.load(sys.stdin)\nprint(json.dumps([bucket('r-17', i) for i in ids]))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps(ids),
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert json.loads(out.stdout) == [bucket("r-17", i) for i in ids]


def test_buckets_are_pinned() -> None:
    # the hash is part of the contract: changing it would reshuffle every live rollout's cohorts
    assert [bucket("r-1", f"acct-{i}") for i in range(4)] == [5786, 4991, 5603, 6398]


def test_salt_and_account_do_not_run_together() -> None:
    assert bucket("ab", "c") != bucket("a", "bc")


def test_percentages_are_checked() -> None:
    assert pct_to_bp(1) == 100 and pct_to_bp(0.5) == 50 and pct_to_bp(100) == BUCKETS
    assert in_treatment(99, 1) and not in_treatment(100, 1)
    for bad in (-1, 100.01, 0.001, True, "10", float("nan")):
        with pytest.raises(BadInputError):
            pct_to_bp(bad)  # type: ignore[arg-type]
    with pytest.raises(BadInputError):
        bucket("", "a")
    with pytest.raises(BadInputError):
        bucket("r", "")


def test_the_package_exports_a_small_sorted_api() -> None:
    import ouroboros.rollout as rollout

    names = rollout.__all__
    assert names == sorted(names, key=lambda n: (not n.isupper(), not n[0].isupper(), n))
    assert all(hasattr(rollout, n) for n in names)
