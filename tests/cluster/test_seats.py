"""A shard's seats over a real character store (SQLite file; the Redis one keeps the same
contract, see tests/characters): what a character carries in, when its record is written, and
what happens to one this shard lost. The world is a dict of records standing in for the game's
``GameHook`` (``WorldCharacters``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from ouroboros.characters import SqliteCharacters
from ouroboros.cluster.seats import Seats


class DictWorld:
    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}

    def read(self) -> dict[str, dict[str, Any]]:
        return {k: dict(v) for k, v in self.records.items()}

    def put(self, records: Mapping[str, dict[str, Any]]) -> None:
        self.records.update({k: dict(v) for k, v in records.items()})


def shards(tmp_path: Path, now: list[float]) -> tuple[SqliteCharacters, list[tuple[Seats, DictWorld]]]:
    store = SqliteCharacters(tmp_path / "characters.db", clock=lambda: now[0])
    out = []
    for n in (0, 1):
        world = DictWorld()
        out.append((Seats(store, f"neon-{n}", world, lease_ttl_s=10), world))
    return store, out


def test_a_character_leaves_one_shard_and_arrives_in_another_with_everything(tmp_path: Path) -> None:
    now = [0.0]
    store, [(s0, w0), (s1, w1)] = shards(tmp_path, now)
    assert s0.take("Molly") is None
    w0.records["Molly"] = {"room": "alley", "credits": 50}  # played: the world changed her
    refusal = s1.take("Molly")
    assert refusal is not None and "neon-0" in refusal  # one shard at a time
    s0.leaving("Molly")
    w0.records["Molly"]["credits"] = 75  # a command typed before quitting ran in the same tick
    s0.settle()
    assert store.holder("Molly") is None
    assert s1.take("Molly") is None
    assert w1.records["Molly"] == {"room": "alley", "credits": 75}


def test_leaving_and_coming_back_within_a_tick_keeps_the_worlds_newer_copy(tmp_path: Path) -> None:
    now = [0.0]
    store, [(s0, w0), _] = shards(tmp_path, now)
    s0.take("Molly")
    w0.records["Molly"] = {"credits": 1}
    s0.save_all()
    w0.records["Molly"] = {"credits": 2}
    s0.leaving("Molly")
    assert s0.take("Molly") is None  # reconnected before the leave was settled
    s0.settle()
    assert w0.records["Molly"] == {"credits": 2} and store.holder("Molly") == "neon-0"


def test_a_shard_that_stalled_past_its_lease_loses_the_character_and_cannot_overwrite(tmp_path: Path) -> None:
    now = [0.0]
    store, [(s0, w0), (s1, w1)] = shards(tmp_path, now)
    s0.take("Molly")
    w0.records["Molly"] = {"credits": 10}
    s0.save_all()
    now[0] = 11.0  # shard 0 stalls past its lease; she logs in on shard 1
    assert s1.take("Molly") is None and w1.records["Molly"] == {"credits": 10}
    w1.records["Molly"]["credits"] = 99
    s1.save_all()
    w0.records["Molly"]["credits"] = 0
    s0.save_all()  # the stalled shard wakes up: refused, and it lets her go
    assert s0.take_lost() == ["Molly"] and "Molly" not in s0.held
    assert s1.take("Molly") is None and store.holder("Molly") == "neon-1"  # still hers, with its copy
    s1.release_all()
    assert s0.take("Molly") is None and w0.records["Molly"] == {"credits": 99}


def test_heartbeats_keep_a_lease_alive(tmp_path: Path) -> None:
    now = [0.0]
    store, [(s0, _), (s1, _)] = shards(tmp_path, now)
    s0.take("Molly")
    for t in range(1, 40):  # 39 s of heartbeats every second; the lease is 10 s long
        now[0] = float(t)
        s0.renew(now[0])
    assert store.holder("Molly") == "neon-0" and s1.take("Molly") is not None
    assert s0.take_lost() == []


def test_a_record_with_pairs_is_stored_as_json_keeps_it_and_arrives_whole(tmp_path: Path) -> None:
    now = [0.0]
    store, [(s0, w0), (s1, w1)] = shards(tmp_path, now)
    s0.take("Molly")
    w0.records["Molly"] = {"credits": 197, "items": [("neon.item.neon_soda", 0)]}  # neon's (id, worn) pairs
    s0.leaving("Molly")
    s0.settle()
    assert store.holder("Molly") is None
    assert s1.take("Molly") is None
    assert w1.records["Molly"] == {"credits": 197, "items": [["neon.item.neon_soda", 0]]}


def test_a_record_the_store_refuses_never_stops_the_shard_and_the_last_good_save_stays(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    now = [0.0]
    store, [(s0, w0), (s1, w1)] = shards(tmp_path, now)
    s0.take("Molly")
    w0.records["Molly"] = {"credits": 50}
    s0.save_all()
    w0.records["Molly"] = {"credits": 60, "by_slot": {3: "blade"}}  # a world's bug: a key JSON would change
    s0.save_all()  # logged, nothing written, nothing raised
    s0.leaving("Molly")
    s0.settle()  # the lease is released all the same: she can play elsewhere
    assert "cannot store Molly" in caplog.text
    assert store.holder("Molly") is None and "Molly" not in s0.held
    assert s1.take("Molly") is None and w1.records["Molly"] == {"credits": 50}
