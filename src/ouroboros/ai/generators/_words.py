"""A small deterministic grammar of cyberpunk words: names and descriptions for generated content.

Every draw comes from a ``SeededDraws``; the word lists are fixed, so the same draws give the same
text. These words are placeholders an enrich stage may rewrite (they are listed in a proposal's
``flavour``); no number ever comes from here.
"""

from __future__ import annotations

from ouroboros.ai.proposals import SeededDraws

__all__ = [
    "building_name",
    "item_description",
    "item_name",
    "lot_description",
    "luxury_description",
    "npc_description",
    "npc_name",
    "quest_description",
    "quest_name",
    "road_description",
    "road_name",
    "room_detail",
]

FIRST = (
    "Kai", "Mira", "Dex", "Yuki", "Rook", "Nova", "Ash", "Juno", "Vex", "Sable", "Ikaru", "Lena",
    "Omar", "Tess", "Zed", "Priya", "Cass", "Milo", "Ren", "Aiko", "Bram", "Sol", "Nadia", "Quill",
)  # fmt: skip
LAST = (
    "Okafor", "Tanaka", "Varga", "Chen", "Moreau", "Ibarra", "Kowal", "Reyes", "Sato", "Lindqvist",
    "Adeyemi", "Novak", "Park", "Haddad", "Silva", "Ferro", "Mbeki", "Kurosawa", "Doyle", "Petrov",
)  # fmt: skip
HANDLE_ADJ = (
    "Chrome", "Static", "Neon", "Rust", "Glass", "Cold", "Hollow", "Quick", "Feral", "Ghost",
    "Iron", "Velvet", "Cinder", "Rogue", "Signal", "Null",
)  # fmt: skip
HANDLE_NOUN = (
    "Viper", "Jackal", "Wire", "Fang", "Circuit", "Razor", "Moth", "Saint", "Kite", "Hound",
    "Spark", "Socket", "Crow", "Lynx", "Dagger", "Relay",
)  # fmt: skip
DRONE_MODEL = ("Hornet", "Gnat", "Mantis", "Wasp", "Skimmer", "Tick", "Cricket", "Harrier")
DRONE_PREFIX = ("Mk", "Rev", "Unit", "Series")
ROLE_TITLE = {
    "ganger": ("Enforcer", "Cutter", "Lookout", "Bruiser", "Runner"),
    "enforcer": ("Sergeant", "Warden", "Sentinel", "Officer", "Lieutenant"),
    "fixer": ("the Broker", "the Fixer", "the Middleman", "the Dealer"),
    "vendor": ("the Trader", "the Merchant", "the Peddler", "the Chandler"),
    "civilian": ("the Courier", "the Tinkerer", "the Clerk", "the Dockhand"),
    "boss": ("the Warlord", "the Tyrant", "the Kingpin", "the Overseer"),
}
NPC_LOOKS = (
    "a mirrored visor hides half of the face",
    "chrome fingers drum on a holstered weapon",
    "a long coat glitters with rain and neon",
    "tattoos of circuit traces crawl up the neck",
    "one eye is a red camera lens that never blinks",
    "a patched jacket carries the colours of an old crew",
)
NPC_MOODS = (
    "Watches everyone who walks past.",
    "Looks like someone who settles debts quickly.",
    "Hums a tune from an old advert.",
    "Keeps glancing at the nearest exit.",
    "Seems bored, which is never a good sign.",
)
BRANDS = (
    "Tessera",
    "Oni-Kaze",
    "Halcyon",
    "Moriya",
    "Vanta",
    "Kestrel",
    "Obsidian",
    "Raijin",
    "Corvid",
    "Lumen",
)
MARKS = ("Mk.I", "Mk.II", "Mk.III", "X", "Pro", "Zero", "Prime", "Nine")
KIND_NOUNS = {
    "weapon": ("Pistol", "Blade", "Carbine", "Shotgun", "Knuckles", "Whip", "Smartgun", "Cleaver"),
    "armour": ("Vest", "Jacket", "Plating", "Helm", "Greaves", "Gauntlets", "Boots"),
    "implant": ("Optics", "Reflex Booster", "Neural Link", "Dermal Mesh", "Servo Arm"),
    "consumable": ("Stim", "Medi-gel", "Adrenal Shot", "Nano-patch"),
    "junk": ("Figurine", "Chronometer", "Holo-cube", "Signet", "Data Relic"),
}
RARITY_WORDS = {
    "common": "A plain, mass-produced piece",
    "uncommon": "A well-kept piece",
    "rare": "A rare piece of kit",
    "epic": "A prototype few have seen",
    "legendary": "A one-of-a-kind legend of the streets",
}
PROC_WORDS = {
    "shock": "arcs of current",
    "burn": "searing heat",
    "bleed": "serrated edges",
    "emp": "an EMP pulse",
    "stagger": "a kinetic punch",
}
ROAD_WORDS = (
    "Ozone", "Cobalt", "Tungsten", "Sodium", "Krypton", "Ferrite", "Graphite", "Xenon", "Bismuth",
    "Carbon", "Lithium", "Mercury", "Helium", "Cipher", "Relay", "Hollow",
)  # fmt: skip
ROAD_KINDS = ("Street", "Lane", "Row", "Way", "Avenue", "Spur")
ROAD_SCENES = (
    "Fresh asphalt steams under new streetlights along {road}.",
    "Scaffolding and half-lit signs line {road}, where the city is still being built.",
    "Prefab stalls have already opened along {road}, selling to the work crews.",
    "Cables hang loose from new poles on {road}, waiting to be connected.",
    "Construction drones hover over {road}, laying down the last of the paving.",
)
LOT_SCENES = (
    "A fenced lot off {road} waits for a builder, its ground still churned from the diggers.",
    "A vacant plot beside {road} where squatters have pitched a few tarpaulin tents.",
    "An empty lot off {road}, stacked with prefab wall panels under plastic sheeting.",
)
DETAILS = (
    "Rain drips from every awning.",
    "A stray cat with one cybernetic eye watches from a ledge.",
    "The air tastes of ozone and frying oil.",
    "Puddles mirror the neon in trembling colours.",
    "A delivery drone buzzes past at head height.",
    "Somewhere above, a bass line thumps through an open window.",
)
BUILDING_KINDS = {
    "hq": ("Headquarters", "Stronghold", "Compound", "Command Post"),
    "residential": ("Residential Block", "Tenement", "Hab Stack", "Housing Tower"),
}
QUEST_VERBS = {
    "kill": ("Take down", "Silence", "Put an end to"),
    "collect": ("Recover", "Gather", "Scavenge"),
    "deliver": ("Run", "Deliver", "Courier"),
    "visit": ("Scout", "Look into", "Case"),
}
QUEST_TITLES = ("Loose Ends", "Cold Trail", "Night Shift", "Static Noise", "Dead Drop", "Borrowed Time",
                "Short Circuit", "Low Tide", "Paper Lanterns", "Rust and Rain")  # fmt: skip


def npc_name(draws: SeededDraws, archetype: str) -> str:
    if archetype == "drone":
        return f"{draws.choice(DRONE_MODEL)} Drone {draws.choice(DRONE_PREFIX)}-{draws.between(2, 99)}"
    if archetype in ("ganger", "boss"):
        handle = f"{draws.choice(HANDLE_ADJ)} {draws.choice(HANDLE_NOUN)}"
        return handle if archetype == "ganger" else f"{handle} {draws.choice(ROLE_TITLE['boss'])}"
    title = draws.choice(ROLE_TITLE.get(archetype, ROLE_TITLE["civilian"]))
    person = f"{draws.choice(FIRST)} {draws.choice(LAST)}"
    if archetype == "enforcer":
        return f"{title} {person}"  # "Sergeant Kai Chen"
    return f"{person} {title}"  # "Kai Chen the Broker"


def npc_description(draws: SeededDraws) -> str:
    look = draws.choice(NPC_LOOKS)
    return f"{look[0].upper()}{look[1:]}. {draws.choice(NPC_MOODS)}"


def item_name(draws: SeededDraws, kind: str) -> str:
    return f"{draws.choice(BRANDS)} {draws.choice(MARKS)} {draws.choice(KIND_NOUNS[kind])}"


def item_description(draws: SeededDraws, rarity: str, procs: list[str]) -> str:
    text = f"{RARITY_WORDS[rarity]}, stamped with a serial number and a corporate logo."
    if procs:
        text += " It hits with " + " and ".join(PROC_WORDS[p] for p in procs) + "."
    return text + " " + draws.choice(DETAILS)


def road_name(draws: SeededDraws) -> str:
    return f"{draws.choice(ROAD_WORDS)} {draws.choice(ROAD_KINDS)}"


def road_description(draws: SeededDraws, road: str) -> str:
    return draws.choice(ROAD_SCENES).format(road=road) + " " + draws.choice(DETAILS)


def lot_description(draws: SeededDraws, road: str) -> str:
    return draws.choice(LOT_SCENES).format(road=road)


def room_detail(draws: SeededDraws) -> str:
    return str(draws.choice(DETAILS))


def building_name(draws: SeededDraws, kind: str, owner: str) -> str:
    return f"{owner} {draws.choice(BUILDING_KINDS[kind])}"


def quest_name(draws: SeededDraws) -> str:
    return str(draws.choice(QUEST_TITLES))


def quest_description(draws: SeededDraws, steps: list[tuple[str, str]]) -> str:
    """``steps``: (objective kind, the name of its target)."""
    parts = [f"{draws.choice(QUEST_VERBS[kind])} {target}" for kind, target in steps]
    text = "; then ".join(parts)
    return f"{text[0].upper()}{text[1:]}. The pay is good and nobody asks questions."


LUXURY_LINES = (
    "A status symbol in real gold leaf, for people who want the whole street to know.",
    "Useless, beautiful and very expensive, which is exactly the point.",
    "Hand-finished by an artisan in the Spire; owning one says you have arrived.",
    "A collector's piece in a velvet case, sealed with a certificate of authenticity.",
)


def luxury_description(draws: SeededDraws) -> str:
    return str(draws.choice(LUXURY_LINES))
