"""Player accounts: names and scrypt-hashed passwords in one SQLite file (WAL mode).

What it promises:

- Names are 3-20 ASCII letters, unique without regard to case and shown capitalised
  (``bOB`` → ``Bob``); passwords are 6-128 characters. Anything else is refused with an
  ``AccountError`` whose message a player can read.
- Only a salted hash is stored (see ``passwords``); passwords are never logged, never kept on an
  object, never part of an error message or a ``repr``.
- Checking a name that does not exist costs as much as checking a wrong password, so timing does
  not tell which names exist.
- The async methods run hashing on a small dedicated thread pool, so scrypt never blocks the event
  loop and at most ``max_parallel_hashes`` hashes (16 MiB each) are in memory at once.
- Safe to use from several threads: one connection, guarded by a lock; SQLite in WAL mode, so other
  processes may read the same file.
- ``copy_missing_from(old)`` brings the accounts of an older file over once: the names this file
  lacks, their password hashes as they are; a name in both keeps this file's. It runs in one
  transaction that also records the old file, so a crash copies nothing and a second call (or a
  second process racing the first) copies nothing again. The old file is only read.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from ouroboros.errors import AccountError
from ouroboros.server.gateway.passwords import (
    DEFAULT_PARAMS,
    ScryptParams,
    hash_password,
    needs_rehash,
    verify_password,
)

log = logging.getLogger(__name__)

MIN_NAME_CHARS = 3
MAX_NAME_CHARS = 20
MIN_PASSWORD_CHARS = 6
MAX_PASSWORD_CHARS = 128
_NAME = re.compile(rf"[A-Za-z]{{{MIN_NAME_CHARS},{MAX_NAME_CHARS}}}")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    name_key      TEXT PRIMARY KEY,  -- the name in lower case: uniqueness ignores case
    name          TEXT NOT NULL,     -- the name as shown (capitalised)
    password_hash TEXT NOT NULL,     -- passwords.hash_password format, parameters included
    created_at    REAL NOT NULL      -- unix seconds
);
CREATE TABLE IF NOT EXISTS copied_from (
    source   TEXT PRIMARY KEY,  -- an older accounts file, its resolved path
    accounts INTEGER NOT NULL,  -- how many accounts it gave this file
    kept     INTEGER NOT NULL,  -- how many of its names this file had already (kept as they were)
    at       REAL NOT NULL      -- unix seconds
)
"""


@dataclass(frozen=True)
class CopiedAccounts:
    """What ``AccountStore.copy_missing_from`` did: the names it copied, and how many names of the
    old file this one had already (they keep this file's password)."""

    source: Path
    copied: tuple[str, ...]
    kept: int


@dataclass(frozen=True)
class Account:
    """A registered account: its display name is the character's name in the game."""

    name: str
    created_at: float


def display_name(name: str) -> str:
    """The canonical, shown form of a valid ``name``; raises ``AccountError`` (``bad_name``)."""
    if not _NAME.fullmatch(name):
        raise AccountError(
            f"A name is {MIN_NAME_CHARS} to {MAX_NAME_CHARS} letters (a-z), nothing else.",
            code="bad_name",
        )
    return name.capitalize()


def check_password(password: str) -> None:
    """Raise ``AccountError`` (``bad_password``) unless ``password`` has an allowed length."""
    if not MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS:
        raise AccountError(
            f"A password is {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters long.",
            code="bad_password",
        )


def _read_accounts(path: Path) -> list[tuple[str, str, str, float]]:
    """Every row of the accounts file at ``path``, opened read-only."""
    uri = f"file:{urllib.parse.quote(str(path))}?mode=ro"
    try:
        db = sqlite3.connect(uri, uri=True)
        try:
            db.execute("PRAGMA busy_timeout=5000")
            rows = db.execute("SELECT name_key, name, password_hash, created_at FROM accounts").fetchall()
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise _bad_file(path, str(exc)) from None
    for key, name, password_hash, created_at in rows:
        shaped = isinstance(name, str) and _NAME.fullmatch(name) and key == name.lower()
        if not (shaped and isinstance(password_hash, str) and isinstance(created_at, int | float)):
            raise _bad_file(path, f"a row is not an account: {key!r}")
    return [(k, n, h, float(c)) for k, n, h, c in rows]


def _bad_file(path: Path, why: str) -> AccountError:
    return AccountError(
        f"{path} is not an accounts file that can be read ({why}); move it away or repair it",
        code="bad_accounts_file",
    )


class AccountStore:
    """Accounts in the SQLite file at ``path`` (table ``accounts``), created if missing."""

    def __init__(
        self,
        path: str | Path,
        *,
        params: ScryptParams = DEFAULT_PARAMS,
        max_parallel_hashes: int = 4,
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._params = params
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(_SCHEMA)
        self._hashers = ThreadPoolExecutor(max_parallel_hashes, thread_name_prefix="scrypt")
        # Checked against when a name is unknown, so that answer takes as long as a wrong password.
        self._decoy_hash = hash_password("decoy password", params)

    # -- synchronous API (blocks for one scrypt) -------------------------------------------------

    def create(self, name: str, password: str) -> Account:
        """Register ``name``; raises ``AccountError`` for a bad name or password or a taken name."""
        shown = display_name(name)
        check_password(password)
        if self.try_get(shown) is not None:
            raise AccountError(f"The name {shown} is taken.", code="name_taken")
        stored = hash_password(password, self._params)
        account = Account(name=shown, created_at=time.time())
        try:
            with self._lock:
                self._db.execute(
                    "INSERT INTO accounts (name_key, name, password_hash, created_at) VALUES (?, ?, ?, ?)",
                    (shown.lower(), shown, stored, account.created_at),
                )
        except sqlite3.IntegrityError:  # created by someone else while we hashed
            raise AccountError(f"The name {shown} is taken.", code="name_taken") from None
        log.info("account created: %s", shown)
        return account

    def verify(self, name: str, password: str) -> Account | None:
        """The account if ``password`` is right for ``name``; ``None`` for a wrong password and
        for an unknown name alike."""
        if not _NAME.fullmatch(name) or len(password) > MAX_PASSWORD_CHARS:
            return None  # no such account can exist; its shape is no secret
        with self._lock:
            row = self._db.execute(
                "SELECT name, password_hash, created_at FROM accounts WHERE name_key = ?", (name.lower(),)
            ).fetchone()
        if row is None:
            verify_password(password, self._decoy_hash)
            return None
        shown, stored, created_at = row
        if not verify_password(password, stored):
            return None
        if needs_rehash(stored, self._params):
            with self._lock:
                self._db.execute(
                    "UPDATE accounts SET password_hash = ? WHERE name_key = ?",
                    (hash_password(password, self._params), shown.lower()),
                )
        return Account(name=shown, created_at=created_at)

    def try_get(self, name: str) -> Account | None:
        """The account called ``name`` (any case), or ``None``."""
        if not _NAME.fullmatch(name):
            return None
        with self._lock:
            row = self._db.execute(
                "SELECT name, created_at FROM accounts WHERE name_key = ?", (name.lower(),)
            ).fetchone()
        return None if row is None else Account(name=row[0], created_at=row[1])

    def get(self, name: str) -> Account:
        """The account called ``name``; raises ``AccountError`` (``unknown_account``)."""
        account = self.try_get(name)
        if account is None:
            raise AccountError(f"No account is called {name!r}.", code="unknown_account")
        return account

    def copy_missing_from(self, old: str | Path) -> CopiedAccounts | None:
        """Copy the accounts of the older file ``old`` that this file lacks, once (see the module's
        promises); ``None`` when there is nothing to do (no such file, this very file, or copied
        before). Raises ``AccountError`` (``bad_accounts_file``) when ``old`` is not an accounts file."""
        source = Path(old).resolve()
        if not source.is_file() or source == self.path.resolve():
            return None
        with self._lock:
            if self._db.execute("SELECT 1 FROM copied_from WHERE source = ?", (str(source),)).fetchone():
                return None
        rows = _read_accounts(source)
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")  # one copier at a time, across processes
            try:
                if self._db.execute("SELECT 1 FROM copied_from WHERE source = ?", (str(source),)).fetchone():
                    self._db.execute("ROLLBACK")
                    return None
                copied = []
                for name_key, name, password_hash, created_at in rows:
                    cursor = self._db.execute(
                        "INSERT OR IGNORE INTO accounts (name_key, name, password_hash, created_at) "
                        "VALUES (?, ?, ?, ?)",
                        (name_key, name, password_hash, created_at),
                    )
                    if cursor.rowcount:
                        copied.append(name)
                self._db.execute(
                    "INSERT INTO copied_from (source, accounts, kept, at) VALUES (?, ?, ?, ?)",
                    (str(source), len(copied), len(rows) - len(copied), time.time()),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        log.info("copied %d accounts from %s into %s", len(copied), source, self.path)
        return CopiedAccounts(source=source, copied=tuple(copied), kept=len(rows) - len(copied))

    # -- async API (hashing off the event loop) --------------------------------------------------

    async def create_async(self, name: str, password: str) -> Account:
        return await asyncio.get_running_loop().run_in_executor(self._hashers, self.create, name, password)

    async def verify_async(self, name: str, password: str) -> Account | None:
        return await asyncio.get_running_loop().run_in_executor(self._hashers, self.verify, name, password)

    # -- lifetime --------------------------------------------------------------------------------

    def close(self) -> None:
        self._hashers.shutdown(wait=True)
        with self._lock:
            self._db.close()

    def __enter__(self) -> AccountStore:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
