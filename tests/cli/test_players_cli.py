"""``ouroboros players`` on a saved city (no go running): list, show, move a player; an unknown
player or room is exit 2 with one error line and the saved city is left as it was."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from ouroboros.worlds import build_world
from ouroboros.worlds.neon import find_player
from ouroboros.worlds.neon.city import state
from ouroboros.worlds.neon.runtime import NeonGame
from ouroboros.worlds.neon.store import CityStore

from .conftest import invoke, one_error_line

TARGET = "neon.room.market_hall_floor"


def _saved_city(data: Path) -> None:
    world = build_world("neon", 0)
    game = NeonGame(world)
    game.enter("Alice")
    game.step()
    store = CityStore(data / "neon")
    store.save(world)
    store.close()


def _saved_bytes(data: Path) -> bytes:
    db = sqlite3.connect(data / "neon" / "neon.db")
    try:
        return bytes(db.execute("SELECT snapshot FROM world_state").fetchone()[0])
    finally:
        db.close()


def _room_of_alice(data: Path) -> str:
    store = CityStore(data / "neon")
    try:
        world = store.load()
        assert world is not None
        entity = find_player(world, "Alice")
        assert entity is not None
        return str(state(world)["room_ids"][world.get(entity, "Place")["room"]])
    finally:
        store.close()


def test_list_show_and_move_a_player_of_a_saved_city(tmp_path: Path) -> None:
    _saved_city(tmp_path)
    code, out, _ = invoke("players", "list", "--data", tmp_path, "--json")
    assert code == 0 and [p["name"] for p in json.loads(out)] == ["Alice"]
    code, out, _ = invoke("players", "show", "Alice", "--data", tmp_path, "--json")
    assert code == 0 and json.loads(out)["room"] == "neon.room.st_10_10"
    code, out, err = invoke("players", "move", "Alice", TARGET, "--data", tmp_path, "--reason", "stuck")
    assert code == 0, err
    assert "Alice: neon.room.st_10_10 -> neon.room.market_hall_floor" in out
    assert _room_of_alice(tmp_path) == TARGET


def test_an_unknown_player_or_room_is_bad_input_and_changes_nothing(tmp_path: Path) -> None:
    _saved_city(tmp_path)
    before = _saved_bytes(tmp_path)
    code, _, err = invoke("players", "move", "Nobody", TARGET, "--data", tmp_path)
    assert code == 2 and "no player 'Nobody'" in one_error_line(err)
    code, _, err = invoke("players", "move", "Alice", "neon.room.nowhere", "--data", tmp_path)
    assert code == 2 and "no room 'neon.room.nowhere'" in one_error_line(err)
    code, _, err = invoke("players", "show", "Nobody", "--data", tmp_path)
    assert code == 2 and "Nobody" in one_error_line(err)
    code, _, err = invoke("players", "list", "--data", tmp_path / "missing")
    assert code == 2 and "no such folder" in one_error_line(err)
    assert _saved_bytes(tmp_path) == before


def test_restore_cost_counts_what_each_player_would_lose(tmp_path: Path) -> None:
    world = build_world("neon", 0)
    game = NeonGame(world)
    game.enter("Alice")
    game.step()
    snapshots = tmp_path / "neon" / "snapshots"
    snapshots.mkdir(parents=True)
    (snapshots / "0000000001-0badcafe.snapshot").write_bytes(world.snapshot())
    game.enter("Bob")
    game.step()
    entity = find_player(world, "Alice")
    assert entity is not None
    world.set(entity, "Player", xp=300)
    store = CityStore(tmp_path / "neon")
    store.save(world)
    store.close()
    code, out, err = invoke("players", "restore-cost", "0000000001-0badcafe", "--data", tmp_path,
                            "--mode", "everything", "--json")  # fmt: skip
    assert code == 0, err
    cost = {p["player"]: p for p in json.loads(out)["players"]}
    assert cost["Alice"]["xp"] == 300 and not cost["Alice"]["character_lost"]
    assert cost["Bob"]["character_lost"]
    code, out, _ = invoke("players", "restore-cost", "0000000001-0badcafe", "--data", tmp_path, "--json")
    assert code == 0 and all(p["xp"] == 0 for p in json.loads(out)["players"])
    code, _, err = invoke("players", "restore-cost", "0000000001-00000000", "--data", tmp_path)
    assert code == 2 and "no snapshot" in one_error_line(err)
    code, _, err = invoke("players", "restore-cost", "0000000001-0badcafe", "--data", tmp_path, "--mode", "x")
    assert code == 2 and "--mode" in one_error_line(err)
