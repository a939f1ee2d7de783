"""``ouroboros admin reset-secret``: a lost login is recovered from the data folder itself; the
new secret logs in once, the old ones do not; bad input is exit 2 with one line."""

from __future__ import annotations

import json
from pathlib import Path

import pyotp
import pytest

from ouroboros.errors import AuthError
from ouroboros.server.api.auth import AuthStore

from .conftest import ouroboros


def test_reset_secret_gives_a_new_login_and_voids_the_old(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = AuthStore(data)
    first = store.ensure_first_admin()
    assert first is not None
    store.create_user("op1", "operator", "test")
    store.close()
    done = ouroboros(
        "admin", "reset-secret", "--data", data, "--reason", "lost it", "--reset-totp", "--json", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["user"] == "admin" and doc["totp_uri"].startswith("otpauth://totp/ouroboros:admin")
    store = AuthStore(data)
    try:
        with pytest.raises(AuthError):
            store.login(first.one_time_secret)
        user, _ = store.login(doc["one_time_secret"])
        assert user.name == "admin"
        store.check_totp(user, pyotp.TOTP(doc["totp_secret"]).now())
        with pytest.raises(AuthError):
            store.login(doc["one_time_secret"])  # once
        assert store.audit_rows(1)[0]["reason"] == "lost it"
    finally:
        store.close()
    text = ouroboros("admin", "reset-secret", "--data", data, "--user", "op1", cwd=tmp_path)
    assert text.returncode == 0 and "one-time login for op1" in text.stdout and "TOTP" not in text.stdout


def test_reset_secret_names_the_user_positionally_and_keeps_a_working_totp(tmp_path: Path) -> None:
    import stat

    data = tmp_path / "data"
    store = AuthStore(data)
    first = store.ensure_first_admin()
    assert first is not None
    store.close()
    done = ouroboros("admin", "reset-secret", "admin", "--data", data, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "TOTP unchanged" in done.stdout and "otpauth://" not in done.stdout
    secret = done.stdout.split("(shown once): ")[1].split()[0]
    saved = data / "admin-login.txt"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600 and secret in saved.read_text()
    store = AuthStore(data)
    try:
        user, _ = store.login(secret)
        store.check_totp(user, pyotp.TOTP(first.totp_secret).now())  # the authenticator still works
    finally:
        store.close()
    both = ouroboros("admin", "reset-secret", "admin", "--user", "op1", "--data", data, cwd=tmp_path)
    assert both.returncode == 2 and "two users" in both.stderr


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--data", "nowhere"), "no such folder"),
        (("--data", "."), "server.sqlite3"),
        (("--user", "ghost"), "no user"),
        (("--reason", " "), "reason"),
    ],
)
def test_bad_input_is_exit_2_with_one_line(tmp_path: Path, args: tuple[str, ...], says: str) -> None:
    data = tmp_path / "data"
    AuthStore(data).close()
    full = ["--data", str(data), *args] if "--data" not in args else list(args)
    result = ouroboros("admin", "reset-secret", *full, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and says in lines[0], lines
    assert result.stdout == ""
