"""Procgen rules drive spawns in the running city, within their caps."""

from __future__ import annotations

from typing import Any

from neon_harness import City

from ouroboros.worlds import build_world
from ouroboros.worlds.neon import procgen
from ouroboros.worlds.neon.actions import die
from ouroboros.worlds.neon.city import npc_id, slots, state
from ouroboros.worlds.neon.gameplay import apply_content, check_content
from ouroboros.worlds.neon.maps import safe_rooms
from ouroboros.worlds.neon.tables import tables

ZONE = "neon.zone.scrapyards"  # 78 rooms, the jackals' ground


def _rule(kind: str, templates: list[str], count: int, density: int = 1000, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"neon.procgen.test_{kind}", "version": "1.0.0", "kind": kind, "templates": templates,
        "spawn_count": count, "area_density_permille": density, "recursion_depth": 0, "zone": ZONE, **extra,
    }  # fmt: skip


def _copies(city: City, nid: str) -> list[int]:
    t = tables(city.world)
    return [
        e for c in city.world.query("Npc") for e in c.ids.tolist()
        if npc_id(city.world, e) == nid and procgen.is_copy(city.world, e, t)
    ]  # fmt: skip


def _city_with(*rules: dict[str, Any]) -> City:
    world = build_world("neon", 3)
    assert check_content({"procgen_rules": list(rules)}) == []
    city = City(world=world)
    city.wait(1)
    apply_content(world, {"procgen_rules": list(rules)})
    return city


def test_an_npc_rule_fills_its_zone_up_to_its_count_and_no_further() -> None:
    city = _city_with(_rule("npc_spawn", ["neon.npc.jackal_runner"], 3))
    city.wait(procgen.PROCGEN_EVERY_TICKS * 2)
    assert len(_copies(city, "neon.npc.jackal_runner")) == 2  # one a pass: gradual
    city.wait(procgen.PROCGEN_EVERY_TICKS * 6)
    copies = _copies(city, "neon.npc.jackal_runner")
    assert len(copies) == 3
    safe = safe_rooms(tables(city.world))
    for npc in copies:
        home = slots(city.world).id_of("room", int(city.world.get(npc, "Npc")["home"]))
        assert tables(city.world).rooms[home]["zone"] == ZONE and home not in safe


def test_density_caps_a_rule_below_its_count() -> None:
    city = _city_with(_rule("npc_spawn", ["neon.npc.jackal_runner"], 50, density=20))  # 78 rooms × 2 %
    city.wait(procgen.PROCGEN_EVERY_TICKS * 5)
    assert len(_copies(city, "neon.npc.jackal_runner")) == 78 * 20 // 1000


def test_a_copy_that_dies_is_replaced_by_its_rule_not_by_the_templates_respawn() -> None:
    city = _city_with(_rule("npc_spawn", ["neon.npc.jackal_runner"], 1))
    city.wait(procgen.PROCGEN_EVERY_TICKS + 1)
    (copy,) = _copies(city, "neon.npc.jackal_runner")
    die(city.world, copy, copy)  # between two ticks, as a command would
    city.wait(2)
    assert "neon.npc.jackal_runner" not in state(city.world)["respawn"]  # the original lives on
    city.wait(procgen.PROCGEN_EVERY_TICKS)
    assert len(_copies(city, "neon.npc.jackal_runner")) == 1


def test_an_item_rule_keeps_loot_on_the_floors_and_replaces_what_is_taken() -> None:
    city = _city_with(_rule("item_drop", ["neon.item.energy_bar"], 2))
    city.wait(procgen.PROCGEN_EVERY_TICKS * 4)
    s = slots(city.world)
    proto = s.slot("item", "neon.item.energy_bar")
    zone = {s.slot("room", r) for r, room in tables(city.world).rooms.items() if room.get("zone") == ZONE}

    def lying() -> list[tuple[int, int]]:
        return [
            (e, r) for c in city.world.query("Item")
            for e, p, h, r in zip(c.ids.tolist(), c["Item.proto"].tolist(), c["Item.holder"].tolist(),
                                  c["Item.room"].tolist(), strict=True)
            if p == proto and h == 0 and r in zone
        ]  # fmt: skip

    found = lying()
    assert len(found) == 2
    city.enter("Alice")
    city.world.set(city.player("Alice"), "Place", room=found[0][1])
    assert "You pick up Energy Bar" in city.do("Alice", "get energy bar")
    city.wait(procgen.PROCGEN_EVERY_TICKS)
    assert len(lying()) == 2


def test_rules_neon_cannot_run_are_refused_by_the_content_check() -> None:
    problems = check_content({"procgen_rules": [_rule("room_block", ["neon.room.st_03_04"], 1)]})
    assert [p[0] for p in problems] == ["unsupported_procgen"]
