"""While a rollout is live the governor itself refuses every other way onto the pointer (ADR 0017,
"Consequences"): nothing is ingested and no other approval goes through (``rollout_live``, exit
2, HTTP 409, nothing written), but the rollout's own last stage, a rollback and the kill-switch do."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from typer.testing import CliRunner

from ouroboros.cli import app
from ouroboros.errors import PatchError
from ouroboros.patches import Governor, State
from ouroboros.patches.governor import ROLLOUT_KINDS
from ouroboros.rollout import Phase
from ouroboros.rollout.plan import parse_plan
from ouroboros.rollout.service import RolloutService
from ouroboros.rollout.store import KINDS
from tests.patches.conftest import make_bundle, params_content
from tests.rollout.kpis import ScriptedKpis, TickClock

W = 100
PLAN = parse_plan("1,10,50,100", window_ticks=W, min_exposures=10)


def test_the_governor_reads_the_kinds_the_store_writes() -> None:
    assert ROLLOUT_KINDS == KINDS


def test_no_other_patch_is_ingested_or_approved_while_a_rollout_is_live(
    gov: Governor, validated: Callable[..., str]
) -> None:
    other = validated(31)
    staged = validated(30)
    svc = RolloutService(gov)
    started = svc.start(staged, PLAN, "alice", "stage it")
    assert gov.live_rollout() == (started.rollout_id, staged)
    head = gov.ledger.head()
    for approve in (
        lambda: gov.approve(other, "bob", "meanwhile"),
        lambda: gov.approve(staged, "bob", "skip the stages"),
        lambda: gov.approve(staged, "bob", "not its rollout", rollout_id="ro-1-nope"),
        lambda: gov.submit(make_bundle(gov, params_content(40, "1.0.9"), gov.local_key("op"))),
    ):
        with pytest.raises(PatchError, match=f"rollout {started.rollout_id}") as refused:
            approve()
        assert refused.value.code == "rollout_live" and refused.value.exit_code == 2
    assert gov.ledger.head() == head
    assert gov.ledger.state_of(other) == State.VALIDATED and gov.active() is None
    # a dry run changes nothing, so it is still answered
    dry = gov.submit(make_bundle(gov, params_content(41, "1.0.10"), gov.local_key("op")), dry_run=True)
    assert dry.state == State.VALIDATED and gov.ledger.head() == head
    # the kill-switch still engages, and the rollout stands frozen
    gov.killswitch.set(True, "alice", "incident")
    assert gov.live_rollout() == (started.rollout_id, staged)
    gov.killswitch.set(False, "alice", "over")
    # its own last stage approves it; after that, the governor takes patches again
    clock = TickClock(0)
    ctl = svc.controller(ScriptedKpis([]), clock)
    ctl.poll()
    clock.advance(3 * W)
    assert ctl.poll().phase is Phase.COMPLETE and gov.active() == staged
    assert gov.live_rollout() is None
    verdict = gov.approve(other, "bob", "now")  # made for base: stale, but decided, not refused
    assert verdict.state == State.REJECTED and verdict.reasons[0].code == "stale_parent"


def test_a_rollback_and_an_abort_stay_possible(gov: Governor, validated: Callable[..., str]) -> None:
    first = validated(29)
    assert gov.approve(first, "bob", "before").state == State.ACTIVE
    staged = validated(30)
    svc = RolloutService(gov)
    svc.start(staged, PLAN, "alice", "stage it")
    assert gov.rollback("bob", "known-good")["to"] is None and gov.active() is None
    assert svc.abort("alice", "the world moved").phase is Phase.ABORTED
    assert gov.live_rollout() is None


def test_the_cli_refuses_an_approval_with_one_line_and_exit_2(
    gov: Governor, validated: Callable[..., str]
) -> None:
    other = validated(31)
    staged = validated(30)
    RolloutService(gov).start(staged, PLAN, "alice", "stage it")
    gov.close()
    result = CliRunner().invoke(
        app, ["patch", "approve", other, "--data", str(gov.data), "--actor", "bob", "--reason", "meanwhile"]
    )
    err = result.stderr
    assert result.exit_code == 2, result.output
    assert err.startswith("error: ") and "under way" in err and len(err.strip().splitlines()) == 1
    with Governor(gov.data, environ={}) as again:
        assert again.ledger.state_of(other) == State.VALIDATED
