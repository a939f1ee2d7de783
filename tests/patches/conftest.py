"""A small petri data folder with an operator key, and helpers to make signed bundles."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from ouroboros.cli.governance import default_engine_compat
from ouroboros.patches.bundle import new_bundle, sign_bundle
from ouroboros.patches.governor import Governor
from ouroboros.patches.keys import SigningKey
from tests.budgets import SLOW_MACHINE_TICK_MS

FAST_BUDGETS = {
    "warmup_ticks": 3,
    "determinism_ticks": 4,
    "shadow_ticks": 8,
    "canary_ticks": 4,
    "tick_budget_ms": SLOW_MACHINE_TICK_MS,
}
SMALL_WORLD = {"world": "petri", "seed": 7, "config": {"entities": 60}, "budgets": FAST_BUDGETS}
#: the neon city as a governed test world: short warm-up, determinism, shadow and canary runs
NEON_WORLD = {
    "world": "neon",
    "seed": 5,
    "config": {},
    "budgets": {
        "warmup_ticks": 3,
        "determinism_ticks": 4,
        "shadow_ticks": 20,
        "canary_ticks": 10,
        "tick_budget_ms": SLOW_MACHINE_TICK_MS,
    },
}


def params_content(temperature: int, version: str = "1.0.0", pid: str = "petri.params.t") -> dict[str, Any]:
    return {
        "world_params": [
            {"id": pid, "version": version, "world": "petri", "params": {"temperature": temperature}}
        ]
    }


def make_bundle(
    gov: Governor, content: dict[str, Any], *keys: SigningKey, **overrides: Any
) -> dict[str, Any]:
    active = gov.active()
    sequence = 0 if active is None else (gov.ledger.sequence_of(active) or 0) + 1
    doc = new_bundle(
        content,
        world=overrides.pop("world", gov.world_name),
        parent_patch_id=overrides.pop("parent_patch_id", active),
        sequence=overrides.pop("sequence", sequence),
        author=overrides.pop("author", {"type": "operator", "model": None, "run_id": "test"}),
        engine_compat=overrides.pop("engine_compat", default_engine_compat()),
        ttl=overrides.pop("ttl", timedelta(hours=1)),
        **overrides,
    )
    for key in keys:
        doc = sign_bundle(doc, key)
    return doc


@pytest.fixture
def gov(tmp_path: Path) -> Iterator[Governor]:
    governor = Governor(tmp_path / "data", world_defaults=SMALL_WORLD, environ={})
    governor.new_key("op", ["*"])
    yield governor
    governor.close()


@pytest.fixture
def op(gov: Governor) -> SigningKey:
    return gov.local_key("op")
