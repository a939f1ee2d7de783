"""A world run as shards (``go --shards neon=2``) through the admin API: a snapshot restore is
refused with one 409 that says what to do, audited, and nothing changes (no automatic snapshot,
no world put back); the players route lists every shard's characters with their shard, and the
world's health and stats answer from this process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ouroboros.server.api import AuthStore, create_app
from ouroboros.server.runtime import Runtime, RuntimeOptions
from ouroboros.worlds.neon import find_player

from .conftest import FAST_BUDGETS, wait_for


@pytest.fixture
def sharded(tmp_path: Path) -> Iterator[tuple[Runtime, AuthStore, TestClient]]:
    options = RuntimeOptions(ticks_per_second=20, telnet_port=0, ws_port=0, optimizer=False,
                             governance_budgets=FAST_BUDGETS, shards={"neon": 2})  # fmt: skip
    runtime = Runtime(tmp_path / "data", ["neon"], options)
    auth = AuthStore(tmp_path / "data")
    auth.ensure_first_admin()
    app = create_app(runtime, auth=auth)
    runtime.start()
    try:
        with TestClient(app) as client:
            yield runtime, auth, client
    finally:
        runtime.stop()
        auth.close()


def test_a_restore_of_a_sharded_world_is_one_audited_409_and_changes_nothing(
    sharded: tuple[Runtime, AuthStore, TestClient],
) -> None:
    import pyotp

    runtime, auth, client = sharded
    r = runtime.runner("neon")
    assert r.game is not None and r.shards is not None
    with r.lock:
        r.game.enter("Rhea")
        r.game.enter("Soren")  # the least loaded shard: neon-1
    wait_for(lambda: r.shards is not None and sum(len(h) for h in _holders(r).values()) == 2)
    op = {"Authorization": f"Bearer {auth.create_user('op1', 'operator', 'test')['token']}"}
    health = client.get("/health")  # a world of go --shards ticks here: no cluster control's view
    assert health.status_code == 200 and health.json()["worlds"]["neon"] > 0
    stats = client.get("/api/stats", headers=op).json()["worlds"]["neon"]
    assert [s["shard"] for s in stats["shards"]] == ["neon-0", "neon-1"]
    got = client.get("/api/worlds/neon/players", headers=op)
    assert got.status_code == 200, got.text
    listed = got.json()
    assert {p["name"]: p["shard"] for p in listed} == {"Rhea": "neon-0", "Soren": "neon-1"}
    assert client.get("/api/worlds/neon/players/Soren", headers=op).json()["shard"] == "neon-1"
    snap = client.post("/api/snapshots", headers=op, json={"world": "neon", "label": "before", "reason": "r"})
    assert snap.status_code == 200, snap.text
    snap_id = snap.json()["id"]
    with r.lock:
        entity = find_player(r.shards.worlds[1], "Soren")
        assert entity is not None
        r.shards.worlds[1].set(entity, "Player", xp=750)
    before = [s["id"] for s in r.snapshots.entries()]

    made = auth.create_user("admin2", "admin", "test")
    admin = {"Authorization": f"Bearer {made['token']}", "X-Request-Id": "restore-sharded-1"}
    body = {"world": "neon", "reason": "undo", "totp": pyotp.TOTP(made["totp_secret"]).now()}
    preview = client.get(f"/api/snapshots/{snap_id}/restore-preview?world=neon", headers=op)
    assert preview.status_code == 409 and "shard 0 only" in str(preview.json()["detail"]), preview.text
    refused = client.post(f"/api/snapshots/{snap_id}/restore", headers=admin, json=body)
    assert refused.status_code == 409, refused.text
    detail = str(refused.json()["detail"])
    assert "2 shards" in detail and "without --shards" in detail and "nothing was restored" in detail
    (row,) = auth.audit_rows(5, "restore-sharded-1")
    assert row["status"] == 409 and row["actor"] == "admin2"
    assert [s["id"] for s in r.snapshots.entries()] == before  # no automatic snapshot either
    with r.lock:
        assert int(r.shards.worlds[1].get(entity, "Player")["xp"]) == 750  # shard 1 untouched


def _holders(r: object) -> dict[str, list[str]]:
    shards = getattr(r, "shards", None)
    if shards is None or shards.characters is None:
        return {}
    with r.lock:  # type: ignore[attr-defined]
        return shards.characters.holders()
