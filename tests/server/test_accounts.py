from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from pathlib import Path

import pytest

from ouroboros.errors import AccountError, BadInputError
from ouroboros.server.gateway.accounts import AccountStore
from ouroboros.server.gateway.passwords import (
    DEFAULT_PARAMS,
    ScryptParams,
    hash_password,
    needs_rehash,
    verify_password,
)
from tests.server.conftest import FAST_SCRYPT


def test_hash_holds_its_parameters_and_a_fresh_salt() -> None:
    first = hash_password("hunter22", FAST_SCRYPT)
    second = hash_password("hunter22", FAST_SCRYPT)
    assert first.startswith("scrypt$256$8$1$")
    assert first != second  # fresh salt each time
    assert verify_password("hunter22", first)
    assert verify_password("hunter22", second)
    assert not verify_password("hunter23", first)


def test_malformed_stored_hashes_never_verify_and_never_raise() -> None:
    for stored in ["", "plain", "scrypt$1$8$1$AA$AA", "scrypt$99999999999$8$1$AAAA$AAAA", "md5$x$y$z$a$b"]:
        assert not verify_password("anything", stored)
        assert needs_rehash(stored)


def test_needs_rehash_when_parameters_change() -> None:
    stored = hash_password("hunter22", FAST_SCRYPT)
    assert not needs_rehash(stored, FAST_SCRYPT)
    assert needs_rehash(stored, DEFAULT_PARAMS)


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError):
        ScryptParams(n=1000)


def test_default_parameters_are_the_documented_ones(tmp_path: Path) -> None:
    assert (DEFAULT_PARAMS.n, DEFAULT_PARAMS.r, DEFAULT_PARAMS.p, DEFAULT_PARAMS.salt_bytes) == (
        2**14,
        8,
        1,
        16,
    )
    with AccountStore(tmp_path / "neon.db") as store:
        store.create("Case", "real-scrypt")
        assert store.verify("case", "real-scrypt") is not None
        with sqlite3.connect(tmp_path / "neon.db") as db:
            (stored,) = db.execute("SELECT password_hash FROM accounts").fetchone()
        assert stored.startswith("scrypt$16384$8$1$")


def test_only_a_hash_is_in_the_database_file(accounts: AccountStore) -> None:
    accounts.create("Molly", "razorgirl-secret")
    accounts.close()
    raw = b"".join(p.read_bytes() for p in accounts.path.parent.glob("neon.db*"))
    assert b"razorgirl-secret" not in raw
    with sqlite3.connect(accounts.path) as db:
        name, stored = db.execute("SELECT name, password_hash FROM accounts").fetchone()
    assert name == "Molly"
    assert stored.startswith("scrypt$") and "razorgirl" not in stored


def test_database_is_in_wal_mode(accounts: AccountStore) -> None:
    with sqlite3.connect(accounts.path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_verify_right_and_wrong(accounts: AccountStore) -> None:
    accounts.create("Molly", "razorgirl")
    account = accounts.verify("Molly", "razorgirl")
    assert account is not None and account.name == "Molly"
    assert accounts.verify("Molly", "razorgirL") is None
    assert accounts.verify("Nobody", "razorgirl") is None
    assert accounts.verify("x", "razorgirl") is None
    assert accounts.verify("Molly", "r" * 10_000) is None


def test_names_are_case_insensitive_and_shown_capitalised(accounts: AccountStore) -> None:
    assert accounts.create("cASE", "cowboy99").name == "Case"
    with pytest.raises(AccountError) as taken:
        accounts.create("CASE", "another1")
    assert taken.value.code == "name_taken"
    assert "taken" in taken.value.message
    account = accounts.verify("case", "cowboy99")
    assert account is not None and account.name == "Case"
    assert accounts.get("cAsE").name == "Case"
    assert accounts.try_get("Armitage") is None
    with pytest.raises(AccountError):
        accounts.get("Armitage")


@pytest.mark.parametrize("name", ["", "ab", "a" * 21, "Bob1", "bob smith", "Bób", "b_b", "../etc"])
def test_bad_names_are_rejected_with_a_clear_message(accounts: AccountStore, name: str) -> None:
    with pytest.raises(AccountError) as error:
        accounts.create(name, "goodpassword")
    assert error.value.code == "bad_name"
    assert "3 to 20 letters" in error.value.message
    assert isinstance(error.value, BadInputError)


@pytest.mark.parametrize("password", ["", "short", "x" * 129])
def test_bad_passwords_are_rejected_with_a_clear_message(accounts: AccountStore, password: str) -> None:
    with pytest.raises(AccountError) as error:
        accounts.create("Riviera", password)
    assert error.value.code == "bad_password"
    assert "6 to 128 characters" in error.value.message
    assert accounts.try_get("Riviera") is None


def test_accounts_survive_reopening(tmp_path: Path) -> None:
    with AccountStore(tmp_path / "neon.db", params=FAST_SCRYPT) as store:
        store.create("Dixie", "flatline")
    with AccountStore(tmp_path / "neon.db", params=FAST_SCRYPT) as store:
        assert store.verify("dixie", "flatline") is not None


def test_an_old_hash_is_upgraded_on_login(tmp_path: Path) -> None:
    weaker = ScryptParams(n=2**4)
    with AccountStore(tmp_path / "neon.db", params=weaker) as store:
        store.create("Dixie", "flatline")
    with AccountStore(tmp_path / "neon.db", params=FAST_SCRYPT) as store:
        assert store.verify("Dixie", "flatline") is not None
    with sqlite3.connect(tmp_path / "neon.db") as db:
        (stored,) = db.execute("SELECT password_hash FROM accounts").fetchone()
    assert not needs_rehash(stored, FAST_SCRYPT)


def test_passwords_never_reach_the_log(accounts: AccountStore, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    accounts.create("Maelcum", "zion-dub-secret")
    accounts.verify("Maelcum", "wrong-dub-secret")
    assert "secret" not in caplog.text


def test_async_hashing_does_not_block_the_event_loop(tmp_path: Path) -> None:
    async def main() -> int:
        with AccountStore(tmp_path / "neon.db", params=ScryptParams(n=2**15)) as store:
            ticks = 0
            stop = threading.Event()

            async def heartbeat() -> None:
                nonlocal ticks
                while not stop.is_set():
                    ticks += 1
                    await asyncio.sleep(0.001)

            beat = asyncio.create_task(heartbeat())
            await store.create_async("Wintermute", "neuromancer")
            assert await store.verify_async("Wintermute", "neuromancer") is not None
            stop.set()
            await beat
            return ticks

    # The loop kept turning while two 32 MiB hashes ran in a worker thread.
    assert asyncio.run(main()) > 5
