"""What the director sees of a running neon city: events and KPIs derived from its state (neon's
``spec.signals`` hook: the runtime makes one ``NeonSignals`` per live city and reads it between
ticks).

What it promises:

- **Read only.** ``NeonSignals.read(world)`` looks at the world's components, its content tables
  and its ``resources["neon"]`` state; it never writes them, never calls a system, and never
  makes an economy report (it reads the last one the world made).
- **Each event once.** It remembers what it saw last time and reports changes only: a player
  *arriving* at an edge room, a boss *going* down, a district's quests *becoming* exhausted, a
  sector *becoming* crowded, a faction *found* without a headquarters, a *new* economy report.
- The event shapes are the ones ``ouroboros.ai.director`` reads (``kind`` plus fields):
  ``player_at_edge`` (player, room, growth_point, dead_end, tags), ``boss_killed`` (boss, faction,
  room), ``quests_exhausted`` (district, done, total, stale), ``crowded_sector`` (sector,
  district, players, threshold), ``faction_without_hq`` (faction, members).
  KPIs: ``online_players``, ``money_supply`` and, when a new report came out, ``inflation_permille``
  and ``economy_report_tick``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ouroboros.engine import World
from ouroboros.worlds.spec import Signals

__all__ = ["GLITCH_DOOR_KEY", "HQ_KEY", "NeonSignals", "Signals"]

#: a room's ``extensions`` key naming the faction whose headquarters it is
HQ_KEY = "neon.hq"
#: a room's ``extensions`` key that marks a growth point as a glitch door
GLITCH_DOOR_KEY = "neon.glitch_door"
#: factions that never get a headquarters (the players themselves, bystanders)
NO_HQ = frozenset({"neon.faction.players", "neon.faction.citizens"})


@dataclass
class NeonSignals:
    """Derives director events from one neon world, remembering what it reported."""

    crowd_threshold: int = 6  # online players in one zone
    stale_ticks: int = 30 * 60 * 50  # no quest progress in a district for this long (30 min at 50 Hz)
    hq_min_members: int = 3  # npcs of a faction before it wants a headquarters
    _rooms_of_players: dict[str, str] = field(default_factory=dict)
    _bosses_alive: set[str] = field(default_factory=set)
    _respawns_seen: dict[str, int] = field(default_factory=dict)
    _exhausted: set[str] = field(default_factory=set)
    _quest_marks: dict[str, tuple[str, int]] = field(default_factory=dict)
    _crowded: set[str] = field(default_factory=set)
    _without_hq: set[str] = field(default_factory=set)
    _report_tick: int | None = None
    _challenge: dict[str, str] = field(default_factory=dict)
    _feedback_seen: int = -1
    _first: bool = True

    def _read_players(
        self, world: World, player_rooms: dict[str, str], t: Any, events: list[dict[str, Any]]
    ) -> None:
        """``player_struggling`` / ``player_cruising`` when a runner's challenge changes to it, and
        one ``feedback`` event per new feedback entry."""
        from ouroboros.worlds.neon import experience
        from ouroboros.worlds.neon import tables as tb
        from ouroboros.worlds.neon.city import state
        from ouroboros.worlds.neon.plugin import find_player

        for name, room_id in sorted(player_rooms.items()):
            player = find_player(world, name)
            if player is None:
                continue
            now = experience.challenge(world, player)
            if now != self._challenge.get(name, "fine") and now != "fine":
                events.append({
                    "kind": f"player_{now}",
                    "player": name,
                    "room": room_id,
                    "district": t.rooms.get(room_id, {}).get("district"),
                    "level": tb.player_level(int(world.get(player, "Player")["xp"])),
                })  # fmt: skip
            self._challenge[name] = now
        kept = state(world).get("feedback", [])
        newest = kept[-1]["tick"] if kept else -1
        if not self._first:
            for entry in kept:
                if entry["tick"] > self._feedback_seen:
                    room = t.rooms.get(entry["room"], {})
                    events.append({
                        "kind": "feedback", "player": entry["player"], "category": entry["category"],
                        "sentiment": entry["sentiment"], "district": room.get("district"),
                    })  # fmt: skip
        self._feedback_seen = max(self._feedback_seen, newest)

    def read(self, world: World) -> Signals:
        from ouroboros.worlds.neon import tables as tb
        from ouroboros.worlds.neon.city import state

        t = tb.tables(world)
        neon = state(world)
        room_ids: list[str] = neon["room_ids"]
        npc_ids: list[str] = neon["npc_ids"]
        names: list[str] = neon["player_names"]
        events: list[dict[str, Any]] = []

        # who is where
        player_rooms: dict[str, str] = {}
        for chunk in world.query("Player", "Place"):
            online = chunk["Player.online"] == 1
            for handle, slot in zip(
                chunk["Player.handle"][online].tolist(), chunk["Place.room"][online].tolist(), strict=True
            ):
                if 0 <= slot < len(room_ids):
                    player_rooms[names[handle]] = room_ids[slot]
        for player, room_id in sorted(player_rooms.items()):
            if self._rooms_of_players.get(player) == room_id:
                continue
            room = t.rooms.get(room_id, {})
            dead_end = len(room.get("exits", {})) <= 1
            if room.get("growth_point") or dead_end:
                tags = sorted(room.get("tags", ()))
                if room.get("extensions", {}).get(GLITCH_DOOR_KEY) and "glitch_door" not in tags:
                    tags.append("glitch_door")
                events.append(
                    {
                        "kind": "player_at_edge",
                        "player": player,
                        "room": room_id,
                        "growth_point": room_id,
                        "dead_end": dead_end,
                        "district": room.get("district"),
                        "tags": tags,
                    }
                )
        self._rooms_of_players = player_rooms

        # bosses
        bosses = {nid for nid, npc in t.npcs.items() if npc.get("kind") == "boss"}
        alive: set[str] = set()
        for chunk in world.query("Npc"):
            for proto in chunk["Npc.proto"].tolist():
                if 0 <= proto < len(npc_ids) and npc_ids[proto] in bosses:
                    alive.add(npc_ids[proto])
        respawn: dict[str, int] = {k: int(v) for k, v in neon["respawn"].items() if k in bosses}
        for boss in sorted(bosses):
            gone = boss in self._bosses_alive and boss not in alive
            rescheduled = boss in respawn and self._respawns_seen.get(boss) != respawn[boss]
            if not self._first and (gone or rescheduled):
                npc = t.npcs[boss]
                events.append(
                    {
                        "kind": "boss_killed",
                        "boss": boss,
                        "faction": npc.get("faction"),
                        "room": npc.get("spawn_room"),
                    }
                )
        self._bosses_alive, self._respawns_seen = alive, respawn
        bosses_down = sorted(bosses - alive)

        # quests per district
        journals: dict[str, dict[str, Any]] = neon["quests"]
        by_district: dict[str, list[str]] = {}
        for qid, quest in t.quests.items():
            giver = t.npcs.get(quest.get("giver", ""), {})
            district = t.rooms.get(giver.get("spawn_room", ""), {}).get("district")
            if district:
                by_district.setdefault(district, []).append(qid)
        online = sorted(player_rooms)
        for district, qids in sorted(by_district.items()):
            done = sum(
                1
                for q in qids
                if online and all(journals.get(p, {}).get(q, {}).get("state") == "done" for p in online)
            )
            mark = repr(sorted((p, q, str(j.get(q))) for p, j in journals.items() for q in qids if q in j))
            last = self._quest_marks.get(district)
            if last is None or last[0] != mark:
                self._quest_marks[district] = (mark, world.tick)
            stale = bool(online) and world.tick - self._quest_marks[district][1] >= self.stale_ticks
            exhausted = (bool(online) and done == len(qids)) or stale
            if exhausted and district not in self._exhausted:
                events.append(
                    {
                        "kind": "quests_exhausted",
                        "district": district,
                        "done": done,
                        "total": len(qids),
                        "stale": stale,
                    }
                )
                self._exhausted.add(district)
            elif not exhausted:
                self._exhausted.discard(district)

        # crowded sectors (zones)
        per_zone: dict[str, int] = {}
        zone_district: dict[str, str] = {}
        for room_id in player_rooms.values():
            room = t.rooms.get(room_id, {})
            zone = room.get("zone")
            if zone:
                per_zone[zone] = per_zone.get(zone, 0) + 1
                zone_district[zone] = room.get("district", "")
        for zone, count in sorted(per_zone.items()):
            if count >= self.crowd_threshold and zone not in self._crowded:
                events.append(
                    {
                        "kind": "crowded_sector",
                        "sector": zone,
                        "district": zone_district[zone],
                        "players": count,
                        "threshold": self.crowd_threshold,
                    }
                )
        self._crowded = {z for z, n in per_zone.items() if n >= self.crowd_threshold}

        # factions without a headquarters
        members: dict[str, int] = {}
        for npc in t.npcs.values():
            faction = npc.get("faction")
            if faction and faction not in NO_HQ:
                members[faction] = members.get(faction, 0) + 1
        with_hq = {r.get("extensions", {}).get(HQ_KEY) for r in t.rooms.values()}
        lacking = {f for f, n in members.items() if n >= self.hq_min_members and f not in with_hq}
        for faction in sorted(lacking - self._without_hq):
            events.append({"kind": "faction_without_hq", "faction": faction, "members": members[faction]})
        self._without_hq = lacking

        # the challenge each runner meets, and what they told us (the player experience service)
        self._read_players(world, player_rooms, t, events)

        # KPIs
        supply = 0
        for chunk in world.query("Player"):
            supply += int(chunk["Player.credits"].sum())
        kpis: dict[str, Any] = {
            "online_players": len(player_rooms),
            "money_supply": supply,
            "bosses_down": bosses_down,  # what a power vacuum's premise rests on
        }
        reports = neon["economy"]["reports"]
        if reports and reports[-1]["tick"] != self._report_tick:
            self._report_tick = int(reports[-1]["tick"])
            kpis["inflation_permille"] = int(reports[-1]["inflation_permille"])
            kpis["economy_report_tick"] = self._report_tick
        self._first = False
        return Signals(events, kpis, world.tick)
