"""A petri data folder whose world-parameter patches wait for a person (so they stay validated:
the state a rollout starts from), with an operator key."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ouroboros.patches.governor import Governor
from ouroboros.patches.keys import SigningKey
from ouroboros.patches.states import State
from tests.patches.conftest import FAST_BUDGETS, make_bundle, params_content

STAGED_WORLD = {
    "world": "petri",
    "seed": 7,
    "config": {"entities": 60},
    "budgets": {**FAST_BUDGETS, "human_domains": ["world_params"]},
}


@pytest.fixture
def gov(tmp_path: Path) -> Iterator[Governor]:
    governor = Governor(tmp_path / "data", world_defaults=STAGED_WORLD, environ={})
    governor.new_key("op", ["*"])
    yield governor
    governor.close()


@pytest.fixture
def validated(gov: Governor) -> Callable[..., str]:
    """Submit a world-parameter patch; it stops at validated. Returns its id."""
    key: SigningKey = gov.local_key("op")
    count = [0]

    def make(temperature: int = 30, **overrides: Any) -> str:
        count[0] += 1
        doc = make_bundle(gov, params_content(temperature, f"1.0.{count[0]}"), key, **overrides)
        verdict = gov.submit(doc)
        assert verdict.state == State.VALIDATED, verdict.reasons
        return str(doc["patch_id"])

    return make
