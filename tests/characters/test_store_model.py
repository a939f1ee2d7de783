"""Both character stores held to one model, step by step (hypothesis, stateful): claims, saves,
releases, renewals and the passing of time, by two holders each with two lives (a shard and its
restarted self, or a shard presumed dead), so every fenced write is tried.

Time: the SQLite store reads an injected clock, advanced by the step. On Redis a lease ends by
its own ``PX`` expiry, and the scripts have no test hook: the step makes the time pass on the
server by shortening every live lease's remaining ``PTTL`` by the step (deleting those it ends),
which is exactly what that much waiting would do to them. Leases are tens of seconds long and a
step never lands within a few seconds of an expiry, so the real milliseconds a run takes never
decide an outcome.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
import redis
from hypothesis import HealthCheck, assume, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from ouroboros.characters import RedisCharacters, SqliteCharacters
from ouroboros.cluster import keys
from ouroboros.cluster.redis_server import RedisServer
from ouroboros.errors import BadInputError, CharacterHeldError, CharacterLeaseLostError

NAMES = ("Molly", "Case", "Armitage")
ACTORS = tuple((holder, life) for holder in ("neon-0", "neon-1") for life in (0, 1))
TTLS_MS = (10_000, 20_000, 40_000)
MARGIN_MS = 3_000

records = st.fixed_dictionaries(
    {
        "credits": st.integers(0, 10**9),
        "items": st.lists(st.sampled_from(["deck", "shades", "ice"]), max_size=3),
    }
)
bad_records = st.sampled_from([[1, 2], "text", {"hp": float("nan")}, {"x": {1, 2}}, {1: "key"}, None])


def age_redis_leases(r: redis.Redis, dt_ms: int) -> None:
    """``dt_ms`` of waiting, as Redis's clock would see it: every lease has that much less left."""
    for key in r.scan_iter(match=keys.character_lease("*"), count=1000):
        left = int(r.pttl(key))
        if left > 0 and left - dt_ms > 0:
            r.pexpire(key, left - dt_ms)
        elif left > 0:
            r.delete(key)


def outcome(call: Any) -> Any:
    try:
        return ("ok", call())
    except CharacterHeldError as exc:
        return ("held", exc.holder)
    except CharacterLeaseLostError:
        return ("lost", None)


def test_both_stores_keep_to_the_model(redis_server: RedisServer, tmp_path: Path) -> None:
    raw = redis.Redis.from_url(redis_server.url, decode_responses=True)

    class Stores(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.now_ms = 0
            raw.flushall()
            path = Path(tempfile.mkdtemp(dir=tmp_path)) / "characters.db"
            self.stores: list[dict[tuple[str, int], Any]] = [
                {a: SqliteCharacters(path, clock=lambda: self.now_ms / 1000) for a in ACTORS},
                {a: RedisCharacters(redis_server.url) for a in ACTORS},
            ]
            self.records: dict[str, dict[str, Any]] = {}
            self.leases: dict[str, tuple[tuple[str, int], int]] = {}  # name -> (actor, expires_ms)

        def live_by(self, name: str) -> tuple[str, int] | None:
            lease = self.leases.get(name)
            return lease[0] if lease is not None and lease[1] > self.now_ms else None

        def each(self, actor: tuple[str, int], call: Any) -> Any:
            got = [outcome(lambda s=s: call(s[actor])) for s in self.stores]
            assert got[0] == got[1], f"sqlite {got[0]} != redis {got[1]}"
            return got[0]

        @rule(name=st.sampled_from(NAMES), actor=st.sampled_from(ACTORS), ttl_ms=st.sampled_from(TTLS_MS))
        def claim(self, name: str, actor: tuple[str, int], ttl_ms: int) -> None:
            got = self.each(actor, lambda s: s.claim(name, actor[0], ttl_ms / 1000))
            live = self.live_by(name)
            if live is not None and live[0] != actor[0]:
                assert got == ("held", live[0])
                return
            assert got == ("ok", self.records.get(name))
            self.leases[name] = (actor, self.now_ms + ttl_ms)

        @rule(name=st.sampled_from(NAMES), actor=st.sampled_from(ACTORS), record=records)
        def save(self, name: str, actor: tuple[str, int], record: dict[str, Any]) -> None:
            got = self.each(actor, lambda s: s.save(name, actor[0], record))
            if self.live_by(name) == actor:
                assert got == ("ok", None)
                self.records[name] = record
            else:
                assert got == ("lost", None)  # a stale life or a lapsed lease: the newer copy stays

        @rule(
            name=st.sampled_from(NAMES),
            actor=st.sampled_from(ACTORS),
            record=st.none() | records,
        )
        def release(self, name: str, actor: tuple[str, int], record: dict[str, Any] | None) -> None:
            got = self.each(actor, lambda s: s.release(name, actor[0], record))
            if self.live_by(name) == actor:
                assert got == ("ok", True)
                if record is not None:
                    self.records[name] = record
                del self.leases[name]
            else:
                assert got == (("ok", False) if record is None else ("lost", None))

        @rule(actor=st.sampled_from(ACTORS), ttl_ms=st.sampled_from(TTLS_MS))
        def renew(self, actor: tuple[str, int], ttl_ms: int) -> None:
            got = self.each(actor, lambda s: s.renew(actor[0], ttl_ms / 1000))
            assert got[0] == "ok"
            for name in NAMES:
                if self.live_by(name) == actor:
                    assert name not in got[1]
                    self.leases[name] = (actor, self.now_ms + ttl_ms)

        @rule(dt_ms=st.integers(1, 50_000))
        def time_passes(self, dt_ms: int) -> None:
            then = self.now_ms + dt_ms
            assume(all(abs(exp - then) > MARGIN_MS for _, exp in self.leases.values() if exp > self.now_ms))
            self.now_ms = then
            age_redis_leases(raw, dt_ms)

        @rule(actor=st.sampled_from(ACTORS), record=bad_records, name=st.sampled_from(["", "a:b", "x" * 65]))
        def bad_input_changes_nothing(self, actor: tuple[str, int], record: Any, name: str) -> None:
            for stores in self.stores:
                with pytest.raises(BadInputError) as caught:
                    stores[actor].save(NAMES[0], actor[0], record)
                assert caught.value.exit_code == 2 and caught.value.code == "bad_character_record"
                with pytest.raises(BadInputError) as caught:
                    stores[actor].claim(name, actor[0], 10)
                assert caught.value.code == "bad_character_name"

        @invariant()
        def agree_with_the_model(self) -> None:
            for stores in self.stores:
                store = next(iter(stores.values()))
                assert store.names() == sorted(self.records)
                for name in NAMES:
                    live = self.live_by(name)
                    assert store.holder(name) == (None if live is None else live[0])

        def teardown(self) -> None:
            for stores in self.stores:
                for store in stores.values():
                    store.close()

    run_state_machine_as_test(
        Stores,
        settings=settings(
            max_examples=60,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
        ),
    )
    raw.close()
