"""The trust door and the numbers gate.

A bundle is trusted only as a ``VerifiedBundle`` that ``door.verify`` made (integrity and schema,
each once per submit); the pipeline itself holds every machine-made bundle to the guardrails'
numbers, whoever signed it and whatever it calls itself."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ouroboros.errors import PatchError
from ouroboros.patches import stages
from ouroboros.patches.door import Refused, VerifiedBundle, verify
from ouroboros.patches.governor import Governor
from ouroboros.patches.keys import SigningKey
from ouroboros.patches.states import State
from tests.budgets import SLOW_MACHINE_TICK_MS
from tests.patches.conftest import make_bundle

NEON = {
    "world": "neon",
    "seed": 5,
    "config": {},
    "budgets": {
        "warmup_ticks": 2,
        "determinism_ticks": 2,
        "shadow_ticks": 5,
        "canary_ticks": 3,
        "tick_budget_ms": SLOW_MACHINE_TICK_MS,
    },
}
GENERATOR = {"type": "generator", "model": None, "run_id": "test"}
OPERATOR = {"type": "operator", "model": None, "run_id": None}


def _blade(
    object_id: str = "neon.item.test_blade", rarity: str = "common", damage: int = 40
) -> dict[str, Any]:
    """A weapon of ``damage`` points: a common item may spend 12."""
    return {
        "id": object_id,
        "version": "1.0.0",
        "name": "Test Blade",
        "kind": "weapon",
        "rarity": rarity,
        "price": 300,
        "slot": "main_hand",
        "stats": {"damage": damage, "armour": 0, "accuracy": 0, "heal": 0},
        "description": "A plain blade for a test.",
        "tags": ["weapon"],
    }


@pytest.fixture
def neon(tmp_path: Path) -> Iterator[Governor]:
    governor = Governor(tmp_path / "data", world_defaults=NEON, environ={})
    governor.new_key("op", ["*"])
    governor.new_key("generator", ["items", "npcs", "quests", "rooms"])
    yield governor
    governor.close()


def _key(gov: Governor, name: str) -> SigningKey:
    return gov.local_key(name)


def test_a_generator_signed_bundle_over_the_power_budget_is_rejected_by_the_pipeline(neon: Governor) -> None:
    doc = make_bundle(neon, {"items": [_blade()]}, _key(neon, "generator"), author=GENERATOR)
    verdict = neon.submit(doc, actor="test")
    assert verdict.state == State.REJECTED and not verdict.ok
    reason = verdict.reasons[0]
    assert (reason.stage, reason.code, reason.path) == ("numbers", "over_budget", "/content/items/0")
    assert "power points of a common item 40" in reason.message and "limit 12" in reason.message
    assert neon.ledger.state_of(doc["patch_id"]) == State.REJECTED  # recorded, with its reason
    assert neon.active() is None


def test_a_generator_key_calling_itself_an_operator_is_still_gated(neon: Governor) -> None:
    doc = make_bundle(neon, {"items": [_blade()]}, _key(neon, "generator"), author=OPERATOR)
    verdict = neon.submit(doc, actor="test")
    assert [(r.stage, r.code) for r in verdict.reasons] == [("numbers", "over_budget")]


def test_an_operator_bundle_is_not_held_to_the_generators_budget(neon: Governor) -> None:
    doc = make_bundle(neon, {"items": [_blade()]}, _key(neon, "op"), author=OPERATOR)
    verdict = neon.submit(doc, actor="test", dry_run=True)
    assert "numbers" not in {r.stage for r in verdict.reasons}
    assert verdict.state == State.VALIDATED, verdict.reasons


def test_the_legendary_rate_counts_the_machine_made_versions_before(neon: Governor) -> None:
    gen = _key(neon, "generator")
    first = _blade("neon.item.legend_one", "legendary", damage=30)
    assert neon.submit(make_bundle(neon, {"items": [first]}, gen, author=GENERATOR)).state == State.ACTIVE
    second = _blade("neon.item.legend_two", "legendary", damage=30)
    verdict = neon.submit(make_bundle(neon, {"items": [second]}, gen, author=GENERATOR))
    assert [(r.stage, r.code) for r in verdict.reasons] == [("numbers", "legendary_rate")]
    assert "2 legendary items" in verdict.reasons[0].message


def test_a_banned_word_in_a_generated_name_is_refused(neon: Governor) -> None:
    blade = _blade(damage=8) | {"name": "Bullshit Blade"}
    verdict = neon.submit(make_bundle(neon, {"items": [blade]}, _key(neon, "generator"), author=GENERATOR))
    assert [(r.stage, r.code, r.path) for r in verdict.reasons] == [
        ("numbers", "banned_word", "/content/items/0/name")
    ]


def test_the_guardrails_in_force_are_the_folders_or_the_shared_ones_and_a_bad_file_fails_closed(
    neon: Governor,
) -> None:
    doc = make_bundle(neon, {"items": [_blade()]}, _key(neon, "generator"), author=GENERATOR)
    shared = neon.data.parent / "guardrails.json"  # DATA/guardrails.json beside DATA/neon, as go keeps it
    budgets = {"common": 40, "uncommon": 40, "rare": 40, "epic": 44, "legendary": 56}
    shared.write_text(json.dumps({"rarity_budget_points": budgets}))
    assert neon.submit(doc, dry_run=True).state == State.VALIDATED
    (neon.data / "guardrails.json").write_text("{not json")
    verdict = neon.submit(doc, dry_run=True)
    assert [(r.stage, r.code) for r in verdict.reasons] == [("numbers", "guardrails_unreadable")]
    operator = make_bundle(neon, {"items": [_blade(damage=8)]}, _key(neon, "op"), author=OPERATOR)
    assert neon.submit(operator, dry_run=True).state == State.VALIDATED  # people are not machines


def test_integrity_and_schema_run_once_per_submit(neon: Governor, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"integrity": 0, "schema": 0}
    for name in calls:
        real = getattr(stages, name)

        def counted(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
            calls[_name] += 1
            return _real(*args, **kwargs)

        monkeypatch.setattr(stages, name, counted)
    doc = make_bundle(neon, {"items": [_blade(damage=8)]}, _key(neon, "op"), author=OPERATOR)
    assert neon.submit(doc).state == State.ACTIVE
    assert calls == {"integrity": 1, "schema": 1}


def test_only_the_door_makes_a_verified_bundle_and_it_keeps_what_it_checked(neon: Governor) -> None:
    doc = make_bundle(neon, {"items": [_blade(damage=8)]}, _key(neon, "op"), author=OPERATOR)
    trusted = verify(doc, neon.keyring(), neon.ledger, neon.active(), neon.world_name)
    assert isinstance(trusted, VerifiedBundle)
    assert trusted.patch_id == doc["patch_id"] and trusted.signer_names == {"op"}
    assert trusted.domains == ("items",)
    doc["content"]["items"][0]["stats"]["damage"] = 999  # the caller's dict changes afterwards
    assert trusted.content_json()["items"][0]["stats"]["damage"] == 8
    assert trusted.content.items[0].stats.damage == 8
    with pytest.raises(PatchError) as raised:
        VerifiedBundle(**{**trusted.__dict__, "_seal": object()})
    assert raised.value.code == "unverified_bundle"
    with pytest.raises(AttributeError):
        trusted.patch_id = "p-" + "0" * 32  # type: ignore[misc]
    other_world = make_bundle(neon, {"items": [_blade(damage=8)]}, _key(neon, "op"), world="petri")
    refused = verify(other_world, neon.keyring(), neon.ledger, neon.active(), neon.world_name)
    assert isinstance(refused, Refused) and refused.stage == "schema"
    tampered = copy.deepcopy(make_bundle(neon, {"items": [_blade(damage=8)]}, _key(neon, "op")))
    tampered["content"]["items"][0]["price"] = 1
    refused = verify(tampered, neon.keyring(), neon.ledger, neon.active(), neon.world_name)
    assert isinstance(refused, Refused) and [r.code for r in refused.reasons] == ["hash_mismatch"]


def test_the_council_signs_with_a_key_the_gate_knows_as_a_machine() -> None:
    from ouroboros.ai.council import GENERATOR_KEY
    from ouroboros.patches.numbers import MACHINE_KEYS

    assert GENERATOR_KEY in MACHINE_KEYS
