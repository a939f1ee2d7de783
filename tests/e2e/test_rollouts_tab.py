"""The Rollouts tab in a real browser against a real ``ouroboros go``: an operator stages a patch
held for a person, sees its stages and checks, pauses, resumes and aborts it — and a patch that is
not there gets one clear refusal on the page."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.conftest import ROOT, Server, shot

pytestmark = pytest.mark.slow


def wait_until(check: Callable[[], Any], what: str, timeout_s: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (value := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what} (last: {value!r})")
        time.sleep(0.1)
    return value


def _held_patch(server: Server) -> str:
    """A neon economy-tuning patch submitted to the running server's folder (another process, as
    the CLI would): the policy holds it for a person, so it stays validated."""
    from ouroboros.patches.bundle import sign_bundle
    from ouroboros.patches.governor import Governor
    from tests.patches.conftest import make_bundle

    base = ROOT / "src/ouroboros/worlds/neon/base/economy_tuning.json"
    tuning = json.loads(base.read_text())["economy_tuning"][0]
    tuning = {**tuning, "version": "1.3.0", "multipliers": {**tuning["multipliers"], "price": 1020}}
    with Governor(server.data / "neon") as gov:
        gen = gov.new_key("rollout-e2e", ["economy_tuning"])
        doc = sign_bundle(make_bundle(gov, {"economy_tuning": [tuning]}, gen), gov.local_key("server"))
        verdict = gov.submit(doc, actor="e2e")
    assert verdict.state == "validated", verdict.as_dict()
    return str(doc["patch_id"])


def test_an_operator_stages_pauses_and_aborts_a_rollout(page: Any, server: Server) -> None:
    page.get_by_test_id("world-select").select_option("neon")
    page.get_by_test_id("nav-rollouts").click()
    page.get_by_test_id("rollout-none").wait_for()
    page.get_by_test_id("rollout-patch").fill("p-not-there")
    page.get_by_test_id("rollout-start").click()
    refusal = page.get_by_test_id("rollout-start-status")
    refusal.filter(has_text="unknown patch").wait_for()
    assert refusal.inner_text().startswith("start rollout: 422")
    shot(page, "rollout-01-refused")

    patch = _held_patch(server)
    page.get_by_test_id("rollout-patch").fill(patch)
    page.get_by_test_id("rollout-plan").fill("1,10,50,100")
    page.get_by_test_id("rollout-start").click()
    phase = page.get_by_test_id("rollout-phase")
    wait_until(lambda: phase.count() and phase.inner_text() == "running", "the rollout running")
    stages = page.get_by_test_id("rollout-stage")
    assert [stages.nth(i).inner_text() for i in range(stages.count())] == ["1%", "→ 10%", "→ 50%", "→ 100%"]
    assert stages.nth(0).get_attribute("class") == "active"
    assert page.get_by_test_id("rollout-check").count() == 5
    shot(page, "rollout-02-running")

    page.get_by_test_id("rollout-pause").click()
    wait_until(lambda: phase.inner_text() == "paused", "the rollout paused")
    page.get_by_test_id("rollout-resume").click()
    wait_until(lambda: phase.inner_text() == "running", "the rollout running again")
    page.get_by_test_id("rollout-abort").click()
    assert phase.inner_text() == "running"  # the first click only arms it
    page.get_by_test_id("rollout-abort-confirm").click()
    wait_until(lambda: phase.inner_text() == "aborted", "the rollout aborted")
    shot(page, "rollout-03-aborted")
    kinds = [e.get_attribute("data-kind") for e in page.get_by_test_id("rollout-event").all()]
    assert kinds == ["rollout_start", "rollout_stage", "rollout_phase", "rollout_phase", "rollout_phase"]
    status = server.api("GET", "/api/rollouts?world=neon").json()
    assert status["rollout"]["phase"] == "aborted" and status["rollout"]["patch_id"] == patch
