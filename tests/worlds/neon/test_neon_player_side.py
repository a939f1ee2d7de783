"""The player's side of the city (issue: neon, a game players stay in): the fixes a new runner
noticed in their first hour, each checked as the player sees it — in-process for the exact
numbers, and over a real telnet connection for what reaches the screen."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from neon_harness import City, path
from neon_server import CityProcess, Player

from ouroboros.worlds import build_world
from ouroboros.worlds.neon import actions, quests
from ouroboros.worlds.neon.city import npc_data, npc_id, slots, spawn_item
from ouroboros.worlds.neon.gameplay import apply_content, check_content
from ouroboros.worlds.neon.maps import MAP_RADIUS, safe_rooms
from ouroboros.worlds.neon.tables import tables

START = "neon.room.st_10_10"
SAM = "neon.room.st_10_11"  # Skewer Sam's stall: stim packs, one step from the plaza


def _with_hp(city: City, name: str, hp: int) -> None:
    city.world.set(city.player(name), "Actor", hp=hp)


def _put(city: City, name: str, room_id: str) -> None:
    """Set a runner down in a room (a lair's guards would stop a walk there)."""
    city.world.set(city.player(name), "Place", room=slots(city.world).slot("room", room_id))


def test_every_dialogue_line_reads_without_a_template_brace() -> None:
    city = City()
    city.enter("Alice")
    t = tables(city.world)
    speakers = {nid: n for nid, n in t.npcs.items() if n.get("dialogue") in t.dialogue}
    assert len(speakers) >= 3
    for nid, npc in speakers.items():
        city.walk_to("Alice", npc["spawn_room"])
        lines = len(t.dialogue[npc["dialogue"]]["lines"])
        said = city.do("Alice", *[f"talk {npc['name']}"] * (lines + 1))
        assert f"{npc['name']} says" in said, nid
        assert "{" not in said and "}" not in said, said
    assert "Alice" in city.text("Alice")  # {player.name} became her name


def test_an_unknown_placeholder_is_refused_by_the_content_check() -> None:
    line = {"id": "a", "text": "Hello {player.title}, and {player.name}."}
    problems = check_content({"dialogue": [{"id": "neon.dialogue.x", "version": "1.0.0", "lines": [line]}]})
    assert [p[0] for p in problems] == ["unknown_placeholder"] and "{player.title}" in problems[0][2]


def test_a_stim_pack_heals_and_is_used_up() -> None:
    city = City()
    city.enter("Alice")
    city.walk_to("Alice", SAM)
    assert "You buy Stim Pack" in city.do("Alice", "buy stim pack")
    _with_hp(city, "Alice", 30)
    max_hp = int(city.world.get(city.player("Alice"), "Actor")["max_hp"])
    said = city.do("Alice", "use stim")
    assert f"You use Stim Pack: +40 hp (70/{max_hp} hp)" in said
    assert city.world.get(city.player("Alice"), "Actor")["hp"] == 70
    assert "Stim Pack" not in city.do("Alice", "inventory")
    prompts = [e["text"] for e in city.seen["Alice"] if e["type"] == "prompt"]
    assert prompts[-1] == f"<70/{max_hp}hp {city.credits('Alice')}cr>"  # after every command
    assert "Use what?" in city.do("Alice", "use stim")
    # eating tops up to the maximum, never past it
    city.do("Alice", "buy energy bar")
    _with_hp(city, "Alice", max_hp - 3)
    assert f"+3 hp ({max_hp}/{max_hp} hp)" in city.do("Alice", "eat energy bar")


def test_what_cannot_be_used_says_what_to_do_instead() -> None:
    city = City()
    city.enter("Alice")
    city.walk_to("Alice", "neon.room.weapon_shop_showroom")
    city.do("Alice", "buy switchblade")
    assert "You can't use Switchblade like that. Try 'wield'." in city.do("Alice", "use switchblade")


def test_consider_tells_an_easy_fight_from_a_deadly_one() -> None:
    city = City()
    city.enter("Alice")
    t = tables(city.world)
    fighters = [n for n in t.npcs.values() if n["kind"] not in ("vendor", "fixer")]
    deadly = max(fighters, key=lambda n: n["level"])
    _put(city, "Alice", deadly["spawn_room"])
    said = city.do("Alice", f"consider {deadly['name']}")
    assert f"level {deadly['level']}" in said and "you are level 1" in said
    assert "likely kill you" in said
    _put(city, "Alice", SAM)
    assert "Under the guild's protection" in city.do("Alice", "consider sam")
    assert "Consider whom?" in city.do("Alice", "consider nobody")


def test_talk_offers_exactly_the_jobs_quest_list_offers() -> None:
    city = City()
    city.enter("Alice")
    t = tables(city.world)
    giver = "neon.npc.fixer_ransome"  # Down the Drain: a level 6 job once Hot Delivery is done
    assert quests.quest_level("neon.quest.down_the_drain", t) == 6
    journal = quests.journal(city.world, city.player("Alice"))
    journal["neon.quest.hot_delivery"] = {"state": "done", "progress": [1]}
    city.walk_to("Alice", t.npcs[giver]["spawn_room"])
    talk, listed = city.do("Alice", "talk ransome"), city.do("Alice", "quest list")
    assert "Down the Drain" not in talk and "Down the Drain" not in listed
    assert "nothing for you yet" in talk
    assert "level 6 job and you are level 1" in city.do("Alice", "quest accept down the drain")
    city.world.set(city.player("Alice"), "Player", xp=300)  # level 4: within three levels of 6
    talk, listed = city.do("Alice", "talk ransome"), city.do("Alice", "quest list")
    assert "Jobs on offer: Down the Drain" in talk and "On offer here: Down the Drain" in listed


def test_room_info_lists_every_exit_with_the_number_the_room_has_when_reached() -> None:
    city = City()
    city.enter("Alice")
    t = tables(city.world)
    for _ in range(12):
        seen_before = len(city.seen["Alice"])
        here = city.room_id("Alice")
        city.do("Alice", "look")
        info = [e for e in city.seen["Alice"][seen_before:] if e.get("package") == "Room.Info"][-1]["data"]
        exits = t.rooms[here]["exits"]
        assert set(info["exits"]) == {d for d, target in exits.items() if target in t.rooms}
        direction = sorted(info["exits"])[0]
        city.do("Alice", direction)
        assert city.world.get(city.player("Alice"), "Place")["room"] == info["exits"][direction]


def test_a_wielded_weapons_crit_and_procs_land_in_combat() -> None:
    world = build_world("neon", 1)
    blade = {
        "id": "neon.item.test_arc_blade", "version": "1.0.0", "name": "Arc Blade", "kind": "weapon",
        "rarity": "epic", "price": 900, "slot": "main_hand",
        "stats": {"damage": 6, "armour": 0, "accuracy": 40, "heal": 0},
        "extensions": {"neon.crit_permille": 1000, "neon.procs": ["shock"]},
    }  # fmt: skip
    apply_content(world, {"items": [blade]})
    city = City(world=world)
    city.enter("Alice")
    spawn_item(world, slots(world).slot("item", blade["id"]), holder=city.player("Alice"))
    assert "crit 100%" in city.do("Alice", "look arc blade") and "procs shock" in city.do("Alice", "look arc")
    city.do("Alice", "wield arc blade")
    t = tables(world)
    target = t.npcs["neon.npc.jackal_runner"]  # a ganger: it stands and fights
    _put(city, "Alice", target["spawn_room"])
    fight = city.do("Alice", f"attack {target['name']}", ticks=300)
    hits = re.findall(rf"Alice (critically hits|hits) {re.escape(target['name'])} for (\d+)[^\[]*\[", fight)
    assert hits and {h[0] for h in hits} == {"critically hits"}, fight
    assert re.search(r"\[[^\]]+: \d+/\d+ hp\]", fight)  # the fight shows what is left


def test_one_credit_is_one_credit() -> None:
    city = City()
    city.enter("Alice", "Bob")
    assert "You give 1 credit to Bob." in city.do("Alice", "give 1 credit to bob")
    assert "Alice gives you 1 credit." in city.text("Bob")


def _route(start: str, goal: str) -> list[str]:
    return path(build_world("neon", 0), start, goal)


def test_over_telnet_a_new_runner_inspects_buys_uses_and_considers(tmp_path: Path) -> None:
    city = CityProcess(tmp_path / "data")
    try:
        seen = asyncio.run(_session(city.telnet_port))
    finally:
        city.stop()
    assert "{" not in seen and "}" not in seen  # no template brace ever reaches a player


async def _session(port: int) -> str:
    alice = await Player.connect(port)
    text = await alice.expect("create NAME PASSWORD")
    text += await alice.do("create Alice correct-horse", r"Lantern Plaza")
    for direction in _route(START, SAM):
        text += await alice.do(direction, r"Exits: [^\n]*\n")
    text += await alice.do("list", r"look ITEM")
    on_sale = r"Stim Pack \(uncommon consumable\), for sale here at \d+ credits\. heal 40\."
    text += await alice.do("look stim pack", on_sale)
    text += await alice.do("buy stim pack", r"You buy Stim Pack for \d+ credits")
    text += await alice.do("use stim pack", r"You use Stim Pack: \+0 hp \(\d+/\d+ hp\)")
    text += await alice.expect(r"\n<(\d+)/\1hp \d+cr>\r?\n")  # the prompt: health and money
    text += await alice.do("inventory", r"Credits: \d+")
    text += await alice.do("consider sam", r"Under the guild's protection")
    for direction in _route(SAM, "neon.room.fixer_den_booth"):
        text += await alice.do(direction, r"Exits: [^\n]*\n")
        await asyncio.sleep(0.13)  # a brisk walker, under the gateway's 8 lines a second
    text += await alice.do("talk kestrel", r"Jobs on offer")
    text += await alice.do("talk kestrel", r"Kestrel says")
    alice.writer.close()
    return text


def test_map_draws_the_rooms_around_with_the_runner_in_the_middle() -> None:
    city = City()
    city.enter("Alice")
    lines = city.do("Alice", "map").split("\n")
    assert lines[0] == "Lantern Plaza" and lines[-1].startswith("@ you")
    grid = lines[1:-1]
    middle = 2 * MAP_RADIUS
    assert grid[middle][middle] == "@"
    assert grid[middle - 2][middle] == "$"  # Skewer Sam's stall, one block north
    assert grid[middle - 1][middle] == "|"  # and the way there
    city.do("Alice", "n")
    assert city.do("Alice", "map").split("\n")[1:-1][middle][middle] == "@"


def _npc(city: City, nid: str) -> int:
    for chunk in city.world.query("Npc"):
        for entity in chunk.ids.tolist():
            if npc_id(city.world, entity) == nid:
                return int(entity)
    raise AssertionError(nid)


def test_the_starter_district_keeps_a_new_runner_safe_from_stronger_hostiles() -> None:
    city = City()
    city.enter("Alice")
    t = tables(city.world)
    leader = t.npcs["neon.npc.jackal_leader"]  # level 9, aggressive, roams
    assert actions.hostile_to_players(leader) and leader["level"] > 1
    entity = _npc(city, "neon.npc.jackal_leader")
    plaza = slots(city.world).slot("room", START)
    city.world.set(entity, "Place", room=plaza)
    assert "Jackal Leader" in city.do("Alice", "look") or "Leader" in city.text("Alice")
    city.wait(600)
    assert "goes for Alice" not in city.text("Alice")
    assert city.world.get(city.player("Alice"), "Actor")["target"] == 0
    # the same npc outside the district goes for her at once
    _put(city, "Alice", leader["spawn_room"])
    city.world.set(entity, "Place", room=slots(city.world).slot("room", leader["spawn_room"]))
    city.world.set(entity, "Actor", target=0)
    assert "goes for Alice" in city.do("Alice", "look", ticks=400)


def test_roaming_hostiles_never_walk_into_the_starter_district() -> None:
    city = City()
    t = tables(city.world)
    safe = safe_rooms(t)
    hostile_homes = {n["spawn_room"] for n in t.npcs.values() if actions.hostile_to_players(n)}
    assert not (hostile_homes & safe)
    # every roamer set down on the district's edge, one street from walking in
    edge = sorted(
        rid for rid, room in t.rooms.items()
        if rid not in safe and any(room["exits"].get(d) in safe for d in ("n", "s", "e", "w"))
    )  # fmt: skip
    city.wait(1)  # the city's first tick spawns its npcs
    present = {npc_id(city.world, e): e for c in city.world.query("Npc") for e in c.ids.tolist()}
    roamers = [
        present[nid] for nid, n in sorted(t.npcs.items())
        if nid in present and actions.hostile_to_players(n) and n["kind"] != "boss"
    ]  # fmt: skip
    assert len(roamers) >= 5
    for i, entity in enumerate(roamers):
        city.world.set(entity, "Place", room=slots(city.world).slot("room", edge[i % len(edge)]))
    for _ in range(40):
        city.wait(100)
        for chunk in city.world.query("Npc", "Place"):
            for entity, room in zip(chunk.ids.tolist(), chunk["Place.room"].tolist(), strict=True):
                data = npc_data(city.world, entity)
                if actions.hostile_to_players(data):
                    assert slots(city.world).id_of("room", room) not in safe, data["name"]


def test_a_patched_fixer_line_names_the_speaker_and_the_runners_best_job() -> None:
    world = build_world("neon", 1)
    t = tables(world)
    kestrel = t.npcs["neon.npc.fixer_kestrel"]
    lines = [
        {"id": "hello", "text": "Evening, {player.name}. Name's {npc.name}. {quest.name} pays {credits}."}
    ]
    dialogue = {"id": kestrel["dialogue"], "version": "9.0.0", "lines": lines}
    assert check_content({"dialogue": [dialogue]}) == []
    apply_content(world, {"dialogue": [dialogue]})
    city = City(world=world)
    city.enter("Alice")
    _put(city, "Alice", kestrel["spawn_room"])
    pay = t.quests["neon.quest.street_legs"]["rewards"]["credits"]
    said = city.do("Alice", "talk kestrel")
    assert f'"Evening, Alice. Name\'s {kestrel["name"]}. Street Legs pays {pay}."' in said
