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
from ouroboros.errors import BadInputError
from ouroboros.patches import base_content

__all__ = [
    "COMPASS",
    "OPPOSITE",
    "SUPPORTED_WORLDS",
    "WorldView",
    "bump_version",
    "faction_names",
    "factions",
    "reachable",
]

SUPPORTED_WORLDS = ("neon",)
COMPASS = {"n": (0, 1), "s": (0, -1), "e": (1, 0), "w": (-1, 0)}
OPPOSITE = {"n": "s", "s": "n", "e": "w", "w": "e", "u": "d", "d": "u", "in": "out", "out": "in"}


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
    """The next minor version: ``1.0.0`` -> ``1.1.0``."""
    major, minor, _patch = (int(p) for p in version.split("."))
    return f"{major}.{minor + 1}.0"


def _objects_of(content: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if content is None:
        return {}
    if not isinstance(content, Mapping):
        raise BadInputError("content must be a mapping of domain -> list of objects")
    objects = content.get("objects")
    if isinstance(objects, Mapping):  # a stored catalog ({"objects": ..., "retired": ...})
        return objects
    return content


class WorldView:
    """The effective content of ``world``: its base content with ``content`` laid over it, object
    by object (same id: ``content``'s object), each domain sorted by id."""

    def __init__(self, world: str, content: Mapping[str, Any] | None) -> None:
        if world not in SUPPORTED_WORLDS:
            raise BadInputError(f"no generators for world {world!r} (known: {', '.join(SUPPORTED_WORLDS)})")
        self.world = world
        self.content = content
        base = base_content(world)
        overlay = _objects_of(content)
        self.by_id: dict[str, dict[str, dict[str, Any]]] = {}
        for domain in DOMAINS:
            merged = {o["id"]: o for o in base.get(domain, ())}
            extra = overlay.get(domain) or ()
            if not isinstance(extra, list | tuple):
                raise BadInputError(f"content domain {domain!r} must be a list of objects")
            for obj in extra:
                if not isinstance(obj, Mapping) or not isinstance(obj.get("id"), str):
                    raise BadInputError(f"content domain {domain!r} holds an object without an id")
                merged[obj["id"]] = dict(obj)
            self.by_id[domain] = {k: merged[k] for k in sorted(merged)}
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
