"""Enrichment keeps meaning: a weapon's new name still names a weapon, a street stays a street, a
quest's description stays its instructions, an existing object's words are never touched, and a
text that breaks this keeps the generator's words with the reason in the report (the cases the
issue saw the offline enrich do: "Lumen X Carbine" became "Ion Jacket", instructions became a room
description, a ground floor became "Rusted Rooftop", existing streets were overwritten)."""

from __future__ import annotations

import copy
import json

from hypothesis import given
from hypothesis import strategies as st

from ouroboros.ai.llm import LlmRequest, LlmResponse
from ouroboros.ai.llm.enrich import enrich
from ouroboros.ai.llm.meaning import KIND_WORDS, instruction_problem, kind_problem, words_of
from ouroboros.ai.proposals import Proposal, ProposalType
from ouroboros.content import parse_content

from .test_enrich import _base

WEAPON = {"kind": "weapon"}


def test_a_weapon_stays_a_weapon() -> None:
    assert kind_problem("items", WEAPON, "Lumen X Carbine", "Glowing Neon Carbine") is None
    assert kind_problem("items", WEAPON, "Lumen X Carbine", "Lumen Storm Rifle") is None
    why = kind_problem("items", WEAPON, "Lumen X Carbine", "Ion Jacket")
    assert why == "the new name calls a weapon an armour ('jacket')"
    why = kind_problem("items", WEAPON, "Lumen X Carbine", "Lumen Thing")
    assert why == "the new name no longer says it is a weapon (the old one said 'carbine')"
    # a name that never said its kind may stay silent, but may not claim another
    assert kind_problem("items", {"kind": "armour"}, "Armaplate Duster", "Rain Shroud") is None
    assert kind_problem("items", {"kind": "armour"}, "Armaplate Duster", "Shroud Pistol") is not None


def test_a_street_stays_a_street_and_a_ground_floor_is_no_rooftop() -> None:
    assert kind_problem("rooms", {}, "Ozone Street", "Ozone Street of Rain") is None
    assert "no longer says it is a street" in (
        kind_problem("rooms", {}, "Ozone Street", "Glass Arcade") or ""
    )
    assert "a roof ('rooftop')" in (kind_problem("rooms", {}, "Vance Tenement", "Rusted Rooftop") or "")


def test_quest_instructions_stay_instructions() -> None:
    before = "Take down Kai Chen; then Deliver Lumen X Carbine. The pay is good and nobody asks questions."
    names = [("Kai Chen", "Kai Chen"), ("Lumen X Carbine", "Storm Carbine")]
    assert instruction_problem(before, "Hunt down Kai Chen, then deliver the Storm Carbine.", names) is None
    assert instruction_problem(before, "Take down Kai Chen, then deliver the Lumen X Carbine.", names) is None
    why = instruction_problem(before, "Rain beads on every surface here, and nobody looks up.", names)
    assert why == "the instructions no longer mention 'Kai Chen'"
    why = instruction_problem("Go down, look, and thin out its rats.", "The rats are many.", [])
    assert why == "the text no longer tells the player what to do (it said 'down')"


texts = st.lists(
    st.sampled_from(["a", "Xy", "-", "'", "Carbine", "Jacket", "Street", "Go", "Rooftop", "Figurine"]),
    max_size=6,
).map(" ".join)


@given(
    domain=st.sampled_from(["items", "rooms", "npcs", "dialogue"]),
    kind=st.sampled_from(["weapon", "armour", "implant", "consumable", "junk", "boss"]),
    text=texts,
)
def test_an_unchanged_text_is_never_a_problem(domain: str, kind: str, text: str) -> None:
    assert kind_problem(domain, {"kind": kind}, text, text) is None
    assert instruction_problem(text, text, [(text, text)]) is None


@given(kind=st.sampled_from(sorted(KIND_WORDS["items"])), before=texts, after=texts)
def test_an_accepted_item_name_claims_no_other_kind(kind: str, before: str, after: str) -> None:
    if kind_problem("items", {"kind": kind}, before, after) is None:
        for other, vocabulary in KIND_WORDS["items"].items():
            if other != kind and words_of(after) & vocabulary:
                assert words_of(before) & vocabulary  # only a kind the old name claimed already


def _issue_proposal() -> tuple[Proposal, set[tuple[str, str]]]:
    """A new weapon and a quest to deliver it, plus an existing street the proposal edits."""
    weapon = {**_base("items", 0), "id": "neon.item.lumen_x", "name": "Lumen X Carbine", "kind": "weapon"}
    weapon["slot"] = "main_hand"
    quest = copy.deepcopy(_base("quests", 0))
    quest.update(id="neon.quest.lumen_run", name="The Lumen Run", prerequisites=[])
    quest["description"] = "Deliver Lumen X Carbine to the Drain King. The pay is good."
    street = _base("rooms", 5)
    payload = {"items": [weapon], "quests": [quest], "rooms": [street]}
    flavour = {
        "/items/0/name": weapon["name"],
        "/quests/0/description": quest["description"],
        "/rooms/0/description": street["description"],
    }
    proposal = Proposal(
        type=ProposalType.QUEST, world="neon", seed=3, generator="test@1", payload=payload, flavour=flavour
    ).with_id()
    return proposal, {("rooms", street["id"])}


class _Filler:
    """What the issue saw: unrelated filler for every text (the real provider interface)."""

    name = "filler"

    def __init__(self) -> None:
        self.prompts: list[str] = []

    def complete(self, request: LlmRequest) -> LlmResponse:
        self.prompts.append(request.prompt)
        words = {"items.name": "Ion Jacket", "quests.description": "Rain beads on every surface here."}
        data = {
            k: words.get(p["title"], "Old neon buzzes overhead.")
            for k, p in request.schema["properties"].items()
        }
        return LlmResponse(json.dumps(data), data, self.name, "filler-1", 1, 1, 1)


def test_a_breaking_enrichment_keeps_the_generator_words_and_says_why() -> None:
    proposal, existing = _issue_proposal()
    filler = _Filler()
    enriched, report = enrich(proposal, filler, existing=existing, known_names=["The Drain King"])
    assert enriched.payload == proposal.payload  # every text kept: each one broke a rule or was not ours
    assert {r["pointer"]: r["code"] for r in report.rejected} == {
        "/items/0/name": "meaning_kind",
        "/quests/0/description": "meaning_instructions",
    }
    assert report.skipped == [
        {"pointer": "/rooms/0/description", "message": "an existing object's words are kept"}
    ]
    assert "Old neon" not in " ".join(filler.prompts)  # the existing street was never even sent
    assert report.fallback and "2 text(s) kept by the meaning check" in (report.reason or "")
    assert "calls a weapon an armour ('jacket')" in (report.reason or "")
    parse_content(enriched.payload)


def test_a_renamed_target_may_be_named_by_its_new_name_in_the_instructions() -> None:
    proposal, existing = _issue_proposal()

    class _Good(_Filler):
        def complete(self, request: LlmRequest) -> LlmResponse:
            words = {
                "items.name": "Storm Carbine",
                "quests.description": "Run the Storm Carbine to the Drain King.",
            }
            data = {k: words[p["title"]] for k, p in request.schema["properties"].items()}
            return LlmResponse(json.dumps(data), data, self.name, "good-1", 1, 1, 1)

    enriched, report = enrich(proposal, _Good(), existing=existing, known_names=["Drain King"])
    assert (report.rejected, report.reason) == ([], None)
    assert enriched.payload["items"][0]["name"] == "Storm Carbine"
    assert enriched.payload["quests"][0]["description"] == "Run the Storm Carbine to the Drain King."
    assert enriched.payload["rooms"] == proposal.payload["rooms"]


def test_a_name_put_back_also_puts_back_a_description_that_used_the_new_name() -> None:
    proposal, existing = _issue_proposal()

    class _Half(_Filler):
        def complete(self, request: LlmRequest) -> LlmResponse:
            words = {
                "items.name": "Ion Jacket",
                "quests.description": "Deliver the Ion Jacket to the Drain King.",
            }
            data = {k: words[p["title"]] for k, p in request.schema["properties"].items()}
            return LlmResponse(json.dumps(data), data, self.name, "half-1", 1, 1, 1)

    enriched, report = enrich(proposal, _Half(), existing=existing)
    assert enriched.payload == proposal.payload
    assert [r["code"] for r in report.rejected] == ["meaning_kind", "meaning_instructions"]


def test_a_building_floor_on_a_named_way_is_no_street_but_never_a_rooftop() -> None:
    floor = "Relay Way Tenement, Floor 1"
    assert kind_problem("rooms", {}, floor, "Relay Tenement, First Floor") is None
    assert "a roof ('rooftop')" in (kind_problem("rooms", {}, floor, "Rusted Rooftop") or "")
