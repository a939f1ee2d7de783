"""The bundle envelope: shape, chain (genesis) rule, timestamps, specifiers and signatures."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import pytest

from ouroboros.content import SCHEMA_VERSION, parse_envelope

from .conftest import codes_paths, envelope, mutate, reasons_of

SIG = base64.b64encode(bytes(range(64))).decode()
PARENT = "p-" + "b" * 32


def test_valid_envelope_parses_with_its_content() -> None:
    env = parse_envelope(envelope(signatures=[{"keyid": "c" * 64, "sig": SIG}]))
    assert env.schema_version == SCHEMA_VERSION == "1"
    assert env.content.items[0].id == "it.knife"
    assert env.signatures[0].keyid == "c" * 64
    assert env.created == datetime(2025, 1, 1, tzinfo=UTC)
    assert parse_envelope(env.to_json()) == env


def test_child_patch_with_parent() -> None:
    env = parse_envelope(envelope(parent_patch_id=PARENT, sequence=7))
    assert env.parent_patch_id == PARENT


@pytest.mark.parametrize(
    ("overrides", "code", "path"),
    [
        ({"schema_version": "2"}, "bad_value", "/schema_version"),
        ({"schema_version": 1}, "bad_value", "/schema_version"),
        ({"patch_id": "p-" + "A" * 32}, "bad_pattern", "/patch_id"),
        ({"patch_id": "p-123"}, "bad_pattern", "/patch_id"),
        ({"parent_patch_id": "x"}, "bad_pattern", "/parent_patch_id"),
        ({"sequence": -1}, "out_of_bounds", "/sequence"),
        ({"sequence": 1}, "bad_value", "/parent_patch_id"),
        ({"parent_patch_id": PARENT}, "bad_value", "/parent_patch_id"),
        ({"parent_patch_id": "p-" + "a" * 32, "sequence": 1}, "bad_value", "/parent_patch_id"),
        ({"world": "Neon City"}, "bad_pattern", "/world"),
        ({"created_at": "2025-01-01 00:00:00Z"}, "bad_pattern", "/created_at"),
        ({"created_at": "2025-01-01T00:00:00+00:00"}, "bad_pattern", "/created_at"),
        ({"created_at": "2025-02-30T00:00:00Z"}, "bad_value", "/created_at"),
        ({"expires_at": "2024-12-31T23:59:59Z"}, "bad_value", "/expires_at"),
        ({"expires_at": "2025-01-01T00:00:00Z"}, "bad_value", "/expires_at"),
        ({"engine_compat": "about 0.1"}, "bad_value", "/engine_compat"),
        ({"engine_compat": ""}, "out_of_bounds", "/engine_compat"),
        ({"author": {"type": "robot"}}, "bad_value", "/author/type"),
        ({"author": {"type": "llm", "model": "gpt\n4"}}, "bad_pattern", "/author/model"),
        ({"signatures": [{"keyid": "C" * 64, "sig": SIG}]}, "bad_pattern", "/signatures/0/keyid"),
        ({"signatures": [{"keyid": "c" * 64, "sig": "not base64!"}]}, "bad_value", "/signatures/0/sig"),
        ({"signatures": [{"keyid": "c" * 64, "sig": SIG[:-4]}]}, "bad_value", "/signatures/0/sig"),
        ({"signature": []}, "unknown_field", "/signature"),
        (
            {
                "content": {
                    "items": [{"id": "it.x", "version": "1.0.0", "name": "X", "kind": "junk", "price": 1.0}]
                }
            },
            "wrong_type",
            "/content/items/0/price",
        ),
    ],
)
def test_envelope_refusals(overrides: dict[str, Any], code: str, path: str) -> None:
    reasons = reasons_of(lambda: parse_envelope(envelope(**overrides)))
    assert (code, path) in codes_paths(reasons), reasons


def test_missing_envelope_fields() -> None:
    doc = mutate(envelope(), "/engine_compat", None)
    del doc["engine_compat"]
    reasons = reasons_of(lambda: parse_envelope(doc))
    assert codes_paths(reasons) == {("missing_field", "/engine_compat")}


def test_compatibility_and_expiry() -> None:
    env = parse_envelope(envelope())
    assert env.compatible_with("0.1.5")
    assert not env.compatible_with("0.2.0")
    assert not env.compatible_with("not a version")
    assert not env.is_expired(datetime(2025, 1, 7, tzinfo=UTC))
    assert env.is_expired(datetime(2025, 1, 8, tzinfo=UTC))


def test_fractional_seconds_are_accepted() -> None:
    env = parse_envelope(envelope(created_at="2025-01-01T00:00:00.123456Z"))
    assert env.created.microsecond == 123456
