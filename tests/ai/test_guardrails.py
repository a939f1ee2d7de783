"""Guardrails: over-budget proposals are refused with their numbers, banned words and themes are
found in any text, the legendary rate holds over a rolling history, and the guardrails file
reloads while running and keeps the last good version when it goes bad."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ouroboros.ai.guardrails import (
    Guardrails,
    GuardrailsFile,
    RarityHistory,
    check,
    enforce,
    item_power,
)
from ouroboros.ai.proposals import Proposal, ProposalType
from ouroboros.errors import BadInputError, GuardrailError, OuroborosError


def _item(**overrides: Any) -> dict[str, Any]:
    item = {
        "id": "neon.gen.item.t",
        "version": "1.0.0",
        "name": "Test Blade",
        "kind": "weapon",
        "rarity": "rare",
        "price": 1000,
        "slot": "main_hand",
        "stats": {"damage": 20, "armour": 0, "accuracy": 5, "heal": 0},
        "description": "A blade for tests.",
        "tags": ["weapon", "rare"],
    }
    item.update(overrides)
    return item


def _proposal(payload: dict[str, Any], *, tags: list[str] | None = None, type: str = "ITEM") -> Proposal:
    return Proposal(
        type=ProposalType(type), world="neon", seed=1, generator="test@1", payload=payload, tags=tags or []
    ).with_id()


def test_item_power_counts_every_stat_at_its_price() -> None:
    item = _item(
        stats={"damage": 10, "armour": 3, "accuracy": -4, "heal": 7},
        extensions={"neon.crit_permille": 25, "neon.procs": ["shock"]},
    )
    # damage 10, accuracy malus refunds nothing, armour 2 each, heal 1 per 3 hp (rounded up),
    # crit 1 per 10 permille (rounded up), 6 per proc
    assert item_power(item) == 10 + 0 + 6 + 3 + 3 + 6


def test_a_proposal_within_the_guardrails_has_no_violations() -> None:
    assert check(_proposal({"items": [_item()]}), Guardrails()) == []


def test_over_budget_items_are_refused_with_their_numbers_and_never_changed() -> None:
    proposal = _proposal({"items": [_item(stats={"damage": 40, "armour": 0, "accuracy": 0, "heal": 0})]})
    rules = Guardrails(max_weapon_damage=30)
    violations = check(proposal, rules)
    assert [(v.code, v.path, v.value, v.limit) for v in violations] == [
        ("over_budget", "/items/0/stats/damage", 40, 30),
        ("over_budget", "/items/0", 40, 32),  # a rare item may spend 32 points
    ]
    assert "40" in violations[0].message and "30" in violations[0].message
    with pytest.raises(GuardrailError) as caught:
        enforce(proposal, rules)
    assert isinstance(caught.value, OuroborosError)
    assert caught.value.as_dict()["violations"][0]["value"] == 40
    assert proposal.payload["items"][0]["stats"]["damage"] == 40  # rejected, not clamped


def test_money_caps_cover_npc_loot_and_quest_rewards() -> None:
    npc = {"id": "neon.gen.npc.x", "damage": 5, "hp": 50, "extensions": {"neon.credits": 2500}}
    quest = {"id": "neon.gen.quest.x", "rewards": {"credits": 9000, "xp": 10}}
    violations = check(_proposal({"npcs": [npc], "quests": [quest]}, type="QUEST"), Guardrails())
    assert [(v.path, v.value, v.limit) for v in violations] == [
        ("/npcs/0/extensions/neon.credits", 2500, 2000),
        ("/quests/0/rewards/credits", 9000, 2000),
    ]


def test_an_expansion_over_the_room_limit_is_refused() -> None:
    rooms = [{"id": f"neon.gen.room.r{i}", "name": f"Room {i}"} for i in range(5)]
    proposal = _proposal({"rooms": rooms}, type="WORLD_EXPANSION")
    [violation] = check(proposal, Guardrails(max_rooms_per_expansion=4))
    assert (violation.code, violation.value, violation.limit) == ("too_many_rooms", 5, 4)


@settings(max_examples=60, deadline=None)
@given(
    word=st.sampled_from(["Glowfang", "zaibatsu", "Murkwater"]),
    where=st.sampled_from(["name", "description", "extensions"]),
    disguise=st.sampled_from(["plain", "upper", "dotted"]),
)
def test_a_banned_word_is_found_in_every_text_field(word: str, where: str, disguise: str) -> None:
    shown = {"plain": word, "upper": word.upper(), "dotted": ".".join(word)}[disguise]
    text = f"The {shown} of the night"
    item = _item(**({"extensions": {"neon.lore": text}} if where == "extensions" else {where: text}))
    violations = check(_proposal({"items": [item]}), Guardrails(banned_words=(word.lower(),)))
    path = "/items/0/extensions/neon.lore" if where == "extensions" else f"/items/0/{where}"
    assert [(v.code, v.path, v.value) for v in violations] == [("banned_word", path, word.lower())]


def test_an_enriched_flavour_text_is_checked_once_and_where_it_differs() -> None:
    proposal = _proposal({"items": [_item(name="Glowfang Blade")]})
    proposal = proposal.model_copy(update={"flavour": {"/items/0/name": "Glowfang Blade"}})
    rules = Guardrails(banned_words=("glowfang",))
    assert [v.path for v in check(proposal, rules)] == ["/items/0/name"]
    rewritten = proposal.model_copy(update={"flavour": {"/items/0/name": "Blade of the glowfang"}})
    assert [v.path for v in check(rewritten, rules)] == ["/items/0/name", "flavour:/items/0/name"]


def test_ids_are_not_text_and_a_clean_name_passes() -> None:
    item = _item(id="neon.gen.item.glowfang")
    assert check(_proposal({"items": [item]}), Guardrails(banned_words=("glowfang",))) == []


def test_a_banned_theme_is_found_in_tags_and_in_text() -> None:
    rules = Guardrails(banned_themes=("gang war",))
    tagged = check(_proposal({"items": [_item()]}, tags=["event", "gang_war"]), rules)
    assert [(v.code, v.path) for v in tagged] == [("banned_theme", "/tags")]
    told = check(_proposal({"items": [_item(description="A relic of the Gang  War.")]}), rules)
    assert [(v.code, v.path) for v in told] == [("banned_theme", "/items/0/description")]


_SEPARATORS = st.text(
    alphabet=st.sampled_from(list(" -_./\\|+*~:;,!?'\"()[]{}#0123456789\t\n\u2014\u00a0")), max_size=4
)


@settings(max_examples=120, deadline=None)
@given(
    theme=st.sampled_from(["self harm", "sexual violence", "child abuse"]),
    separator=_SEPARATORS,
    case=st.sampled_from(["lower", "upper", "title"]),
    where=st.sampled_from(["description", "tag", "summary"]),
)
def test_any_separator_between_a_banned_themes_words_is_still_refused(
    theme: str, separator: str, case: str, where: str
) -> None:
    first, second = theme.split()
    shown = getattr(f"{first}{separator}{second}", case)()
    if where == "tag":
        proposal = _proposal({"items": [_item()]}, tags=["lore", shown])
        path = "/tags"
    elif where == "summary":
        proposal = _proposal({"items": [_item()]}).model_copy(update={"summary": f"a tale of {shown}"})
        path = "summary"
    else:
        proposal = _proposal({"items": [_item(description=f"A tale of {shown}, told twice.")]})
        path = "/items/0/description"
    violations = check(proposal, Guardrails())
    assert [(v.code, v.path, v.value) for v in violations] == [("banned_theme", path, theme)]


@pytest.mark.parametrize("text", ["a tale of self-harm", "self_harm", "SELF.HARM", "Sélf—Harm"])
def test_the_audited_spellings_of_a_banned_theme_are_refused(text: str) -> None:
    proposal = _proposal({"items": [_item(description=text)]})
    assert [v.code for v in check(proposal, Guardrails())] == ["banned_theme"]


@pytest.mark.parametrize("text", ["selfharming rhymes", "myself harmless", "self, then harbour"])
def test_a_theme_must_start_and_end_on_word_edges(text: str) -> None:
    assert check(_proposal({"items": [_item(description=text)]}), Guardrails()) == []


def test_at_most_one_legendary_in_a_hundred_generations() -> None:
    legendary = _proposal({"items": [_item(rarity="legendary")]})
    history = RarityHistory()
    assert check(legendary, Guardrails(), history=history) == []
    history.record_proposal(legendary)
    [violation] = check(legendary, Guardrails(), history=history)
    assert (violation.code, violation.value, violation.limit) == ("legendary_rate", 2, 1)
    for _ in range(99):
        history.record("common")
    assert check(legendary, Guardrails(), history=history) != []  # the legendary is 100th from last
    history.record("common")
    assert check(legendary, Guardrails(), history=history) == []  # it fell out of the window
    assert len(history.as_list()) == 100
    assert RarityHistory(history.as_list()) == history  # plain data: persisted and read back


def test_history_refuses_unknown_rarities() -> None:
    with pytest.raises(BadInputError):
        RarityHistory(["mythic"])


@pytest.mark.parametrize(
    "data",
    [
        {"max_weapon_damage": "60"},  # strict: no coercion
        {"max_weapon_damage": -1},
        {"rarity_budget_points": {"common": 50, "uncommon": 20, "rare": 32, "epic": 44, "legendary": 56}},
        {"rarity_budget_points": {"common": 1}},
        {"unknown_cap": 3},
        ["not", "an", "object"],
    ],
)
def test_bad_guardrails_are_refused_on_write(tmp_path: Path, data: Any) -> None:
    file = GuardrailsFile(tmp_path / "guardrails.json")
    with pytest.raises(BadInputError):
        file.write(data)
    assert not (tmp_path / "guardrails.json").exists()
    file.write({"max_armor": 12})
    with pytest.raises(BadInputError):
        file.write(data)
    assert json.loads((tmp_path / "guardrails.json").read_text())["max_armor"] == 12  # untouched
    assert file.current().max_armor == 12


def test_the_file_reloads_while_running_and_a_bad_file_keeps_the_last_good(tmp_path: Path) -> None:
    path = tmp_path / "guardrails.json"
    file = GuardrailsFile(path)
    assert file.current() == Guardrails()  # no file: the defaults
    file.write({"max_weapon_damage": 25})
    assert file.current().max_weapon_damage == 25
    assert json.loads(path.read_text())["max_weapon_damage"] == 25

    path.write_text(json.dumps({"max_weapon_damage": 35, "banned_words": ["chrome"]}))  # an operator edit
    os.utime(path, ns=(1, 1))  # a new mtime even on a coarse clock
    assert file.current().max_weapon_damage == 35
    assert file.current().banned_words == ("chrome",)
    assert file.last_error is None

    path.write_text('{"max_weapon_damage": ')  # torn or hand-broken
    assert file.current().max_weapon_damage == 35
    assert file.last_error is not None and "keeping the last good" in file.last_error

    path.write_text(json.dumps({"max_weapon_damage": 10}))
    os.utime(path, ns=(2, 2))
    assert file.current().max_weapon_damage == 10 and file.last_error is None
