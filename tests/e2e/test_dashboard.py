"""The dashboard in a real browser against a real ``ouroboros go``: what an operator sees and does.

Each test is one thing an operator does, checked on the page and, where the page could lie, on
the API too: sign in, watch the dish move, STOP and GO, approve a queued proposal and roll it
back, engage the kill-switch and release it with a TOTP code. Screenshots: tests/e2e/artifacts/.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

import pyotp
import pytest

from tests.e2e.conftest import Server, shot

pytestmark = pytest.mark.slow


def wait_until(check: Callable[[], Any], what: str, timeout_s: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what} (last: {value!r})")
        time.sleep(0.1)


def tick_of(page: Any, world: str) -> int:
    text = page.get_by_test_id(f"tick-{world}").inner_text()
    return int(text)


def test_the_one_time_secret_works_once_and_a_bad_one_is_refused(
    page: Any, server: Server, browser: Any
) -> None:
    assert server.token.startswith("ob_")  # the page fixture signed in with the secret
    context = browser.new_context()
    other = context.new_page()
    try:
        other.goto(server.url + "/")
        other.get_by_test_id("login-secret").fill("not-a-secret")
        other.get_by_test_id("login-submit").click()
        assert other.get_by_test_id("login-error").inner_text().startswith("401")
        other.get_by_test_id("login-secret").fill(server.secret)  # already spent by the first login
        other.get_by_test_id("login-submit").click()
        other.get_by_test_id("login-error").filter(has_text="already used").wait_for()
        assert other.get_by_test_id("btn-stop-petri").count() == 0
        shot(other, "02-login-refused")
    finally:
        context.close()


def _canvas_hash(page: Any) -> str:
    return hashlib.sha256(page.get_by_test_id("petri-canvas").screenshot()).hexdigest()


def test_the_petri_dish_moves_on_the_canvas(page: Any) -> None:
    page.get_by_test_id("nav-live").click()
    canvas = page.get_by_test_id("petri-canvas")
    wait_until(lambda: int(canvas.get_attribute("data-draws") or 0) >= 3, "the dish's first frames drawn")
    assert int(canvas.get_attribute("data-entities") or 0) > 0
    # frames are offered after ticks only, so more frames drawn means the world ticked on
    first_draws = int(canvas.get_attribute("data-draws") or 0)
    first = _canvas_hash(page)
    shot(page, "03-dish-a")
    wait_until(
        lambda: int(canvas.get_attribute("data-draws") or 0) >= first_draws + 10, "ten more frames drawn"
    )
    second = _canvas_hash(page)
    shot(page, "04-dish-b")
    assert first != second, "the dish looks the same ten frames later"
    assert int(canvas.get_attribute("data-binary") or 0) > 0, "the dish came as binary frames"
    assert canvas.get_attribute("data-errors") == "0"
    assert int(canvas.get_attribute("data-tick") or -1) > 0, "a binary frame carries its tick"
    neon = page.get_by_test_id("neon-canvas")
    wait_until(lambda: int(neon.get_attribute("data-entities") or 0) > 0, "the city's players and NPCs")
    assert neon.get_attribute("data-binary") == "0" and neon.get_attribute("data-errors") == "0"


def _neon_refreshed(page: Any, times: int = 1) -> None:
    """Wait until the page has shown neon (never stopped here) tick on ``times`` times: what "a
    while later" means, whatever the machine's load."""
    for _ in range(times):
        before = tick_of(page, "neon")
        wait_until(lambda before=before: tick_of(page, "neon") > before, "neon's counter moving on")


def test_stop_freezes_the_tick_counter_and_go_moves_it_again(page: Any, server: Server) -> None:
    page.get_by_test_id("nav-control").click()
    wait_until(lambda: page.get_by_test_id("tick-petri").count() == 1, "the petri tick counter")
    page.get_by_test_id("btn-stop-petri").click()  # STOP is per world and asks to be confirmed
    wait_until(lambda: page.get_by_test_id("btn-stop-confirm-petri").count() == 1, "STOP armed")
    assert page.get_by_test_id("state-petri").inner_text() == "running"  # the first click only arms it
    page.get_by_test_id("btn-stop-confirm-petri").click()
    wait_until(lambda: page.get_by_test_id("state-petri").inner_text() == "stopped", "petri shown stopped")
    assert page.get_by_test_id("state-neon").inner_text() == "running"
    _neon_refreshed(page)  # a tick under way when STOP came has ended by the next refresh
    stopped_at = tick_of(page, "petri")
    _neon_refreshed(page, times=2)
    assert tick_of(page, "petri") == stopped_at
    assert server.api("GET", "/api/stats").json()["worlds"]["petri"]["tick"] == stopped_at
    shot(page, "05-stopped")
    page.get_by_test_id("btn-go-petri").click()
    wait_until(lambda: page.get_by_test_id("state-petri").inner_text() == "running", "petri shown running")
    wait_until(lambda: tick_of(page, "petri") > stopped_at + 5, "the tick counter moving after GO")
    shot(page, "06-go")


def _queue_a_proposal(server: Server, seed: int = 4242) -> str:
    """One item proposal queued for a person by the running council, through the API an operator
    uses (``POST /api/queue/propose``), then listed in the queue as waiting."""
    reply = server.api(
        "POST",
        "/api/queue/propose",
        json={"world": "neon", "type": "ITEM", "seed": seed, "reason": "e2e: a proposal to approve"},
    )
    assert reply.status_code == 201, (
        reply.status_code,
        reply.text,
        server.api("GET", "/api/killswitch").text,
    )
    assert reply.json()["state"] == "queued", reply.json()
    proposal_id = str(reply.json()["proposal_id"])
    listed = {i["proposal_id"]: i for i in server.api("GET", "/api/queue?world=neon").json()}
    assert listed[proposal_id]["state"] == "queued", listed.get(proposal_id)
    return proposal_id


def test_approve_a_queued_proposal_then_roll_it_back(page: Any, server: Server) -> None:
    proposal_id = _queue_a_proposal(server)
    page.get_by_test_id("world-select").select_option("neon")
    page.get_by_test_id("nav-queue").click()
    item = page.get_by_test_id(f"queue-item-{proposal_id}")
    item.wait_for()
    assert item.get_attribute("data-state") == "queued"
    item.get_by_test_id("queue-diff").locator("summary").click()
    item.get_by_test_id("diff").first.wait_for()
    shot(page, "07-queued")
    item.get_by_test_id("queue-approve").click()
    wait_until(lambda: item.get_attribute("data-state") == "active", "the proposal active", 30)
    shot(page, "08-approved")
    listed = {i["proposal_id"]: i for i in server.api("GET", "/api/queue?world=neon").json()}
    patch_id = listed[proposal_id]["patch_id"]
    assert patch_id

    page.get_by_test_id("nav-ledger").click()
    active = page.get_by_test_id("ledger-active")
    wait_until(lambda: active.inner_text() == patch_id, "the ledger's active version to be the patch")
    page.get_by_test_id("ledger-rollback").click()
    shot(page, "09-rollback-armed")
    assert active.inner_text() == patch_id  # the first click only arms it
    page.get_by_test_id("ledger-rollback-confirm").click()
    wait_until(lambda: active.inner_text() != patch_id, "the rollback to leave the patch", 30)
    pointer = server.api("GET", "/api/ledger?world=neon").json()["pointer"]
    assert pointer["active"] != patch_id
    shot(page, "10-rolled-back")


def test_kill_switch_engages_and_needs_a_totp_code_to_release(page: Any, server: Server) -> None:
    page.get_by_test_id("nav-control").click()
    state = page.get_by_test_id("killswitch-state")
    # the first read waits on every world's control thread (an evolution cycle may hold petri's)
    wait_until(lambda: state.inner_text() in ("released", "ENGAGED"), "the kill-switch state shown", 45)
    assert state.inner_text() == "released", (state.inner_text(), server.api("GET", "/api/killswitch").text)
    page.get_by_test_id("btn-killswitch-engage").click()
    wait_until(lambda: state.inner_text() == "ENGAGED", "the kill-switch shown engaged")
    switches = server.api("GET", "/api/killswitch").json()
    assert all(s["engaged"] for s in switches.values()), switches
    shot(page, "11-killswitch-engaged")

    totp = pyotp.parse_uri(server.totp_uri)
    assert isinstance(totp, pyotp.TOTP)
    wrong = f"{(int(totp.now()) + 1) % 1_000_000:06d}"
    page.get_by_test_id("btn-killswitch-release").click()
    page.get_by_test_id("killswitch-release-code").fill(wrong)
    page.get_by_test_id("killswitch-release-submit").click()
    page.get_by_test_id("control-status").filter(has_text="403").wait_for()
    assert state.inner_text() == "ENGAGED"
    shot(page, "12-release-refused")

    page.get_by_test_id("killswitch-release-code").fill(totp.now())
    page.get_by_test_id("killswitch-release-submit").click()
    wait_until(lambda: state.inner_text() == "released", "the kill-switch released")
    switches = server.api("GET", "/api/killswitch").json()
    assert not any(s["engaged"] for s in switches.values()), switches
    shot(page, "13-killswitch-released")


def test_take_a_snapshot_then_delete_it_after_a_second_click(page: Any, server: Server) -> None:
    page.get_by_test_id("world-select").select_option("petri")
    page.get_by_test_id("nav-snapshots").click()
    page.get_by_test_id("snapshot-label").fill("before the experiment")
    page.get_by_test_id("snapshot-create").click()
    row = page.locator("[data-testid^='snapshot-0']").filter(has_text="before the experiment")
    row.wait_for()
    (snap,) = [
        s
        for s in server.api("GET", "/api/snapshots?world=petri").json()
        if s["label"] == "before the experiment"
    ]
    assert row.get_attribute("data-testid") == f"snapshot-{snap['id']}"
    shot(page, "14-snapshot")
    row.get_by_test_id("snapshot-delete").click()
    listed = server.api("GET", "/api/snapshots?world=petri").json()
    assert any(s["id"] == snap["id"] for s in listed)  # the first click only arms it
    row.get_by_test_id("snapshot-delete-confirm").click()
    row.wait_for(state="detached")
    assert all(s["id"] != snap["id"] for s in server.api("GET", "/api/snapshots?world=petri").json())


def test_the_guardrails_editor_saves_a_budget_and_refuses_a_bad_one(page: Any, server: Server) -> None:
    page.get_by_test_id("nav-guardrails").click()
    field = page.get_by_test_id("guardrail-jobs_per_minute")
    field.fill("4")
    page.get_by_test_id("guardrails-save").click()
    page.get_by_test_id("guardrails-status").filter(has_text="done").wait_for()
    assert server.api("GET", "/api/guardrails").json()["jobs_per_minute"] == 4
    field.fill("-5")
    page.get_by_test_id("guardrails-save").click()
    page.get_by_test_id("guardrails-status").filter(has_text="422").wait_for()
    assert server.api("GET", "/api/guardrails").json()["jobs_per_minute"] == 4
    shot(page, "15-guardrails")


def test_a_slider_moves_the_director_and_the_log_says_why(page: Any, server: Server) -> None:
    page.get_by_test_id("world-select").select_option("neon")
    page.get_by_test_id("nav-control").click()
    slider = page.get_by_test_id("slider-chaos")
    slider.wait_for()
    before = int(server.api("GET", "/api/director?world=neon").json()["sliders"]["chaos"])
    slider.focus()
    page.keyboard.press("ArrowRight" if before < 100 else "ArrowLeft")  # the key-up commits it
    expected = before + 1 if before < 100 else before - 1
    wait_until(
        lambda: server.api("GET", "/api/director?world=neon").json()["sliders"]["chaos"] == expected,
        "the director's chaos slider set through the page",
    )
    page.get_by_test_id("director-status").filter(has_text="done").wait_for()
    shot(page, "16-director")

    page.get_by_test_id("nav-director").click()
    log = page.get_by_test_id("director-log")
    log.get_by_test_id("director-decision").filter(has_text="set chaos from the dashboard").first.wait_for()
    decisions = server.api("GET", "/api/director?world=neon").json()["decisions"]
    for d in decisions[:3]:  # the director's own decisions, each with its why
        assert d["why"]
        log.get_by_test_id("director-decision").filter(has_text=f"tick {d['tick']}").first.wait_for()
    shot(page, "17-director-log")


def test_the_charts_plot_tick_time_and_population(page: Any) -> None:
    page.get_by_test_id("nav-charts").click()
    for name in ("petri.tick_p95_ms", "petri.entity_count", "neon.money_supply"):
        chart = page.get_by_test_id(f"chart-{name}")
        chart.wait_for()
        line = chart.locator("polyline")

        def plotted(line: Any = line) -> bool:
            return len((line.get_attribute("points") or "").split()) >= 2

        wait_until(plotted, f"{name} to have two points")
    shot(page, "18-charts")


def _login(browser: Any, server: Server, token: str) -> tuple[Any, Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(15000)
    pg.goto(server.url + "/")
    pg.get_by_test_id("login-secret").fill(token)
    pg.get_by_test_id("login-submit").click()
    pg.get_by_test_id("btn-stop-petri").wait_for()
    return context, pg


def test_a_second_admin_restores_a_snapshot_with_their_own_totp(
    page: Any, server: Server, browser: Any
) -> None:
    made = server.api("POST", "/api/users", json={"name": "ops2", "role": "admin", "reason": "e2e"}).json()
    context, pg = _login(browser, server, made["token"])
    try:
        pg.get_by_test_id("nav-snapshots").click()
        pg.get_by_test_id("snapshot-label").fill("restore point")
        pg.get_by_test_id("snapshot-create").click()
        row = pg.locator("[data-testid^='snapshot-0']").filter(has_text="restore point")
        row.wait_for()
        snapshot_id = str(row.get_attribute("data-testid")).removeprefix("snapshot-")
        row.get_by_test_id("snapshot-restore").click()
        # before the second confirmation: the mode, and what each player would lose
        row.get_by_test_id("snapshot-restore-totals").filter(has_text="players lose: xp").wait_for()
        row.get_by_test_id("snapshot-restore-mode").select_option("everything")
        row.get_by_test_id("snapshot-restore-submit").filter(has_text="Restore everything").wait_for()
        row.get_by_test_id("snapshot-restore-code").fill(pyotp.TOTP(made["totp_secret"]).now())
        row.get_by_test_id("snapshot-restore-submit").click()
        pg.get_by_test_id("snapshot-status").filter(has_text=f"restore {snapshot_id}: done").wait_for()
        shot(pg, "19-snapshot-restored")
        restores = [
            e
            for e in server.api("GET", "/api/feed?limit=1000").json()
            if e["kind"] == "snapshot" and e.get("action") == "restore"
        ]
        assert [(e["snapshot"]["id"], e["actor"], e["mode"]) for e in restores] == [
            (snapshot_id, "ops2", "everything")
        ]
    finally:
        context.close()


def test_a_viewer_pressing_stop_gets_one_clear_refusal(page: Any, server: Server, browser: Any) -> None:
    made = server.api(
        "POST", "/api/users", json={"name": "watcher", "role": "viewer", "reason": "e2e"}
    ).json()
    context, pg = _login(browser, server, made["token"])
    try:
        pg.get_by_test_id("btn-stop-petri").click()
        pg.get_by_test_id("btn-stop-confirm-petri").click()
        status = pg.get_by_test_id("control-status")
        status.filter(has_text="403").wait_for()
        assert status.inner_text().startswith("STOP petri: 403")
        assert not server.api("GET", "/api/stats").json()["worlds"]["petri"]["paused"]
        shot(pg, "20-viewer-refused")
    finally:
        context.close()


def test_edit_a_queued_proposal_see_the_diff_then_reject_it(page: Any, server: Server) -> None:
    proposal_id = _queue_a_proposal(server, seed=777)
    page.get_by_test_id("world-select").select_option("neon")
    page.get_by_test_id("nav-queue").click()
    item = page.get_by_test_id(f"queue-item-{proposal_id}")
    item.wait_for()
    item.get_by_test_id("queue-edit").click()
    item.get_by_test_id("queue-edit-json").fill('{"items": {"0": {"name": "Lantern of the Quiet Rain"}}}')
    item.get_by_test_id("queue-edit-submit").click()
    item.get_by_test_id("queue-item-status").filter(has_text="done").wait_for()
    item.get_by_test_id("queue-diff").locator("summary").click()
    changes = item.get_by_test_id("queue-diff-changes")
    changes.filter(has_text="/items/0/name").wait_for()
    assert "Lantern of the Quiet Rain" in changes.inner_text()
    shot(page, "21-edited")
    item.get_by_test_id("queue-edit").click()  # a bad edit is refused and changes nothing
    item.get_by_test_id("queue-edit-json").fill('{"items": {"0": {"id": "stolen"}}}')
    item.get_by_test_id("queue-edit-submit").click()
    item.get_by_test_id("queue-item-status").filter(has_text="may not be edited").wait_for()
    item.get_by_test_id("queue-reject").click()
    wait_until(lambda: item.get_attribute("data-state") == "rejected", "the proposal rejected")
    listed = {i["proposal_id"]: i for i in server.api("GET", "/api/queue?world=neon").json()}
    assert listed[proposal_id]["state"] == "rejected"
    diff = server.api("GET", f"/api/queue/{proposal_id}/diff?world=neon").json()
    assert diff["validated"]["items"][0]["name"] == "Lantern of the Quiet Rain"
    assert diff["validated"]["items"][0]["id"] == diff["generated"]["items"][0]["id"]


def test_undo_removes_exactly_one_approved_proposal_after_a_second_click(page: Any, server: Server) -> None:
    keep, undo = _queue_a_proposal(server, seed=901), _queue_a_proposal(server, seed=902)
    page.get_by_test_id("world-select").select_option("neon")
    page.get_by_test_id("nav-queue").click()
    for proposal_id in (keep, undo):
        approving = page.get_by_test_id(f"queue-item-{proposal_id}")
        approving.get_by_test_id("queue-approve").click()

        def active(approving: Any = approving) -> bool:
            return bool(approving.get_attribute("data-state") == "active")

        wait_until(active, f"{proposal_id} active", 30)
    item = page.get_by_test_id(f"queue-item-{undo}")
    item.get_by_test_id("queue-undo").click()
    wait_until(lambda: item.get_by_test_id("queue-undo-confirm").count() == 1, "undo armed")
    assert item.get_attribute("data-state") == "active"  # the first click only arms it
    item.get_by_test_id("queue-undo-confirm").click()
    wait_until(lambda: item.get_attribute("data-state") == "rolled_back", "the proposal undone", 30)
    shot(page, "22-undone")
    states = {i["proposal_id"]: i["state"] for i in server.api("GET", "/api/queue?world=neon").json()}
    assert (states[keep], states[undo]) == ("active", "rolled_back")


def _say_over_telnet(port: int, *lines: str, until: bytes) -> bytes:
    """A runner on a raw telnet socket: type each line, read until ``until`` shows up."""
    import socket

    seen = b""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        for line in lines:
            conn.sendall(line.encode() + b"\r\n")
            time.sleep(0.2)  # under the gateway's eight lines a second
        deadline = time.monotonic() + 30
        while until not in seen and time.monotonic() < deadline:
            chunk = conn.recv(65536)
            if not chunk:
                break
            seen += chunk
    return seen


def test_what_a_player_says_with_feedback_shows_on_the_players_tab(page: Any, server: Server) -> None:
    told = _say_over_telnet(
        server.telnet_port,
        "create Quill correct-horse",
        "feedback love the rain and the noodle bars",
        until=b"noted as praise",
    )
    assert b"noted as praise" in told
    page.get_by_test_id("world-select").select_option("neon")
    page.get_by_test_id("nav-players").click()
    entry = page.get_by_test_id("feedback-entry").filter(has_text="love the rain and the noodle bars")
    entry.wait_for()
    assert "praise" in entry.inner_text() and "Quill" in entry.inner_text()
    page.get_by_test_id("player-Quill").wait_for()
    assert "praise 1" in page.get_by_test_id("feedback-counts").inner_text()
    shot(page, "30-players-feedback")
