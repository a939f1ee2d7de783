"""Signals from a running neon city: each event fires once, on the change that causes it, and
reading changes nothing in the world."""

from __future__ import annotations

from typing import Any

from ouroboros.engine import World
from ouroboros.worlds import build_world
from ouroboros.worlds.neon import economy, find_player
from ouroboros.worlds.neon import tables as tb
from ouroboros.worlds.neon.actions import die
from ouroboros.worlds.neon.city import npcs_in, slots, state
from ouroboros.worlds.neon.signals import NeonSignals

NAMES = ("Alice", "Bob", "Carol")


def fresh(players: int = 1) -> World:
    world = build_world("neon", 5, {})
    for i in range(players):
        world.submit("neon.enter", {"name": NAMES[i]})
    world.run(2)
    return world


def move(world: World, name: str, room_id: str) -> None:
    player = find_player(world, name)
    assert player is not None
    world.set(player, "Place", room=slots(world).slot("room", room_id))


def kinds(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e["kind"] == kind]


def test_a_player_arriving_at_a_growth_point_is_reported_once() -> None:
    world = fresh()
    signals = NeonSignals()
    assert kinds(signals.read(world).events, "player_at_edge") == []  # the spawn is no edge
    move(world, "Alice", "neon.room.st_00_00")
    edge = kinds(signals.read(world).events, "player_at_edge")
    assert [(e["player"], e["growth_point"]) for e in edge] == [("Alice", "neon.room.st_00_00")]
    assert kinds(signals.read(world).events, "player_at_edge") == []  # still there: no repeat


def test_a_dead_end_counts_as_an_edge() -> None:
    world = fresh()
    t = tb.tables(world)
    dead = next(
        r for r, room in sorted(t.rooms.items()) if len(room["exits"]) == 1 and not room.get("growth_point")
    )
    signals = NeonSignals()
    signals.read(world)
    move(world, "Alice", dead)
    (event,) = kinds(signals.read(world).events, "player_at_edge")
    assert event["dead_end"] is True and event["room"] == dead


def test_a_boss_death_is_reported_once() -> None:
    world = fresh()
    signals = NeonSignals()
    assert kinds(signals.read(world).events, "boss_killed") == []
    room = slots(world).slot("room", tb.tables(world).npcs["neon.npc.boss_drain_king"]["spawn_room"])
    boss = next(
        n
        for n in npcs_in(world, room)
        if state(world)["npc_ids"][world.get(n, "Npc")["proto"]].startswith("neon.npc.boss")
    )
    killer = find_player(world, "Alice")
    assert killer is not None
    die(world, boss, killer)
    (event,) = kinds(signals.read(world).events, "boss_killed")
    assert event["boss"] == "neon.npc.boss_drain_king" and event["faction"] == "neon.faction.drain_rats"
    assert kinds(signals.read(world).events, "boss_killed") == []


def test_inflation_comes_from_each_new_economy_report_once() -> None:
    world = fresh(players=2)
    signals = NeonSignals()
    signals.read(world)
    economy.report(world)
    for name in ("Alice", "Bob"):
        player = find_player(world, name)
        assert player is not None
        world.set(player, "Player", credits=world.get(player, "Player")["credits"] * 2)
    world.run(1)
    report = economy.report(world)
    kpis = signals.read(world).kpis
    assert kpis["inflation_permille"] == report["inflation_permille"] == 1000
    assert kpis["money_supply"] == report["supply"]
    assert "inflation_permille" not in signals.read(world).kpis


def test_crowded_sectors_and_factions_without_hq() -> None:
    world = fresh(players=3)
    signals = NeonSignals(crowd_threshold=3)
    first = signals.read(world).events
    spawn_zone = tb.tables(world).rooms[tb.tables(world).spawn_room]["zone"]
    assert [e["sector"] for e in kinds(first, "crowded_sector")] == [spawn_zone]
    factions = {e["faction"] for e in kinds(first, "faction_without_hq")}
    assert "neon.faction.chrome_jackals" in factions and "neon.faction.citizens" not in factions
    again = signals.read(world).events
    assert kinds(again, "crowded_sector") == [] and kinds(again, "faction_without_hq") == []


def test_a_district_whose_quests_are_all_done_is_exhausted() -> None:
    world = fresh()
    t = tb.tables(world)
    signals = NeonSignals()
    assert kinds(signals.read(world).events, "quests_exhausted") == []
    district = "neon.district.kabuki"
    qids = [
        q
        for q, quest in t.quests.items()
        if t.rooms[t.npcs[quest["giver"]]["spawn_room"]]["district"] == district
    ]
    assert qids
    journal = state(world)["quests"].setdefault("Alice", {})
    for q in qids:
        journal[q] = {"state": "done", "progress": []}
    (event,) = kinds(signals.read(world).events, "quests_exhausted")
    assert (event["district"], event["done"], event["total"], event["stale"]) == (
        district,
        len(qids),
        len(qids),
        False,
    )
    assert kinds(signals.read(world).events, "quests_exhausted") == []


def test_stale_quests_exhaust_a_district() -> None:
    world = fresh()
    signals = NeonSignals(stale_ticks=3)
    signals.read(world)
    world.run(4)
    stale = kinds(signals.read(world).events, "quests_exhausted")
    assert stale and all(e["stale"] for e in stale)


def test_reading_changes_nothing() -> None:
    world = fresh(players=2)
    before = world.digest()
    reports = len(state(world)["economy"]["reports"])
    NeonSignals().read(world)
    assert world.digest() == before and len(state(world)["economy"]["reports"]) == reports


# -- the player experience service: challenge and feedback, as director signals ----------------------
def test_a_struggling_and_a_cruising_runner_are_each_reported_once() -> None:
    from ouroboros.worlds.neon import experience

    world = fresh(2)
    signals = NeonSignals()
    signals.read(world)
    alice, bob = find_player(world, "Alice"), find_player(world, "Bob")
    assert alice is not None and bob is not None
    for _ in range(experience.STRUGGLING_DEATHS):
        experience.died(world, alice)
    for _ in range(experience.CRUISING_KILLS):
        experience.fought(world, bob, "ganger")
    events = signals.read(world).events
    (struggling,) = kinds(events, "player_struggling")
    (cruising,) = kinds(events, "player_cruising")
    assert struggling["player"] == "Alice" and struggling["level"] == 1 and struggling["district"]
    assert cruising["player"] == "Bob"
    again = signals.read(world).events
    assert kinds(again, "player_struggling") == kinds(again, "player_cruising") == []


def test_new_feedback_is_a_signal_once() -> None:
    from ouroboros.worlds.neon import experience

    world = fresh()
    signals = NeonSignals()
    signals.read(world)
    alice = find_player(world, "Alice")
    assert alice is not None
    experience.add_feedback(world, alice, "the lift is broken")
    world.run(1)
    (note,) = kinds(signals.read(world).events, "feedback")
    assert (note["category"], note["player"]) == ("bug", "Alice") and note["sentiment"] < 0
    assert kinds(signals.read(world).events, "feedback") == []


def test_the_director_gets_the_signals_from_the_world_spec() -> None:
    """The runtime asks the spec for a reader per live world; each reader remembers on its own."""
    from ouroboros.worlds import spec_of

    world = fresh()
    make = spec_of(world).signals
    assert make is not None
    first, second = make(), make()
    move(world, "Alice", "neon.room.st_00_00")
    assert kinds(first.read(world).events, "player_at_edge")
    assert kinds(first.read(world).events, "player_at_edge") == []  # reported once
    assert kinds(second.read(world).events, "player_at_edge")  # a fresh reader sees it anew
