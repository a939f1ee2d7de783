"""Restore says what it costs and keeps what it promises: a preview counts, per player, what a
restore would take; ``world_only`` keeps every character as it is now, ``everything`` puts it back
too; an automatic snapshot is taken first, and automatic snapshots are pruned by retention."""

from __future__ import annotations

from ouroboros.worlds.neon import find_player

from .conftest import Live, new_admin, wait_for


def _xp(live: Live, name: str) -> int | None:
    r = live.runtime.runner("neon")
    with r.lock:
        entity = find_player(r.world, name)
        return None if entity is None else int(r.world.get(entity, "Player")["xp"])


def _earn(live: Live, name: str, xp: int) -> None:
    r = live.runtime.runner("neon")
    with r.lock:  # between two ticks, as a fight's reward would land
        entity = find_player(r.world, name)
        assert entity is not None
        r.world.set(entity, "Player", xp=xp)


def test_world_only_keeps_characters_everything_takes_them_back_and_the_preview_says_so(live: Live) -> None:
    r = live.runtime.runner("neon")
    with r.lock:
        r.game.enter("Rhea")
    wait_for(lambda: _xp(live, "Rhea") is not None)
    op = live.headers("operator")
    snap = live.client.post(
        "/api/snapshots", headers=op, json={"world": "neon", "label": "before", "reason": "r"}
    )
    assert snap.status_code == 200, snap.text
    snap_id = snap.json()["id"]
    _earn(live, "Rhea", 750)

    url = f"/api/snapshots/{snap_id}/restore-preview?world=neon"
    everything = live.client.get(f"{url}&mode=everything", headers=live.headers("viewer")).json()
    (rhea,) = [p for p in everything["players"] if p["player"] == "Rhea"]
    assert rhea["xp"] == 750 and rhea["character_lost"] is False
    assert everything["totals"]["xp"] >= 750
    world_only = live.client.get(f"{url}&mode=world_only", headers=live.headers("viewer")).json()
    assert world_only["totals"] == {"xp": 0, "credits": 0, "items": 0, "jobs": 0, "characters_lost": 0}
    assert live.client.get(f"{url}&mode=half", headers=op).status_code == 422
    assert live.client.get("/api/snapshots/0000000000-deadbeef/restore-preview?world=neon",
                           headers=op).status_code == 404  # fmt: skip

    admin, totp = new_admin(live, "restorer1")
    body = {"world": "neon", "reason": "undo the storm", "totp": totp.now()}
    kept = live.client.post(f"/api/snapshots/{snap_id}/restore?mode=world_only", headers=admin, json=body)
    assert kept.status_code == 200, kept.text
    assert kept.json()["mode"] == "world_only" and kept.json()["totals"]["xp"] == 0
    wait_for(lambda: _xp(live, "Rhea") == 750)  # her character kept, back online
    autos = [
        s for s in live.client.get("/api/snapshots?world=neon", headers=op).json() if s["kind"] == "auto"
    ]
    assert any(s["id"] == kept.json()["auto_snapshot"] and "before restoring" in s["label"] for s in autos)

    admin2, totp2 = new_admin(live, "restorer2")
    body = {"world": "neon", "reason": "all of it", "totp": totp2.now()}
    back = live.client.post(f"/api/snapshots/{snap_id}/restore?mode=everything", headers=admin2, json=body)
    assert back.status_code == 200, back.text
    assert any(p["player"] == "Rhea" and p["xp"] == 750 for p in back.json()["cost"])
    wait_for(lambda: _xp(live, "Rhea") == 0)


def test_automatic_snapshots_keep_the_last_k_and_one_a_day(live: Live) -> None:
    r = live.runtime.runner("neon")
    made = [r.snapshots.auto(f"test {i}", "test")["id"] for i in range(8)]
    autos = sorted(s["id"] for s in r.snapshots.entries() if s["kind"] == "auto")
    keep = r.options.auto_snapshot_keep_last
    assert set(made[-keep:]) <= set(autos) and not set(made[: len(made) - keep]) & set(autos)
    assert len(autos) == keep  # all taken today: the day's newest is among the last K


def test_an_expansion_and_a_rollback_over_two_versions_are_snapshotted_first(live: Live) -> None:
    from ouroboros.ai.proposals import ProposalType

    r = live.runtime.runner("neon")
    op = live.headers("operator")

    def autos() -> list[dict[str, object]]:
        return [s for s in r.snapshots.entries() if s["kind"] == "auto"]

    approved = []
    for kind, seed in ((ProposalType.WORLD_EXPANSION, 3), (ProposalType.ITEM, 4)):
        record = r.call(lambda kind=kind, seed=seed: r.council.propose(kind, seed, queue=True, actor="test"))
        before = {s["id"] for s in autos()}
        verdict = live.client.post(f"/api/queue/{record['proposal_id']}/approve", headers=op,
                                   json={"world": "neon", "reason": "grow"})  # fmt: skip
        assert verdict.status_code == 200 and verdict.json()["proposal_state"] == "active", verdict.text
        new = [s for s in autos() if s["id"] not in before]
        if kind == ProposalType.WORLD_EXPANSION:
            assert [str(s["label"]) for s in new] == [f"auto: WORLD_EXPANSION {record['proposal_id']}"]
        else:
            assert new == []  # an item is not a high-risk change
        approved.append(record["proposal_id"])
    before = {s["id"] for s in autos()}
    back = live.client.post(
        "/api/rollback", headers=op, json={"world": "neon", "reason": "too much", "to_base": True}
    )
    assert back.status_code == 200, back.text
    assert [s["label"] for s in autos() if s["id"] not in before] == [
        "auto: before a rollback over 2 versions"
    ]


def test_after_a_restore_proposals_newer_than_the_snapshot_say_what_became_of_them(live: Live) -> None:
    from ouroboros.ai.proposals import ProposalType

    r = live.runtime.runner("neon")
    op = live.headers("operator")
    snap = r.snapshots.create("before the blade", "test")
    record = r.call(lambda: r.council.propose(ProposalType.ITEM, 77, queue=True, actor="test"))
    approved = live.client.post(f"/api/queue/{record['proposal_id']}/approve", headers=op,
                                json={"world": "neon", "reason": "ok"})  # fmt: skip
    assert approved.json()["proposal_state"] == "active", approved.text
    admin, totp = new_admin(live, "restorer3")
    body = {"world": "neon", "reason": "back", "totp": totp.now()}
    done = live.client.post(f"/api/snapshots/{snap['id']}/restore?mode=world_only", headers=admin, json=body)
    assert done.status_code == 200, done.text
    (told,) = [p for p in done.json()["proposals"] if p["proposal_id"] == record["proposal_id"]]
    assert told["state"] == "active" and told["became"].startswith(f"kept after restoring {snap['id']}")
    queued = live.client.get("/api/queue?world=neon", headers=op).json()
    (row,) = [p for p in queued if p["proposal_id"] == record["proposal_id"]]
    assert row["state"] == "active" and row["reason"] == told["became"]
