"""The one overlay and the one version bump of ``ouroboros.content``, pinned by properties."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ouroboros.content import semver_key
from ouroboros.content.overlay import by_id, overlay
from ouroboros.content.versions import FIRST_VERSION, next_version, parse_version, version_above
from ouroboros.errors import BadInputError

DOMAINS = ("items", "npcs", "rooms")
IDS = st.sampled_from([f"x.{n}" for n in "abcdefgh"])
PART = st.integers(0, 999_999_999)
VERSIONS = st.builds(lambda *p: ".".join(map(str, p)), PART, PART, PART)
LAST = "999999999.999999999.999999999"  # the schema's largest version: nothing comes after it


def _object(object_id: str, mark: int) -> dict[str, Any]:
    return {"id": object_id, "mark": mark}


LAYERS = st.dictionaries(
    st.sampled_from(DOMAINS),
    st.lists(st.builds(_object, IDS, st.integers(0, 9)), max_size=6, unique_by=lambda o: o["id"]),
    max_size=3,
)
REMOVALS = st.lists(st.fixed_dictionaries({"domain": st.sampled_from(DOMAINS), "id": IDS}), max_size=4)


@given(LAYERS, LAYERS)
def test_overlay_is_idempotent(base: dict[str, Any], top: dict[str, Any]) -> None:
    once = overlay(base, top)
    assert overlay(once, top) == once
    assert overlay(base, top, top) == once


@given(LAYERS, LAYERS, LAYERS)
def test_the_later_layer_wins_and_nothing_is_lost(
    base: dict[str, Any], middle: dict[str, Any], top: dict[str, Any]
) -> None:
    laid = by_id(overlay(base, middle, top))
    for domain in {*base, *middle, *top}:
        expected: dict[str, Any] = {}
        for layer in (base, middle, top):
            expected.update({o["id"]: o for o in layer.get(domain, ())})
        assert laid.get(domain, {}) == expected
    for objects in overlay(base, middle, top).values():
        assert [o["id"] for o in objects] == sorted(o["id"] for o in objects)


@given(LAYERS, LAYERS, REMOVALS)
def test_a_removal_deletes_before_the_layer_adds(
    base: dict[str, Any], top: dict[str, Any], removals: list[dict[str, str]]
) -> None:
    laid = by_id(overlay(base, {**top, "remove": removals}))
    for removal in removals:
        in_top = any(o["id"] == removal["id"] for o in top.get(removal["domain"], ()))
        assert (removal["id"] in laid.get(removal["domain"], {})) == in_top
    untouched = {(r["domain"], r["id"]) for r in removals}
    for domain, objects in base.items():
        for obj in objects:
            if (domain, obj["id"]) not in untouched:
                assert obj["id"] in laid[domain]


def test_overlay_reads_a_stored_catalog_copies_and_refuses_junk() -> None:
    base = {"items": [{"id": "a", "v": 1}]}
    stored = {"objects": {"items": [{"id": "a", "v": 2}]}, "retired": {}}
    assert overlay(base, stored) == {"items": [{"id": "a", "v": 2}]}
    laid = overlay(base, None)
    laid["items"][0]["v"] = 9
    assert base["items"][0]["v"] == 1  # what it was given is never changed
    with pytest.raises(BadInputError):
        overlay(base, {"items": {"id": "b"}})
    with pytest.raises(BadInputError):
        overlay(base, {"items": [{"name": "no id"}]})


@given(VERSIONS)
def test_the_next_version_is_strictly_greater_and_parses(version: str) -> None:
    assume(version != LAST)
    after = next_version(version)
    assert parse_version(after) > parse_version(version)
    assert semver_key(after) == parse_version(after)  # the schema's order and ours agree
    assert next_version(after) != after


@given(VERSIONS, VERSIONS)
def test_the_bump_is_monotonic(a: str, b: str) -> None:
    assume(LAST not in (a, b))
    if parse_version(a) < parse_version(b):
        assert parse_version(next_version(a)) <= parse_version(next_version(b))


@given(VERSIONS, VERSIONS)
def test_version_above_is_above_the_current_version(proposed: str, current: str) -> None:
    assume(current != LAST)
    out = version_above(proposed, current)
    assert parse_version(out) > parse_version(current)
    assert out == proposed or out == next_version(current)


def test_bump_examples_and_bad_versions() -> None:
    assert next_version(None) == FIRST_VERSION == "1.0.0"
    assert next_version("1.0.0") == "1.0.1"
    assert next_version("1.2.999999999") == "1.3.0"
    for bad in ("1.0", "01.0.0", "1.0.0-rc1", "", "a.b.c", "1.0.1000000000", LAST):
        with pytest.raises(BadInputError):
            next_version(bad)
