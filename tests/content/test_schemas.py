"""Schema validation: valid documents parse, every bound and strictness rule is refused with its
own code at the right path."""

from __future__ import annotations

from typing import Any

import pytest

from ouroboros.content import LIMITS, PatchContent, parse_content

from .conftest import DELETE, codes_paths, leaf_paths, mutate, reasons_of, world


def test_world_parses_into_frozen_tuples() -> None:
    content = parse_content(world())
    assert [i.id for i in content.items] == ["it.knife", "it.chip"]
    assert content.items[0].stats.damage == 5
    assert isinstance(content.items, tuple)
    assert content.rooms[0].exits == {"n": "rm.b"}
    with pytest.raises(ValueError):
        content.items[0].price = 5  # type: ignore[misc]


def test_empty_document_is_empty_content() -> None:
    content = parse_content({})
    assert content == PatchContent()
    assert content.is_empty()


def test_round_trip_through_json() -> None:
    content = parse_content(world())
    assert parse_content(content.to_json()) == content


LONG = "x" * (LIMITS.max_description_chars + 1)

# (pointer in world(), bad value, expected code)
BOUNDS: list[tuple[str, Any, str]] = [
    ("/items/0/id", "Knife", "bad_pattern"),
    ("/items/0/id", "a" * 65, "bad_pattern"),
    ("/items/0/id", "it.knife\n", "bad_pattern"),
    ("/items/0/version", "1.0", "bad_pattern"),
    ("/items/0/version", "01.0.0", "bad_pattern"),
    ("/items/0/version", "1.0.0-beta", "bad_pattern"),
    ("/items/0/name", "", "out_of_bounds"),
    ("/items/0/name", "n" * 81, "out_of_bounds"),
    ("/items/0/name", "bad\x00name", "bad_value"),
    ("/items/0/name", "   ", "bad_value"),
    ("/items/0/name", "knife\u202egnp.exe", "bad_value"),
    ("/rooms/0/description", "tab\tand\nnewline ok, bell \x07 not", "bad_value"),
    ("/items/0/kind", "spoon", "bad_value"),
    ("/items/0/rarity", "mythic", "bad_value"),
    ("/items/0/slot", "tail", "bad_value"),
    ("/items/0/price", -1, "out_of_bounds"),
    ("/items/0/price", 1_000_001, "out_of_bounds"),
    ("/items/0/price", 10**100, "out_of_bounds"),
    ("/items/0/stats/damage", 1001, "out_of_bounds"),
    ("/items/0/stats/accuracy", -101, "out_of_bounds"),
    ("/items/0/description", LONG, "out_of_bounds"),
    ("/items/0/tags", [f"t{i}" for i in range(17)], "out_of_bounds"),
    ("/items/0/tags", ["Bad Tag"], "bad_pattern"),
    ("/rooms/0/threat_level", 11, "out_of_bounds"),
    ("/rooms/0/coords/level", 129, "out_of_bounds"),
    ("/rooms/0/coords/x", 100_001, "out_of_bounds"),
    ("/rooms/0/exits/n", "Not An Id", "bad_pattern"),
    ("/rooms/0/corp", 7, "wrong_type"),
    ("/npcs/0/hp", 0, "out_of_bounds"),
    ("/npcs/0/accuracy", 101, "out_of_bounds"),
    ("/npcs/0/level", 101, "out_of_bounds"),
    ("/npcs/0/kind", "dragon", "bad_value"),
    ("/npcs/0/drops/0/chance_permille", 1001, "out_of_bounds"),
    ("/npcs/0/stock", ["it.knife"] * 65, "out_of_bounds"),
    ("/npcs/0/respawn_ticks", -1, "out_of_bounds"),
    ("/npc_behaviors/0/states/idle/action", "dance", "bad_value"),
    ("/npc_behaviors/0/states/idle/transitions/0/on", "sneeze", "bad_value"),
    ("/npc_behaviors/0/states/idle/script", "sc.seek", "bad_value"),
    ("/npc_behaviors/0/states", {}, "out_of_bounds"),
    ("/npc_behaviors/0/plan/steps", [], "out_of_bounds"),
    ("/quests/0/objectives", [], "out_of_bounds"),
    ("/quests/0/objectives/0/count", 0, "out_of_bounds"),
    ("/quests/0/objectives/0/count", 101, "out_of_bounds"),
    ("/quests/0/objectives/0/kind", "dance", "bad_value"),
    ("/quests/0/objectives/0/to", "np.vendor", "bad_value"),
    ("/quests/0/objectives/1/to", DELETE, "missing_field"),
    ("/quests/0/rewards/credits", 1_000_001, "out_of_bounds"),
    ("/quests/0/rewards/xp", -1, "out_of_bounds"),
    ("/dialogue/0/lines", [], "out_of_bounds"),
    ("/dialogue/0/lines/0/text", "y" * 501, "out_of_bounds"),
    ("/dialogue/0/lines/0/text", "two\nlines", "bad_value"),
    ("/dialogue/0/lines/0/id", "Line One", "bad_pattern"),
    ("/economy_tuning/0/multipliers/price", 249, "out_of_bounds"),
    ("/economy_tuning/0/multipliers/sink", 4001, "out_of_bounds"),
    ("/economy_tuning/0/scope", "spoons", "bad_value"),
    ("/procgen_rules/0/spawn_count", 51, "out_of_bounds"),
    ("/procgen_rules/0/spawn_count", 0, "out_of_bounds"),
    ("/procgen_rules/0/recursion_depth", 5, "out_of_bounds"),
    ("/procgen_rules/0/area_density_permille", 501, "out_of_bounds"),
    ("/procgen_rules/0/templates", [], "out_of_bounds"),
    ("/procgen_rules/0/kind", "galaxy", "bad_value"),
    ("/scripts/0/language", "javascript", "bad_value"),
    ("/scripts/0/entry", "1act", "bad_pattern"),
    ("/scripts/0/source", "", "out_of_bounds"),
    ("/scripts/0/budgets", {"memory_bytes": LIMITS.max_script_memory_bytes + 1}, "out_of_bounds"),
    ("/traits/0/world", "neon", "bad_value"),
    ("/traits/0/script", DELETE, "missing_field"),
    ("/traits/1/script", "sc.seek", "bad_value"),
    ("/traits/1/builtin", "Wander Now", "bad_pattern"),
    ("/traits/0/migrate", "eventually", "bad_value"),
    ("/world_params/0/params", {}, "out_of_bounds"),
    ("/world_params/0/params/temperature", 2**53, "out_of_bounds"),
    ("/remove", [{"domain": "spells", "id": "x"}], "bad_value"),
]


def _expected_path(pointer: str, value: Any) -> str:
    if isinstance(value, dict) and value and pointer.endswith("budgets"):
        return f"{pointer}/{next(iter(value))}"
    if (
        isinstance(value, list)
        and value
        and isinstance(value[0], str)
        and value[0].startswith(("Bad", "Not"))
    ):
        return f"{pointer}/0"
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return f"{pointer}/0/domain"
    return pointer


@pytest.mark.parametrize(("pointer", "value", "code"), BOUNDS, ids=[f"{p}={c}" for p, _, c in BOUNDS])
def test_each_bound_refused_with_code_and_path(pointer: str, value: Any, code: str) -> None:
    reasons = reasons_of(lambda: parse_content(mutate(world(), pointer, value)))
    assert (code, _expected_path(pointer, value)) in codes_paths(reasons), reasons
    assert all(r.stage == "schema" for r in reasons)


def test_script_source_cap_counts_bytes_not_characters() -> None:
    # 40,000 two-byte characters: under the cap in characters, over it in UTF-8 bytes
    source = "-- " + "é" * 40_000
    reasons = reasons_of(lambda: parse_content(mutate(world(), "/scripts/0/source", source)))
    assert codes_paths(reasons) == {("out_of_bounds", "/scripts/0/source")}
    assert "bytes" in reasons[0].message


def test_unknown_field_at_top_level_nested_and_on_extensible_objects() -> None:
    doc = world()
    doc["spells"] = []
    doc["items"][0]["stats"]["crit"] = 5
    doc["items"][0]["glow"] = "blue"
    reasons = reasons_of(lambda: parse_content(doc))
    assert codes_paths(reasons) == {
        ("unknown_field", "/spells"),
        ("unknown_field", "/items/0/stats/crit"),
        ("unknown_field", "/items/0/glow"),
    }
    hint = next(r for r in reasons if r.path == "/items/0/glow")
    assert "extensions" in hint.message


def test_extensions_keep_unknown_data_aside() -> None:
    doc = mutate(
        world(), "/items/0/extensions", {"neon.glow": {"colour": "blue", "pulse": [1, 2, None, True]}}
    )
    item = parse_content(doc).items[0]
    assert item.extensions == {"neon.glow": {"colour": "blue", "pulse": [1, 2, None, True]}}


@pytest.mark.parametrize(
    ("extensions", "code", "path"),
    [
        ({"glow": 0.5}, "wrong_type", "/items/0/extensions/glow"),
        ({"glow": {"a": [1, 2.5]}}, "wrong_type", "/items/0/extensions/glow/a/1"),
        ({"Glow": 1}, "bad_pattern", "/items/0/extensions/Glow"),
        ({"deep": [[[[[[[1]]]]]]]}, "out_of_bounds", "/items/0/extensions/deep/0/0/0/0/0/0"),
        ({"many": list(range(300))}, "out_of_bounds", "/items/0/extensions/many/255"),
        ({"big": 2**60}, "out_of_bounds", "/items/0/extensions/big"),
        ({f"k{i}": 1 for i in range(33)}, "out_of_bounds", "/items/0/extensions"),
    ],
)
def test_extensions_are_bounded_json_without_floats(extensions: Any, code: str, path: str) -> None:
    reasons = reasons_of(lambda: parse_content(mutate(world(), "/items/0/extensions", extensions)))
    assert (code, path) in codes_paths(reasons), reasons


def _int_leaves() -> list[str]:
    return [p for p, v in leaf_paths(world()) if isinstance(v, int) and not isinstance(v, bool)]


@pytest.mark.parametrize("pointer", _int_leaves())
def test_every_integer_refuses_float_string_and_bool(pointer: str) -> None:
    doc = world()
    value = dict(leaf_paths(doc))[pointer]
    for wrong in (float(value), str(value), bool(value)):
        reasons = reasons_of(lambda wrong=wrong: parse_content(mutate(doc, pointer, wrong)))
        assert codes_paths(reasons) == {("wrong_type", pointer)}, (wrong, reasons)
    floats = reasons_of(lambda: parse_content(mutate(doc, pointer, float(value))))
    assert "float" in floats[0].message


def test_strict_bool_and_string_fields() -> None:
    reasons = reasons_of(lambda: parse_content(mutate(world(), "/rooms/0/growth_point", 1)))
    assert codes_paths(reasons) == {("wrong_type", "/rooms/0/growth_point")}
    reasons = reasons_of(lambda: parse_content(mutate(world(), "/items/0/name", 5)))
    assert codes_paths(reasons) == {("wrong_type", "/items/0/name")}
    reasons = reasons_of(lambda: parse_content(mutate(world(), "/items", {"0": {}})))
    assert codes_paths(reasons) == {("wrong_type", "/items")}


def test_missing_required_fields_each_named() -> None:
    reasons = reasons_of(lambda: parse_content({"items": [{"id": "it.x"}]}))
    assert codes_paths(reasons) == {
        ("missing_field", f"/items/0/{f}") for f in ("version", "name", "kind", "price")
    }


def test_not_an_object_is_refused_at_root() -> None:
    for junk in (None, [], "items", 5, 1.5, True):
        reasons = reasons_of(lambda junk=junk: parse_content(junk))
        assert codes_paths(reasons) == {("wrong_type", "/")}


def test_path_prefix_and_pointer_escaping() -> None:
    doc = mutate(world(), "/world_params/0/params", {"a/b~c": 1})
    reasons = reasons_of(lambda: parse_content(doc, path_prefix="/content"))
    assert codes_paths(reasons) == {("bad_pattern", "/content/world_params/0/params/a~1b~0c")}


def test_reasons_are_bounded() -> None:
    doc = {"items": [{"id": "X"} for _ in range(200)]}
    reasons = reasons_of(lambda: parse_content(doc))
    assert len(reasons) == LIMITS.max_reasons_reported
    assert reasons[-1].code == "too_many_reasons"


def test_domain_list_cap() -> None:
    doc = {"economy_tuning": [{"id": f"e{i}", "version": "1.0.0", "scope": "*"} for i in range(1001)]}
    reasons = reasons_of(lambda: parse_content(doc))
    assert codes_paths(reasons) == {("out_of_bounds", "/economy_tuning")}
