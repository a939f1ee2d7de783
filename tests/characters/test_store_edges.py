"""What the model test cannot show: processes racing for one character (exactly one wins), a
lease that really runs out on Redis's clock, records that survive a Redis restart with its
persistence on, and bad input answered with one clear error that changes nothing."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ouroboros.characters import CharacterStore, RedisCharacters, SqliteCharacters
from ouroboros.cluster.redis_server import RedisServer
from ouroboros.errors import BadInputError, CharacterHeldError, CharacterLeaseLostError

RACERS = 4


def open_store(kind: str, where: str) -> CharacterStore:
    return SqliteCharacters(where) if kind == "sqlite" else RedisCharacters(where)


def race(kind: str, where: str, holder: str, start: Any, results: Any) -> None:
    store = open_store(kind, where)
    start.wait(30)
    try:
        store.claim("Molly", holder, 30)
        results.put((holder, "won"))
    except CharacterHeldError as exc:
        results.put((holder, f"held by {exc.holder}"))
    finally:
        store.close()


@pytest.fixture(params=["sqlite", "redis"])
def where(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    if request.param == "sqlite":
        SqliteCharacters(tmp_path / "characters.db").close()  # the schema, before the race
        yield "sqlite", str(tmp_path / "characters.db")
    else:
        server: RedisServer = request.getfixturevalue("redis_server")
        yield "redis", server.url


def test_processes_racing_for_one_character_exactly_one_wins(where: tuple[str, str]) -> None:
    kind, address = where
    ctx = multiprocessing.get_context("spawn")
    start, results = ctx.Barrier(RACERS), ctx.Queue()
    procs = [
        ctx.Process(target=race, args=(kind, address, f"neon-{i}", start, results)) for i in range(RACERS)
    ]
    for p in procs:
        p.start()
    got = dict(results.get(timeout=60) for _ in procs)
    for p in procs:
        p.join(30)
    winners = [h for h, outcome in got.items() if outcome == "won"]
    assert len(winners) == 1
    assert all(got[h] == f"held by {winners[0]}" for h in got if h != winners[0])
    store = open_store(kind, address)
    assert store.holder("Molly") == winners[0]
    store.close()


def wait_until(condition: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def test_a_redis_lease_runs_out_and_the_late_writer_is_refused(redis_server: RedisServer) -> None:
    old, new = RedisCharacters(redis_server.url), RedisCharacters(redis_server.url)
    old.claim("Molly", "neon-0", 30)
    old.save("Molly", "neon-0", {"credits": 10})
    assert old.renew("neon-0", 0.2) == []  # then the shard stalls: no more heartbeats
    assert wait_until(lambda: new.holder("Molly") is None)
    assert new.claim("Molly", "neon-1", 30) == {"credits": 10}
    new.save("Molly", "neon-1", {"credits": 25})
    with pytest.raises(CharacterLeaseLostError):
        old.save("Molly", "neon-0", {"credits": 11})  # the stalled shard wakes up: refused
    assert old.renew("neon-0", 30) == []  # already forgotten: the fence never reopens
    assert new.release("Molly", "neon-1") is True
    assert new.claim("Molly", "neon-0", 30) == {"credits": 25}


def test_records_outlive_a_redis_restart_with_persistence_on(tmp_path: Path) -> None:
    server = RedisServer(tmp_path, appendonly=True).start()
    try:
        store = RedisCharacters(server.url)
        store.claim("Molly", "neon-0", 30)
        store.release("Molly", "neon-0", {"credits": 42, "items": [["deck", 0]]})
        store.close()
        server.stop()
        server.start()
        store = RedisCharacters(server.url)
        assert store.names() == ["Molly"]
        assert store.claim("Molly", "neon-1", 30) == {"credits": 42, "items": [["deck", 0]]}
        store.close()
    finally:
        server.stop()


BAD_CALLS: list[tuple[str, Callable[[CharacterStore], Any], str]] = [
    ("empty name", lambda s: s.claim("", "neon-0", 30), "bad_character_name"),
    ("name with a colon", lambda s: s.claim("a:lease", "neon-0", 30), "bad_character_name"),
    ("empty holder", lambda s: s.claim("Molly", "", 30), "bad_holder"),
    ("zero ttl", lambda s: s.claim("Molly", "neon-0", 0), "bad_ttl"),
    ("nan ttl", lambda s: s.renew("neon-0", float("nan")), "bad_ttl"),
    ("a list", lambda s: s.save("Molly", "neon-0", [1]), "bad_character_record"),  # type: ignore[arg-type]
    ("NaN", lambda s: s.save("Molly", "neon-0", {"hp": float("nan")}), "bad_character_record"),
    ("bytes", lambda s: s.save("Molly", "neon-0", {"b": b"x"}), "bad_character_record"),
    ("a tuple", lambda s: s.release("Molly", "neon-0", {"t": (1, 2)}), "bad_character_record"),
    ("too big", lambda s: s.save("Molly", "neon-0", {"x": "y" * (1 << 20)}), "bad_character_record"),
]


@pytest.mark.parametrize(("what", "call", "code"), BAD_CALLS, ids=[c[0] for c in BAD_CALLS])
def test_bad_input_is_one_clear_error_and_changes_nothing(
    where: tuple[str, str], what: str, call: Callable[[CharacterStore], Any], code: str
) -> None:
    store = open_store(*where)
    try:
        store.claim("Molly", "neon-0", 30)
        store.save("Molly", "neon-0", {"credits": 1})
        with pytest.raises(BadInputError) as caught:
            call(store)
        assert caught.value.code == code and caught.value.exit_code == 2
        assert "\n" not in caught.value.message
        assert store.holder("Molly") == "neon-0"
        store.release("Molly", "neon-0")
        assert store.claim("Molly", "neon-1", 30) == {"credits": 1}
    finally:
        store.close()


def test_a_store_says_whether_its_redis_persists(tmp_path: Path) -> None:
    volatile, durable = RedisServer().start(), RedisServer(tmp_path, appendonly=True).start()
    stores = [RedisCharacters(volatile.url), RedisCharacters(durable.url)]
    try:
        assert [s.persistent() for s in stores] == [False, True]
    finally:
        for store in stores:
            store.close()
        volatile.stop()
        durable.stop()
