"""Static checks across a patch and the catalog: references, cycles, text, kinds, removals."""

from __future__ import annotations

from typing import Any

import pytest

from ouroboros.content import Catalog, lint_content, parse_content
from ouroboros.content.lint import find_cycles
from ouroboros.errors import Reason

from .conftest import codes_paths, mutate, world


def lint(doc: Any, catalog: Catalog | None = None, **kwargs: Any) -> list[Reason]:
    return lint_content(parse_content(doc), catalog or Catalog.empty(), **kwargs)


def test_consistent_world_is_clean() -> None:
    assert lint(world()) == []


@pytest.mark.parametrize(
    ("pointer", "value", "code"),
    [
        ("/npcs/0/behavior", "bh.nothing", "unresolved_reference"),
        ("/npcs/0/dialogue", "dl.nothing", "unresolved_reference"),
        ("/npcs/0/stock/0", "it.nothing", "unresolved_reference"),
        ("/npcs/0/drops/0/item", "it.nothing", "unresolved_reference"),
        ("/npcs/0/spawn_room", "rm.nowhere", "unresolved_reference"),
        ("/rooms/0/exits/n", "rm.nowhere", "unresolved_reference"),
        ("/quests/0/giver", "np.nobody", "unresolved_reference"),
        ("/quests/0/objectives/1/to", "np.nobody", "unresolved_reference"),
        ("/quests/0/rewards/items/0", "it.nothing", "unresolved_reference"),
        ("/quests/0/dialogue", "dl.nothing", "unresolved_reference"),
        ("/quests/1/prerequisites/0", "qs.nothing", "unresolved_reference"),
        ("/dialogue/0/npc", "np.nobody", "unresolved_reference"),
        ("/procgen_rules/0/templates/0", "rm.nowhere", "unresolved_reference"),
        ("/traits/0/script", "sc.nothing", "unresolved_reference"),
        # right id, wrong domain
        ("/quests/0/objectives/0/target", "it.knife", "wrong_domain"),
        ("/quests/0/objectives/2/target", "np.rat", "wrong_domain"),
        ("/quests/1/objectives/0/target", "rm.a", "wrong_domain"),
        ("/procgen_rules/0/templates/0", "np.rat", "wrong_domain"),
        # inside one object
        ("/npc_behaviors/0/initial", "sleep", "unresolved_reference"),
        ("/npc_behaviors/0/states/idle/transitions/0/to", "sleep", "unresolved_reference"),
        ("/npc_behaviors/0/plan/steps/1/after/0", "wait", "unresolved_reference"),
        ("/npc_behaviors/0/plan/steps/1/id", "look", "duplicate_id"),
        ("/dialogue/0/lines/0/next/0", "zz", "unresolved_reference"),
        ("/dialogue/0/lines/1/id", "a", "duplicate_id"),
        ("/items/1/id", "it.knife", "duplicate_id"),
        # text
        ("/dialogue/0/lines/1/text", "Get lost, sh1t-for-brains.", "banned_term"),
        ("/dialogue/0/lines/1/text", "Bye {player.nam}.", "bad_placeholder"),
        ("/dialogue/0/lines/1/text", "Bye {player.name.", "bad_placeholder"),
        ("/dialogue/0/lines/1/text", "Bye }", "bad_placeholder"),
        ("/items/0/name", "F.U.C.K knife", "banned_term"),
        ("/rooms/0/description", "A b4st4rd of a place.", "banned_term"),
        ("/npcs/0/name", "Wh0re", "banned_term"),
        ("/quests/0/name", "Bullsh!t", "banned_term"),
    ],
)
def test_each_rule_with_code_and_path(pointer: str, value: Any, code: str) -> None:
    reasons = lint(mutate(world(), pointer, value))
    expected = pointer.rsplit("/", 1)[0] + "/id" if code == "duplicate_id" else pointer
    assert (code, expected) in codes_paths(reasons), reasons
    assert all(r.stage == "static" for r in reasons)


def test_path_prefix_for_envelopes() -> None:
    reasons = lint(mutate(world(), "/npcs/0/behavior", "bh.nothing"), path_prefix="/content")
    assert codes_paths(reasons) == {("unresolved_reference", "/content/npcs/0/behavior")}


def test_references_resolve_against_the_catalog() -> None:
    catalog = Catalog.from_content(parse_content(world()))
    patch = {
        "quests": [
            {
                "id": "qs.new",
                "version": "1.0.0",
                "name": "New",
                "giver": "np.vendor",
                "objectives": [{"kind": "visit", "target": "rm.b"}],
                "prerequisites": ["qs.more"],
            }
        ]
    }
    assert lint(patch, catalog) == []
    assert codes_paths(lint(patch)) == {
        ("unresolved_reference", "/quests/0/giver"),
        ("unresolved_reference", "/quests/0/objectives/0/target"),
        ("unresolved_reference", "/quests/0/prerequisites/0"),
    }


def test_reference_to_object_the_patch_removes() -> None:
    catalog = Catalog.from_content(parse_content(world()))
    patch = {
        "remove": [{"domain": "rooms", "id": "rm.b"}],
        "rooms": [
            {
                "id": "rm.c",
                "version": "1.0.0",
                "name": "C",
                "description": "c",
                "zone": "z",
                "district": "d",
                "coords": {"x": 5, "y": 5},
                "exits": {"w": "rm.b"},
            }
        ],
    }
    reasons = lint(patch, catalog)
    assert ("unresolved_reference", "/rooms/0/exits/w") in codes_paths(reasons)
    assert "removed" in next(r for r in reasons if r.path == "/rooms/0/exits/w").message


def test_removal_that_leaves_a_dangling_reference() -> None:
    catalog = Catalog.from_content(parse_content(world()))
    reasons = lint({"remove": [{"domain": "items", "id": "it.knife"}]}, catalog)
    assert codes_paths(reasons) == {("dangling_after_remove", "/remove/0")}
    assert "npcs/np.vendor" in reasons[0].message and "quests/qs.rats" in reasons[0].message


def test_removal_with_users_replaced_or_removed_is_clean() -> None:
    doc = world()
    catalog = Catalog.from_content(parse_content(doc))
    vendor = mutate(doc, "/npcs/0/stock", [])["npcs"][0] | {"version": "1.1.0"}
    quest = mutate(doc, "/quests/0/rewards/items", [])["quests"][0] | {"version": "1.1.0"}
    patch = {"remove": [{"domain": "items", "id": "it.knife"}], "npcs": [vendor], "quests": [quest]}
    assert lint(patch, catalog) == []


def test_quest_prerequisite_cycles_in_patch() -> None:
    doc = mutate(world(), "/quests/0/prerequisites", ["qs.more"])
    reasons = lint(doc)
    assert codes_paths(reasons) == {("cycle", "/quests/0/prerequisites")}
    assert "qs.more" in reasons[0].message and "qs.rats" in reasons[0].message
    itself = lint(mutate(world(), "/quests/1/prerequisites", ["qs.more"]))
    assert codes_paths(itself) == {("cycle", "/quests/1/prerequisites")}


def test_quest_cycle_across_patch_and_catalog() -> None:
    catalog = Catalog.from_content(parse_content(world()))  # qs.more requires qs.rats
    rats = mutate(world(), "/quests/0/prerequisites", ["qs.more"])["quests"][0] | {"version": "2.0.0"}
    reasons = lint({"quests": [rats]}, catalog)
    assert codes_paths(reasons) == {("cycle", "/quests/0/prerequisites")}


def test_behaviour_state_cycles_are_fine_but_plan_cycles_are_not() -> None:
    assert lint(world()) == []  # idle <-> fight is a cycle of states
    doc = mutate(world(), "/npc_behaviors/0/plan/steps/0/after", ["hit"])
    reasons = lint(doc)
    assert [r.code for r in reasons] == ["cycle"]
    assert reasons[0].path.startswith("/npc_behaviors/0/plan/steps/")


def test_trait_kind_must_match_script_language() -> None:
    doc = mutate(world(), "/scripts/0/language", "python")
    assert codes_paths(lint(doc)) == {("kind_mismatch", "/traits/0/script")}


def test_lint_includes_catalog_fold_rules() -> None:
    catalog = Catalog.from_content(parse_content(world()))
    reasons = lint({"items": [world()["items"][0]]}, catalog)
    assert codes_paths(reasons) == {("version_not_increasing", "/items/0/version")}


def test_lint_order_is_deterministic() -> None:
    doc = mutate(world(), "/npcs/0/behavior", "bh.x")
    doc = mutate(doc, "/quests/0/prerequisites", ["qs.more"])
    doc = mutate(doc, "/dialogue/0/lines/0/text", "{oops}")
    assert lint(doc) == lint(doc)
    assert len(lint(doc)) == 3


def test_find_cycles() -> None:
    graph = {"a": ["b"], "b": ["c"], "c": ["a"], "d": ["d"], "e": []}
    cycles = find_cycles(sorted(graph), graph.__getitem__)
    assert cycles == [["a", "b", "c", "a"], ["d", "d"]]
    assert find_cycles(["x", "y"], {"x": ["y"], "y": []}.__getitem__) == []
    long_chain = {str(i): [str(i + 1)] for i in range(5000)} | {"5000": []}
    assert find_cycles(list(long_chain), long_chain.__getitem__) == []
