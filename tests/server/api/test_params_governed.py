"""Every world's parameters change one way: a governed ``world_params`` patch (the spec's params
hook checks the values first), so an operator's change is in the ledger and stays in force when a
later, unrelated version lands — petri's used to be a world input the next activation undid."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ouroboros.errors import BadInputError
from ouroboros.server.runtime import Runtime, RuntimeOptions
from ouroboros.server.runtime.governance import REASON_ENTRY
from ouroboros.worlds import world_spec
from tests.server.api.conftest import FAST_BUDGETS, wait_for

QUIET = RuntimeOptions(
    ticks_per_second=20,
    world_configs={"petri": {"entities": 20}},
    telnet_port=0,
    ws_port=0,
    optimizer=False,
    council=False,
    governance_budgets=FAST_BUDGETS,
)


@pytest.fixture
def petri(tmp_path: Path) -> Iterator[Runtime]:
    runtime = Runtime(tmp_path, worlds=("petri",), options=QUIET)
    try:
        runtime.start()
        yield runtime
    finally:
        runtime.stop()


def _other_version() -> dict[str, Any]:
    obj = {"id": "petri.params.seasons", "version": "1.0.0", "world": "petri", "params": {"max_food": 2500}}
    return {"world_params": [obj]}


def test_an_operators_change_survives_a_later_unrelated_version(petri: Runtime) -> None:
    r = petri.runner("petri")
    before = r.governance.params()["temperature"]
    verdict = r.governance.set_params({"temperature": before + 7}, "op", "a warmer dish")
    assert verdict["ok"] and verdict["state"] == "active", verdict
    wait_for(lambda: r.governance.params()["temperature"] == before + 7)
    stored = r.call(lambda: r.governor.active_content())
    (obj,) = stored["objects"]["world_params"]
    hook = world_spec("petri").params
    assert hook is not None and obj["id"] == hook.governed_id
    assert obj["params"] == {"temperature": before + 7}
    # a later version that knows nothing of the operator's change
    later = r.call(lambda: r.governance.submit_content(_other_version(), actor="someone else"))
    assert later["ok"] and later["state"] == "active", later
    wait_for(lambda: r.world.resources.get("gameplay_version") == later["patch_id"])
    assert r.governance.params()["max_food"] == 2500
    assert r.governance.params()["temperature"] == before + 7  # still in force
    # a second change keeps the first, and the reasons are in the ledger
    again = r.governance.set_params({"max_age": 3000}, "op", "shorter lives")
    assert again["ok"], again
    wait_for(lambda: r.governance.params()["max_age"] == 3000)
    assert r.governance.params()["temperature"] == before + 7
    reasons = r.call(lambda: [e.reason for e in r.governor.ledger.entries(kind=REASON_ENTRY)])
    assert reasons == ["a warmer dish", "shorter lives"]


@pytest.mark.parametrize(
    "params", [{"temperature": 999}, {"no_such_param": 1}, {"max_food": True}, {"temperature": "hot"}, {}]
)
def test_a_bad_value_is_bad_input_and_records_nothing(petri: Runtime, params: dict[str, Any]) -> None:
    r = petri.runner("petri")
    before = r.call(lambda: len(r.governor.ledger.patches()))
    with pytest.raises(BadInputError):
        r.governance.set_params(params, "op", "try it")
    assert r.call(lambda: len(r.governor.ledger.patches())) == before
