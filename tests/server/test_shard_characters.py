"""``ShardCharacters``: the characters of a world's in-process shards in a real SQLite character
store, over real neon worlds behind a real ``ShardedGame``. A character plays in one shard at a
time and carries everything to the next; a shard counts only the money its held characters made,
so a move is never inflation (a stateful property test drives any order of it); an older run's
copies are imported once; a previous run's lease is taken back."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from ouroboros.characters import SqliteCharacters
from ouroboros.engine import World
from ouroboros.rollout.router import Router
from ouroboros.server.gateway.game import Event
from ouroboros.server.gateway.sharded import ShardedGame
from ouroboros.server.runtime.shard_characters import CHARACTERS_FILE, IMPORTED_FILE, ShardCharacters
from ouroboros.worlds import build_world, world_spec

SPEC = world_spec("neon")
HOOK = SPEC.game
NAMES = ["neon-0", "neon-1"]
PLAYERS = ("Alice", "Bobby", "Carol")


def new_worlds() -> list[World]:
    worlds = [build_world("neon", 0, {}) for _ in NAMES]
    for world in worlds:
        world.start()
    return worlds


class Shards:
    """Two neon shards ticked as ``ShardSet.step`` ticks them, with their character store."""

    def __init__(self, folder: Path, worlds: list[World] | None = None) -> None:
        assert HOOK is not None and SPEC.metrics is not None
        self.folder = folder
        self.worlds = worlds or new_worlds()
        self.tick = 0
        games = {}
        for name, world in zip(NAMES, self.worlds, strict=True):
            (folder / name).mkdir(parents=True, exist_ok=True)
            games[name] = HOOK.open(world, folder / name, 1e6)
        metrics = SPEC.character_metrics
        self.chars = ShardCharacters(folder, NAMES, self.worlds, HOOK, character_metrics=metrics)
        self.game = ShardedGame(
            games,
            dict.fromkeys(NAMES),
            router=Router(None, None),
            tick=lambda: self.tick,
            seat=lambda character, shard: self.chars.seat(character, shard, self.game),
        )
        self.seen: dict[str, list[Event]] = defaultdict(list)
        self.game.subscribe(lambda name, events: self.seen[name].extend(events))
        self.money: dict[str, list[int | None]] = {n: [] for n in NAMES}

    def step(self, ticks: int = 1) -> None:
        assert SPEC.metrics is not None
        for _ in range(ticks):
            self.chars.open()
            for k, name in enumerate(NAMES):
                self.game.shards[name].step()
                self.chars.after_tick(k, self.game.shards[name].present)
                money, _ = self.chars.counts(k, self.worlds[k], SPEC.metrics(self.worlds[k]))
                self.money[name].append(money)
            self.chars.settle(self.game)
            self.tick += 1

    def record(self, k: int, name: str) -> dict[str, Any]:
        assert HOOK is not None
        return HOOK.characters(self.worlds[k])[name]

    def credits(self, k: int, name: str, value: int) -> None:
        """``name`` earns (or spends) in shard ``k`` until it holds ``value`` credits."""
        world = self.worlds[k]
        for chunk in world.query("Player"):
            for entity, handle in zip(chunk.ids.tolist(), chunk["Player.handle"].tolist(), strict=True):
                if world.resources["neon"]["player_names"][handle] == name:
                    world.set(entity, "Player", credits=value)

    def close(self) -> None:
        self.chars.close()
        self.game.close()


def test_a_character_moves_between_shards_with_everything_and_is_held_by_one(tmp_path: Path) -> None:
    s = Shards(tmp_path)
    s.game.enter("Alice")  # both empty: the first shard
    s.step(2)
    assert s.game.shard_of("Alice") == "neon-0"
    s.game.command("Alice", "n")
    s.game.command("Alice", "buy energy bar")
    s.step(3)
    before = s.record(0, "Alice")
    assert before["items"] and before["room"] != "neon.room.lantern_plaza" and before["credits"] < 200
    s.game.leave("Alice")
    s.step()  # the tick that applies the leave, then the record is saved and released
    assert s.chars.store is not None and s.chars.store.holder("Alice") is None
    s.game.enter("Bobby")  # neon-0 ...
    s.game.enter("Alice")  # ... so Alice goes to the least loaded neon-1
    s.step(2)
    assert s.game.shard_of("Alice") == "neon-1"
    after = s.record(1, "Alice")
    kept = ("room", "credits", "items")
    assert {k: after[k] for k in kept} == {k: before[k] for k in kept}
    assert s.chars.store.holder("Alice") == "neon-1" and "Alice" not in s.chars.seats[0].held
    s.close()
    stored = SqliteCharacters(tmp_path / CHARACTERS_FILE)
    assert stored.holder("Alice") is None and stored.holder("Bobby") is None  # all released on close
    assert stored.claim("Alice", "check", 1.0) is not None
    stored.close()


def test_a_login_before_the_old_shard_ticked_is_handed_over_at_once(tmp_path: Path) -> None:
    s = Shards(tmp_path)
    s.game.enter("Alice")
    s.step(2)
    s.credits(0, "Alice", 777)
    s.step()
    s.game.leave("Alice")  # no tick between: neon-0 still holds her
    s.game.enter("Bobby")
    s.game.enter("Alice")
    assert s.game.shard_of("Alice") == "neon-1"
    assert not any(e["type"] == "refused" for e in s.seen["Alice"])
    assert "Alice" not in s.chars.seats[0].held and "Alice" in s.chars.seats[1].held
    assert s.record(1, "Alice")["credits"] == 777
    s.step(2)
    assert s.game.present("Alice")
    s.close()


def test_a_move_is_not_inflation_and_money_made_while_held_is(tmp_path: Path) -> None:
    s = Shards(tmp_path)
    s.game.enter("Alice")  # made on neon-0: its start counts there, as a new character's always did
    s.game.enter("Bobby")  # made on neon-1
    s.step(2)
    assert s.money["neon-0"][-1] == 200 and s.money["neon-1"][-1] == 200
    s.credits(0, "Alice", 10_000)  # rich while held on neon-0: neon-0 grew fifty-fold
    s.step()
    assert s.money["neon-0"][-1] == 10_000
    s.game.leave("Alice")
    s.game.leave("Bobby")
    s.step(3)
    assert s.money["neon-0"][-1] == 10_000 and s.money["neon-1"][-1] == 200  # leaving takes nothing away
    s.game.enter("Carol")  # made on neon-0 ...
    s.game.enter("Alice")  # ... so Alice and her 10,000 go to the least loaded neon-1
    s.step(5)
    assert s.game.shard_of("Alice") == "neon-1"
    assert set(s.money["neon-1"][-5:]) == {200}  # her arrival made no money on neon-1
    assert set(s.money["neon-0"][-5:]) == {10_200}  # Carol's start did, on neon-0
    s.credits(1, "Alice", 10_200)  # she earns 2 % on neon-1
    s.step()
    assert s.money["neon-1"][-1] == 204  # neon-1 grew by the rate its own characters made
    s.close()


def test_characters_of_an_earlier_run_are_imported_once(tmp_path: Path) -> None:
    assert HOOK is not None
    worlds = new_worlds()
    for k, world in enumerate(worlds):  # the copies an earlier run left: Alice in both, Dora in one
        game = HOOK.open(world, tmp_path / f"old{k}", 1e6)
        game.enter("Alice")
        if k == 0:
            game.enter("Dora")
        game.step()
        game.step()
    shards_folder = tmp_path / "shards"
    shards_folder.mkdir()
    (shards_folder / "homes.json").write_text(json.dumps({"Alice": "neon-1", "Dora": "neon-0"}))
    s = Shards(tmp_path, worlds)
    s.credits(1, "Alice", 4321)  # her home's copy is the newest
    s.chars.open()
    assert s.chars.store is not None and s.chars.store.names() == ["Alice", "Dora"]
    assert not (shards_folder / "homes.json").exists()
    assert json.loads((shards_folder / IMPORTED_FILE).read_text())["imported"] == {
        "Alice": "neon-1",
        "Dora": "neon-0",
    }
    s.game.enter("Alice")  # on neon-0, where her copy was stale: the store's record is laid there
    s.step()
    assert s.record(0, "Alice")["credits"] == 4321
    s.close()
    again = Shards(tmp_path, worlds)  # a second start imports nothing (the store has them)
    again.credits(0, "Dora", 1)
    again.chars.open()
    assert again.chars.store is not None
    assert again.chars.store.claim("Dora", "neon-0", 1.0)["credits"] == 200  # type: ignore[index]
    again.close()


def test_a_previous_runs_lease_is_taken_back(tmp_path: Path) -> None:
    old = SqliteCharacters(tmp_path / CHARACTERS_FILE)
    old.claim("Alice", "neon-2", 3600.0)  # a run with three shards that crashed holding her
    old.save("Alice", "neon-2", {**_record(tmp_path / "made"), "credits": 999})
    old.close()
    (tmp_path / "shards").mkdir()
    (tmp_path / "shards" / IMPORTED_FILE).write_text("{}")
    s = Shards(tmp_path)
    s.game.enter("Alice")
    s.step()
    assert s.game.shard_of("Alice") == "neon-0" and s.record(0, "Alice")["credits"] == 999
    assert s.chars.store is not None and s.chars.store.holder("Alice") == "neon-0"
    s.close()


def test_a_fresh_start_starts_the_store_empty(tmp_path: Path) -> None:
    old = SqliteCharacters(tmp_path / CHARACTERS_FILE)
    old.claim("Alice", "neon-0", 60.0)
    old.release("Alice", "neon-0", {"credits": 1})
    old.close()
    chars = ShardCharacters(tmp_path, NAMES, new_worlds(), HOOK, fresh=True)  # type: ignore[arg-type]
    chars.open()
    assert chars.store is not None and chars.store.names() == []
    chars.close()


def _record(folder: Path) -> dict[str, Any]:
    """A new character's record, as a shard would store it."""
    assert HOOK is not None
    world = new_worlds()[0]
    folder.mkdir()
    game = HOOK.open(world, folder, 1e6)
    game.enter("Alice")
    game.step()
    return json.loads(json.dumps(HOOK.characters(world)["Alice"]))


class MovesAndMoney(RuleBasedStateMachine):
    """Players enter, earn and leave in any order over two shards: a character is held by the shard
    of its session and by no other, arrives with the credits it left with, and a shard's money
    supply moves only when money is made."""

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="shard-characters-"))
        self.s = Shards(self.folder)
        self.s.chars.open()
        self.credits: dict[str, int] = {}  # the model: every character's credits
        self.made = False  # money made since the last tick

    @rule(name=st.sampled_from(PLAYERS))
    def enter(self, name: str) -> None:
        if self.s.game.shard_of(name) is None:
            self.made |= name not in self.credits
            self.credits.setdefault(name, 200)
            self.s.game.enter(name)

    @rule(name=st.sampled_from(PLAYERS))
    def leave(self, name: str) -> None:
        self.s.game.leave(name)

    @rule(name=st.sampled_from(PLAYERS), amount=st.integers(1, 500))
    def earn(self, name: str, amount: int) -> None:
        shard = self.s.game.shard_of(name)
        if shard is None or name not in HOOK.characters(self.s.worlds[NAMES.index(shard)]):  # type: ignore[union-attr]
            return
        self.credits[name] += amount
        self.s.credits(NAMES.index(shard), name, self.credits[name])
        self.made = True

    @rule()
    def tick(self) -> None:
        before = {n: m[-1] if m else None for n, m in self.s.money.items()}
        self.s.step()
        for name in NAMES:
            if not self.made and before[name]:  # a chain with money in it moves only when money is made
                assert self.s.money[name][-1] == before[name], (name, self.s.money[name][-3:])
        self.made = False

    @invariant()
    def one_holder_with_everything(self) -> None:
        for name in PLAYERS:
            holders = [n for n, seats in zip(NAMES, self.s.chars.seats, strict=True) if name in seats.held]
            assert len(holders) <= 1, (name, holders)
            shard = self.s.game.shard_of(name)
            if shard is not None:
                assert holders == [shard]
                world = self.s.worlds[NAMES.index(shard)]
                record = HOOK.characters(world).get(name)  # type: ignore[union-attr]
                assert record is None or record["credits"] == self.credits[name]

    def teardown(self) -> None:
        self.s.close()
        shutil.rmtree(self.folder, ignore_errors=True)


MovesAndMoney.TestCase.settings = settings(max_examples=12, stateful_step_count=30, deadline=None)
test_moves_and_money_under_any_sequence = MovesAndMoney.TestCase
