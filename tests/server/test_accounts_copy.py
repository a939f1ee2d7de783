"""Accounts of an older file come over once (``AccountStore.copy_missing_from``): what a player
notices is that their old name and password still log in, and that a name already taken in the new
file keeps its own password. Real SQLite files throughout."""

from __future__ import annotations

import sqlite3
import tempfile
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ouroboros.cli import app
from ouroboros.errors import AccountError
from ouroboros.server.gateway.accounts import AccountStore, CopiedAccounts
from tests.server.conftest import FAST_SCRYPT


def rows(path: Path) -> dict[str, tuple[str, str, float]]:
    with sqlite3.connect(path) as db:
        found = db.execute("SELECT name_key, name, password_hash, created_at FROM accounts").fetchall()
    return {key: (name, password_hash, created_at) for key, name, password_hash, created_at in found}


def make(path: Path, accounts: dict[str, str]) -> None:
    with AccountStore(path, params=FAST_SCRYPT) as store:
        for name, password in accounts.items():
            store.create(name, password)


def test_old_logins_work_and_a_name_in_both_keeps_the_new_files_password(tmp_path: Path) -> None:
    old, new = tmp_path / "gateways" / "accounts.db", tmp_path / "neon" / "accounts.db"
    make(old, {"Case": "cowboy-old", "Molly": "razor-old"})
    make(new, {"Molly": "razor-new"})
    before = rows(old)
    with AccountStore(new, params=FAST_SCRYPT) as store:
        copied = store.copy_missing_from(old)
        assert copied == CopiedAccounts(source=old.resolve(), copied=("Case",), kept=1)
        assert store.verify("case", "cowboy-old") is not None
        assert store.verify("molly", "razor-new") is not None
        assert store.verify("molly", "razor-old") is None
    assert rows(new)["case"] == before["case"]  # the hash as it was, not hashed again
    assert rows(old) == before  # the old file is only read


def test_it_happens_once_even_when_the_old_file_changes_after(tmp_path: Path) -> None:
    old, new = tmp_path / "old.db", tmp_path / "new.db"
    make(old, {"Case": "cowboy-old"})
    with AccountStore(new, params=FAST_SCRYPT) as store:
        assert store.copy_missing_from(old) is not None
    make(old, {"Armitage": "colonel-old"})  # written after the copy, by something that should not
    with AccountStore(new, params=FAST_SCRYPT) as store:
        assert store.copy_missing_from(old) is None
        assert store.copy_missing_from(tmp_path / "old.db") is None  # the same file by another path
        assert store.try_get("Armitage") is None
        assert store.try_get("Case") is not None


def test_nothing_to_do_without_an_old_file_or_from_itself(tmp_path: Path) -> None:
    new = tmp_path / "new.db"
    with AccountStore(new, params=FAST_SCRYPT) as store:
        assert store.copy_missing_from(tmp_path / "missing.db") is None
        assert store.copy_missing_from(new) is None
        assert store.copy_missing_from(tmp_path) is None  # a folder is no file


@pytest.mark.parametrize(
    "setup",
    [
        "garbage",
        "CREATE TABLE players (name TEXT)",
        "CREATE TABLE accounts (name_key, name, password_hash, created_at);"
        "INSERT INTO accounts VALUES ('case', 'Case', NULL, 0)",
        "CREATE TABLE accounts (name_key, name, password_hash, created_at);"
        "INSERT INTO accounts VALUES ('molly', 'Case', 'scrypt$x', 0)",
    ],
)
def test_an_old_file_that_is_no_accounts_file_is_one_clear_error(tmp_path: Path, setup: str) -> None:
    old, new = tmp_path / "old.db", tmp_path / "new.db"
    if setup == "garbage":
        old.write_bytes(b"not a database at all" * 100)
    else:
        with sqlite3.connect(old) as db:
            db.executescript(setup)
    make(new, {"Molly": "razor-new"})
    with AccountStore(new, params=FAST_SCRYPT) as store:
        with pytest.raises(AccountError) as caught:
            store.copy_missing_from(old)
        assert caught.value.code == "bad_accounts_file" and caught.value.exit_code == 2
        assert str(old) in caught.value.message
    assert set(rows(new)) == {"molly"}  # nothing copied, nothing recorded: a repaired file still comes over


def test_two_gateways_starting_together_copy_once(tmp_path: Path) -> None:
    old, new = tmp_path / "old.db", tmp_path / "new.db"
    make(old, {name: "password-old" for name in ("Case", "Molly", "Riviera", "Maelcum")})
    stores = [AccountStore(new, params=FAST_SCRYPT) for _ in range(2)]
    results: list[CopiedAccounts | None] = [None, None]
    start = threading.Barrier(2)

    def copy(i: int) -> None:
        start.wait()
        results[i] = stores[i].copy_missing_from(old)

    threads = [threading.Thread(target=copy, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for store in stores:
        store.close()
    done = [r for r in results if r is not None]
    assert len(done) == 1 and sorted(done[0].copied) == ["Case", "Maelcum", "Molly", "Riviera"]
    assert rows(new) == rows(old)


NAMES = st.sets(st.sampled_from(["Case", "Molly", "Riviera", "Maelcum", "Armitage", "Dixie"]), max_size=6)


@settings(max_examples=25, deadline=None)
@given(in_old=NAMES, in_new=NAMES)
def test_after_the_copy_the_new_file_has_every_name_and_its_own_rows_win(
    in_old: set[str], in_new: set[str]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        old, new = Path(folder) / "old.db", Path(folder) / "new.db"
        make(old, dict.fromkeys(in_old, "password-old"))
        make(new, dict.fromkeys(in_new, "password-new"))
        old_rows, new_rows = rows(old), rows(new)
        with AccountStore(new, params=FAST_SCRYPT) as store:
            copied = store.copy_missing_from(old)
            assert copied is not None
            assert set(copied.copied) == in_old - in_new and copied.kept == len(in_old & in_new)
            assert store.copy_missing_from(old) is None
        assert rows(new) == {**old_rows, **new_rows}
        assert rows(old) == old_rows


def test_a_gateway_over_an_unreadable_old_file_stops_with_one_clear_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "gateways").mkdir()
    (tmp_path / "gateways" / "accounts.db").write_bytes(b"not a database" * 100)
    args = ["gateway", "--shard", "neon", "--redis", "redis://127.0.0.1:1/0", "--data", str(tmp_path),
            "--telnet-port", "0", "--ws-port", "0"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "gateways/accounts.db is not an accounts file" in result.output
    assert "Traceback" not in result.output
