"""The neon city as a player sees it: walking, trading, fighting, jobs, money, and a city that
keeps what players own and replays bit for bit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from neon_harness import City

from ouroboros.engine import SyncTest, World
from ouroboros.errors import InputError, WorldError
from ouroboros.worlds import build_world
from ouroboros.worlds.neon import NeonPlugin, check_content, kpis
from ouroboros.worlds.neon import economy as econ
from ouroboros.worlds.neon.city import items_held, state
from ouroboros.worlds.neon.gameplay import effective
from ouroboros.worlds.neon.store import CityStore
from ouroboros.worlds.neon.tables import base_content, tables

START = "neon.room.st_10_10"


def test_a_new_runner_starts_at_the_plaza_with_credits_and_a_look() -> None:
    city = City()
    city.enter("Alice")
    assert city.room_id("Alice") == START
    assert city.credits("Alice") == tables(city.world).params["start_credits"]
    seen = city.seen["Alice"]
    assert any(e["type"] == "text" and e["style"] == "room_title" for e in seen)
    info = [e for e in seen if e["type"] == "gmcp" and e["package"] == "Room.Info"]
    assert info and info[0]["data"]["id"] == START and info[0]["data"]["exits"]


def test_unknown_and_malformed_commands_get_a_short_helpful_answer() -> None:
    city = City()
    city.enter("Alice")
    assert "help" in city.do("Alice", "xyzzy")
    assert "Usage" in city.do("Alice", "give")
    assert "can't go" in city.do("Alice", "go nowhere") or "Unknown" in city.do("Alice", "go nowhere")
    assert "Attack whom" in city.do("Alice", "attack")
    assert "Commands:" in city.do("Alice", "help")


def test_walk_buy_wield_and_the_numbers_change() -> None:
    city = City()
    city.enter("Alice")
    city.walk_to("Alice", "neon.room.weapon_shop_showroom")
    listing = city.do("Alice", "list")
    assert "Switchblade" in listing or "switchblade" in listing.lower()
    before = city.credits("Alice")
    price = tables(city.world).price("neon.item.switchblade")
    assert "You buy" in city.do("Alice", "buy switchblade")
    assert city.credits("Alice") == before - price
    damage = city.world.get(city.player("Alice"), "Actor")["damage"]
    assert "You wield" in city.do("Alice", "wield switchblade")
    added = tables(city.world).items["neon.item.switchblade"]["stats"]["damage"]
    assert city.world.get(city.player("Alice"), "Actor")["damage"] == damage + added
    assert "Switchblade (wielded)" in city.do("Alice", "inventory")  # a weapon is wielded, not worn
    assert "You sell" not in city.do("Alice", "sell switchblade")  # wielded: remove it first
    city.do("Alice", "remove switchblade")
    assert "You sell" in city.do("Alice", "sell switchblade")


def test_a_fight_to_the_end_pays_and_counts_for_a_job() -> None:
    city = City()
    city.enter("Alice")
    t = tables(city.world)
    player = city.player("Alice")
    city.world.set(player, "Actor", max_hp=5000, hp=5000, damage=40)  # a test runner who cannot lose
    city.walk_to("Alice", "neon.room.garage_workshop")
    assert "Jackal" in city.do("Alice", "talk sparks") or "job" in city.text("Alice").lower()
    assert "Job accepted" in city.do("Alice", "quest accept jackal")
    target = t.npcs["neon.npc.jackal_runner"]
    for kills in range(1, 4):
        runner = [n for n in _npcs(city.world) if _npc_id(city.world, n) == "neon.npc.jackal_runner"]
        if not runner:
            city.wait(target["respawn_ticks"] + 1)
            runner = [n for n in _npcs(city.world) if _npc_id(city.world, n) == "neon.npc.jackal_runner"]
        room = city.world.get(runner[0], "Place")["room"]
        city.walk_to("Alice", state(city.world)["room_ids"][room])
        xp = city.world.get(player, "Player")["xp"]
        city.do("Alice", "attack jackal runner")
        for _ in range(40 * t.params["combat_round_ticks"]):
            city.wait(1)
            if not city.world.is_alive(runner[0]):
                break
            if city.world.get(player, "Actor")["target"] == 0:  # it fled: follow it
                room = city.world.get(runner[0], "Place")["room"]
                city.walk_to("Alice", state(city.world)["room_ids"][room])
                city.do("Alice", "attack jackal runner")
        assert not city.world.is_alive(runner[0])
        assert city.world.get(player, "Player")["xp"] > xp
        if kills < 3:
            city.wait(target["respawn_ticks"] + 1)
    assert "flatlined" in city.text("Alice")
    journal = state(city.world)["quests"]["Alice"]
    assert journal["neon.quest.jackal_cull"]["state"] == "done"
    assert "Job done" in city.text("Alice")
    assert any(_item(city.world, i) == "neon.item.shock_baton" for i in items_held(city.world, player))


def test_two_players_in_one_room_see_each_others_says_and_fights() -> None:
    city = City()
    city.enter("Alice", "Bob")
    assert "Alice steps out of the rain" in city.text("Bob") or "Bob" in city.text("Alice")
    city.do("Alice", "say anyone selling chrome?")
    assert 'Alice says, "anyone selling chrome?"' in city.text("Bob")
    city.do("Bob", ":waves")
    assert "Bob waves" in city.text("Alice")
    city.walk_to("Alice", "neon.room.st_03_04")
    city.walk_to("Bob", "neon.room.st_03_04")
    start = len(city.seen["Bob"])
    city.do("Alice", "attack jackal runner", ticks=30)
    bob_saw = city.text("Bob", start)
    assert "Alice attacks Jackal" in bob_saw or "Alice hits" in bob_saw or "Alice misses" in bob_saw


def test_runners_do_not_fight_runners_and_protected_npcs_stay_safe() -> None:
    city = City()
    city.enter("Alice", "Bob")
    assert "don't fight runners" in city.do("Alice", "attack bob")
    city.walk_to("Alice", "neon.room.st_10_11")
    assert "protection" in city.do("Alice", "attack sam")


def test_same_inputs_give_the_same_digests_and_a_snapshot_resumes_exactly() -> None:
    script = ["look", "n", "list", "buy yakitori", "s", "e", "e", "say hi", "inventory", "w", "score"]

    def run(world: World) -> list[str]:
        city = City(world=world)
        city.enter("Alice", "Bob")
        digests = []
        for line in script:
            city.game.command("Alice", line)
            city.game.command("Bob", line)
            city.game.step()
            digests.append(city.world.digest().hex)
        city.wait(200)
        digests.append(city.world.digest().hex)
        return digests

    a = run(World(7, plugins=[NeonPlugin()]))
    b = run(World(7, plugins=[NeonPlugin()]))
    assert a == b
    assert a != run(World(8, plugins=[NeonPlugin()]))

    world = build_world("neon", 3)
    city = City(world=world)
    city.enter("Alice")
    city.do("Alice", "n", "buy energy bar", "s")
    sync = SyncTest(world, rollback=3)
    sync.run(50)
    assert sync.checked_ticks > 0


def test_the_guard_limits_rates_and_holds_gifts_and_money_from_nowhere() -> None:
    city = City()
    city.enter("Alice", "Bob")
    alice = city.player("Alice")
    city.walk_to("Alice", "neon.room.st_10_11")
    p = tables(city.world).params
    out = city.do("Alice", *["buy energy bar"] * (p["trades_per_window"] + 2))
    assert out.count("You buy") == p["trades_per_window"]
    assert "too many buys" in out
    # a gift over the review threshold is held, recorded, and moves nothing
    city.world.set(alice, "Player", credits=p["gift_hold_credits"] * 3)
    city.walk_to("Bob", "neon.room.st_10_11")
    before = city.credits("Bob")
    out = city.do("Alice", f"give {p['gift_hold_credits'] + 1} credits to bob")
    assert "held for review" in out
    assert city.credits("Bob") == before
    held = state(city.world)["held"][-1]
    assert held["player"] == "Alice" and held["kind"] == "gift" and "threshold" in held["reason"]
    assert "You give 10 credits" in city.do("Alice", "give 10 credits to bob")
    assert city.credits("Bob") == before + 10
    # loot over what its content pays is money from nowhere: held
    verdict = econ.transact(city.world, alice, "loot", 10_000, bound=25)
    assert (
        verdict.outcome == "held"
        and city.world.get(alice, "Player")["credits"] == p["gift_hold_credits"] * 3 - 10
    )
    # a sale far off the market price is held (once the rate window has passed)
    city.wait(p["trade_window_ticks"])
    verdict = econ.transact(city.world, alice, "buy", -1, item="neon.item.kevlar_vest", market=400)
    assert verdict.outcome == "held" and "market price" in verdict.reason


def test_the_economy_reports_money_supply_and_inflation_every_n_ticks() -> None:
    city = City()
    city.enter("Alice")
    every = tables(city.world).params["economy_report_ticks"]
    city.wait(every)
    first = state(city.world)["economy"]["reports"][-1]
    assert first["supply"] == tables(city.world).params["start_credits"]
    city.enter("Bob")  # new money: a source
    city.wait(every)
    second = state(city.world)["economy"]["reports"][-1]
    assert second["supply"] == 2 * first["supply"]
    assert second["inflation_permille"] == 1000
    assert kpis(city.world)["money_supply"] == second["supply"]


def test_a_saved_city_comes_back_with_everything_players_had(tmp_path: Path) -> None:
    city = City()
    city.enter("Alice")
    city.walk_to("Alice", "neon.room.garage_workshop")
    city.do("Alice", "talk sparks", "quest accept jackal")
    city.walk_to("Alice", "neon.room.st_10_11")
    city.do("Alice", "buy energy bar")
    room, credits = city.room_id("Alice"), city.credits("Alice")
    store = CityStore(tmp_path)
    store.save(city.world)
    store.close()

    again = CityStore(tmp_path).load()
    assert again is not None and again.tick == city.world.tick
    back = City(world=again)
    assert not again.get(back.player("Alice"), "Player")["online"]
    back.enter("Alice")
    assert back.room_id("Alice") == room and back.credits("Alice") == credits
    assert "Energy Bar" in back.do("Alice", "inventory")
    assert state(again)["quests"]["Alice"]["neon.quest.jackal_cull"]["state"] == "active"


def test_a_content_change_never_deletes_what_players_hold() -> None:
    city = City()
    city.enter("Alice")
    city.walk_to("Alice", "neon.room.st_10_11")
    city.do("Alice", "buy energy bar")
    content = effective({})
    content["items"] = [i for i in content["items"] if i["id"] != "neon.item.energy_bar"]
    content["npcs"] = [
        dict(n, stock=[s for s in n.get("stock", ()) if s != "neon.item.energy_bar"])
        for n in content["npcs"]
        if n["id"] != "neon.npc.civ_preacher"
    ]
    new_npc = dict(next(n for n in content["npcs"] if n["id"] == "neon.npc.drone_scrapper"))
    new_npc.update(id="neon.npc.drone_newcomer", name="Newcomer Drone", spawn_room="neon.room.st_10_11")
    content["npcs"].append(new_npc)
    assert check_content(content) == []
    city.world.submit("gameplay.activate", {"patch_id": "p1", "content": content})
    city.wait(1)
    assert "Energy Bar" in city.do("Alice", "inventory")
    assert "Newcomer Drone" in city.do("Alice", "look")
    assert "Preacher" not in " ".join(n["name"] for n in tables(city.world).npcs.values())
    # and rolling back to the base brings the bar back to the stall
    city.world.submit("gameplay.activate", {"patch_id": None, "content": {}})
    city.wait(1)
    assert "Energy Bar" in city.do("Alice", "list")


def test_content_the_city_cannot_take_is_refused_with_reasons() -> None:
    codes = {c for c, _, _ in check_content({"traits": [{"id": "x"}]})}
    assert "unsupported_domain" in codes
    bad = {
        "world_params": [{"id": "neon.params.x", "version": "1.0.0", "world": "petri", "params": {"a": 1}}]
    }
    assert {c for c, _, _ in check_content(bad)} == {"wrong_world"}
    bad["world_params"][0]["world"] = "neon"
    assert {c for c, _, _ in check_content(bad)} == {"unknown_param"}
    no_spawn = {"rooms": [dict(r, extensions={}) for r in base_content()["rooms"]]}
    assert {c for c, _, _ in check_content(no_spawn)} == {"unplayable"}


def test_inputs_with_bad_names_or_lines_are_refused_at_submit() -> None:
    world = World(1, plugins=[NeonPlugin()])
    for payload in ({"name": "x"}, {"name": "alice"}, {"name": 5}, {"name": "Alice", "extra": 1}, "Alice"):
        with pytest.raises(WorldError):
            world.submit("neon.enter", payload)
    with pytest.raises(WorldError):
        world.submit("neon.command", {"name": "Alice", "line": "x" * 5000})
    with pytest.raises(InputError):
        world.submit("neon.teleport", {"name": "Alice"})


LINES = st.one_of(
    st.text(max_size=80),
    st.builds(
        lambda verb, arg: f"{verb} {arg}",
        st.sampled_from(
            [
                "look",
                "get",
                "drop",
                "give",
                "wear",
                "wield",
                "remove",
                "attack",
                "talk",
                "buy",
                "sell",
                "quest",
                "quest accept",
                "quest abandon",
                "say",
                "go",
                "help",
                "flee",
                "n",
                "s",
            ]
        ),
        st.text(max_size=30),
    ),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(LINES, max_size=25))
def test_any_command_lines_never_break_the_city(lines: list[str]) -> None:
    city = City()
    city.enter("Alice")
    for line in lines:
        city.game.command("Alice", line)
        city.game.step()
    world = city.world
    for chunk in world.query("Actor"):
        assert (chunk["Actor.hp"] >= 0).all() and (chunk["Actor.hp"] <= chunk["Actor.max_hp"]).all()
    for chunk in world.query("Player"):
        assert (chunk["Player.credits"] >= 0).all()
    for chunk in world.query("Item"):
        held = chunk["Item.holder"] != 0
        assert ((chunk["Item.room"] == -1) == held).all()


def _npcs(world: World) -> list[int]:
    return [int(i) for c in world.query("Npc") for i in c.ids]


def _npc_id(world: World, npc: int) -> str:
    return str(state(world)["npc_ids"][world.get(npc, "Npc")["proto"]])


def _item(world: World, item: int) -> str:
    return str(state(world)["item_ids"][world.get(item, "Item")["proto"]])


def _scripted(source: str) -> dict[str, Any]:
    """The base content with Skewer Sam's behaviour replaced by a Lua script."""
    content = effective({})
    content["scripts"] = [
        {
            "id": "neon.script.sam",
            "version": "1.0.0",
            "language": "lua",
            "entry": "on_event",
            "source": source,
        }
    ]
    content["npc_behaviors"] = [
        *content["npc_behaviors"],
        {"id": "neon.behavior.scripted", "version": "1.0.0", "initial": "talk",
         "states": {"talk": {"action": "script", "script": "neon.script.sam"}}},
    ]  # fmt: skip
    content["npcs"] = [
        dict(n, behavior="neon.behavior.scripted") if n["id"] == "neon.npc.vendor_skewer_sam" else n
        for n in content["npcs"]
    ]
    return content


SAM_LUA = """
function on_event(e)
  if e.event == "talked_to" then
    intent.say(0, "Skewers, " .. e.players[1] .. "? Fresh from the grill.")
    intent.give_quest(0, "neon.quest.street_legs")
  end
end
"""


def test_an_npc_runs_its_lua_script_on_its_events() -> None:
    city = City()
    city.enter("Alice")
    content = _scripted(SAM_LUA)
    assert check_content(content) == []
    city.world.submit("gameplay.activate", {"patch_id": "p-script", "content": content})
    city.wait(1)
    city.walk_to("Alice", "neon.room.st_10_11")
    out = city.do("Alice", "talk sam", ticks=2)
    assert 'Skewer Sam says, "Skewers, Alice? Fresh from the grill."' in out
    assert "offers a job" in out


def test_a_hostile_npc_script_faults_alone_and_the_city_goes_on() -> None:
    city = City()
    city.enter("Alice")
    city.world.submit(
        "gameplay.activate",
        {"patch_id": "p-bad", "content": _scripted("function on_event(e) while true do end end")},
    )
    city.wait(1)
    city.walk_to("Alice", "neon.room.st_10_11")
    city.do("Alice", "talk sam", ticks=3)
    faults = state(city.world)["script_faults"]
    assert faults and faults[0]["script"] == "neon.script.sam" and faults[0]["code"] == "instructions"
    city.do("Alice", "talk sam", ticks=3)
    assert len(state(city.world)["script_faults"]) == 1  # stopped for that npc: not run again
    assert "You buy" in city.do("Alice", "buy neon soda")  # and the city goes on
    assert check_content({"scripts": [dict(_scripted("x")["scripts"][0], language="python")]}) != []


def test_death_costs_credits_and_a_wait_in_the_vat() -> None:
    city = City()
    city.enter("Alice")
    player = city.player("Alice")
    p = tables(city.world).params
    city.walk_to("Alice", "neon.room.st_03_04")
    credits = city.credits("Alice")
    city.world.set(player, "Actor", hp=1, max_hp=100)
    city.do("Alice", "attack jackal runner")
    for _ in range(p["combat_round_ticks"] * 30):
        city.wait(1)
        if city.world.get(player, "Player")["deaths"]:
            break
    assert city.world.get(player, "Player")["deaths"] == 1
    assert city.room_id("Alice") == START
    assert city.credits("Alice") == credits - credits * p["death_penalty_permille"] // 1000
    assert "still coming round" in city.do("Alice", "n")
    assert city.room_id("Alice") == START
    city.wait(p["respawn_delay_ticks"])
    city.do("Alice", "n")
    assert city.room_id("Alice") != START
