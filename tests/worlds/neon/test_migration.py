"""A version change migrates live state: nobody is stranded in a room that left, a job that left is
withdrawn everywhere a player can look, items that left are kept or converted, npcs that leave or
arrive say so, and the change's report says what moved, closed and converted."""

from __future__ import annotations

import copy
from typing import Any

from neon_harness import City

from ouroboros.ai.generators import generate
from ouroboros.worlds import MIGRATION_SCRATCH
from ouroboros.worlds.neon import actions, find_player
from ouroboros.worlds.neon.city import items_held, slots, state
from ouroboros.worlds.neon.gameplay import effective
from ouroboros.worlds.neon.tables import base_content, tables

EXPANSION = generate("WORLD_EXPANSION", 3).payload
FAR_ROOM = "neon.gen.room.36251d2a14"  # four rooms up the new road from neon.room.st_18_19


def _activate(city: City, patch_id: str | None, content: dict[str, Any], **migration: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {"patch_id": patch_id, "content": content}
    if migration:
        payload["migration"] = migration
    city.world.submit("gameplay.activate", payload)
    city.game.step()
    report: dict[str, Any] = city.world.scratch[MIGRATION_SCRATCH]
    return report


def _put(city: City, name: str, room_id: str) -> None:
    """Test setup: stand ``name`` in ``room_id`` (as if they had walked there)."""
    city.world.set(city.player(name), "Place", room=slots(city.world).slot("room", room_id))


def _gmcp(city: City, name: str, package: str, start: int = 0) -> list[dict[str, Any]]:
    return [e["data"] for e in city.seen.get(name, [])[start:] if e.get("package") == package]


def test_a_player_in_a_rolled_back_expansion_is_moved_out_told_why_and_walks_on() -> None:
    city = City()
    city.enter("Alice", "Bob")
    _activate(city, "expansion", copy.deepcopy(EXPANSION))
    _put(city, "Alice", FAR_ROOM)
    assert "Exits: south" in city.do("Alice", "look")
    seen, seen_bob = len(city.seen["Alice"]), len(city.seen["Bob"])
    report = _activate(city, None, {}, kind="rollback")
    told = city.text("Alice", seen)
    assert "is gone (the city was rolled back)" in told
    assert city.room_id("Alice") == "neon.room.st_18_19"  # the nearest room that stayed
    assert "Exits: north, south, east, west" not in told and "Exits: south, east, west" in told
    assert {"who": "Alice", "kind": "player", "from": FAR_ROOM, "to": "neon.room.st_18_19"} in report["moved"]
    assert report["to"] is None and report["from"] == "expansion"
    assert _gmcp(city, "Alice", "Room.Info", seen)[-1]["id"] == "neon.room.st_18_19"
    assert "The city rolls back to an earlier version." in city.text("Bob", seen_bob)
    # and she walks out; nobody else was touched
    assert "You can't go that way" not in city.do("Alice", "s")
    assert city.room_id("Alice") == "neon.room.st_18_18"
    assert [m["who"] for m in report["moved"] if m["kind"] == "player"] == ["Alice"]


def test_no_room_shows_an_exit_that_goes_nowhere() -> None:
    city = City()
    city.enter("Alice")
    _activate(city, "expansion", copy.deepcopy(EXPANSION))
    # a later version keeps the road's first street but drops the new rooms behind it
    content = copy.deepcopy(EXPANSION)
    content["rooms"] = [r for r in content["rooms"] if r["id"] == "neon.room.st_18_19"]
    _activate(city, "half", content)
    _put(city, "Alice", "neon.room.st_18_19")
    text = city.do("Alice", "look")
    assert "Exits: south, east, west" in text
    assert "north" not in actions.exits_of(city.world, city.world.get(city.player("Alice"), "Place")["room"])


def test_a_room_with_no_way_back_sends_its_people_to_the_districts_recall_point() -> None:
    city = City()
    city.enter("Alice")
    island = copy.deepcopy(EXPANSION["rooms"][0])
    island.update(id="neon.gen.room.island", exits={}, coords={"x": 40, "y": 40, "level": 0})
    _activate(city, "island", {"rooms": [island]})
    _put(city, "Alice", "neon.gen.room.island")
    _activate(city, None, {}, kind="rollback")
    assert city.room_id("Alice") == tables(city.world).spawn_room


def _side_job() -> dict[str, Any]:
    quest = copy.deepcopy(next(q for q in base_content()["quests"] if q["id"] == "neon.quest.jackal_cull"))
    quest.update(id="neon.gen.quest.side_job", name="Side Job")
    return quest


def test_a_withdrawn_job_is_closed_and_quest_score_and_gmcp_agree() -> None:
    city = City()
    city.enter("Alice")
    _activate(city, "job", {"quests": [_side_job()]})
    city.walk_to("Alice", "neon.room.garage_workshop")
    assert "Job accepted: Side Job" in city.do("Alice", "quest accept side job")
    assert "active jobs 1" in city.do("Alice", "score")
    seen = len(city.seen["Alice"])
    report = _activate(city, None, {}, kind="rollback", announcement="Sparks calls the side job off.")
    assert "Job withdrawn: Side Job (Sparks calls the side job off.)" in city.text("Alice", seen)
    assert _gmcp(city, "Alice", "Char.Quests", seen)[-1] == {"active": []}
    assert {"player": "Alice", "quest": "neon.gen.quest.side_job"} in report["closed"]
    assert "active jobs 0" in city.do("Alice", "score")
    assert "Side Job" not in city.do("Alice", "quest")
    # should the job come back, it can be taken again
    _activate(city, "job", {"quests": [_side_job()]})
    assert "Job accepted: Side Job" in city.do("Alice", "quest accept side job")


def _new_item() -> dict[str, Any]:
    bar = copy.deepcopy(next(i for i in base_content()["items"] if i["id"] == "neon.item.energy_bar"))
    bar.update(id="neon.gen.item.glow_bar", name="Glow Bar")
    return bar


def _give(city: City, name: str, item_id: str) -> None:
    proto = slots(city.world).slot("item", item_id)
    city.world.spawn_batch(("Item",), 1, {"Item.proto": proto, "Item.holder": city.player(name),
                                          "Item.room": -1, "Item.worn": 0})  # fmt: skip


def test_an_item_that_left_is_converted_as_the_hint_says_or_kept_by_its_holder() -> None:
    city = City()
    city.enter("Alice", "Bob")
    _activate(city, "bar", {"items": [_new_item()]})
    _give(city, "Alice", "neon.gen.item.glow_bar")
    _give(city, "Bob", "neon.gen.item.glow_bar")
    city.do("Bob", "drop glow bar")
    city.do("Bob", "get glow bar")
    seen = len(city.seen["Alice"])
    report = _activate(
        city, None, {}, kind="rollback", items={"neon.gen.item.glow_bar": "neon.item.energy_bar"}
    )
    assert "Your Glow Bar is now Energy Bar." in city.text("Alice", seen)
    assert "Energy Bar" in city.do("Alice", "inventory")
    assert {"item": "neon.gen.item.glow_bar", "into": "neon.item.energy_bar", "holder": "Alice"} in report[
        "converted"
    ]
    # without a hint the holder keeps it, usable
    city2 = City()
    city2.enter("Alice")
    _activate(city2, "bar", {"items": [_new_item()]})
    _give(city2, "Alice", "neon.gen.item.glow_bar")
    report = _activate(city2, None, {}, kind="rollback")
    assert {"item": "neon.gen.item.glow_bar", "holder": "Alice"} in report["kept"]
    assert "Glow Bar" in city2.do("Alice", "look glow bar")
    assert len(items_held(city2.world, city2.player("Alice"))) == 1


def test_a_floor_item_whose_definition_left_leaves_with_it() -> None:
    city = City()
    city.enter("Alice")
    _activate(city, "bar", {"items": [_new_item()]})
    _give(city, "Alice", "neon.gen.item.glow_bar")
    city.do("Alice", "drop glow bar")
    report = _activate(city, None, {}, kind="rollback")
    assert report["removed"] == [{"item": "neon.gen.item.glow_bar", "room": city.room_id("Alice")}]
    assert "Glow Bar" not in city.do("Alice", "look")


def test_npcs_arriving_and_leaving_say_so_in_their_room_and_new_ground_is_announced() -> None:
    city = City()
    city.enter("Alice")
    content = effective({})
    newcomer = dict(next(n for n in content["npcs"] if n["id"] == "neon.npc.drone_scrapper"))
    newcomer.update(id="neon.npc.drone_newcomer", name="Newcomer Drone", spawn_room="neon.room.st_10_10")
    seen = len(city.seen["Alice"])
    _activate(city, "arrive", {"npcs": [newcomer], "rooms": copy.deepcopy(EXPANSION["rooms"])})
    told = city.text("Alice", seen)
    assert "Newcomer Drone appears." in told
    assert "New ground opens in the city:" in told
    seen = len(city.seen["Alice"])
    report = _activate(city, None, {}, kind="rollback")
    assert "Newcomer Drone leaves the city." in city.text("Alice", seen)
    assert {"npc": "neon.npc.drone_newcomer"} in report["removed"]


def test_an_announcement_carried_by_the_patch_is_what_players_read() -> None:
    city = City()
    city.enter("Alice")
    seen = len(city.seen["Alice"])
    _activate(city, "x", copy.deepcopy(EXPANSION), announcement="The Skyway is open for business.")
    assert "The Skyway is open for business." in city.text("Alice", seen)


def test_npcs_in_a_room_that_left_move_with_their_home() -> None:
    city = City()
    city.enter("Alice")
    content = copy.deepcopy(EXPANSION)
    guard = dict(next(n for n in effective({})["npcs"] if n["id"] == "neon.npc.drone_scrapper"))
    guard.update(id="neon.npc.drone_far", name="Far Drone", spawn_room=FAR_ROOM)
    content["npcs"] = [guard]
    _activate(city, "x", content)
    keep = copy.deepcopy(guard)
    keep["spawn_room"] = "neon.room.st_18_19"
    report = _activate(city, None, {"npcs": [keep]}, kind="rollback")
    assert {
        "who": "neon.npc.drone_far",
        "kind": "npc",
        "from": FAR_ROOM,
        "to": "neon.room.st_18_19",
    } in report["moved"]
    room_ids = state(city.world)["room_ids"]
    for chunk in city.world.query("Npc", "Place"):
        assert all(room_ids[r] in tables(city.world).rooms for r in chunk["Place.room"].tolist())
        assert all(room_ids[r] in tables(city.world).rooms for r in chunk["Npc.home"].tolist())


def test_offline_players_move_too_and_find_themselves_somewhere_real() -> None:
    city = City()
    city.enter("Alice")
    _activate(city, "x", copy.deepcopy(EXPANSION))
    _put(city, "Alice", FAR_ROOM)
    city.game.leave("Alice")
    city.game.step()
    _activate(city, None, {}, kind="rollback")
    city.enter("Alice")
    assert find_player(city.world, "Alice") is not None
    assert city.room_id("Alice") == "neon.room.st_18_19"
