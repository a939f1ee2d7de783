"""Glitch doors: some new roads end in one (deterministic by seed, always when the road grew from
one), and with the director's ``glitch_doors_only`` toggle on, a player at such a road end of a
live city still makes the city grow there, end to end: generator -> pipeline -> world -> signals ->
director -> generator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ouroboros.ai.director import Director
from ouroboros.ai.generators import MAX_SEED, generate
from ouroboros.ai.generators._world import WorldView
from ouroboros.ai.generators.expansion import GLITCH_DOOR_KEY, GLITCH_DOOR_PERMILLE, map_problems
from ouroboros.ai.proposals import ProposalType
from ouroboros.ai.store import AiStore
from ouroboros.patches import Governor, State
from ouroboros.worlds.neon import find_player
from ouroboros.worlds.neon.city import slots
from ouroboros.worlds.neon.signals import GLITCH_DOOR_KEY as SIGNALS_KEY
from ouroboros.worlds.neon.signals import NeonSignals
from tests.ai.generators.conftest import submit

BASE = WorldView("neon", None)


def _glitch_rooms(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in payload.get("rooms", ()) if r.get("extensions", {}).get(GLITCH_DOOR_KEY)]


def test_the_key_is_the_one_the_signals_read() -> None:
    assert GLITCH_DOOR_KEY == SIGNALS_KEY


def test_some_roads_end_in_a_glitch_door_by_seed() -> None:
    seeds = range(60)
    with_door = [s for s in seeds if _glitch_rooms(generate("WORLD_EXPANSION", s).payload)]
    # near GLITCH_DOOR_PERMILLE of them, neither none nor all, and the same seeds every time
    assert 0.2 * len(seeds) <= len(with_door) <= 0.6 * len(seeds), (len(with_door), GLITCH_DOOR_PERMILLE)
    assert with_door == [s for s in seeds if _glitch_rooms(generate("WORLD_EXPANSION", s).payload)]


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=MAX_SEED))
def test_a_glitch_door_is_a_new_road_end_that_can_grow_on(seed: int) -> None:
    proposal = generate("WORLD_EXPANSION", seed)
    doors = _glitch_rooms(proposal.payload)
    assert len(doors) <= 1
    for door in doors:
        assert BASE.get("rooms", door["id"]) is None  # a new room, never an old one
        assert door["growth_point"] is True
        assert "flickers" in door[
            "description"
        ] and f"/rooms/{proposal.payload['rooms'].index(door)}/description" in (proposal.flavour)
        # the generator accepts it as a growth point
        grown = generate(
            "WORLD_EXPANSION", seed, content=proposal.payload, context={"growth_point": door["id"]}
        )
        assert map_problems(WorldView("neon", proposal.payload), grown) == []


def test_a_road_grown_from_a_glitch_door_ends_in_one() -> None:
    seed = next(s for s in range(60) if _glitch_rooms(generate("WORLD_EXPANSION", s).payload))
    first = generate("WORLD_EXPANSION", seed)
    [door] = _glitch_rooms(first.payload)
    for later in range(10):
        grown = generate(
            "WORLD_EXPANSION", later, content=first.payload, context={"growth_point": door["id"]}
        )
        assert [r["id"] for r in _glitch_rooms(grown.payload) if r["id"] != door["id"]]


def test_glitch_doors_only_lets_a_live_city_grow_at_its_glitch_door(
    neon_gov: Governor, tmp_path: Path
) -> None:
    seed = next(s for s in range(60) if _glitch_rooms(generate("WORLD_EXPANSION", s).payload))
    road = generate("WORLD_EXPANSION", seed, content=neon_gov.active_content())
    [door] = _glitch_rooms(road.payload)
    assert submit(neon_gov, road).state == State.ACTIVE
    world = neon_gov.reference_world()
    world.submit("neon.enter", {"name": "Alice"})
    world.run(2)
    signals = NeonSignals()
    signals.read(world)
    player = find_player(world, "Alice")
    assert player is not None
    store = AiStore(tmp_path / "ai.sqlite3")
    try:
        director = Director(store, world_seed=11, tick_hz=50)
        for name, value in (("chaos", 0), ("expansion", 100), ("glitch_doors_only", True)):
            director.set(name, value, "test")
        # an ordinary edge is refused under the toggle ...
        world.set(player, "Place", room=slots(world).slot("room", "neon.room.st_00_00"))
        read = signals.read(world)
        assert director.observe(None, read.events, read.kpis, read.tick) == []
        # ... the glitch door is grown from
        world.set(player, "Place", room=slots(world).slot("room", door["id"]))
        read = signals.read(world)
        [edge] = [e for e in read.events if e["kind"] == "player_at_edge"]
        assert "glitch_door" in edge["tags"]
        [job] = director.observe(None, read.events, read.kpis, read.tick + 1)
    finally:
        store.close()
    assert job.type == ProposalType.WORLD_EXPANSION and job.context["growth_point"] == door["id"]
    grown = generate(job.type, job.seed, content=neon_gov.active_content(), context=job.context)
    [start] = [r for r in grown.payload["rooms"] if r["id"] == door["id"]]
    assert len(start["exits"]) == 2 and start["version"] == "1.0.1"
    assert submit(neon_gov, grown).state == State.ACTIVE
