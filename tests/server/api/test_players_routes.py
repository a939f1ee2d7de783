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


def test_players_in_a_stopped_city_are_told_once_and_their_commands_answered(live: Live) -> None:
    r = live.runtime.runner("neon")
    seen: list[str] = []
    with r.lock:
        r.game.subscribe(
            lambda name, events: seen.extend(e.get("text", "") for e in events) if name == "Zed" else None
        )
        r.game.enter("Zed")
    wait_for(lambda: _room_of(live, "Zed") is not None)
    op = live.headers("operator")
    stop = live.client.post("/api/control/stop", json={"world": "neon", "reason": "maintenance"}, headers=op)
    assert stop.status_code == 200 and stop.json()["worlds"] == ["neon"]
    try:
        wait_for(lambda: any("The city freezes" in t for t in seen))
        assert live.runtime.runner("petri").paused.is_set() is False  # STOP is per world
        assert [t for t in seen if "The city freezes" in t] == [
            "The city freezes: its operators pressed STOP (maintenance). Nothing moves until GO."
        ]
        with r.lock:
            r.game.command("Zed", "look")
        assert "The city is frozen until GO: nothing was done. Try again then." in seen
    finally:
        assert (
            live.client.post(
                "/api/control/go", json={"world": "neon", "reason": "done"}, headers=op
            ).status_code
            == 200
        )
    wait_for(lambda: any("The city moves again" in t for t in seen))
    assert sum("The city freezes" in t for t in seen) == 1


def test_what_players_say_with_feedback_reaches_the_api_newest_first(live: Live) -> None:
    r = live.runtime.runner("neon")
    with r.lock:
        r.game.enter("Quill")
    wait_for(lambda: _room_of(live, "Quill") is not None)
    with r.lock:
        r.game.command("Quill", "feedback the lift in the tower is broken")
        r.game.command("Quill", "feedback love the rain and the noodle bars")
    view = lambda: live.client.get("/api/worlds/neon/feedback", headers=live.headers("viewer")).json()  # noqa: E731
    wait_for(lambda: view()["total"] >= 2)
    got = view()
    assert [e["category"] for e in got["entries"][:2]] == ["praise", "bug"]  # newest first
    assert got["entries"][0]["player"] == "Quill" and got["entries"][0]["sentiment"] > 0
    assert got["by_category"]["bug"] >= 1 and got["by_category"]["praise"] >= 1
    viewer = live.headers("viewer")
    assert live.client.get("/api/worlds/neon/feedback?limit=501", headers=viewer).status_code == 422
    assert live.client.get("/api/worlds/petri/feedback", headers=viewer).status_code in (404, 422)
    shown = live.client.get("/api/worlds/neon/players/Quill", headers=live.headers("viewer")).json()
    assert shown["level"] == 1 and shown["challenge"] == "fine"
