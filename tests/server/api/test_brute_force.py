"""Guessing secrets and TOTP codes on a real server (uvicorn on a port, a real HTTP client), with
time driven by an injected clock: past a few failures an account, and past more an address, is
locked out (429 with ``Retry-After``) whatever it sends, the lockout is alerted (an audit row, a
feed ``security`` event), and it ends when its time is up."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pyotp
import pytest
import uvicorn

from ouroboros.server.api import ApiSettings
from ouroboros.server.gateway.throttle import LockoutPolicy

from .conftest import Live, start_live, wait_for

ACCOUNT = LockoutPolicy(max_failures=5, window_s=300, lockout_s=60, max_lockout_s=3600)
ADDRESS = LockoutPolicy(max_failures=20, window_s=300, lockout_s=60, max_lockout_s=3600)


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Live, httpx.Client, Clock]]:
    clock = Clock()
    settings = ApiSettings(account_lockout=ACCOUNT, address_lockout=ADDRESS)
    lives = start_live(tmp_path_factory.mktemp("guess"), settings, clock)
    live = next(lives)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(live.client.app, host="127.0.0.1", port=port, log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started, timeout_s=20)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=20) as http:
            yield live, http, clock
    finally:
        server.should_exit = True
        thread.join(20)
        next(lives, None)


def _admin(live: Live, name: str) -> tuple[dict[str, str], pyotp.TOTP]:
    made = live.auth.create_user(name, "admin", "test")
    return {"Authorization": f"Bearer {made['token']}"}, pyotp.TOTP(made["totp_secret"])


def _release(http: httpx.Client, headers: dict[str, str], code: str) -> httpx.Response:
    return http.post(
        "/api/killswitch/release", json={"world": "petri", "reason": "guess", "totp": code}, headers=headers
    )


def _wrong(totp: pyotp.TOTP, now: float, i: int) -> str:
    good = {totp.at(now + d) for d in (-30, 0, 30)}
    return next(c for c in (f"{(i * 7919 + k) % 1_000_000:06d}" for k in range(10)) if c not in good)


def _security_events(live: Live) -> list[dict[str, object]]:
    return [e for e in live.runtime.feed.recent(1000, 0) if e["kind"] == "security"]


def test_three_hundred_wrong_totp_codes_hit_a_lockout_that_ends(
    served: tuple[Live, httpx.Client, Clock],
) -> None:
    live, http, clock = served
    headers, totp = _admin(live, "mallory")
    statuses = [_release(http, headers, _wrong(totp, clock.now, i)).status_code for i in range(300)]
    assert statuses[:5] == [403] * 5
    assert set(statuses[5:]) == {429}  # no code is even checked while locked out
    locked = _release(http, headers, totp.at(clock.now))  # the right code too
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    alerts = [r for r in live.auth.audit_rows(1000) if r["method"] == "ALERT"]
    assert [r["path"] for r in alerts] == ["lockout/totp:mallory"]
    assert [e["key"] for e in _security_events(live)] == ["totp:mallory"]

    clock.now += 61  # the lockout is over; five more wrong codes lock again, for twice as long
    assert [_release(http, headers, _wrong(totp, clock.now, 1000 + i)).status_code for i in range(6)] == [
        *[403] * 5,
        429,
    ]
    clock.now += 61
    assert _release(http, headers, totp.at(clock.now)).status_code == 429
    clock.now += 60  # over: the right code works, and a success starts the count again
    assert _release(http, headers, totp.at(clock.now)).status_code == 200


def test_wrong_codes_across_accounts_lock_the_address(served: tuple[Live, httpx.Client, Clock]) -> None:
    live, http, clock = served
    for n in range(5):  # 4 wrong codes each: no account reaches its limit, the address does
        headers, totp = _admin(live, f"spray{n}")
        for i in range(4):
            _release(http, headers, _wrong(totp, clock.now, n * 10 + i))
    headers, totp = _admin(live, "innocent")
    assert _release(http, headers, totp.at(clock.now)).status_code == 429
    assert any(e["key"] == "address:127.0.0.1" for e in _security_events(live))


def test_three_hundred_login_guesses_hit_a_lockout_per_account_and_per_address(
    served: tuple[Live, httpx.Client, Clock],
) -> None:
    live, http, clock = served
    fresh = live.auth.reset_secret("viewer1", "a new secret for the test")
    statuses = [
        http.post("/api/auth/login", json={"username": "viewer1", "secret": f"guess-{i}"}).status_code
        for i in range(300)
    ]
    assert statuses[:5] == [401] * 5 and set(statuses[5:]) == {429}
    right = {"username": "viewer1", "secret": fresh.one_time_secret}
    assert http.post("/api/auth/login", json=right).status_code == 429  # even the right secret
    assert [r["path"] for r in live.auth.audit_rows(1000) if r["method"] == "ALERT"] == [
        "lockout/account:viewer1"
    ]

    clock.now += 61
    assert http.post("/api/auth/login", json=right).status_code == 200
    # guesses with no user name (or many user names) count against the address
    for i in range(20):
        http.post("/api/auth/login", json={"secret": f"token-guess-{i}"})
    assert http.post("/api/auth/login", json={"secret": live.tokens["operator"]}).status_code == 429
    assert any(e["key"] == "address:127.0.0.1" for e in _security_events(live))


def test_parallel_guesses_get_no_more_tries_than_one(served: tuple[Live, httpx.Client, Clock]) -> None:
    http = served[1]
    base = str(http.base_url)

    def guess(i: int, out: list[int]) -> None:
        with httpx.Client(base_url=base, timeout=20) as mine:
            out.append(
                mine.post("/api/auth/login", json={"username": "operator1", "secret": f"p{i}"}).status_code
            )

    results: list[int] = []
    threads = [threading.Thread(target=guess, args=(i, results)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results.count(401) <= 5 and results.count(429) >= 35
