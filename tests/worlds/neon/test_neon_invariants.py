"""The city's invariants (``WorldSpec.invariants``): what holds between any two ticks whatever the
version — a sharded city checks them after every tick of every shard, and one broken on a
rollout's treatment rolls it back. Any play keeps them; each rule names what broke."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from neon_harness import City, path

from ouroboros.engine import World
from ouroboros.worlds import build_world, world_spec
from ouroboros.worlds.neon.city import slots, state
from ouroboros.worlds.neon.hooks import neon_invariants
from ouroboros.worlds.neon.tables import tables

RUNNERS = ("Ada", "Bex", "Cyn")
_T = tables(build_world("neon", 1))
ITEMS = sorted({i["name"].split()[-1].lower() for i in _T.items.values()})
NPCS = sorted({n["name"].split()[-1].lower() for n in _T.npcs.values()})
MOVES = ("n", "s", "e", "w", "u", "d", "in", "out")
VERBS = ("buy", "sell", "get", "drop", "wear", "wield", "use", "remove")
FIGHT = "attack whoever is here"
HUNT = "walk to an npc and attack it"  # and the npc's index among every npc
SHOP = "walk to the weapon shop and buy"
SHOP_ROOM = "neon.room.weapon_shop_showroom"

line = st.one_of(
    st.sampled_from(MOVES),
    st.builds("attack {}".format, st.sampled_from(NPCS)),
    st.builds("{} {}".format, st.sampled_from(VERBS), st.sampled_from(ITEMS)),
    st.builds("give {} credits to {}".format, st.integers(-10, 500), st.sampled_from(RUNNERS)),
    st.builds("give {} to {}".format, st.sampled_from(ITEMS), st.sampled_from(RUNNERS)),
    st.sampled_from(("flee", "get all", "list", "quest suggest", "quest accept 1", "look", "quit")),
    st.just(FIGHT),
    st.builds("{} {}".format, st.just(HUNT), st.integers(0, 10_000)),
    st.builds("{} {}".format, st.just(SHOP), st.sampled_from(ITEMS)),
)  # fmt: skip
turn = st.tuples(st.sampled_from(RUNNERS), line, st.integers(0, 30))


def walk(city: City, name: str, room_id: str) -> None:
    """Toward ``room_id`` along the map (a guarded door or a fight may stop the runner short)."""
    for direction in path(city.world, city.room_id(name), room_id):
        city.do(name, direction)


def npc_here(city: City, name: str) -> str:
    """The last word of the name of an npc in ``name``'s room ("nobody" when none is)."""
    world = city.world
    room = int(world.get(city.player(name), "Place")["room"])
    for chunk in world.query("Npc", "Place"):
        here = chunk["Npc.proto"][chunk["Place.room"] == room]
        if here.size:
            npc_id = slots(world).id_of("npc", int(here[0]))
            return str(tables(world).npcs[npc_id]["name"]).split()[-1].lower()
    return "nobody"


def test_the_spec_carries_the_invariants() -> None:
    assert world_spec("neon").invariants is neon_invariants


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 5), turns=st.lists(turn, min_size=1, max_size=40))
def test_any_play_keeps_the_city_s_invariants(seed: int, turns: list[tuple[str, str, int]]) -> None:
    city = City(seed)
    broken: list[tuple[int, list[str]]] = []

    def check(world: World) -> None:  # after every tick, walking included
        found = neon_invariants(world)
        if found:
            broken.append((world.tick, found))

    city.game.on_tick.append(check)
    city.enter(*RUNNERS)
    for name, typed, wait in turns:
        if not city.game.present(name):
            city.enter(name)  # a runner who quit comes back
        if typed == FIGHT:
            typed = f"attack {npc_here(city, name)}"
        elif typed.startswith(HUNT):
            chunks = city.world.query("Npc", "Place")
            npcs = [(int(c["Place.room"][i]), int(c["Npc.proto"][i])) for c in chunks for i in range(c.count)]
            room, proto = npcs[int(typed.rsplit(" ", 1)[1]) % len(npcs)]
            walk(city, name, state(city.world)["room_ids"][room])
            typed = f"attack {tables(city.world).npcs[slots(city.world).id_of('npc', proto)]['name']}"
        elif typed.startswith(SHOP):
            walk(city, name, SHOP_ROOM)
            typed = f"buy {typed.rsplit(' ', 1)[1]}"
        city.do(name, typed, ticks=1 + wait)  # fights go on for rounds while others wait
        assert broken == [], (name, typed)


def test_each_broken_rule_is_one_line_that_names_it() -> None:
    city = City()
    city.enter("Ada", "Bex")
    world = city.world
    rooms = len(state(world)["room_ids"])
    world.set(city.player("Ada"), "Player", credits=-1)
    world.set(city.player("Bex"), "Place", room=rooms)
    hp = int(world.get(city.player("Bex"), "Actor")["max_hp"])
    world.set(city.player("Bex"), "Actor", hp=hp + 1)
    items = [e for c in world.query("Item") for e in c.ids.tolist()]
    world.set(items[0], "Item", room=-1, holder=0)
    broken = neon_invariants(world)
    assert broken == [
        f"an actor stands outside the {rooms} rooms",
        "an actor with more health than its maximum",
        "a character with credits below zero",
        "an item neither in a room nor held",
    ]
    world.set(city.player("Ada"), "Player", handle=99)
    assert "a character without a name" in neon_invariants(world)
