"""A live runtime on a temporary data folder (a small petri dish and the neon city, gateways on
free ports) with its admin API in a ``TestClient``, and a token for every role."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ouroboros.server.api import ApiSettings, AuthStore, FirstAdmin, create_app
from ouroboros.server.runtime import Runtime, RuntimeOptions

FAST_BUDGETS = {"warmup_ticks": 3, "determinism_ticks": 4, "shadow_ticks": 8, "canary_ticks": 4}
OPTIONS = RuntimeOptions(
    ticks_per_second=20,
    petri_config={"entities": 60},
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


def start_live(data: Path, settings: ApiSettings | None = None) -> Iterator[Live]:
    runtime = Runtime(data, options=OPTIONS)
    auth = AuthStore(data)
    first = auth.ensure_first_admin()
    assert first is not None
    app = create_app(runtime, settings=settings, auth=auth)
    runtime.start()
    try:
        with TestClient(app) as client:
            login = client.post("/api/auth/login", json={"secret": first.one_time_secret})
            assert login.status_code == 200, login.text
            tokens = {"admin": login.json()["token"]}
            for role in ("viewer", "operator"):
                tokens[role] = auth.create_user(f"{role}1", role, "test")["token"]
            yield Live(runtime, auth, client, first, tokens)
    finally:
        runtime.stop()
        auth.close()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    yield from start_live(tmp_path_factory.mktemp("live"))
