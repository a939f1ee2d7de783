"""neon's hooks for the layers above (see ``ouroboros.worlds.spec``): the live game with its
players, the governed parameters and the runtime's gauges."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ouroboros.engine import World
from ouroboros.worlds.neon import characters as _characters
from ouroboros.worlds.neon import operator as _operator
from ouroboros.worlds.neon.economy import money_supply
from ouroboros.worlds.neon.experience import feedback_view
from ouroboros.worlds.neon.params import DEFAULT_PARAMS, PARAMS, check_param
from ouroboros.worlds.neon.runtime import NeonGame
from ouroboros.worlds.neon.store import DB_FILE, CityStore
from ouroboros.worlds.neon.tables import tables
from ouroboros.worlds.spec import CharacterMetrics

#: The governed object that holds the city's parameters (the base world has it at 1.0.0).
PARAMS_ID = "neon.params.base"


class NeonParams:
    """neon's parameters: a change is a governed ``world_params`` patch (``PARAMS_ID``)."""

    governed_id = PARAMS_ID

    def current(self, world: World) -> dict[str, int]:
        return dict(tables(world).params)

    def defaults(self) -> dict[str, int]:
        return dict(DEFAULT_PARAMS)

    def check(self, name: Any, value: Any) -> tuple[str, int]:
        return check_param(name, value)


class NeonGameHook:
    """The city people play: ``NeonGame`` over a ``CityStore`` in the world's folder."""

    noun = "city"
    accounts_file = DB_FILE
    move_input = _operator.MOVE

    def ticks_per_second(self, world: World) -> float:
        bounds = PARAMS["tick_hz"]
        return float(min(max(int(tables(world).params["tick_hz"]), bounds.low), bounds.high))

    def saved(self, folder: Path) -> bool:
        return (folder / DB_FILE).is_file()

    def load(self, folder: Path) -> World | None:
        store = CityStore(folder)
        try:
            return store.load()
        finally:
            store.close()

    def save(self, world: World, folder: Path) -> None:
        store = CityStore(folder)
        try:
            store.save(world)
        finally:
            store.close()

    def open(self, world: World, folder: Path, tick_hz: float) -> NeonGame:
        return NeonGame(world, CityStore(folder), tick_hz=tick_hz)

    def players(self, world: World) -> list[dict[str, Any]]:
        return _operator.players(world)

    def player(self, world: World, name: str) -> dict[str, Any]:
        return _operator.player_info(world, name)

    def feedback(self, world: World, limit: int) -> dict[str, Any]:
        return feedback_view(world, limit)

    def check_move(self, world: World, name: str, room: str) -> dict[str, Any]:
        return _operator.check_move(world, name, room)

    def characters(self, world: World) -> dict[str, dict[str, Any]]:
        return _characters.characters(world)

    def put_characters(self, world: World, kept: Mapping[str, Mapping[str, Any]]) -> None:
        _characters.put_characters(world, {k: dict(v) for k, v in kept.items()})

    def restore_cost(self, now: Mapping[str, Any], then: Mapping[str, Any] | None) -> list[dict[str, Any]]:
        if then is None:
            return _characters.kept_cost(dict(now))
        return _characters.restore_cost(dict(now), dict(then))


def neon_metrics(world: World) -> dict[str, int]:
    """Players online, the credits in circulation and the last economy report's inflation; and
    the counters a staged rollout compares per arm: jobs taken and finished, and the economic
    guard's holds (its moderation incidents)."""
    neon = world.resources.get("neon", {})
    journals = (neon.get("quests") or {}).values()
    out = {
        "population": sum(int((c["Player.online"] != 0).sum()) for c in world.query("Player")),
        "money_supply": money_supply(world),
        "quests_started": sum(len(j) for j in journals),
        "quests_completed": sum(1 for j in journals for e in j.values() if e.get("state") == "done"),
        "moderation_incidents": int((neon.get("economy") or {}).get("held_total", 0)),
    }
    reports = world.resources.get("neon", {}).get("economy", {}).get("reports") or []
    if reports:
        out["inflation_permille"] = int(reports[-1].get("inflation_permille", 0))
    return out


def neon_character_metrics(world: World) -> dict[str, CharacterMetrics]:
    """Each character's credits and jobs (taken, finished): its part of ``neon_metrics``."""
    neon = world.resources.get("neon", {})
    names: list[str] = neon.get("player_names") or []
    journals = neon.get("quests") or {}
    out: dict[str, CharacterMetrics] = {}
    for chunk in world.query("Player"):
        handles, wallets = chunk["Player.handle"].tolist(), chunk["Player.credits"].tolist()
        for handle, credits in zip(handles, wallets, strict=True):
            if not 0 <= handle < len(names):
                continue
            name = names[handle]
            journal = journals.get(name)
            if journal:
                done = sum(1 for e in journal.values() if e.get("state") == "done")
                out[name] = CharacterMetrics(credits, len(journal), done)
            else:
                out[name] = CharacterMetrics(credits)
    return out


def neon_invariants(world: World) -> list[str]:
    """What holds between any two ticks of the city, whatever its version: everyone stands in a
    room that exists, every item lies in one or is held, no wallet is below zero, no one has more
    health than their maximum, every character has a name. Each broken rule is one line (empty:
    all hold). A sharded city checks it after every tick of every shard."""
    neon = world.resources.get("neon", {})
    rooms = len(neon.get("room_ids") or ())
    names = len(neon.get("player_names") or ())
    broken: list[str] = []
    for chunk in world.query("Place"):
        room = chunk["Place.room"]
        if ((room < 0) | (room >= rooms)).any():
            broken.append(f"an actor stands outside the {rooms} rooms")
    for chunk in world.query("Actor"):
        if (chunk["Actor.hp"] > chunk["Actor.max_hp"]).any():
            broken.append("an actor with more health than its maximum")
    for chunk in world.query("Player"):
        if (chunk["Player.credits"] < 0).any():
            broken.append("a character with credits below zero")
        handle = chunk["Player.handle"]
        if ((handle < 0) | (handle >= names)).any():
            broken.append("a character without a name")
    for chunk in world.query("Item"):
        room, holder = chunk["Item.room"], chunk["Item.holder"]
        if ((room < -1) | (room >= rooms) | ((room == -1) & (holder == 0))).any():
            broken.append("an item neither in a room nor held")
    return broken


__all__ = [
    "PARAMS_ID",
    "NeonGameHook",
    "NeonParams",
    "neon_character_metrics",
    "neon_invariants",
    "neon_metrics",
]
