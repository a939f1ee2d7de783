"""The content a generator grows from: the world's base content with the active version laid over
it, indexed, plus the small rules every generator shares (tiers, new ids, version bumps).

Pure: reads nothing but the packaged base content and the mapping it is given.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from functools import cache
from importlib.resources import files
from typing import Any

from ouroboros.content import DOMAINS
from ouroboros.content.overlay import by_id, layer_objects, overlay
from ouroboros.content.versions import next_version
from ouroboros.errors import BadInputError
from ouroboros.patches import base_content

__all__ = [
    "COMPASS",
    "GENERATOR_DOMAINS",
    "OPPOSITE",
    "WorldView",
    "bump_version",
    "default_world",
    "faction_names",
    "factions",
    "generator_worlds",
    "reachable",
]

#: The content domains the generators grow from: a world whose base content holds every one of them
#: takes generated content (the registry is asked; no world is named here).
GENERATOR_DOMAINS = ("items", "npcs", "quests", "rooms")
COMPASS = {"n": (0, 1), "s": (0, -1), "e": (1, 0), "w": (-1, 0)}
OPPOSITE = {"n": "s", "s": "n", "e": "w", "w": "e", "u": "d", "d": "u", "in": "out", "out": "in"}


def generator_worlds() -> tuple[str, ...]:
    """The registered worlds the generators can grow content for, by name."""
    from ouroboros.worlds import world_names

    return tuple(n for n in world_names() if set(GENERATOR_DOMAINS) <= set(base_content(n)))


def default_world() -> str:
    """The world a generator grows for when none is named: the first of ``generator_worlds()``."""
    worlds = generator_worlds()
    if not worlds:
        raise BadInputError("no registered world takes generated content")
    return worlds[0]


@cache
def _faction_data(world: str) -> tuple[dict[str, Any], ...]:
    path = files(f"ouroboros.worlds.{world}") / "base" / "factions.json"
    return tuple(json.loads(path.read_text(encoding="utf-8"))["factions"])


def factions(world: str) -> dict[str, frozenset[str]]:
    """Faction id -> the factions it is hostile to (``base/factions.json``)."""
    return {f["id"]: frozenset(f.get("hostile_to", ())) for f in _faction_data(world)}


def faction_names(world: str) -> dict[str, str]:
    return {f["id"]: str(f["name"]) for f in _faction_data(world)}


def bump_version(version: str) -> str:
    """The version a changed object takes: ``content.versions.next_version`` (``1.0.0`` -> ``1.0.1``)."""
    return next_version(version)


class WorldView:
    """The effective content of ``world``: its base content with ``content`` laid over it, object
    by object (same id: ``content``'s object), each domain sorted by id."""

    def __init__(self, world: str, content: Mapping[str, Any] | None) -> None:
        known = generator_worlds()
        if world not in known:
            raise BadInputError(f"no generators for world {world!r} (known: {', '.join(known)})")
        self.world = world
        self.content = content
        laid = {d: v for d, v in layer_objects(content).items() if d in DOMAINS}
        merged = by_id(overlay(base_content(world), laid))
        self.by_id: dict[str, dict[str, dict[str, Any]]] = {d: merged.get(d, {}) for d in DOMAINS}
        self.factions = factions(world)
        self._taken: set[str] = {i for table in self.by_id.values() for i in table}
        retired = content.get("retired") if isinstance(content, Mapping) else None
        if isinstance(retired, Mapping):  # a removed id keeps its version: never reuse it
            self._taken.update(i for table in retired.values() if isinstance(table, Mapping) for i in table)
        # a fingerprint of the content, so ids differ between different worlds grown from one seed
        self.fingerprint = hashlib.sha256("\n".join(sorted(self._taken)).encode()).hexdigest()[:8]

    def objects(self, domain: str) -> list[dict[str, Any]]:
        return list(self.by_id.get(domain, {}).values())

    def get(self, domain: str, object_id: str) -> dict[str, Any] | None:
        return self.by_id.get(domain, {}).get(object_id)

    def new_id(self, kind: str, seed: int, salt: str) -> str:
        """A fresh id ``<world>.gen.<kind>.<hash>``, never one the content (or this view) has."""
        counter = 0
        while True:
            digest = hashlib.sha256(f"{kind}:{seed}:{salt}:{self.fingerprint}:{counter}".encode()).hexdigest()
            candidate = f"{self.world}.gen.{kind}.{digest[:10]}"
            if candidate not in self._taken:
                self._taken.add(candidate)
                return candidate
            counter += 1

    # --- rooms ----------------------------------------------------------------------------------

    def rooms(self) -> list[dict[str, Any]]:
        return self.objects("rooms")

    def street_rooms(self, district: str | None = None) -> list[dict[str, Any]]:
        """Rooms out of doors at street level: level 0, no way ``out``, not underground."""
        return [
            r
            for r in self.rooms()
            if r["coords"].get("level", 0) == 0
            and "out" not in r.get("exits", {})
            and "undercity" not in r["district"]
            and (district is None or r["district"] == district)
        ]

    def occupied(self) -> set[tuple[int, int, int]]:
        return {(r["coords"]["x"], r["coords"]["y"], r["coords"].get("level", 0)) for r in self.rooms()}

    def tier_of(self, room: Mapping[str, Any]) -> int:
        """1 (the calm centre) .. 4 (the lawless edge), from the room's threat level 0..10."""
        return 1 + min(3, int(room.get("threat_level", 0)) // 3)

    def spawn_room(self) -> str | None:
        spawns = sorted(
            r for r, room in self.by_id["rooms"].items() if room.get("extensions", {}).get("neon.spawn")
        )
        return spawns[0] if spawns else None

    def npcs_of_kind(self, *kinds: str) -> list[dict[str, Any]]:
        return [n for n in self.objects("npcs") if n["kind"] in kinds]

    def behaviour_ids(self) -> set[str]:
        return set(self.by_id.get("npc_behaviors", {}))


def reachable(rooms: Mapping[str, Mapping[str, Any]], start: str) -> set[str]:
    """The ids of the rooms one can walk to from ``start`` through exits."""
    seen = {start}
    frontier = [start]
    while frontier:
        room = rooms.get(frontier.pop())
        for target in (room or {}).get("exits", {}).values():
            if target not in seen and target in rooms:
                seen.add(target)
                frontier.append(target)
    return seen
