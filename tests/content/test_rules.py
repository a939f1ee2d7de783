"""The pure number and word rules (``content.rules``) that the generators spend by and both the
guardrails and the pipeline check by."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ouroboros.content.rules import (
    RARITY_ORDER,
    Guardrails,
    check_content,
    check_legendary_rate,
    check_numbers,
    check_words,
    item_power,
)

STATS = st.fixed_dictionaries(
    {
        "damage": st.integers(0, 80),
        "armour": st.integers(0, 40),
        "accuracy": st.integers(-10, 20),
        "heal": st.integers(0, 40),
    }
)


def _item(stats: dict[str, int], rarity: str, kind: str = "weapon") -> dict[str, Any]:
    return {
        "id": "x.item",
        "name": "Plain Thing",
        "kind": kind,
        "rarity": rarity,
        "price": 10,
        "stats": stats,
    }


@given(STATS, st.sampled_from(RARITY_ORDER))
def test_an_item_breaks_its_rarity_budget_exactly_when_its_power_is_over_it(
    stats: dict[str, int], rarity: str
) -> None:
    g = Guardrails()
    item = _item(stats, rarity, kind="armour")  # armour: no weapon damage cap in the way
    before = copy.deepcopy(item)
    found = [v for v in check_numbers({"items": [item]}, g) if v.path == "/items/0"]
    over = item_power(item) > g.rarity_budget_points[rarity]
    assert bool(found) == over
    if over:
        assert (found[0].value, found[0].limit) == (item_power(item), g.rarity_budget_points[rarity])
    assert item == before  # rejected with its numbers, never clamped


def test_new_rooms_are_counted_only_against_the_rooms_that_exist() -> None:
    g = Guardrails(max_rooms_per_expansion=2)
    rooms = {"rooms": [{"id": f"r{i}"} for i in range(4)]}
    assert check_numbers(rooms, g) == []  # no idea what exists: not counted
    assert check_numbers(rooms, g, known_rooms={"r0", "r1"}) == []
    (too_many,) = check_numbers(rooms, g, known_rooms={"r0"})
    assert (too_many.code, too_many.value, too_many.limit) == ("too_many_rooms", 3, 2)


def test_words_are_looked_for_in_texts_and_tags_but_never_in_code() -> None:
    g = Guardrails(banned_words=("gloom",))
    content = {
        "items": [{"id": "x", "name": "Gloom Knife", "tags": ["self-harm"]}],
        "scripts": [{"id": "s", "source": "local gloom = 1 -- self harm"}],
    }
    codes = sorted((v.code, v.path) for v in check_words(content, g))
    assert codes == [("banned_theme", "/tags"), ("banned_word", "/items/0/name")]


def test_the_legendary_rate_counts_history_and_the_new_items() -> None:
    g = Guardrails(max_legendary_per_100=2)
    two = {"items": [_item({}, "legendary"), _item({}, "legendary")]}
    assert check_legendary_rate(two, g, 0) == []
    (rate,) = check_legendary_rate(two, g, 1)
    assert (rate.code, rate.value, rate.limit) == ("legendary_rate", 3, 2)
    assert [v.code for v in check_content(two, g, legendary_before=1)] == ["legendary_rate"]
