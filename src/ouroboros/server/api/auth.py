"""Who may do what on the admin API: users, roles, tokens, one-time secrets, TOTP and the audit.

Everything lives in ``<data>/server.sqlite3`` (WAL), readable by its owner only (the file and
its ``-wal``/``-shm`` are 0600, the data folder 0700):

- roles are ordered ``viewer < operator < admin``; a route names the least role it needs;
- API tokens are random (``ob_`` + 32 bytes, url-safe) and stored only as their sha256; a token
  is shown once, when it is made; its *id* (the first 16 hex digits of that sha256, which tell
  nothing about the token) names it in lists and when an admin revokes it; a revoked token is
  refused from then on, and the last live token of the last admin cannot be revoked;
- the first start makes user ``admin`` with a one-time secret (printed once; exchanged for a
  token at ``/api/auth/login``, then spent) and a TOTP secret (its provisioning URI printed once);
  until that admin first logs in, every start issues fresh ones in place of the old (a lost first
  secret is not a locked-out server), and ``reset_secret`` (``ouroboros admin reset-secret``)
  issues a new one-time secret (and an admin's TOTP) for any user from the data folder itself;
- privileged overrides need a current TOTP code of the acting user; a code's time step is
  remembered, so the same code (or an older one) is refused the second time (RFC 6238 §5.2);
- every write on the API is one row of the ``audit`` table: actor, time, method, path, status,
  reason and request id.

The store is thread-safe (one connection, one lock); it does no HTTP.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyotp

from ouroboros.errors import AuthError
from ouroboros.server.api.strict_json import safe_text

ROLES = ("viewer", "operator", "admin")
DB_FILE = "server.sqlite3"
FIRST_ADMIN = "admin"
TOKEN_ID = re.compile(r"^[0-9a-f]{16}$")
ISSUER = "ouroboros"
SESSION_TTL_S = 7 * 24 * 3600.0  # a dashboard sign-in lasts a week unless revoked or signed out
TICKET_TTL_S = 300.0
SESSION_COOKIE = "ouroboros_session"
USERNAME = re.compile(r"[a-z][a-z0-9_.-]{0,31}")  # fullmatch: "$" would let "admin\n" through
SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY, role TEXT NOT NULL, totp_secret TEXT, totp_last_step INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL, created_by TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    hash TEXT PRIMARY KEY, user TEXT NOT NULL REFERENCES users(name), label TEXT NOT NULL,
    created_at TEXT NOT NULL, revoked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS one_time_secrets (
    hash TEXT PRIMARY KEY, user TEXT NOT NULL REFERENCES users(name), created_at TEXT NOT NULL, used_at TEXT
);
CREATE TABLE IF NOT EXISTS sessions (
    hash TEXT PRIMARY KEY, user TEXT NOT NULL REFERENCES users(name), created_at TEXT NOT NULL,
    expires REAL NOT NULL, last_seen REAL NOT NULL, agent TEXT NOT NULL, address TEXT NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL, role TEXT, method TEXT NOT NULL,
    path TEXT NOT NULL, status INTEGER NOT NULL, reason TEXT, request_id TEXT NOT NULL
);
"""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def token_id(token: str) -> str:
    """The id that names ``token`` in lists and revocations (it tells nothing about the token)."""
    return _hash(token)[:16]


def role_at_least(role: str, needed: str) -> bool:
    return ROLES.index(role) >= ROLES.index(needed)


@dataclass(frozen=True)
class User:
    name: str
    role: str

    def may(self, needed: str) -> bool:
        return role_at_least(self.role, needed)


@dataclass(frozen=True)
class FirstAdmin:
    """What the first start prints once: how the first admin gets in."""

    username: str
    one_time_secret: str
    totp_secret: str
    totp_uri: str


class AuthStore:
    """Users, tokens, one-time secrets, TOTP state and the audit table of one data folder."""

    def __init__(self, data_dir: Path, *, clock: Any = time.time) -> None:
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(data_dir, 0o700)  # it holds TOTP secrets: the owner's alone
        self.path = data_dir / DB_FILE
        self._clock = clock
        self.clock = clock  # seconds; what TOTP codes and lockouts are timed by
        self._lock = threading.Lock()
        self._tickets: dict[str, tuple[User, float]] = {}
        os.close(os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600))  # made private, never world-readable
        os.chmod(self.path, 0o600)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30.0)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)
        for suffix in ("-wal", "-shm"):  # SQLite copies the database's mode; made sure of here
            side = self.path.with_name(self.path.name + suffix)
            if side.exists():
                os.chmod(side, 0o600)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- users ------------------------------------------------------------------------------------
    def ensure_first_admin(self) -> FirstAdmin | None:
        """Make the first admin when there is no user at all. While that admin has never logged
        in (no token, no spent one-time secret), each call issues a fresh one-time secret and TOTP
        secret in place of the old ones (a lost first login is recovered by a restart).
        ``None`` once the first admin has logged in, or when other users exist and it does not."""
        with self._lock:
            users = self._db.execute("SELECT COUNT(*) FROM users").fetchone()[0]
            if users:
                if not self._never_logged_in(FIRST_ADMIN):
                    return None
                return self._reissue(FIRST_ADMIN, "first start again: the first admin never logged in")
            secret, totp = secrets.token_urlsafe(24), pyotp.random_base32()
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.execute(
                    "INSERT INTO users (name, role, totp_secret, created_at, created_by) VALUES (?,?,?,?,?)",
                    (FIRST_ADMIN, "admin", totp, _now(), "first start"),
                )
                self._db.execute(
                    "INSERT INTO one_time_secrets (hash, user, created_at) VALUES (?,?,?)",
                    (_hash(secret), FIRST_ADMIN, _now()),
                )
        uri = pyotp.TOTP(totp).provisioning_uri(name=FIRST_ADMIN, issuer_name=ISSUER)
        return FirstAdmin(FIRST_ADMIN, secret, totp, uri)

    def _never_logged_in(self, name: str) -> bool:
        """(Lock held) ``name`` exists and has neither a token nor a spent one-time secret."""
        if not self._db.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
            return False
        tokens = self._db.execute("SELECT COUNT(*) FROM tokens WHERE user = ?", (name,)).fetchone()[0]
        spent = self._db.execute(
            "SELECT COUNT(*) FROM one_time_secrets WHERE user = ? AND used_at IS NOT NULL", (name,)
        ).fetchone()[0]
        return not tokens and not spent

    def _reissue(self, name: str, why: str, *, reset_totp: bool = True) -> FirstAdmin:
        """(Lock held) A new one-time secret for ``name`` (its unspent ones are void from now)
        and, for an admin when ``reset_totp`` or it has none, a new TOTP secret (its codes so far
        are void too); audited."""
        role, had = self._db.execute("SELECT role, totp_secret FROM users WHERE name = ?", (name,)).fetchone()
        secret = secrets.token_urlsafe(24)
        totp = pyotp.random_base32() if role == "admin" and (reset_totp or not had) else ""
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("DELETE FROM one_time_secrets WHERE user = ? AND used_at IS NULL", (name,))
            self._db.execute(
                "INSERT INTO one_time_secrets (hash, user, created_at) VALUES (?,?,?)",
                (_hash(secret), name, _now()),
            )
            if totp:
                self._db.execute(
                    "UPDATE users SET totp_secret = ?, totp_last_step = 0 WHERE name = ?", (totp, name)
                )
            self._db.execute(
                "INSERT INTO audit (at, actor, role, method, path, status, reason, request_id)"
                " VALUES (?,?,?,?,?,?,?,?)",
                (_now(), "local", None, "LOCAL", f"reissue-secret/{name}", 0, why, secrets.token_hex(16)),
            )
        uri = pyotp.TOTP(totp).provisioning_uri(name=name, issuer_name=ISSUER) if totp else ""
        return FirstAdmin(name, secret, totp, uri)

    def reset_secret(self, name: str, reason: str, *, reset_totp: bool = False) -> FirstAdmin:
        """A fresh one-time secret for user ``name``, shown once; an admin keeps its working TOTP
        secret unless ``reset_totp`` (or it has none: then a fresh one, its URI in the answer).
        The user's unspent one-time secrets are void from now; audited as ``local`` (whoever can
        open the data folder has this authority). ``KeyError``: no such user."""
        if not reason.strip():
            raise ValueError("a reason is needed")
        with self._lock:
            if not self._db.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise KeyError(name)
            return self._reissue(name, reason.strip()[:500], reset_totp=reset_totp)

    def create_user(self, name: str, role: str, created_by: str) -> dict[str, Any]:
        """A new user with a first token (returned once) and, for admins, a TOTP secret."""
        if not isinstance(name, str) or not USERNAME.fullmatch(name):
            raise ValueError("a user name is 1-32 of a-z, 0-9, _ . - starting with a letter")
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        totp = pyotp.random_base32() if role == "admin" else None
        token = "ob_" + secrets.token_urlsafe(32)
        with self._lock:
            if self._db.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise FileExistsError(name)
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.execute(
                    "INSERT INTO users (name, role, totp_secret, created_at, created_by) VALUES (?,?,?,?,?)",
                    (name, role, totp, _now(), created_by),
                )
                self._db.execute(
                    "INSERT INTO tokens (hash, user, label, created_at) VALUES (?,?,?,?)",
                    (_hash(token), name, "first", _now()),
                )
        out: dict[str, Any] = {"name": name, "role": role, "token": token, "token_id": token_id(token)}
        if totp is not None:
            out["totp_uri"] = pyotp.TOTP(totp).provisioning_uri(name=name, issuer_name=ISSUER)
            out["totp_secret"] = totp
        return out

    def new_token(self, name: str, label: str) -> str:
        token = "ob_" + secrets.token_urlsafe(32)
        with self._lock:
            if not self._db.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise KeyError(name)
            self._db.execute(
                "INSERT INTO tokens (hash, user, label, created_at) VALUES (?,?,?,?)",
                (_hash(token), name, label, _now()),
            )
        return token

    def tokens(self, name: str) -> list[dict[str, Any]]:
        """A user's tokens (never their secrets): id, label, when made, whether revoked."""
        with self._lock:
            if not self._db.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise KeyError(name)
            rows = self._db.execute(
                "SELECT hash, label, created_at, revoked FROM tokens WHERE user = ?"
                " ORDER BY created_at, hash",
                (name,),
            ).fetchall()
        return [
            {"id": h[:16], "label": label, "created_at": at, "revoked": bool(revoked)}
            for h, label, at, revoked in rows
        ]

    def revoke_token(self, name: str, token_id: str) -> dict[str, Any]:
        """Revoke ``name``'s token ``token_id``. ``KeyError``: no such user or token;
        ``AuthError`` (409): already revoked, or the last live token of the last admin."""
        if not TOKEN_ID.match(token_id):
            raise KeyError(token_id)
        with self._lock:
            rows = self._db.execute(
                "SELECT t.hash, t.revoked, u.role FROM tokens t JOIN users u ON u.name = t.user"
                " WHERE t.user = ? AND substr(t.hash, 1, 16) = ?",
                (name, token_id),
            ).fetchall()
            if len(rows) != 1:
                raise KeyError(token_id)
            token_hash, revoked, role = rows[0]
            if revoked:
                raise AuthError(f"token {token_id} of {name} is already revoked", 409)
            if role == "admin":
                others = self._db.execute(
                    "SELECT COUNT(*) FROM tokens t JOIN users u ON u.name = t.user"
                    " WHERE u.role = 'admin' AND t.revoked = 0 AND t.hash != ?",
                    (token_hash,),
                ).fetchone()[0]
                if not others:
                    raise AuthError("that is the last live admin token: no admin could sign in", 409)
            self._db.execute("UPDATE tokens SET revoked = 1 WHERE hash = ?", (token_hash,))
        return {"user": name, "id": token_id, "revoked": True}

    def users(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT u.name, u.role, u.created_at, u.created_by,"
                " (SELECT COUNT(*) FROM tokens t WHERE t.user = u.name AND t.revoked = 0)"
                " FROM users u ORDER BY u.name"
            ).fetchall()
        keys = ("name", "role", "created_at", "created_by", "tokens")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    # -- credentials --------------------------------------------------------------------------------
    def authenticate(self, token: str) -> User:
        if not token or len(token) > 256:
            raise AuthError("a bearer token is needed")
        with self._lock:
            row = self._db.execute(
                "SELECT u.name, u.role FROM tokens t JOIN users u ON u.name = t.user"
                " WHERE t.hash = ? AND t.revoked = 0",
                (_hash(token),),
            ).fetchone()
        if row is None:
            raise AuthError("unknown or revoked token")
        return User(row[0], row[1])

    def login(self, secret: str, username: str | None = None, *, mint: bool = True) -> tuple[User, str]:
        """Exchange a one-time secret (spent now) or check a token; returns the user and a token
        (``""`` for a one-time secret when not ``mint``: a browser's session needs none)."""
        if not secret or len(secret) > 256:
            raise AuthError("a secret or token is needed")
        with self._lock:
            row = self._db.execute(
                "SELECT o.user, u.role, o.used_at FROM one_time_secrets o JOIN users u ON u.name = o.user"
                " WHERE o.hash = ?",
                (_hash(secret),),
            ).fetchone()
            if row is not None:
                if row[2] is not None:
                    raise AuthError("this one-time secret was already used")
                if username is not None and username != row[0]:
                    raise AuthError("unknown user or secret")
                token = "ob_" + secrets.token_urlsafe(32)
                with self._db:
                    self._db.execute("BEGIN IMMEDIATE")
                    spent = self._db.execute(
                        "UPDATE one_time_secrets SET used_at = ? WHERE hash = ? AND used_at IS NULL",
                        (_now(), _hash(secret)),
                    ).rowcount
                    if spent != 1:
                        raise AuthError("this one-time secret was already used")
                    if mint:
                        self._db.execute(
                            "INSERT INTO tokens (hash, user, label, created_at) VALUES (?,?,?,?)",
                            (_hash(token), row[0], "login", _now()),
                        )
                return User(row[0], row[1]), token if mint else ""
        user = self.authenticate(secret)
        if username is not None and username != user.name:
            raise AuthError("unknown user or secret")
        return user, secret

    def check_totp(self, user: User, code: str | None) -> None:
        """A current TOTP code of ``user``, never used before; raises ``AuthError`` (403)."""
        if not code:
            raise AuthError("this override needs a TOTP code (X-TOTP header or totp field)", 403)
        if not re.fullmatch(r"[0-9]{6}", code):
            raise AuthError("a TOTP code is 6 digits", 403)
        with self._lock:
            row = self._db.execute(
                "SELECT totp_secret, totp_last_step FROM users WHERE name = ?", (user.name,)
            ).fetchone()
            if row is None or not row[0]:
                raise AuthError(f"user {user.name} has no TOTP secret", 403)
            totp = pyotp.TOTP(row[0])
            now = self._clock()
            step_now = int(now // totp.interval)
            matched = next(
                (s for s in (step_now - 1, step_now, step_now + 1) if totp.at(s * totp.interval) == code),
                None,
            )
            if matched is None:
                raise AuthError("wrong or expired TOTP code", 403, guess=True)
            if matched <= row[1]:
                raise AuthError("this TOTP code was already used; wait for the next one", 403, guess=True)
            self._db.execute("UPDATE users SET totp_last_step = ? WHERE name = ?", (matched, user.name))

    # -- browser sessions and stream tickets --------------------------------------------------------
    def create_session(
        self, name: str, *, agent: str = "", address: str = "", ttl_s: float = SESSION_TTL_S
    ) -> tuple[str, str]:
        """A browser session for ``name`` (what the dashboard's httpOnly cookie holds), valid for
        ``ttl_s`` from now unless revoked; returns ``(secret, id)``. Stored as its sha256 only."""
        secret = "obs_" + secrets.token_urlsafe(32)
        now = self._clock()
        with self._lock:
            self._db.execute(
                "INSERT INTO sessions (hash, user, created_at, expires, last_seen, agent, address)"
                " VALUES (?,?,?,?,?,?,?)",
                (_hash(secret), name, _now(), now + ttl_s, now, safe_text(agent)[:200], address[:64]),
            )
        return secret, token_id(secret)

    def session_user(self, secret: str) -> User:
        """The user of a live, unexpired session; ``AuthError`` otherwise. Its ``last_seen`` is
        kept to the minute."""
        if not secret or len(secret) > 256:
            raise AuthError("no session")
        now = self._clock()
        with self._lock:
            row = self._db.execute(
                "SELECT u.name, u.role, s.expires, s.last_seen FROM sessions s"
                " JOIN users u ON u.name = s.user WHERE s.hash = ? AND s.revoked = 0",
                (_hash(secret),),
            ).fetchone()
            if row is None or row[2] <= now:
                raise AuthError("the session has ended or was revoked: sign in again")
            if now - row[3] > 60:
                self._db.execute("UPDATE sessions SET last_seen = ? WHERE hash = ?", (now, _hash(secret)))
        return User(row[0], row[1])

    def sessions(self, name: str) -> list[dict[str, Any]]:
        """``name``'s live sessions (newest first): id, made, expires, last seen, browser, address."""
        now = self._clock()
        with self._lock:
            rows = self._db.execute(
                "SELECT hash, created_at, expires, last_seen, agent, address FROM sessions"
                " WHERE user = ? AND revoked = 0 AND expires > ? ORDER BY created_at DESC",
                (name, now),
            ).fetchall()

        def iso(t: float) -> str:
            return datetime.fromtimestamp(t, UTC).isoformat(timespec="seconds")

        keys = ("created_at", "expires_at", "last_seen", "agent", "address")
        return [
            {"id": h[:16], **dict(zip(keys, (at, iso(exp), iso(seen), agent, addr), strict=True))}
            for h, at, exp, seen, agent, addr in rows
        ]

    def revoke_session(self, name: str, session_id: str) -> dict[str, Any]:
        """End ``name``'s session ``session_id`` now. ``KeyError``: no such live session."""
        if not TOKEN_ID.match(session_id):
            raise KeyError(session_id)
        with self._lock:
            done = self._db.execute(
                "UPDATE sessions SET revoked = 1 WHERE user = ? AND substr(hash, 1, 16) = ? AND revoked = 0",
                (name, session_id),
            ).rowcount
        if done != 1:
            raise KeyError(session_id)
        return {"user": name, "id": session_id, "revoked": True}

    def end_session(self, secret: str) -> bool:
        """Sign out: the session of ``secret`` is revoked (``False``: there was none live)."""
        with self._lock:
            return bool(
                self._db.execute(
                    "UPDATE sessions SET revoked = 1 WHERE hash = ? AND revoked = 0", (_hash(secret),)
                ).rowcount
            )

    def stream_ticket(self, user: User, ttl_s: float = TICKET_TTL_S) -> str:
        """A short-lived credential for the world stream's ``?token=`` (a browser signed in by
        cookie has no token to put in a URL); kept in memory only, valid ``ttl_s``."""
        ticket = "obt_" + secrets.token_urlsafe(24)
        now = self._clock()
        with self._lock:
            self._tickets = {h: v for h, v in self._tickets.items() if v[1] > now}
            self._tickets[_hash(ticket)] = (user, now + ttl_s)
        return ticket

    def ticket_user(self, ticket: str) -> User:
        with self._lock:
            found = self._tickets.get(_hash(ticket or ""))
        if found is None or found[1] <= self._clock():
            raise AuthError("unknown or expired stream ticket")
        return found[0]

    # -- audit ------------------------------------------------------------------------------------
    def audit(
        self,
        *,
        actor: str,
        role: str | None,
        method: str,
        path: str,
        status: int,
        reason: str | None,
        request_id: str,
    ) -> None:
        """One audit row. Text that is not valid Unicode (a lone surrogate from a refused body) is
        stored escaped, so the row of a refused write is always written."""
        texts = [None if v is None else safe_text(v) for v in (actor, role, method, path, reason, request_id)]
        with self._lock:
            self._db.execute(
                "INSERT INTO audit (at, actor, role, method, path, status, reason, request_id)"
                " VALUES (?,?,?,?,?,?,?,?)",
                (_now(), *texts[:4], status, *texts[4:]),
            )

    def audit_rows(self, limit: int = 200, request_id: str | None = None) -> list[dict[str, Any]]:
        query, args = "SELECT id, at, actor, role, method, path, status, reason, request_id FROM audit", []
        if request_id is not None:
            query += " WHERE request_id = ?"
            args.append(request_id)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY id DESC LIMIT ?", [*args, limit]).fetchall()
        keys = ("id", "at", "actor", "role", "method", "path", "status", "reason", "request_id")
        return [dict(zip(keys, r, strict=True)) for r in rows]


__all__ = [
    "ROLES",
    "SESSION_COOKIE",
    "AuthStore",
    "FirstAdmin",
    "User",
    "role_at_least",
    "token_id",
]
