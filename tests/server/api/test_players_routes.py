"""The city's players through the admin API: an operator lists them, looks one up and moves a
stuck one (audited, the player told why); an unknown player or room is a 404 and changes nothing."""

from __future__ import annotations

from typing import Any

from ouroboros.worlds.neon import find_player
from ouroboros.worlds.neon.city import state

from .conftest import Live, wait_for

TARGET = "neon.room.market_hall_floor"


def _room_of(live: Live, name: str) -> str | None:
    r = live.runtime.runner("neon")
    with r.lock:
        entity = find_player(r.world, name)
        if entity is None:
            return None
        return str(state(r.world)["room_ids"][r.world.get(entity, "Place")["room"]])


def test_an_operator_lists_shows_and_moves_a_player_who_is_told_why(live: Live) -> None:
    r = live.runtime.runner("neon")
    seen: list[dict[str, Any]] = []
    with r.lock:
        r.game.subscribe(lambda name, events: seen.extend(events) if name == "Wren" else None)
        r.game.enter("Wren")
    wait_for(lambda: _room_of(live, "Wren") is not None)
    listed = live.client.get("/api/worlds/neon/players", headers=live.headers("viewer"))
    assert listed.status_code == 200 and "Wren" in [p["name"] for p in listed.json()]
    shown = live.client.get("/api/worlds/neon/players/Wren", headers=live.headers("viewer")).json()
    assert shown["online"] is True and shown["room"] == "neon.room.st_10_10" and shown["exits"]

    body = {"room": TARGET, "reason": "stuck behind a glitch door"}
    assert live.client.post("/api/worlds/neon/players/Wren/move", json=body,
                            headers=live.headers("viewer")).status_code == 403  # fmt: skip
    moved = live.client.post(
        "/api/worlds/neon/players/Wren/move", json=body, headers=live.headers("operator")
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["from"] == "neon.room.st_10_10" and moved.json()["to"] == TARGET
    wait_for(lambda: _room_of(live, "Wren") == TARGET)
    wait_for(lambda: any("An operator (operator1) moves you to" in e.get("text", "") for e in seen))
    told = next(e["text"] for e in seen if "An operator" in e.get("text", ""))
    assert "stuck behind a glitch door" in told
    audit = live.client.get("/api/audit", headers=live.headers("admin")).json()
    row = next(a for a in audit if a["path"] == "/api/worlds/neon/players/Wren/move" and a["status"] == 200)
    assert row["actor"] == "operator1" and row["reason"] == "stuck behind a glitch door"


def test_an_unknown_player_or_room_is_a_404_and_nothing_moves(live: Live) -> None:
    r = live.runtime.runner("neon")
    with r.lock:
        r.game.enter("Yara")
    wait_for(lambda: _room_of(live, "Yara") is not None)
    before = _room_of(live, "Yara")
    op = live.headers("operator")
    nobody = live.client.post("/api/worlds/neon/players/Nobody/move", json={"room": TARGET, "reason": "x"},
                              headers=op)  # fmt: skip
    assert nobody.status_code == 404 and "Nobody" in nobody.json()["detail"]
    nowhere = live.client.post("/api/worlds/neon/players/Yara/move",
                               json={"room": "neon.room.nowhere", "reason": "x"}, headers=op)  # fmt: skip
    assert nowhere.status_code == 404 and "neon.room.nowhere" in nowhere.json()["detail"]
    assert live.client.get("/api/worlds/neon/players/Nobody", headers=op).status_code == 404
    assert live.client.get("/api/worlds/petri/players", headers=op).status_code == 422
    assert live.client.get("/api/worlds/moon/players", headers=op).status_code == 404
    with r.lock:
        r.step()  # a tick for anything wrongly queued to land
    assert _room_of(live, "Yara") == before
