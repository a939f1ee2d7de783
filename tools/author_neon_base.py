"""Authors the neon base world ("patch zero") as JSON files under ``worlds/neon/base/``, one per domain.

The JSON is the source of truth for the game: the city loads it, patches build on it and reviews
diff it. This script only authors it: the hand-written places, people, items, quests and lines are
literal tables below, and the 20x20 street grid is generated from word lists. It is deterministic
(one fixed-seed ``random.Random``, no clock), so running it again gives the same bytes; it checks the
result with ``parse_content`` and ``lint_content`` before writing anything.

Conventions the city relies on: grid rooms ``neon.room.st_XX_YY`` with ``n`` = y+1, ``e`` = x+1;
buildings entered by ``in`` and left by ``out``; the sewer at level -1 reached by ``d``; exactly one
room flagged ``extensions["neon.spawn"]``; floor loot in ``extensions["neon.items"]``; money dropped
by an npc in ``extensions["neon.credits"]``; ``factions.json`` lists every faction npcs use.

Run from the repository root: ``python -m tools.author_neon_base``. It lives outside the package: the
city only ever reads the JSON it writes; ``tests/worlds/neon/test_base_content.py`` checks that it
reproduces the committed files byte for byte.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ouroboros.content import Catalog, lint_content, parse_content
from ouroboros.errors import ContentError
from ouroboros.worlds import neon

__all__ = ["BASE_DIR", "FILES", "build_documents", "main", "render_files"]

Json = dict[str, Any]

BASE_DIR = Path(neon.__file__).parent / "base"
FILES = (
    "dialogue",
    "economy_tuning",
    "factions",
    "items",
    "npc_behaviors",
    "npcs",
    "quests",
    "rooms",
    "world_params",
)
#: ticks per second: a command waits at most a 50th of a second for its tick (p99 < 50 ms)
TICK_HZ = 50
VERSION = "1.0.0"
SEED = 2077
GRID = 20
SPAWN = (10, 10)
OPPOSITE = {"n": "s", "s": "n", "e": "w", "w": "e", "u": "d", "d": "u", "in": "out", "out": "in"}
EXIT_ORDER = ("n", "s", "e", "w", "ne", "nw", "se", "sw", "u", "d", "in", "out")


def room_id(key: str) -> str:
    return f"neon.room.{key}"


def street_id(x: int, y: int) -> str:
    return room_id(f"st_{x:02d}_{y:02d}")


# --- the street grid: word lists ------------------------------------------------------------------

AVENUES = (  # east-west, by y (0 is the south edge)
    "Breakwater Road", "Slag Row", "Rivet Avenue", "Cinder Way", "Furnace Road",
    "Coolant Row", "Ballast Avenue", "Gantry Way", "Dynamo Avenue", "Meridian Way",
    "Lantern Avenue", "Sakura Row", "Halogen Way", "Argon Avenue", "Chrome Row",
    "Silk Road", "Paragon Avenue", "Zenith Way", "Skyline Avenue", "Aurora Row",
)  # fmt: skip
STREETS = (  # north-south, by x (0 is the west edge)
    "Rust Lane", "Magnet Street", "Piston Street", "Gasket Lane", "Solder Street",
    "Fuse Lane", "Tinker Street", "Copper Lane", "Static Street", "Circuit Lane",
    "Neon Street", "Quartz Lane", "Pixel Street", "Cipher Lane", "Vector Street",
    "Helix Lane", "Prism Street", "Signal Lane", "Orbit Street", "Beacon Lane",
)  # fmt: skip


@dataclass(frozen=True)
class District:
    key: str
    inner_zone: str
    outer_zone: str
    threat_bonus: int
    scenes: tuple[str, ...]  # str.format templates over {avenue} and {street}


DISTRICTS = {
    "kabuki": District(
        "kabuki", "night_market", "lantern_alleys", 0,
        (
            "Paper lanterns and holo-koi drift above {avenue}, throwing pink light on the wet stones.",
            "Noodle steam and karaoke bleed out of the doorways along {street}.",
            "A wall of vending machines hums along {avenue}, each one glowing a different colour.",
            "Pachinko parlours chatter behind bead curtains where {street} meets {avenue}.",
            "Street cooks fan charcoal grills under a tangle of neon signs on {street}.",
            "Holographic dancers smile down from the billboards over {avenue}.",
        ),
    ),
    "spire": District(
        "spire", "spire_boulevards", "arcology_heights", 0,
        (
            "Glass towers rise on both sides of {avenue}, their lobbies lit like aquariums.",
            "Maglev pods glide silently above {street} on humming rails.",
            "Security cameras swivel to follow every pedestrian on {avenue}.",
            "The pavement of {street} is so clean it reflects the corporate logos overhead.",
            "Courier drones ferry sealed briefcases between the towers over {avenue}.",
            "Salarymen in grey suits hurry along {street} without looking up.",
        ),
    ),
    "rustbelt": District(
        "rustbelt", "smelter_row", "scrapyards", 1,
        (
            "Dead factories line {avenue}, their smokestacks cold against the smog.",
            "Sparks rain from a welding crew working on a gutted truck on {street}.",
            "Chain-link fences along {avenue} hold back heaps of rusted machine parts.",
            "Steam hisses from a cracked pipe that runs the length of {street}.",
            "Burnt-out cars have been dragged into a crooked wall across {avenue}.",
            "Graffiti of snarling chrome jackals covers the shutters on {street}.",
        ),
    ),
    "harbor": District(
        "harbor", "fish_market", "container_stacks", 1,
        (
            "Cranes creak over {avenue}, swinging containers toward the black water.",
            "The smell of salt, diesel and fish hangs heavy on {street}.",
            "Stacked shipping containers turn {avenue} into a narrow steel canyon.",
            "Gulls fight over scraps beside the fish stalls on {street}.",
            "Foghorns moan somewhere beyond the end of {avenue}.",
            "Dock workers in bright ponchos haul crates along {street}.",
        ),
    ),
}  # fmt: skip

DETAILS = (
    "Rain drips from every awning.",
    "A broken holo-ad loops the same three seconds of a smile.",
    "Puddles mirror the neon in trembling colours.",
    "A stray cat with one cybernetic eye watches from a ledge.",
    "Somewhere above, a bass line thumps through an open window.",
    "Steam curls up from a grate in the road.",
    "Faded posters promise a better life off-world.",
    "A delivery drone buzzes past at head height.",
    "Cables sag between the buildings like black vines.",
    "The air tastes of ozone and frying oil.",
)
BARRICADES = (
    "A barricade of welded car doors and razor wire closes the way out of the city.",
    "Concrete barriers and a barricade of stacked tyres end the street here.",
    "A sagging barricade of shipping pallets marks where the city gives out.",
)
OPEN_LOT = "An empty lot behind a sagging fence waits for someone to build on it."
MANHOLE = "A rusted manhole cover sits ajar in the middle of the road, a ladder leading down."
THREAT_LINES = (  # by threat level // 2
    "Patrol drones keep this stretch calm.",
    "People keep their heads down and their hands in their pockets.",
    "Gang tags mark the corners, and the shutters stay down.",
    "Nobody walks here alone if they can help it.",
    "Spent shell casings glitter in the gutter; the law does not reach this far.",
    "Spent shell casings glitter in the gutter; the law does not reach this far.",
)
PLAZA = {  # the four centre blocks, hand-written
    (10, 10): (
        "Lantern Plaza",
        "The heart of the city: a wide square under a canopy of ten thousand paper lanterns and "
        "holo-screens. A rebirth booth glows beside the fountain, where new arrivals blink awake. "
        "Streets run off in every direction.",
    ),
    (9, 10): (
        "Lantern Plaza, West Steps",
        "Wide stone steps where couriers nap between jobs and street musicians tune up. "
        "The lanterns overhead sway in the exhaust of passing air-cars.",
    ),
    (10, 9): (
        "Lantern Plaza, South Arcade",
        "A covered arcade of ticket booths and fortune-telling machines. "
        "Pickpockets work the crowd with bored efficiency.",
    ),
    (9, 9): (
        "Lantern Plaza, Fountain Corner",
        "A cracked fountain shaped like a koi spits recycled water into a basin full of coins.",
    ),
}
OPEN_LOTS = ((7, 3), (17, 8), (3, 17), (17, 17), (12, 2))
MANHOLES = ((5, 5), (14, 5), (5, 14))


def district_of(x: int, y: int) -> District:
    west, north = x < GRID // 2, y >= GRID // 2
    key = ("kabuki" if west else "spire") if north else ("rustbelt" if west else "harbor")
    return DISTRICTS[key]


def ring_of(x: int, y: int) -> int:
    """0 for the four centre blocks, 9 for the edge."""
    return (max(abs(2 * x - (GRID - 1)), abs(2 * y - (GRID - 1))) - 1) // 2


def distance_of(x: int, y: int) -> int:
    """Blocks from the centre, walking: 1 for the four centre blocks, 19 for the corners."""
    return (abs(2 * x - (GRID - 1)) + abs(2 * y - (GRID - 1))) // 2


def threat_of(x: int, y: int) -> int:
    """0 on the plaza, rising with the walk from the centre (and a little in the poor districts)."""
    if (x, y) in PLAZA:
        return 0
    return min(10, distance_of(x, y) // 2 + district_of(x, y).threat_bonus)


# --- buildings -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    key: str
    name: str
    description: str
    level: int = 0
    links: tuple[tuple[str, str], ...] = ()  # (direction, other part); the way back is added
    items: tuple[str, ...] = ()


@dataclass(frozen=True)
class Building:
    key: str
    x: int
    y: int
    facade: str  # a sentence added to the street room's description
    parts: tuple[Part, ...]  # the first part is entered from the street by "in"
    corp: str | None = None


BUILDINGS = (
    Building("noodle_bar", 6, 12,
             "A red curtain and the smell of broth mark the door of Mama Oyelaran's Noodles.", (
        Part("counter", "Mama Oyelaran's Noodles",
             "A horseshoe counter of scarred steel seats a dozen hungry customers. "
             "Broth bubbles in pots taller than a person.", links=(("n", "kitchen"),)),
        Part("kitchen", "Noodle Kitchen",
             "Cleavers thunk and woks roar in a cramped kitchen slick with oil.",
             items=("neon.item.noodle_bowl", "neon.item.empty_can")),
    )),
    Building("clinic", 7, 11,
             "A flickering green cross hangs over the door of a back-alley clinic.", (
        Part("waiting", "Clinic Waiting Room",
             "Plastic chairs, a dead aquarium and a queue of patients with twitching cyber-limbs.",
             links=(("n", "surgery"),)),
        Part("surgery", "Doc Vex's Surgery",
             "A reclining chair under a surgical lamp, surrounded by racks of gleaming chrome."),
    )),
    Building("fixer_den", 4, 15,
             "Beside a karaoke bar's buzzing sign, a narrow stair leads in and up.", (
        Part("stairwell", "Karaoke Bar Stairwell",
             "Off-key singing drifts through the walls of a stairwell papered with old flyers.",
             links=(("u", "booth"),)),
        Part("booth", "Kestrel's Den",
             "A private karaoke booth turned office. A dozen screens show camera feeds from all over "
             "the district.", level=1),
    )),
    Building("nightclub", 8, 16,
             "A queue of chromed clubbers waits under the pulsing sign of Club Afterglow.", (
        Part("floor", "Club Afterglow Dance Floor",
             "Lasers slice through artificial fog above a heaving crowd. The bass is a physical force.",
             links=(("u", "vip"),)),
        Part("vip", "Afterglow VIP Lounge",
             "Velvet booths and one-way glass look down on the dance floor.", level=1,
             items=("neon.item.neon_soda",)),
    )),
    Building("capsule_hotel", 2, 12,
             "Stacked sleeping pods glow behind the glass front of the Hive Capsule Hotel.", (
        Part("lobby", "Hive Capsule Hotel Lobby",
             "A vending-machine reception desk dispenses key cards to the exhausted.",
             links=(("u", "pods"),)),
        Part("pods", "Capsule Corridor",
             "Two rows of sleeping capsules, stacked three high, hum with tiny air fans.", level=1,
             items=("neon.item.burnt_chip", "neon.item.energy_bar")),
    )),
    Building("helix_tower", 14, 15,
             "The black glass doors of Helix Tower slide open for anyone with a pass.", (
        Part("lobby", "Helix Tower Lobby",
             "White marble, a living wall of ferns and a reception desk staffed by a hologram.",
             links=(("u", "offices"),)),
        Part("offices", "Helix Open-plan Office",
             "Rows of identical desks under cold light. Nobody looks up from their screen.", level=1,
             links=(("u", "executive"),)),
        Part("executive", "Helix Executive Suite",
             "A corner office with a view of the whole city and a desk carved from real wood.", level=2,
             links=(("u", "helipad"),)),
        Part("helipad", "Helix Tower Helipad",
             "Wind howls across the rooftop landing pad, far above the neon haze.", level=3),
    ), corp="neon.corp.helix"),
    Building("precinct", 11, 12,
             "Armoured shutters guard the doors of the city police precinct.", (
        Part("front", "Precinct Front Desk",
             "A bored desk sergeant sits behind bulletproof glass, ignoring a line of complaints.",
             links=(("e", "cells"), ("u", "squad"))),
        Part("cells", "Holding Cells",
             "A row of barred cells smelling of disinfectant and regret."),
        Part("squad", "Squad Room",
             "Cold coffee, a wall of wanted posters and a map of the city stuck with pins.", level=1,
             items=("neon.item.synth_coffee",)),
    )),
    Building("netcafe", 16, 11,
             "A flickering sign over a doorway reads The Cipher Cafe.", (
        Part("floor", "The Cipher Cafe",
             "Netrunners slump in reclining chairs, jacked into the net, their coffee going cold."),
    ), corp="neon.corp.helix"),
    Building("weapon_shop", 6, 7,
             "A steel door stencilled HARDPOINT ARMS stands under two security cameras.", (
        Part("showroom", "Hardpoint Arms",
             "Blades and barrels hang on pegboard walls behind a counter of scratched armoured glass.",
             links=(("n", "range"),)),
        Part("range", "Hardpoint Firing Range",
             "Three lanes of paper targets, most of them shredded.", items=("neon.item.scrap_metal",)),
    )),
    Building("pawn_shop", 3, 6,
             "A barred window full of old watches and cyberdecks marks Lucky's Pawn.", (
        Part("counter", "Lucky's Pawn",
             "Shelves sag under a lifetime of other people's treasures, each one tagged with a price."),
    )),
    Building("garage", 2, 3,
             "A roller door painted with a lightning bolt hides Sparks' Garage.", (
        Part("workshop", "Sparks' Garage",
             "Half-built motorbikes hang from chains. A welding torch hisses in the corner.",
             links=(("u", "loft"),), items=("neon.item.scrap_metal",)),
        Part("loft", "Garage Loft",
             "A mattress, a hot plate and a wall of schematics scribbled with notes.", level=1),
    )),
    Building("drowned_circuit", 13, 7,
             "Salt-stained neon spells out The Drowned Circuit above a heavy door.", (
        Part("bar", "The Drowned Circuit",
             "A dockside bar with fishing nets on the ceiling and a jukebox that only plays sea shanties.",
             links=(("n", "back_room"),)),
        Part("back_room", "Drowned Circuit Back Room",
             "A card table, one lamp, and a window that looks out over the black water."),
    )),
    Building("market_hall", 11, 8,
             "The iron arches of the Night Market Hall spill light and noise into the street.", (
        Part("floor", "Night Market Hall",
             "Hundreds of stalls sell everything from live eels to bootleg software under one vast roof.",
             links=(("e", "stalls"), ("u", "mezzanine"))),
        Part("stalls", "Market Hall Fish Stalls",
             "Ice, scales and shouting. The fishmongers' knives never stop moving.",
             items=("neon.item.empty_can",)),
        Part("mezzanine", "Market Hall Mezzanine",
             "A rickety walkway above the stalls where traders count their takings.", level=1),
    )),
    Building("warehouse", 16, 3,
             "A rolling gate marked TIDEWATER WAREHOUSE 7 stands half open.", (
        Part("loading_bay", "Tidewater Loading Bay",
             "Forklifts sit idle between towers of sealed crates under sodium lights.",
             links=(("u", "office"),)),
        Part("office", "Warehouse Office",
             "A glass office on a catwalk, its filing cabinets forced open.", level=1,
             items=("neon.item.broken_cyberdeck",)),
    ), corp="neon.corp.tidewater"),
)  # fmt: skip


# --- the sewer -------------------------------------------------------------------------------------

SEWER_KINDS = ("Storm Drain", "Brick Culvert", "Overflow Channel", "Dripping Tunnel", "Maintenance Walkway")
SEWER_LINES = (
    "Brown water slides past a narrow concrete ledge.",
    "Pipes sweat and knock overhead, and every sound echoes twice.",
    "Glowing fungus paints the brick arches a sickly green.",
    "Rats with blinking collars scatter at your footsteps.",
    "A drift of rubbish has piled up against a rusted grate.",
    "Old maintenance lamps flicker on and off in no pattern at all.",
)
SEWER_MARK = "Scratched symbols of a crowned rat mark the walls."
SEWER_LADDER = "A rusted ladder climbs to a manhole and the street above."
SEWER_MAIN = tuple((x, 5) for x in range(5, 15))  # under Coolant Row
SEWER_BRANCH = tuple((5, y) for y in range(6, 15))  # under Fuse Lane
SEWER_SPECIAL = (  # key, x, y, threat, name, description, floor items
    ("pump_station", 10, 4, 7, "Old Pump Station",
     "Giant rusted pumps stand silent in a flooded hall. Someone has hung crude crowns of wire from "
     "every valve wheel.", ("neon.item.stim_pack",)),
    ("flooded_gallery", 10, 3, 8, "Flooded Gallery",
     "Knee-deep water hides the floor of a long gallery. Things bump against your legs in the dark.",
     ("neon.item.scrap_metal",)),
    ("lair_gate", 10, 2, 9, "The Rat Gate",
     "A wall of welded grates with a single gap, guarded and lit by burning oil drums.", ()),
    ("lair", 10, 1, 10, "The Drain King's Throne Room",
     "A cistern cathedral. On a throne of scrap and cables sits the Drain King, crowned in copper "
     "wire, surrounded by the loot of a hundred raids.",
     ("neon.item.trauma_kit", "neon.item.tarnished_locket")),
)  # fmt: skip

STREET_ITEMS = {  # floor loot on the streets
    (4, 2): ("neon.item.drone_core", "neon.item.scrap_metal"),
    (1, 4): ("neon.item.drone_core",),
    (9, 9): ("neon.item.neon_soda",),
    (12, 16): ("neon.item.empty_can",),
    (18, 6): ("neon.item.burnt_chip",),
    (6, 18): ("neon.item.energy_bar",),
}


# --- rooms -----------------------------------------------------------------------------------------


def _link(rooms: dict[str, Json], a: str, direction: str, b: str) -> None:
    """An exit from ``a`` to ``b`` and the opposite exit back; raises on a clash."""
    for source, way, target in ((a, direction, b), (b, OPPOSITE[direction], a)):
        exits: dict[str, str] = rooms[source]["exits"]
        if exits.get(way, target) != target:
            raise ValueError(f"{source} already has exit {way!r} to {exits[way]}")
        exits[way] = target


def _room(
    key: str,
    name: str,
    description: str,
    zone: str,
    district: str,
    threat: int,
    coords: tuple[int, int, int],
    corp: str | None = None,
) -> Json:
    room: Json = {
        "id": room_id(key),
        "version": VERSION,
        "name": name,
        "description": description,
        "zone": f"neon.zone.{zone}",
        "district": f"neon.district.{district}",
    }
    if corp is not None:
        room["corp"] = corp
    room["threat_level"] = threat
    room["coords"] = {"x": coords[0], "y": coords[1], "level": coords[2]}
    room["exits"] = {}
    return room


def _corp_of(x: int, y: int) -> str | None:
    district = district_of(x, y).key
    if (x, y) in PLAZA:
        return None
    if district == "spire":
        return "neon.corp.helix" if x >= 15 else "neon.corp.kuroda"
    if district == "harbor" and ring_of(x, y) >= 5 and x >= 15:
        return "neon.corp.tidewater"
    return None


def _street_rooms(rng: random.Random) -> dict[str, Json]:
    facades = {(b.x, b.y): b.facade for b in BUILDINGS}
    rooms: dict[str, Json] = {}
    for y in range(GRID):
        for x in range(GRID):
            district = district_of(x, y)
            ring, threat = ring_of(x, y), threat_of(x, y)
            avenue, street = AVENUES[y], STREETS[x]
            scene = rng.choice(district.scenes).format(avenue=avenue, street=street)
            detail = rng.choice(DETAILS)
            edge = x in (0, GRID - 1) or y in (0, GRID - 1)
            if (x, y) in PLAZA:
                name, description = PLAZA[(x, y)]
                zone = "lantern_plaza"
            else:
                name = f"{avenue} at {street}"
                zone = district.inner_zone if ring <= 4 else district.outer_zone
                middle = (
                    facades.get((x, y))
                    or (MANHOLE if (x, y) in MANHOLES else None)
                    or (OPEN_LOT if (x, y) in OPEN_LOTS else None)
                    or (rng.choice(BARRICADES) if edge else None)
                    or (detail if rng.randrange(10) < 7 else None)
                )
                sentences = [scene, middle, THREAT_LINES[threat // 2]]
                description = " ".join(s for s in sentences if s)
            key = f"st_{x:02d}_{y:02d}"
            room = _room(key, name, description, zone, district.key, threat, (x, y, 0), _corp_of(x, y))
            if edge or (x, y) in OPEN_LOTS:
                room["growth_point"] = True
            extensions: Json = {}
            if (x, y) == SPAWN:
                extensions["neon.spawn"] = True
            if (x, y) in STREET_ITEMS:
                extensions["neon.items"] = list(STREET_ITEMS[(x, y)])
            if extensions:
                room["extensions"] = extensions
            rooms[room["id"]] = room
    for y in range(GRID):
        for x in range(GRID):
            if x + 1 < GRID:
                _link(rooms, street_id(x, y), "e", street_id(x + 1, y))
            if y + 1 < GRID:
                _link(rooms, street_id(x, y), "n", street_id(x, y + 1))
    return rooms


def _add_buildings(rooms: dict[str, Json]) -> None:
    for building in BUILDINGS:
        street = rooms[street_id(building.x, building.y)]
        for part in building.parts:
            room = _room(
                f"{building.key}_{part.key}",
                part.name,
                part.description,
                street["zone"].removeprefix("neon.zone."),
                street["district"].removeprefix("neon.district."),
                street["threat_level"] // 2,
                (building.x, building.y, part.level),
                building.corp or street.get("corp"),
            )
            if part.items:
                room["extensions"] = {"neon.items": list(part.items)}
            rooms[room["id"]] = room
        _link(rooms, street["id"], "in", room_id(f"{building.key}_{building.parts[0].key}"))
        for part in building.parts:
            for direction, other in part.links:
                _link(
                    rooms,
                    room_id(f"{building.key}_{part.key}"),
                    direction,
                    room_id(f"{building.key}_{other}"),
                )


def _add_sewer(rooms: dict[str, Json], rng: random.Random) -> None:
    at: dict[tuple[int, int], str] = {}
    for x, y in (*SEWER_MAIN, *SEWER_BRANCH):
        under = STREETS[x] if y == SEWER_MAIN[0][1] else AVENUES[y]
        lines = [rng.choice(SEWER_LINES), SEWER_LADDER if (x, y) in MANHOLES else SEWER_MARK]
        room = _room(
            f"sewer_{x:02d}_{y:02d}",
            f"{rng.choice(SEWER_KINDS)} under {under}",
            " ".join(lines),
            "sewers",
            "undercity",
            5 + int(abs(x - 10) + abs(y - 5) < 4),
            (x, y, -1),
        )
        rooms[room["id"]] = room
        at[(x, y)] = room["id"]
    for key, x, y, threat, name, description, items in SEWER_SPECIAL:
        room = _room(f"sewer_{key}", name, description, "sewers", "undercity", threat, (x, y, -1))
        if items:
            room["extensions"] = {"neon.items": list(items)}
        rooms[room["id"]] = room
        at[(x, y)] = room["id"]
    for (x, y), here in sorted(at.items()):
        if (x + 1, y) in at:
            _link(rooms, here, "e", at[(x + 1, y)])
        if (x, y + 1) in at:
            _link(rooms, here, "n", at[(x, y + 1)])
    for x, y in MANHOLES:
        _link(rooms, street_id(x, y), "d", at[(x, y)])


def build_rooms() -> list[Json]:
    rng = random.Random(SEED)
    rooms = _street_rooms(rng)
    _add_buildings(rooms)
    _add_sewer(rooms, rng)
    for room in rooms.values():
        room["exits"] = {d: room["exits"][d] for d in EXIT_ORDER if d in room["exits"]}
    return list(rooms.values())


# --- items -----------------------------------------------------------------------------------------

# id, name, kind, rarity, price, slot, stats, description
ITEMS: tuple[tuple[str, str, str, str, int, str | None, dict[str, int], str], ...] = (
    ("rebar_club", "Rebar Club", "weapon", "common", 25, "main_hand", {"damage": 6},
     "A length of rusted rebar with tape wrapped round one end."),
    ("switchblade", "Switchblade", "weapon", "common", 40, "main_hand", {"damage": 8, "accuracy": 2},
     "A spring-loaded blade with a pearl handle."),
    ("pipe_pistol", "Pipe Pistol", "weapon", "common", 85, "main_hand", {"damage": 10, "accuracy": -5},
     "A single-shot pistol hammered together from plumbing."),
    ("shock_baton", "Shock Baton", "weapon", "uncommon", 160, "main_hand", {"damage": 12},
     "A police-issue baton that crackles blue at the tip."),
    ("chain_machete", "Chain Machete", "weapon", "uncommon", 380, "main_hand", {"damage": 17, "accuracy": -2},
     "A machete with a motorised serrated edge. Loud and unsubtle."),
    ("kessler_pistol", "Kessler Heavy Pistol", "weapon", "uncommon", 420, "main_hand",
     {"damage": 16, "accuracy": 3}, "A heavy, reliable sidearm favoured by couriers."),
    ("smart_smg", "Tanaka Smart SMG", "weapon", "rare", 1400, "main_hand", {"damage": 22, "accuracy": 8},
     "Self-guiding rounds that curve toward whatever your optics mark."),
    ("mono_katana", "Monowire Katana", "weapon", "rare", 2200, "main_hand", {"damage": 26, "accuracy": 4},
     "An edge one molecule thick. Keep your fingers clear."),
    ("thermal_blade", "Thermal Blade", "weapon", "epic", 5200, "main_hand", {"damage": 31, "accuracy": 5},
     "A sword that glows cherry red and hums with stored heat."),
    ("rail_rifle", "Hikari Rail Rifle", "weapon", "epic", 7800, "main_hand", {"damage": 35, "accuracy": 10},
     "A magnetic accelerator that punches through walls and the people behind them."),
    ("kings_cleaver", "The Drain King's Cleaver", "weapon", "legendary", 20000, "main_hand",
     {"damage": 40, "accuracy": 6}, "A butcher's cleaver the size of a door, edged with stolen monowire."),
    ("scrap_helmet", "Scrap Helmet", "armour", "common", 30, "head", {"armour": 2},
     "A hard hat reinforced with hammered sheet metal."),
    ("tactical_visor", "Tactical Visor", "armour", "uncommon", 240, "head", {"armour": 4, "accuracy": 2},
     "A ballistic visor with a basic heads-up display."),
    ("synth_jacket", "Synth-leather Jacket", "armour", "common", 60, "body", {"armour": 4},
     "Shiny, waterproof and just thick enough to matter."),
    ("kevlar_vest", "Kevlar Vest", "armour", "uncommon", 380, "body", {"armour": 8},
     "Soft armour that stops most street calibres."),
    ("armaplate_coat", "Armaplate Longcoat", "armour", "rare", 1600, "body", {"armour": 14},
     "A long coat lined with overlapping ceramic plates."),
    ("exo_shell", "Helix Exo-shell", "armour", "epic", 7200, "body", {"armour": 20},
     "Corporate powered armour, its serial numbers ground off."),
    ("cargo_pants", "Cargo Pants", "armour", "common", 25, "legs", {"armour": 2},
     "Many pockets, reinforced knees."),
    ("armoured_trousers", "Armoured Trousers", "armour", "uncommon", 220, "legs", {"armour": 5},
     "Trousers with kevlar panels sewn into the lining."),
    ("street_sneakers", "Street Sneakers", "armour", "common", 20, "feet", {"armour": 1},
     "Light-up soles, worn-out treads."),
    ("mag_boots", "Mag Boots", "armour", "uncommon", 260, "feet", {"armour": 3},
     "Steel-capped boots with magnetic soles for dock work."),
    ("fingerless_gloves", "Fingerless Gloves", "armour", "common", 15, "hands", {"armour": 1},
     "Warm hands, free fingers."),
    ("knuckle_gauntlets", "Knuckle Gauntlets", "armour", "uncommon", 210, "hands", {"armour": 3, "damage": 2},
     "Armoured gloves with weighted knuckles."),
    ("lynx_optics", "Lynx Optics", "implant", "uncommon", 850, "optic", {"accuracy": 6},
     "Entry-level cybereyes with low-light vision and a zoom."),
    ("targeting_eye", "Targeting Eye", "implant", "rare", 2400, "optic", {"accuracy": 12},
     "A military optic that paints a crosshair over every threat."),
    ("neural_booster", "Neural Booster", "implant", "uncommon", 900, "neural", {"accuracy": 5},
     "A spinal chip that shaves a few milliseconds off every reflex."),
    ("reflex_wire", "Reflex Wiring", "implant", "rare", 2800, "neural", {"accuracy": 10},
     "Rewired nerves that fire before you have finished deciding."),
    ("ghost_core", "Ghost Core", "implant", "legendary", 24000, "neural", {"accuracy": 20, "armour": 5},
     "A prototype co-processor that sees a fight a second before it happens."),
    ("subdermal_plating", "Subdermal Plating", "implant", "rare", 2000, "limb", {"armour": 6},
     "Flexible armour plates slid under the skin of the arms and legs."),
    ("gorilla_arms", "Gorilla Arms", "implant", "epic", 6500, "limb", {"damage": 8},
     "Hydraulic forearms that can punch through a car door."),
    ("neon_soda", "Neon Soda", "consumable", "common", 3, None, {"heal": 3},
     "Glowing green and fizzy. Probably not radioactive."),
    ("synth_coffee", "Synth Coffee", "consumable", "common", 4, None, {"heal": 5},
     "Black, bitter and strong enough to wake the dead."),
    ("energy_bar", "Energy Bar", "consumable", "common", 6, None, {"heal": 8},
     "Compressed algae and sugar in a foil wrapper."),
    ("noodle_bowl", "Bowl of Noodles", "consumable", "common", 9, None, {"heal": 12},
     "Steaming noodles in a sealed takeaway bowl."),
    ("yakitori_skewer", "Yakitori Skewer", "consumable", "common", 12, None, {"heal": 15},
     "Charcoal-grilled and glazed. Mostly chicken."),
    ("stim_pack", "Stim Pack", "consumable", "uncommon", 120, None, {"heal": 40},
     "An auto-injector of painkillers and clotting agents."),
    ("trauma_kit", "Trauma Kit", "consumable", "uncommon", 480, None, {"heal": 90},
     "A field surgery kit in a bright orange case."),
    ("empty_can", "Empty Can", "junk", "common", 1, None, {}, "A crushed soda can."),
    ("scrap_metal", "Scrap Metal", "junk", "common", 3, None, {}, "Twisted offcuts of steel and copper."),
    ("burnt_chip", "Burnt-out Chip", "junk", "common", 5, None, {},
     "A data chip with scorch marks on its pins."),
    ("jackal_tag", "Chrome Jackal Tag", "junk", "common", 10, None, {},
     "A chromed dog tag stamped with a snarling jackal."),
    ("drone_core", "Drone Core", "junk", "common", 45, None, {},
     "The fist-sized brain of a drone, still warm."),
    ("broken_cyberdeck", "Broken Cyberdeck", "junk", "common", 60, None, {},
     "A cracked deck with a few salvageable parts inside."),
    ("tarnished_locket", "Tarnished Locket", "junk", "uncommon", 180, None, {},
     "A silver locket holding a faded photograph of a family by the sea."),
)  # fmt: skip


def build_items() -> list[Json]:
    items: list[Json] = []
    for key, name, kind, rarity, price, slot, stats, description in ITEMS:
        item: Json = {"id": f"neon.item.{key}", "version": VERSION, "name": name, "kind": kind}
        item.update({"rarity": rarity, "price": price, "slot": slot})
        item["stats"] = {s: stats.get(s, 0) for s in ("damage", "armour", "accuracy", "heal")}
        item["description"] = description
        item["tags"] = [kind, rarity]
        items.append(item)
    return items


# --- factions, behaviours and npcs -----------------------------------------------------------------

FACTIONS = (  # key, name, hostile to (keys)
    ("players", "Players", ()),
    ("citizens", "Citizens of the City", ()),
    ("vendors_guild", "Street Vendors' Guild", ()),
    ("fixers", "The Fixers' Table", ()),
    ("city_police", "City Police", ("chrome_jackals", "drain_rats", "rogue_drones")),
    ("corp_security", "Corporate Security", ("chrome_jackals", "drain_rats", "rogue_drones")),
    ("chrome_jackals", "The Chrome Jackals", ("players", "city_police", "corp_security", "drain_rats")),
    ("rogue_drones", "Rogue Drones", ("players", "citizens", "city_police", "corp_security")),
    ("drain_rats", "The Drain Rats", ("players", "city_police", "corp_security", "chrome_jackals")),
)

BEHAVIORS: dict[str, tuple[str, dict[str, tuple[str, tuple[tuple[str, str], ...]]]]] = {
    # key: (initial, {state: (action, ((event, next state), ...))})
    "idle": ("idle", {"idle": ("idle", ())}),
    "bystander": ("idle", {
        "idle": ("idle", (("attacked", "flee"),)),
        "flee": ("flee", (("timer", "idle"),)),
    }),
    "civilian": ("stroll", {
        "stroll": ("wander", (("attacked", "flee"),)),
        "flee": ("flee", (("timer", "stroll"),)),
    }),
    "vendor": ("trade", {
        "trade": ("vendor", (("attacked", "hide"),)),
        "hide": ("flee", (("timer", "trade"),)),
    }),
    "ganger": ("prowl", {
        "prowl": ("aggressive", (("low_hp", "run"),)),
        "run": ("flee", (("timer", "prowl"),)),
    }),
    "security_patrol": ("patrol", {
        "patrol": ("patrol", (("attacked", "fight"),)),
        "fight": ("aggressive", (("target_lost", "patrol"),)),
    }),
    "security_post": ("watch", {
        "watch": ("idle", (("attacked", "fight"),)),
        "fight": ("aggressive", (("target_lost", "watch"),)),
    }),
    "drone": ("roam", {
        "roam": ("wander", (("player_near", "strafe"), ("attacked", "strafe"))),
        "strafe": ("aggressive", (("target_lost", "roam"), ("low_hp", "retreat"))),
        "retreat": ("flee", (("timer", "roam"),)),
    }),
    "boss": ("brood", {
        "brood": ("idle", (("player_near", "rage"), ("attacked", "rage"))),
        "rage": ("aggressive", (("target_lost", "brood"),)),
    }),
}  # fmt: skip


def build_behaviors() -> list[Json]:
    behaviors: list[Json] = []
    for key, (initial, states) in BEHAVIORS.items():
        body: Json = {}
        for state, (action, transitions) in states.items():
            body[state] = {"action": action}
            if transitions:
                body[state]["transitions"] = [{"on": on, "to": to} for on, to in transitions]
        behaviors.append(
            {"id": f"neon.behavior.{key}", "version": VERSION, "initial": initial, "states": body}
        )
    return behaviors


@dataclass(frozen=True)
class NpcSpec:
    key: str
    name: str
    kind: str
    faction: str
    level: int
    behavior: str
    spawn: str  # a room key
    respawn_ticks: int
    stock: tuple[str, ...] = ()
    drops: tuple[tuple[str, int], ...] = ()  # (item key, chance permille)
    credits: int = 0


NPCS = (
    # vendors
    NpcSpec("vendor_oyelaran", "Mama Oyelaran", "vendor", "vendors_guild", 8, "vendor",
            "noodle_bar_counter", 6000,
            ("noodle_bowl", "synth_coffee", "neon_soda", "energy_bar"),
            (("noodle_bowl", 500),)),
    NpcSpec("vendor_doc_vex", "Doc Vex", "vendor", "vendors_guild", 12, "vendor",
            "clinic_surgery", 6000,
            ("stim_pack", "trauma_kit", "lynx_optics", "neural_booster", "subdermal_plating",
             "targeting_eye", "reflex_wire"),
            (("stim_pack", 250),)),
    NpcSpec("vendor_hardpoint", "Ilse Hardpoint", "vendor", "vendors_guild", 14, "vendor",
            "weapon_shop_showroom", 6000,
            ("rebar_club", "switchblade", "pipe_pistol", "shock_baton", "chain_machete",
             "kessler_pistol", "smart_smg", "mono_katana"),
            (("switchblade", 300),)),
    NpcSpec("vendor_lucky", "Lucky Okonkwo", "vendor", "vendors_guild", 6, "vendor",
            "pawn_shop_counter", 6000,
            ("scrap_helmet", "synth_jacket", "cargo_pants", "street_sneakers", "fingerless_gloves",
             "broken_cyberdeck", "tarnished_locket"),
            (("burnt_chip", 500),)),
    NpcSpec("vendor_yun", "Seamstress Yun", "vendor", "vendors_guild", 8, "vendor",
            "market_hall_floor", 6000,
            ("synth_jacket", "kevlar_vest", "armaplate_coat", "armoured_trousers", "mag_boots",
             "knuckle_gauntlets", "tactical_visor"),
            (("cargo_pants", 300),)),
    NpcSpec("vendor_skewer_sam", "Skewer Sam", "vendor", "vendors_guild", 4, "vendor",
            "st_10_11", 6000,
            ("yakitori_skewer", "energy_bar", "neon_soda", "stim_pack"),
            (("yakitori_skewer", 500),)),
    # fixers: quest givers
    NpcSpec("fixer_kestrel", "Mother Kestrel", "fixer", "fixers", 15, "bystander",
            "fixer_den_booth", 6000),
    NpcSpec("fixer_sparks", "Sparks Ortega", "fixer", "fixers", 12, "bystander",
            "garage_workshop", 6000),
    NpcSpec("fixer_ransome", "Old Ransome", "fixer", "fixers", 14, "bystander",
            "drowned_circuit_back_room", 6000),
    # gangers: the Chrome Jackals on the streets, the Drain Rats below them
    NpcSpec("jackal_runner", "Chrome Jackal Runner", "ganger", "chrome_jackals", 3, "ganger",
            "st_03_04", 300,
            drops=(("jackal_tag", 600), ("switchblade", 100), ("energy_bar", 200)), credits=25),
    NpcSpec("jackal_bruiser", "Chrome Jackal Bruiser", "ganger", "chrome_jackals", 5, "ganger",
            "st_07_02", 300,
            drops=(("jackal_tag", 600), ("rebar_club", 150), ("synth_jacket", 100)), credits=40),
    NpcSpec("jackal_slicer", "Chrome Jackal Slicer", "ganger", "chrome_jackals", 6, "ganger",
            "st_16_06", 300,
            drops=(("jackal_tag", 600), ("pipe_pistol", 150), ("burnt_chip", 400)), credits=50),
    NpcSpec("jackal_leader", "Chrome Jackal Pack Leader", "ganger", "chrome_jackals", 9, "ganger",
            "st_02_01", 600,
            drops=(("kessler_pistol", 200), ("kevlar_vest", 100), ("stim_pack", 300)), credits=120),
    NpcSpec("drain_rat_scavenger", "Drain Rat Scavenger", "ganger", "drain_rats", 6, "ganger",
            "sewer_05_09", 300,
            drops=(("scrap_metal", 500), ("stim_pack", 100)), credits=15),
    NpcSpec("drain_rat_cutter", "Drain Rat Cutter", "ganger", "drain_rats", 8, "ganger",
            "sewer_09_05", 300,
            drops=(("shock_baton", 100), ("chain_machete", 50)), credits=30),
    NpcSpec("drain_rat_guard", "Drain Rat Gatekeeper", "ganger", "drain_rats", 11, "ganger",
            "sewer_lair_gate", 600,
            drops=(("armoured_trousers", 100), ("trauma_kit", 150)), credits=60),
    # the boss
    NpcSpec("boss_drain_king", "The Drain King", "boss", "drain_rats", 20, "boss",
            "sewer_lair", 3000,
            drops=(("kings_cleaver", 250), ("ghost_core", 100), ("gorilla_arms", 150), ("trauma_kit", 1000)),
            credits=500),
    # security
    NpcSpec("helix_guard", "Helix Security Officer", "corp_security", "corp_security", 10, "security_post",
            "helix_tower_lobby", 600,
            drops=(("kevlar_vest", 100), ("stim_pack", 200)), credits=40),
    NpcSpec("kuroda_sentinel", "Kuroda Street Sentinel", "corp_security", "corp_security", 9,
            "security_patrol", "st_13_13", 600,
            drops=(("tactical_visor", 100), ("shock_baton", 150)), credits=35),
    NpcSpec("precinct_officer", "Officer Dace", "corp_security", "city_police", 10, "security_patrol",
            "st_11_12", 600,
            drops=(("shock_baton", 200), ("synth_coffee", 500)), credits=30),
    NpcSpec("tidewater_guard", "Tidewater Dock Guard", "corp_security", "corp_security", 8, "security_post",
            "warehouse_loading_bay", 600,
            drops=(("mag_boots", 150),), credits=30),
    # rogue drones
    NpcSpec("drone_scrapper", "Rogue Scrapper Drone", "drone", "rogue_drones", 2, "drone", "st_04_02", 300,
            drops=(("drone_core", 500), ("scrap_metal", 500))),
    NpcSpec("drone_welder", "Rogue Welder Drone", "drone", "rogue_drones", 4, "drone", "st_08_05", 300,
            drops=(("drone_core", 500), ("burnt_chip", 300))),
    NpcSpec("drone_hornet", "Rogue Hornet Drone", "drone", "rogue_drones", 5, "drone", "st_15_03", 300,
            drops=(("drone_core", 500), ("burnt_chip", 300))),
    NpcSpec("drone_spotter", "Rogue Spotter Drone", "drone", "rogue_drones", 3, "drone", "st_03_17", 300,
            drops=(("drone_core", 500), ("lynx_optics", 20))),
    # civilians
    NpcSpec("civ_preacher", "Brother Static", "civilian", "citizens", 2, "bystander", "st_09_10", 600),
    NpcSpec("civ_salaryman", "Lost Salaryman", "civilian", "citizens", 2, "civilian", "st_12_14", 600,
            drops=(("synth_coffee", 300),), credits=20),
    NpcSpec("civ_dockhand", "Tired Dockhand", "civilian", "citizens", 3, "civilian", "st_17_05", 600,
            drops=(("energy_bar", 300),), credits=10),
    NpcSpec("civ_bartender", "Juno the Bartender", "civilian", "citizens", 5, "bystander",
            "drowned_circuit_bar", 600),
    NpcSpec("civ_dj", "DJ Lumen", "civilian", "citizens", 4, "bystander", "nightclub_floor", 600),
)  # fmt: skip


def combat_numbers(level: int, kind: str) -> Json:
    """hp, damage, armour and accuracy scaled by level; bosses hit harder, traders barely fight."""
    hp, damage, armour, accuracy = 20 + 10 * level, 2 + level, level // 2, min(90, 40 + 2 * level)
    if kind == "boss":
        hp, damage, armour = hp * 4, damage * 3 // 2, armour * 2
    elif kind in ("vendor", "fixer", "civilian"):
        damage //= 2
    return {"level": level, "hp": hp, "damage": damage, "armour": armour, "accuracy": accuracy}


def build_npcs() -> list[Json]:
    npcs: list[Json] = []
    for spec in NPCS:
        npc: Json = {"id": f"neon.npc.{spec.key}", "version": VERSION, "name": spec.name, "kind": spec.kind}
        npc["faction"] = f"neon.faction.{spec.faction}"
        npc.update(combat_numbers(spec.level, spec.kind))
        npc["behavior"] = f"neon.behavior.{spec.behavior}"
        if spec.key in DIALOGUE:
            npc["dialogue"] = f"neon.dialogue.{spec.key}"
        npc["stock"] = [f"neon.item.{i}" for i in spec.stock]
        npc["drops"] = [{"item": f"neon.item.{i}", "chance_permille": p} for i, p in spec.drops]
        npc["spawn_room"] = room_id(spec.spawn)
        # the tables count tenths of a second; the city ticks TICK_HZ times a second
        npc["respawn_ticks"] = spec.respawn_ticks * TICK_HZ // 10
        if spec.credits:
            npc["extensions"] = {"neon.credits": spec.credits}
        npcs.append(npc)
    return npcs


# --- quests and dialogue ---------------------------------------------------------------------------

# key, name, giver, description, objectives (kind, target id, count, to), credits, xp, items, prerequisites
QUESTS = (
    ("street_legs", "Street Legs", "fixer_kestrel",
     "Mother Kestrel wants to know you can find your way around. Walk to the Night Market Hall.",
     (("visit", "neon.room.market_hall_floor", 1, None),), 100, 50, ("stim_pack",), ()),
    ("hot_delivery", "Hot Delivery", "fixer_kestrel",
     "Old Ransome at the Drowned Circuit has not eaten in two days. Bring him a bowl of noodles.",
     (("deliver", "neon.item.noodle_bowl", 1, "neon.npc.fixer_ransome"),), 150, 80, ("synth_jacket",),
     ("street_legs",)),
    ("jackal_cull", "Jackal Cull", "fixer_sparks",
     "The Chrome Jackals keep stripping cars outside Sparks' Garage. Teach three of their runners a lesson.",
     (("kill", "neon.npc.jackal_runner", 3, None),), 250, 150, ("shock_baton",), ()),
    ("scrap_drive", "Scrap Drive", "fixer_sparks",
     "Sparks needs drone cores for a new build. Rogue drones carry them, and some lie in the scrapyards.",
     (("collect", "neon.item.drone_core", 3, None),), 300, 150, ("lynx_optics",), ()),
    ("down_the_drain", "Down the Drain", "fixer_ransome",
     "Something has taken over the old pump station under Coolant Row. Go down, look, and thin out its rats.",
     (("visit", "neon.room.sewer_pump_station", 1, None), ("kill", "neon.npc.drain_rat_scavenger", 2, None)),
     400, 250, ("trauma_kit",), ("hot_delivery",)),
    ("drain_king", "Dethrone the Drain King", "fixer_ransome",
     "The Drain King rules the sewers from a throne of scrap. End his reign.",
     (("kill", "neon.npc.boss_drain_king", 1, None),), 1500, 1000, ("armaplate_coat",), ("down_the_drain",)),
)  # fmt: skip

DIALOGUE: dict[str, tuple[tuple[str, str, tuple[str, ...]], ...]] = {
    "fixer_kestrel": (
        ("hello", "Sit, {player.name}. Mother Kestrel knows every face in Kabuki, and yours is new.",
         ("work", "rules")),
        ("work", "First job is easy: walk to the Night Market Hall and learn the streets. After that I have "
                 "noodles that need to travel.", ("rules", "bye")),
        ("rules", "My rules are simple. Finish what you take, and never sell my name.", ("bye",)),
        ("bye", "Go on. The city will not wait for you.", ()),
    ),
    "fixer_sparks": (
        ("hello", "Mind the sparks, {player.name}. Grab a stool, not the welder.", ("jackals", "scrap")),
        ("jackals", "The Chrome Jackals keep stripping my customers' cars. Thin out their runners and I pay.",
         ("scrap", "bye")),
        ("scrap", "Rogue drones drift over the scrapyards. Bring me their cores and it is worth your time.",
         ("bye",)),
        ("bye", "Now get out of my light.", ()),
    ),
    "fixer_ransome": (
        ("hello", "Pull up a crate. Old Ransome has fished worse than you out of the harbour.",
         ("drain", "bye")),
        ("drain", "Something crawled into the old pump station under Coolant Row and crowned itself king. "
                  "Go and look.", ("king", "bye")),
        ("king", "They call him the Drain King. Bring his reign to an end and I will make you rich.",
         ("bye",)),
        ("bye", "Mind the tide, {player.name}.", ()),
    ),
    "vendor_oyelaran": (
        ("hello", "Sit, sit! You look hungry, {player.name}.", ("menu",)),
        ("menu", "Broth, noodles, hot coffee. Everything fresh this morning, more or less.", ("bye",)),
        ("bye", "Come back when your stomach growls.", ()),
    ),
    "vendor_doc_vex": (
        ("hello", "Sit down, {player.name}. Chrome or meds?", ("chrome",)),
        ("chrome", "Optics, plating, boosters. All sterilised. Mostly.", ("bye",)),
        ("bye", "Pay first. The anaesthetic costs extra.", ()),
    ),
    "vendor_hardpoint": (
        ("hello", "Browse all you like, {player.name}. Keep your fingers off the triggers.", ("stock",)),
        ("stock", "Blades and barrels, licensed or near enough.", ("bye",)),
        ("bye", "The range out back is free if you buy.", ()),
    ),
    "vendor_lucky": (
        ("hello", "Everything here has a story, {player.name}, and a price.", ("deal",)),
        ("deal", "I buy junk and sell it back as treasure. That is the whole trick.", ("bye",)),
        ("bye", "No refunds. Ever.", ()),
    ),
    "vendor_yun": (
        ("hello", "Good armour is stitched, not bought, {player.name}.", ("stock",)),
        ("stock", "Kevlar weave, armaplate, mag boots. Try anything on.", ("bye",)),
        ("bye", "Come back before your next fight, not after.", ()),
    ),
    "vendor_skewer_sam": (
        ("hello", "Skewers! Hot skewers! Mostly chicken!", ("stock",)),
        ("stock", "Soda, bars, skewers and a stim or two. Cheaper than the clinic.", ()),
    ),
}  # fmt: skip


def build_quests() -> list[Json]:
    quests: list[Json] = []
    for key, name, giver, description, objectives, credits, xp, items, prerequisites in QUESTS:
        body: list[Json] = []
        for kind, target, count, to in objectives:
            objective: Json = {"kind": kind, "target": target, "count": count}
            if to is not None:
                objective["to"] = to
            body.append(objective)
        quests.append(
            {
                "id": f"neon.quest.{key}",
                "version": VERSION,
                "name": name,
                "description": description,
                "giver": f"neon.npc.{giver}",
                "objectives": body,
                "rewards": {"credits": credits, "xp": xp, "items": [f"neon.item.{i}" for i in items]},
                "prerequisites": [f"neon.quest.{q}" for q in prerequisites],
            }
        )
    return quests


def build_dialogue() -> list[Json]:
    return [
        {
            "id": f"neon.dialogue.{key}",
            "version": VERSION,
            "npc": f"neon.npc.{key}",
            "lines": [{"id": i, "text": text, "next": list(following)} for i, text, following in lines],
        }
        for key, lines in DIALOGUE.items()
    ]


# --- the documents ---------------------------------------------------------------------------------


def build_documents() -> dict[str, list[Json]]:
    """Every base file's objects by domain (``factions`` included), each list sorted by id."""
    documents: dict[str, list[Json]] = {
        "rooms": build_rooms(),
        "items": build_items(),
        "npcs": build_npcs(),
        "npc_behaviors": build_behaviors(),
        "quests": build_quests(),
        "dialogue": build_dialogue(),
        "economy_tuning": [
            {
                "id": "neon.economy.base",
                "version": VERSION,
                "scope": "*",
                "multipliers": {"price": 1000, "reward": 1000, "drop_rate": 1000, "sink": 1000},
            }
        ],
        "world_params": [
            {
                "id": "neon.params.base",
                "version": VERSION,
                "world": "neon",
                "params": {
                    "tick_hz": TICK_HZ,
                    "combat_round_ticks": TICK_HZ,  # a swing a second
                    "economy_report_ticks": 60 * TICK_HZ,  # a report a minute
                    "start_credits": 200,
                    "death_penalty_permille": 100,
                    "respawn_delay_ticks": 5 * TICK_HZ,
                    "wander_every_ticks": 4 * TICK_HZ,
                    "state_timer_ticks": 10 * TICK_HZ,
                    "regen_every_ticks": 5 * TICK_HZ,
                    "trade_window_ticks": 10 * TICK_HZ,
                },
            }
        ],
        "factions": [
            {
                "id": f"neon.faction.{key}",
                "name": name,
                "hostile_to": [f"neon.faction.{h}" for h in hostile],
            }
            for key, name, hostile in FACTIONS
        ],
    }
    return {
        domain: sorted(objects, key=lambda o: str(o["id"])) for domain, objects in sorted(documents.items())
    }


def render_files() -> dict[str, str]:
    """File name -> text, after checking the content with the schemas and the linter."""
    documents = build_documents()
    content = parse_content({d: objects for d, objects in documents.items() if d != "factions"})
    reasons = lint_content(content, Catalog.empty())
    if reasons:
        raise ContentError(reasons)
    return {
        f"{domain}.json": json.dumps({domain: documents[domain]}, indent=2, ensure_ascii=False) + "\n"
        for domain in FILES
    }


def main(out_dir: Path | str | None = None) -> None:
    """Write the base world into ``out_dir`` (default: the neon package's ``base`` folder)."""
    target = BASE_DIR if out_dir is None else Path(out_dir)
    target.mkdir(parents=True, exist_ok=True)
    for name, text in render_files().items():
        (target / name).write_text(text, encoding="utf-8", newline="\n")


if __name__ == "__main__":
    main()
