"""SIGKILL at random points during activation and rollback (50+ trials): after every kill the
data folder opens, its ledger verifies, and the pointer names a complete, known-good version
(or the base world) whose content and bundle are there."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
from pathlib import Path

import pytest

from ouroboros.patches.governor import Governor
from ouroboros.patches.states import State
from tests.patches.conftest import SMALL_WORLD, make_bundle, params_content

TRIALS = 50


def _churn(data: str, start_version: int, ready) -> None:  # runs in a forked child
    gov = Governor(Path(data), environ={})
    op = gov.local_key("op")
    ready.set()
    version = start_version
    while True:
        version += 1
        doc = make_bundle(gov, params_content(15 + version % 20, f"{version}.0.0"), op)
        gov.submit(doc)
        if version % 3 == 0 and gov.active() is not None:
            gov.rollback("chaos", "random rollback")


def _check(data: Path) -> tuple[str | None, int]:
    gov = Governor(data, environ={})
    try:
        pointer = gov.ledger.pointer()
        count = gov.ledger.verify()
        assert not pointer.canary
        if pointer.active is not None:
            assert gov.ledger.state_of(pointer.active) is State.ACTIVE
            assert gov.ledger.version_content(pointer.active) is not None
            assert gov.ledger.bundle(pointer.active) is not None
            assert pointer.permanent == pointer.active
        world = gov.reference_world()  # the world starts on that version
        assert world.resources["gameplay_version"] == pointer.active
        return pointer.active, count
    finally:
        gov.close()


@pytest.mark.slow
def test_sigkill_during_activation_never_leaves_a_broken_version(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    data = tmp_path / "data"
    gov = Governor(
        data,
        world_defaults={
            **SMALL_WORLD,
            "budgets": {
                **SMALL_WORLD["budgets"],
                "shadow_ticks": 2,
                "determinism_ticks": 2,
                "canary_ticks": 2,
                "warmup_ticks": 1,
            },
        },
        environ={},
    )
    gov.new_key("op", ["*"])
    gov.close()
    rng = random.Random(2026)
    seen_entries = 0
    for trial in range(TRIALS):
        ready = ctx.Event()
        child = ctx.Process(target=_churn, args=(str(data), 1000 * (trial + 1), ready))
        child.start()
        assert ready.wait(30)
        time.sleep(rng.uniform(0.0, 0.25))
        os.kill(child.pid, signal.SIGKILL)
        child.join()
        _active, count = _check(data)
        assert count >= seen_entries  # nothing committed is ever lost
        seen_entries = count
    assert seen_entries > TRIALS  # the children really did work between kills
