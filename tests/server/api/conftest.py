"""A live runtime on a temporary data folder (a small petri dish and the neon city, gateways on
free ports) with its admin API in a ``TestClient``, and a token for every role."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyotp
import pytest
from fastapi.testclient import TestClient

from ouroboros.server.api import ApiSettings, AuthStore, FirstAdmin, create_app
from ouroboros.server.runtime import Runtime, RuntimeOptions
from tests.patches.conftest import FAST_BUDGETS

OPTIONS = RuntimeOptions(
    ticks_per_second=20,
    world_configs={"petri": {"entities": 60}},
    telnet_port=0,
    ws_port=0,
    optimizer=False,
    governance_budgets=FAST_BUDGETS,
)


@dataclass
class Live:
    runtime: Runtime
    auth: AuthStore
    client: TestClient
    first: FirstAdmin
    tokens: dict[str, str]  # role -> token

    def headers(self, role: str | None, **extra: str) -> dict[str, str]:
        base = {} if role is None else {"Authorization": f"Bearer {self.tokens[role]}"}
        return {**base, **extra}


def start_live(
    data: Path, settings: ApiSettings | None = None, clock: Callable[[], float] = time.time
) -> Iterator[Live]:
    runtime = Runtime(data, options=OPTIONS)
    auth = AuthStore(data, clock=clock)
    first = auth.ensure_first_admin()
    assert first is not None
    app = create_app(runtime, settings=settings, auth=auth)
    runtime.start()
    try:
        with TestClient(app) as client:
            login = client.post("/api/auth/login", json={"secret": first.one_time_secret})
            assert login.status_code == 200, login.text
            tokens = {"admin": login.json()["token"]}
            client.cookies.clear()  # an API client, not a browser: each request names its token
            for role in ("viewer", "operator"):
                tokens[role] = auth.create_user(f"{role}1", role, "test")["token"]
            yield Live(runtime, auth, client, first, tokens)
    finally:
        runtime.stop()
        auth.close()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    yield from start_live(tmp_path_factory.mktemp("live"))


def new_admin(live: Live, name: str) -> tuple[dict[str, str], pyotp.TOTP]:
    """A fresh admin with its own TOTP secret (so each test's codes are its own to spend)."""
    made = live.auth.create_user(name, "admin", "test")
    return {"Authorization": f"Bearer {made['token']}"}, pyotp.TOTP(made["totp_secret"])


def wait_for(check: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)
