"""Any sequence of operator actions and judged windows leaves the ledger verifiable, the recorded
rollout equal to the controller's, and the patch's state in step with the rollout's phase."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ouroboros.errors import PatchError
from ouroboros.patches.governor import Governor
from ouroboros.patches.states import State
from ouroboros.rollout.controller import Phase
from ouroboros.rollout.plan import parse_plan
from ouroboros.rollout.service import RolloutService
from ouroboros.rollout.store import same_state
from tests.patches.conftest import make_bundle, params_content
from tests.rollout.conftest import STAGED_WORLD
from tests.rollout.kpis import ScriptedKpis, TickClock, healthy, inflating

W = 10
step = st.one_of(
    st.sampled_from(["pause", "resume", "promote", "force", "abort"]),
    st.tuples(st.just("window"), st.sampled_from(["pass", "fail", "thin", "unreadable"])),
)
SAMPLES: dict[str, Any] = {
    "pass": (healthy(), healthy()),
    "fail": (inflating(), healthy()),
    "thin": (healthy(exposures=1), healthy()),
    "unreadable": None,
}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, max_size=10))
def test_the_ledger_follows_every_sequence(steps: list[Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        gov = Governor(Path(tmp) / "data", world_defaults=STAGED_WORLD, environ={})
        try:
            gov.new_key("op", ["*"])
            doc = make_bundle(gov, params_content(30), gov.local_key("op"))
            assert gov.submit(doc).state == State.VALIDATED
            patch = doc["patch_id"]
            svc = RolloutService(gov)
            svc.start(patch, parse_plan("5,50,100", window_ticks=W, min_exposures=5, threshold=2), "a", "r")
            clock, kpis = TickClock(0), ScriptedKpis([])
            ctl = svc.controller(kpis, clock)
            ctl.poll()
            for s in steps:
                if isinstance(s, tuple):
                    kpis.series.append(SAMPLES[s[1]])
                    clock.advance(W)
                    ctl.poll()
                    continue
                try:
                    if s == "force":
                        ctl.state = svc.promote("a", "r", force=True)
                    elif s == "promote":
                        ctl.state = svc.promote("a", "r")
                    else:
                        ctl.state = getattr(svc, s)("a", "r")
                except PatchError:
                    pass  # refused: nothing changed (checked below)
                recorded = svc.store.try_load(ctl.state.rollout_id)
                assert recorded is not None and same_state(recorded, ctl.state)
                if ctl.state.terminal:
                    break
            assert gov.ledger.verify() > 0
            recorded = svc.store.try_load(ctl.state.rollout_id)
            assert recorded is not None and same_state(recorded, ctl.state)
            expected = {
                Phase.ROLLED_BACK: State.ROLLED_BACK,
                Phase.COMPLETE: State.ACTIVE,
            }.get(ctl.state.phase, State.VALIDATED)
            assert gov.ledger.state_of(patch) == expected
            assert ctl.state.failed_checks <= 2
            assert (gov.active() == patch) == (ctl.state.phase is Phase.COMPLETE)
        finally:
            gov.close()
