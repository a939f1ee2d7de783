"""What a version change does to live state that refers to an object that left.

``migrate(world, old, new, migration)`` runs inside ``apply_content``, at the tick boundary of the
change (activation, rollback, undo of one proposal, the re-sync after a snapshot restore), after
the world has started following ``new``. Each content domain says what happens:

- **rooms**: every player, npc and floor item in a room that left moves to the nearest surviving
  room, breadth first along the old map's exits (through other rooms that left, in the fixed
  order of ``tables.DIRECTIONS``); a room with no way to a surviving one sends them to the
  district's recall point (a room of the same district with ``extensions["neon.recall"]``, else
  the spawn room). A player is told why and gets a look at where they are.
- **quests**: an active job that left is closed for its holders (journal state ``withdrawn``);
  the holder is told, and ``quest``, ``score`` and the ``Char.Quests`` GMCP package agree.
- **items**: an item whose definition left is converted to the one the patch's migration hint
  names (``migration["items"][old_id]``), or keeps its definition while someone holds it
  (``retired_items``); one lying on a floor that nobody holds leaves with its definition.
- **npcs**: one whose definition left despawns with a line in its room (in ``apply_content``).

Nothing here draws a random number or reads a clock, so a replay migrates the same way. The
report (``Migration.as_dict``) is what the ledger records for the change.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ouroboros.engine import World
from ouroboros.worlds.neon import tables as tb
from ouroboros.worlds.neon.city import emit, slots, state, tell

RECALL_FLAG = "neon.recall"
#: what players are told when nothing more specific is known
DEFAULT_REASONS = {"rollback": "the city was rolled back", "change": "the city changed"}


@dataclass
class Migration:
    """What one version change did to live state (the ledger's ``migration`` entry)."""

    moved: list[dict[str, Any]] = field(default_factory=list)
    closed: list[dict[str, Any]] = field(default_factory=list)
    converted: list[dict[str, Any]] = field(default_factory=list)
    kept: list[dict[str, Any]] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)
    opened: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "moved": self.moved,
            "closed": self.closed,
            "converted": self.converted,
            "kept": self.kept,
            "removed": self.removed,
            "opened": self.opened,
            "counts": {
                "moved": len(self.moved),
                "closed": len(self.closed),
                "converted": len(self.converted),
                "kept": len(self.kept),
                "removed": len(self.removed),
                "opened": len(self.opened),
            },
        }


def reason_of(migration: Mapping[str, Any]) -> str:
    """The words players see for this change: the patch's announcement, else a plain default."""
    text = migration.get("announcement")
    if isinstance(text, str) and text:
        return text
    return DEFAULT_REASONS["rollback" if migration.get("kind") == "rollback" else "change"]


def recall_room(t: tb.Tables, district: str | None) -> str:
    """The district's recall point in ``t``: its room flagged ``neon.recall``, else the spawn room."""
    for rid in sorted(t.rooms):
        room = t.rooms[rid]
        if room.get("district") == district and room.get("extensions", {}).get(RECALL_FLAG):
            return rid
    return t.spawn_room


def nearest_surviving(old: tb.Tables, new: tb.Tables, start: str) -> str:
    """The room of ``new`` closest to ``start`` along ``old``'s exits, else the recall point."""
    seen = {start}
    todo = deque([start])
    while todo:
        here = todo.popleft()
        exits = old.rooms.get(here, {}).get("exits", {})
        for direction in tb.DIRECTIONS:
            there = exits.get(direction)
            if there is None or there in seen:
                continue
            if there in new.rooms:
                return str(there)
            seen.add(there)
            todo.append(there)
    return recall_room(new, old.rooms.get(start, {}).get("district"))


def migrate(world: World, old: tb.Tables, new: tb.Tables, migration: Mapping[str, Any]) -> Migration:
    """Move, close and convert what refers to objects that left ``old`` for ``new``."""
    from ouroboros.worlds.neon import actions

    report = Migration()
    why = reason_of(migration)
    s = slots(world)
    neon = state(world)
    names = neon["player_names"]
    room_ids: list[str] = neon["room_ids"]
    gone = {slot for slot, rid in enumerate(room_ids) if rid not in new.rooms}
    report.opened = sorted(set(new.rooms) - set(old.rooms))
    target: dict[int, int] = {}

    def destination(slot: int) -> int:
        if slot not in target:
            target[slot] = s.slot("room", nearest_surviving(old, new, room_ids[slot]))
        return target[slot]

    told: dict[int, list[tuple[int, str, int]]] = {}  # to room → (player, name, from), told at the end
    if gone:
        wanted = np.fromiter(gone, dtype=np.int64, count=len(gone))
        for chunk in world.query("Place"):
            rooms = chunk["Place.room"]
            rows = np.flatnonzero(np.isin(rooms, wanted))
            if not len(rows):
                continue
            sig = chunk.signature
            handles = chunk["Player.handle"] if "Player" in sig else None
            protos = chunk["Npc.proto"] if "Npc" in sig else None
            targets = chunk["Actor.target"] if "Actor" in sig else None
            for row in rows.tolist():
                here = int(rooms[row])
                there = destination(here)
                rooms[row] = there
                if targets is not None:
                    targets[row] = 0
                if handles is not None:
                    name = names[int(handles[row])]
                    report.moved.append({"who": name, "kind": "player", "from": room_ids[here],
                                         "to": room_ids[there]})  # fmt: skip
                    told.setdefault(there, []).append((int(chunk.ids[row]), name, here))
                elif protos is not None:
                    report.moved.append({"who": s.id_of("npc", int(protos[row])), "kind": "npc",
                                         "from": room_ids[here], "to": room_ids[there]})  # fmt: skip
        for chunk in world.query("Npc"):
            homes = chunk["Npc.home"]
            for row in np.flatnonzero(np.isin(homes, wanted)).tolist():
                homes[row] = destination(int(homes[row]))
    for there, viewers in told.items():
        for _, name, here in viewers:
            old_name = old.rooms.get(room_ids[here], {}).get("name", "This place")
            text = f"{old_name} is gone ({why}). You find yourself elsewhere."
            emit(world, name, {"type": "text", "style": "system", "text": text})
        actions.describe_room_to(world, there, [(entity, name) for entity, name, _ in viewers])
    _migrate_items(world, old, new, migration, gone, destination, report)
    _close_quests(world, old, new, why, report)
    return report


def _migrate_items(
    world: World,
    old: tb.Tables,
    new: tb.Tables,
    migration: Mapping[str, Any],
    gone: set[int],
    destination: Any,
    report: Migration,
) -> None:
    from ouroboros.worlds.neon.city import remove

    s = slots(world)
    neon = state(world)
    hints = migration.get("items") or {}
    item_ids: list[str] = neon["item_ids"]
    leaving: list[int] = []
    for chunk in world.query("Item"):
        protos, holders, floors = chunk["Item.proto"], chunk["Item.holder"], chunk["Item.room"]
        for row in range(len(chunk.ids)):
            if floors[row] in gone:
                floors[row] = destination(int(floors[row]))
            iid = item_ids[int(protos[row])]
            if iid in new.items:
                continue
            entity, holder = int(chunk.ids[row]), int(holders[row])
            into = hints.get(iid)
            if isinstance(into, str) and into in new.items:
                protos[row] = s.slot("item", into)
                report.converted.append({"item": iid, "into": into, "holder": _holder_name(world, holder)})
                if holder and "Player" in world.components_of(holder):
                    tell(world, holder, f"Your {_name(old, iid)} is now {new.items[into]['name']}.", "loot")
            elif holder:
                if iid not in neon["retired_items"] and iid in old.items:
                    neon["retired_items"][iid] = old.items[iid]
                report.kept.append({"item": iid, "holder": _holder_name(world, holder)})
            else:
                leaving.append(entity)
                report.removed.append({"item": iid, "room": neon["room_ids"][int(floors[row])]})
    remove(world, leaving)


def _name(t: tb.Tables, item_id: str) -> str:
    return str(t.items.get(item_id, {}).get("name", item_id))


def _holder_name(world: World, holder: int) -> str | None:
    if not holder or not world.is_alive(holder):
        return None
    comps = world.components_of(holder)
    if "Player" in comps:
        return str(state(world)["player_names"][world.get(holder, "Player")["handle"]])
    if "Npc" in comps:
        return slots(world).id_of("npc", world.get(holder, "Npc")["proto"])
    return None


def _close_quests(world: World, old: tb.Tables, new: tb.Tables, why: str, report: Migration) -> None:
    from ouroboros.worlds.neon import quests
    from ouroboros.worlds.neon.plugin import find_player

    for name, journal in state(world)["quests"].items():
        closed = [q for q, e in journal.items() if e["state"] == "active" and q not in new.quests]
        for quest_id in closed:
            journal[quest_id]["state"] = quests.WITHDRAWN
            report.closed.append({"player": name, "quest": quest_id})
        player = find_player(world, name) if closed else None
        if player is None:
            continue
        for quest_id in closed:
            title = old.quests.get(quest_id, {}).get("name", quest_id)
            tell(world, player, f"Job withdrawn: {title} ({why}).", "quest")
        quests.gmcp_quests(world, player)


__all__ = [
    "DEFAULT_REASONS",
    "RECALL_FLAG",
    "Migration",
    "migrate",
    "nearest_surviving",
    "reason_of",
    "recall_room",
]
