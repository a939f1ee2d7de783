"""Login with the one-time secret (once only), users and tokens, TOTP on overrides (replay refused),
and the audit: every write is a row with its actor, reason and request id."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ouroboros.server.api import AuthError, AuthStore

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
    assert store.ensure_first_admin() is None  # a second start prints nothing
    user, token = store.login(first.one_time_secret)
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
    later = totp.at(time.time() + 60)
    assert live.auth.check_totp  # an operator may not release even with a good code
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
