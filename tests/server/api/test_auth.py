"""Login with the one-time secret (once only), users and tokens, TOTP on overrides (replay refused),
and the audit: every write is a row with its actor, reason and request id."""

from __future__ import annotations

import os
import re
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ouroboros.errors import AuthError
from ouroboros.server.api import AuthStore

from .conftest import Live


@pytest.fixture
def store(tmp_path: Path) -> Iterator[AuthStore]:
    auth = AuthStore(tmp_path)
    yield auth
    auth.close()


def test_the_first_admin_is_made_once_and_the_secret_works_once(store: AuthStore, tmp_path: Path) -> None:
    first = store.ensure_first_admin()
    assert first is not None and first.username == "admin"
    assert first.totp_uri.startswith("otpauth://totp/ouroboros:admin?secret=")
    user, token = store.login(first.one_time_secret)
    assert store.ensure_first_admin() is None  # once the admin has logged in, a start prints nothing
    assert (user.name, user.role) == ("admin", "admin") and token != first.one_time_secret
    assert store.authenticate(token).name == "admin"
    with pytest.raises(AuthError, match="already used"):
        store.login(first.one_time_secret)
    # secrets and tokens are kept hashed only
    raw = (tmp_path / "server.sqlite3").read_bytes()
    assert first.one_time_secret.encode() not in raw and token.encode() not in raw


def test_totp_codes_are_checked_and_never_accepted_twice(store: AuthStore) -> None:
    first = store.ensure_first_admin()
    assert first is not None
    admin = store.login(first.one_time_secret)[0]
    totp = pyotp.TOTP(first.totp_secret)
    now = time.time()
    with pytest.raises(AuthError, match="needs a TOTP"):
        store.check_totp(admin, None)
    with pytest.raises(AuthError, match="6 digits"):
        store.check_totp(admin, "12ab56")
    wrong = f"{(int(totp.at(now)) + 1) % 1_000_000:06d}"
    with pytest.raises(AuthError, match="wrong or expired"):
        store.check_totp(admin, wrong)
    store.check_totp(admin, totp.at(now))
    with pytest.raises(AuthError, match="already used"):
        store.check_totp(admin, totp.at(now))
    with pytest.raises(AuthError, match="already used"):  # an older one neither
        store.check_totp(admin, totp.at(now - 30))
    store.check_totp(admin, totp.at(now + 30))  # the next step (clock drift) is fine, once


def test_users_and_tokens(live: Live) -> None:
    admin = live.headers("admin")
    made = live.client.post(
        "/api/users", headers=admin, json={"name": "carol", "role": "operator", "reason": "x"}
    )
    assert made.status_code == 200, made.text
    assert made.json()["role"] == "operator" and "totp_secret" not in made.json()
    carol = {"Authorization": f"Bearer {made.json()['token']}"}
    assert live.client.get("/api/auth/me", headers=carol).json() == {"user": "carol", "role": "operator"}
    assert live.client.get("/api/users", headers=carol).status_code == 403
    again = live.client.post(
        "/api/users", headers=admin, json={"name": "carol", "role": "viewer", "reason": "x"}
    )
    assert again.status_code == 409
    bad = live.client.post(
        "/api/users", headers=admin, json={"name": "Bad Name", "role": "viewer", "reason": "x"}
    )
    assert bad.status_code == 422
    second = live.client.post("/api/users/carol/tokens", headers=admin, json={"reason": "laptop"})
    assert second.status_code == 200
    assert live.auth.authenticate(second.json()["token"]).name == "carol"
    assert (
        live.client.post("/api/users/nobody/tokens", headers=admin, json={"reason": "x"}).status_code == 404
    )
    names = {u["name"]: u for u in live.client.get("/api/users", headers=admin).json()}
    assert names["carol"]["tokens"] == 2 and names["carol"]["created_by"] == "admin"
    # a token can be checked at login too (it is given back, never a new one)
    login = live.client.post("/api/auth/login", json={"secret": made.json()["token"], "username": "carol"})
    assert login.json()["token"] == made.json()["token"]
    assert (
        live.client.post(
            "/api/auth/login", json={"secret": made.json()["token"], "username": "x"}
        ).status_code
        == 401
    )


def test_an_override_needs_a_fresh_totp_and_a_refused_one_changes_nothing(live: Live) -> None:
    admin = live.headers("admin")
    totp = pyotp.TOTP(live.first.totp_secret)
    engaged = live.client.post(
        "/api/killswitch/engage", headers=admin, json={"world": "petri", "reason": "test"}
    )
    assert engaged.status_code == 200 and engaged.json()["petri"]["engaged"] is True
    body = {"world": "petri", "reason": "done testing"}
    refused = live.client.post("/api/killswitch/release", headers=admin, json=body)
    assert refused.status_code == 403 and "TOTP" in refused.json()["detail"]
    assert live.client.get("/api/killswitch", headers=admin).json()["petri"]["engaged"] is True
    code = totp.at(time.time() + 30)  # the next step: never used yet by any other test
    released = live.client.post("/api/killswitch/release", headers={**admin, "X-TOTP": code}, json=body)
    assert released.status_code == 200, released.text
    assert released.json()["petri"]["engaged"] is False
    live.client.post("/api/killswitch/engage", headers=admin, json={"world": "petri", "reason": "again"})
    replay = live.client.post("/api/killswitch/release", headers=admin, json={**body, "totp": code})
    assert replay.status_code == 403 and "already used" in replay.json()["detail"]
    assert live.client.get("/api/killswitch", headers=admin).json()["petri"]["engaged"] is True
    later = totp.at(time.time() + 60)  # an operator may not release even with a good code
    op = live.client.post(
        "/api/killswitch/release", headers={**live.headers("operator"), "X-TOTP": later}, json=body
    )
    assert op.status_code == 403
    live.runtime.runner("petri").call(
        lambda: live.runtime.runner("petri").governor.killswitch.set(False, "test", "cleanup")
    )


def test_every_write_is_audited_with_its_request_id(live: Live) -> None:
    admin = live.headers("admin", **{"X-Request-ID": "req-audit-1"})
    response = live.client.post(
        "/api/snapshots", headers=admin, json={"world": "petri", "reason": "before x"}
    )
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "req-audit-1"
    rows = live.client.get("/api/audit?request_id=req-audit-1", headers=live.headers("admin")).json()
    assert len(rows) == 1
    assert rows[0] | {"at": None, "id": None} == {
        "id": None,
        "at": None,
        "actor": "admin",
        "role": "admin",
        "method": "POST",
        "path": "/api/snapshots",
        "status": 200,
        "reason": "before x",
        "request_id": "req-audit-1",
    }
    # reads are not audited; a generated id comes back when none was sent
    read = live.client.get("/api/stats", headers=live.headers("viewer"))
    assert re.fullmatch(r"[0-9a-f]{32}", read.headers["x-request-id"])
    assert live.auth.audit_rows(5, read.headers["x-request-id"]) == []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=140))
def test_a_request_id_is_echoed_only_when_it_is_sane(live: Live, given_id: str) -> None:
    response = live.client.get("/health", headers={"X-Request-ID": given_id})
    echoed = response.headers["x-request-id"]
    if re.fullmatch(r"[A-Za-z0-9._-]{1,128}", given_id):
        assert echoed == given_id
    else:
        assert re.fullmatch(r"[0-9a-f]{32}", echoed)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=300))
def test_no_made_up_token_gets_in(live: Live, token: str) -> None:
    assert token not in live.tokens.values()
    response = live.client.get("/api/stats", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_an_admin_revokes_a_token_it_is_refused_from_then_on_and_the_revocation_is_audited(
    live: Live,
) -> None:
    admin = live.headers("admin")
    made = live.client.post(
        "/api/users", headers=admin, json={"name": "dave", "role": "viewer", "reason": "x"}
    )
    assert made.status_code == 200, made.text
    first, first_id = made.json()["token"], made.json()["token_id"]
    laptop = live.client.post(
        "/api/users/dave/tokens", headers=admin, json={"label": "laptop", "reason": "x"}
    )
    second, second_id = laptop.json()["token"], laptop.json()["id"]
    listed = live.client.get("/api/users/dave/tokens", headers=admin).json()
    assert [(t["id"], t["label"], t["revoked"]) for t in listed] == [
        (first_id, "first", False),
        (second_id, "laptop", False),
    ]
    assert first not in str(listed) and second not in str(listed)  # ids, never the tokens
    # refused: not an admin; no reason; a made-up, malformed or another user's id
    path = f"/api/users/dave/tokens/{second_id}/revoke"
    for role in ("viewer", "operator"):
        assert live.client.post(path, headers=live.headers(role), json={"reason": "x"}).status_code == 403
    assert live.client.post(path, headers=admin, json={}).status_code == 422
    for bad, status in (
        ("/api/users/dave/tokens/0123456789abcdef/revoke", 404),
        ("/api/users/dave/tokens/NOTHEX/revoke", 422),
        (f"/api/users/viewer1/tokens/{second_id}/revoke", 404),
        (f"/api/users/nobody/tokens/{second_id}/revoke", 404),
    ):
        assert live.client.post(bad, headers=admin, json={"reason": "x"}).status_code == status, bad
    dave = {"Authorization": f"Bearer {second}"}
    assert live.client.get("/api/auth/me", headers=dave).status_code == 200  # nothing changed yet
    # allowed: the token is refused from then on; the other one still works
    done = live.client.post(
        path, headers={**admin, "X-Request-ID": "revoke-1"}, json={"reason": "lost laptop"}
    )
    assert done.status_code == 200 and done.json() == {"user": "dave", "id": second_id, "revoked": True}
    refused = live.client.get("/api/auth/me", headers=dave)
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]
    assert live.client.post("/api/auth/login", json={"secret": second}).status_code == 401
    assert live.client.get("/api/auth/me", headers={"Authorization": f"Bearer {first}"}).status_code == 200
    again = live.client.post(path, headers=admin, json={"reason": "twice"})
    assert again.status_code == 409 and "already revoked" in again.json()["detail"]
    listed = live.client.get("/api/users/dave/tokens", headers=admin).json()
    assert [t["revoked"] for t in listed] == [False, True]
    assert {u["name"]: u["tokens"] for u in live.client.get("/api/users", headers=admin).json()}["dave"] == 1
    (row,) = live.auth.audit_rows(5, "revoke-1")
    assert (row["actor"], row["path"], row["status"], row["reason"]) == ("admin", path, 200, "lost laptop")


def test_the_last_live_admin_token_cannot_be_revoked(store: AuthStore) -> None:
    from ouroboros.server.api.auth import token_id

    first = store.ensure_first_admin()
    assert first is not None
    _, token = store.login(first.one_time_secret)
    with pytest.raises(AuthError, match="last live admin token") as refused:
        store.revoke_token("admin", token_id(token))
    assert refused.value.status == 409 and store.authenticate(token).name == "admin"
    other = store.create_user("root2", "admin", "admin")
    assert store.revoke_token("admin", token_id(token))["revoked"] is True
    with pytest.raises(AuthError, match="revoked"):
        store.authenticate(token)
    with pytest.raises(AuthError, match="last live admin token"):
        store.revoke_token("root2", other["token_id"])
    with pytest.raises(KeyError):
        store.revoke_token("root2", "not-an-id")


def test_the_secrets_database_is_its_owners_alone(tmp_path: Path) -> None:
    """``server.sqlite3`` holds TOTP secrets: the file, its WAL side files and the data folder
    are private whatever the umask says."""
    old = os.umask(0o022)
    try:
        data = tmp_path / "data"
        auth = AuthStore(data)
        auth.ensure_first_admin()
        auth.audit(actor="a", role=None, method="POST", path="/x", status=200, reason=None, request_id="r")
    finally:
        os.umask(old)
    try:
        assert stat.S_IMODE(data.stat().st_mode) == 0o700
        files = sorted(p.name for p in data.iterdir())
        assert {"server.sqlite3", "server.sqlite3-wal", "server.sqlite3-shm"} <= set(files), files
        for name in files:
            assert stat.S_IMODE((data / name).stat().st_mode) == 0o600, name
    finally:
        auth.close()


def test_a_lost_first_secret_is_replaced_at_the_next_start_until_the_admin_logs_in(tmp_path: Path) -> None:
    store = AuthStore(tmp_path)
    try:
        lost = store.ensure_first_admin()
        assert lost is not None
        store.create_user("viewer1", "viewer", "test")  # other users do not end the recovery
        fresh = store.ensure_first_admin()  # a restart: the admin never logged in
        assert fresh is not None and fresh.username == "admin"
        assert fresh.one_time_secret != lost.one_time_secret and fresh.totp_secret != lost.totp_secret
        with pytest.raises(AuthError):
            store.login(lost.one_time_secret)  # the old secret is void
        user, _ = store.login(fresh.one_time_secret)
        assert user.name == "admin"
        store.check_totp(user, pyotp.TOTP(fresh.totp_secret).now())  # the new TOTP is the one
        assert store.ensure_first_admin() is None  # logged in: nothing more is issued
        assert any(r["path"] == "reissue-secret/admin" for r in store.audit_rows(10))
    finally:
        store.close()


def test_reset_secret_issues_a_new_login_for_one_user(store: AuthStore) -> None:
    first = store.ensure_first_admin()
    assert first is not None
    admin, token = store.login(first.one_time_secret)
    with pytest.raises(KeyError):
        store.reset_secret("nobody", "lost it")
    with pytest.raises(ValueError):
        store.reset_secret("admin", "  ")
    kept = store.reset_secret("admin", "lost my login")  # the authenticator app still works
    assert kept.one_time_secret and kept.totp_secret == "" and kept.totp_uri == ""
    store.check_totp(admin, pyotp.TOTP(first.totp_secret).now())
    assert store.login(kept.one_time_secret)[0] == admin
    again = store.reset_secret("admin", "lost my phone", reset_totp=True)
    assert again.one_time_secret and again.totp_secret not in ("", first.totp_secret)
    with pytest.raises(AuthError):  # the old TOTP secret's codes are void
        store.check_totp(admin, pyotp.TOTP(first.totp_secret).at(time.time() + 30))
    assert store.login(again.one_time_secret)[0] == admin
    assert store.authenticate(token) == admin  # live tokens stay live
    store.create_user("op1", "operator", "test")
    op = store.reset_secret("op1", "new laptop")
    assert op.totp_secret == "" and store.login(op.one_time_secret)[0].name == "op1"
    rows = store.audit_rows(10)
    assert [(r["actor"], r["reason"]) for r in rows[:2]] == [
        ("local", "new laptop"),
        ("local", "lost my phone"),
    ]
