"""The operator's cockpit in a real browser against a real ``ouroboros go``: a session that
survives a reload and a closed tab, the sessions page, the way back in when locked out, the
ledger one row per patch, the director's timeline, charts that start with history, the profiler
and its controls, alerts as toasts and a page, debounced sliders, inline TOTP, Force Generate and
``/admin``. Screenshots: tests/e2e/artifacts/cockpit-*.png."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pyotp
import pytest

from tests.e2e.conftest import Server, shot
from tests.e2e.test_dashboard import _queue_a_proposal, wait_until

pytestmark = pytest.mark.slow


def test_the_session_survives_a_reload_and_a_closed_tab_and_shows_the_real_role(
    page: Any, server: Server, browser: Any
) -> None:
    page.reload()
    page.get_by_test_id("btn-stop-petri").wait_for()
    who = page.get_by_test_id("whoami")
    assert who.get_attribute("data-role") == "admin" and "admin" in who.inner_text()
    assert "operator" not in who.inner_text()
    cookies = page.context.cookies()
    (session,) = [c for c in cookies if c["name"] == "ouroboros_session"]
    assert session["httpOnly"] and session["sameSite"] == "Strict" and session["expires"] > 0
    assert page.evaluate("document.cookie") == ""  # the page's scripts cannot read it
    second = page.context.new_page()  # another tab of the same browser, then the first one closed
    try:
        second.goto(server.url + "/#control")
        second.get_by_test_id("btn-stop-petri").wait_for()
        shot(second, "cockpit-01-new-tab-still-signed-in")
    finally:
        second.close()


def test_the_login_screen_says_how_to_get_back_in(browser: Any, server: Server) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    pg = context.new_page()
    try:
        pg.goto(server.url + "/")
        pg.get_by_test_id("login-secret").fill(server.secret)  # spent by the first login
        pg.get_by_test_id("login-submit").click()
        pg.get_by_test_id("login-error").filter(has_text="already used").wait_for()
        command = pg.get_by_test_id("login-help-command")
        command.wait_for()  # opened by the error
        assert "ouroboros admin reset-secret admin" in command.inner_text()
        shot(pg, "cockpit-02-locked-out-help")
    finally:
        context.close()


def test_the_sessions_page_lists_this_browser_and_revokes_another(
    page: Any, server: Server, browser: Any
) -> None:
    made = server.api("POST", "/api/users", json={"name": "laptop", "role": "admin", "reason": "e2e"}).json()
    other_ctx = browser.new_context()
    other = other_ctx.new_page()
    try:
        other.goto(server.url + "/")
        other.get_by_test_id("login-secret").fill(made["token"])
        other.get_by_test_id("login-submit").click()
        other.get_by_test_id("btn-stop-petri").wait_for()
        # the same user's own page, in a third browser: two sessions; revoke the other one
        third_ctx = browser.new_context(viewport={"width": 1400, "height": 900})
        third = third_ctx.new_page()
        third.goto(server.url + "/")
        third.get_by_test_id("login-secret").fill(made["token"])
        third.get_by_test_id("login-submit").click()
        third.get_by_test_id("nav-sessions").click()
        rows = third.locator("[data-testid^='session-'][data-current]")
        wait_until(lambda: rows.count() == 2, "two sessions listed")
        mine = third.locator("[data-current='true']")
        assert mine.count() == 1 and "this browser" in mine.inner_text()
        theirs = third.locator("[data-current='false']")
        sid = str(theirs.get_attribute("data-testid")).removeprefix("session-")
        theirs.get_by_test_id(f"session-revoke-{sid}").click()
        theirs.get_by_test_id(f"session-revoke-{sid}-confirm").click()
        wait_until(lambda: rows.count() == 1, "the revoked session gone from the list")
        third.get_by_test_id("token-label").fill("ci scripts")
        third.get_by_test_id("token-new").click()
        shown = third.get_by_test_id("token-made").locator("code")
        shown.wait_for()
        token = shown.inner_text()
        assert token.startswith("ob_")
        me = httpx.get(server.url + "/api/auth/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert me.json()["user"] == "laptop"
        third.get_by_test_id("tokens-list").filter(has_text="ci scripts").wait_for()
        shot(third, "cockpit-03-sessions")
        other.reload()  # the revoked browser is signed out
        other.get_by_test_id("login-secret").wait_for()
        third_ctx.close()
    finally:
        other_ctx.close()


def test_the_ledger_is_one_row_per_patch_with_its_raw_entries_one_click_away(
    page: Any, server: Server
) -> None:
    proposal_id = _queue_a_proposal(server, seed=5151)
    approved = server.api(
        "POST", f"/api/queue/{proposal_id}/approve", json={"world": "neon", "reason": "e2e"}
    )
    assert approved.status_code == 200, approved.text
    patch_id = next(
        i["patch_id"]
        for i in server.api("GET", "/api/queue?world=neon").json()
        if i["proposal_id"] == proposal_id
    )
    page.get_by_test_id("world-select").select_option("neon")
    page.get_by_test_id("nav-ledger").click()
    row = page.locator(f"[data-testid='ledger-patch'][data-patch='{patch_id}']")
    row.wait_for()
    patches = server.api("GET", "/api/mutations?world=neon").json()
    assert page.locator("[data-testid='ledger-patch']").count() == len(patches)  # one row per patch
    mutation = next(p for p in patches if p["patch_id"] == patch_id)
    assert row.get_by_test_id("ledger-what").inner_text() == mutation["what"]
    assert "item" in mutation["what"] and row.get_attribute("data-state") == mutation["state"]
    assert page.get_by_test_id("ledger-entry").count() == 0  # raw entries stay folded
    row.get_by_test_id("ledger-raw-toggle").click()
    raw = page.get_by_test_id("ledger-raw")
    raw.get_by_test_id("ledger-entry").first.wait_for()
    entries = server.api("GET", f"/api/ledger?world=neon&patch_id={patch_id}&limit=1000").json()["entries"]
    assert raw.get_by_test_id("ledger-entry").count() == len(entries)
    shot(page, "cockpit-04-ledger")


def test_the_director_log_is_a_timeline_with_each_decisions_why(page: Any, server: Server) -> None:
    page.get_by_test_id("world-select").select_option("neon")
    page.get_by_test_id("nav-director").click()
    log = page.get_by_test_id("director-log")
    decisions = server.api("GET", "/api/director?world=neon").json()["decisions"]
    if not decisions:
        pytest.skip("the director made no decision yet")  # pragma: no cover - it decides each second
    item = log.get_by_test_id("director-decision").filter(has_text=f"tick {decisions[0]['tick']}").first
    item.wait_for()
    assert (
        "because:" in item.inner_text() and "{" not in item.inner_text().split("because:")[1].split("\n")[0]
    )
    shot(page, "cockpit-05-director-timeline")


def test_charts_start_with_the_servers_history_and_human_names(page: Any) -> None:
    page.get_by_test_id("nav-charts").click()
    chart = page.get_by_test_id("chart-petri.tick_p95_ms")
    chart.wait_for()
    page.get_by_test_id("nav-control").click()  # a tab change loses nothing: the server keeps it
    page.get_by_test_id("nav-charts").click()
    chart.wait_for()
    points = len((chart.locator("polyline").get_attribute("points") or "").split())
    assert points >= 5, points  # the history came with the first answer
    assert "Tick time, 95th percentile" in chart.inner_text() and "ms" in chart.inner_text()
    assert "Population" in page.get_by_test_id("chart-petri.entity_count").inner_text()
    shot(page, "cockpit-06-charts")


def test_the_profiler_draws_systems_per_tick_and_forces_a_variant(page: Any, server: Server) -> None:
    page.get_by_test_id("world-select").select_option("petri")
    page.get_by_test_id("nav-profiler").click()
    timeline = page.get_by_test_id("profiler-timeline")
    timeline.wait_for()
    wait_until(lambda: int(timeline.get_attribute("data-ticks") or 0) > 10, "ticks on the timeline")
    assert timeline.locator("rect").count() > 10
    hardware = page.get_by_test_id("profiler-hardware")
    if hardware.get_attribute("data-available") == "false":
        assert "unavailable" in hardware.inner_text()
    state = server.api("GET", "/api/profiler?world=petri&ticks=10").json()
    system, variants = next((k, v) for k, v in state["variants"].items() if len(v) > 1)
    page.get_by_test_id("profiler-force-system").select_option(system)
    page.get_by_test_id("profiler-force-variant").select_option(variants[-1])
    page.get_by_test_id("profiler-force").click()
    page.get_by_test_id("profiler-status").filter(has_text="done").wait_for()
    control = json.loads((server.data / "petri" / "optimizer.json").read_text())
    assert control["forced"] == {system: variants[-1]}
    around = page.get_by_test_id("profiler-around")  # the forced switch, timed by the profiler
    around.filter(has_text=f"force {system}").wait_for()
    shot(page, "cockpit-07-profiler-forced")
    page.get_by_test_id(f"profiler-release-{system}").click()
    wait_until(
        lambda: json.loads((server.data / "petri" / "optimizer.json").read_text())["forced"] == {},
        "the release written",
    )
    audit = server.api("GET", "/api/audit?limit=20").json()
    assert {"/api/profiler/force", "/api/profiler/release"} <= {r["path"] for r in audit}


def test_an_alert_pops_up_as_a_toast_and_lists_on_the_alerts_page(page: Any, server: Server) -> None:
    page.get_by_test_id("nav-control").click()
    engaged = server.api("POST", "/api/killswitch/engage", json={"world": "petri", "reason": "e2e drill"})
    assert engaged.status_code == 200, engaged.text
    toast = page.get_by_test_id("toast").filter(has_text="e2e drill")
    toast.wait_for()
    assert int(page.get_by_test_id("alerts-unseen").inner_text()) >= 1  # counted on the tab too
    shot(page, "cockpit-08-toast")
    toast.click()
    page.get_by_test_id("panel-alerts").wait_for()
    page.locator("[data-testid='alert'][data-kind='killswitch']").filter(has_text="e2e drill").wait_for()
    assert page.get_by_test_id("alerts-unseen").count() == 0  # seen now
    shot(page, "cockpit-09-alerts")
    totp = pyotp.parse_uri(server.totp_uri)
    assert isinstance(totp, pyotp.TOTP)
    released = server.api(
        "POST", "/api/killswitch/release", json={"world": "petri", "reason": "drill over", "totp": totp.now()}
    )
    assert released.status_code == 200, released.text


def test_a_slider_run_of_keys_sends_one_change_landing_on_the_value_shown(page: Any, server: Server) -> None:
    page.get_by_test_id("world-select").select_option("neon")
    page.get_by_test_id("nav-control").click()
    slider = page.get_by_test_id("slider-aggression")
    slider.wait_for()
    before = int(server.api("GET", "/api/director?world=neon").json()["sliders"]["aggression"])
    key, step = ("ArrowLeft", -1) if before > 50 else ("ArrowRight", 1)
    slider.focus()
    for _ in range(6):
        page.keyboard.press(key)
    expected = before + 6 * step

    def landed() -> bool:
        return bool(server.api("GET", "/api/director?world=neon").json()["sliders"]["aggression"] == expected)

    wait_until(landed, "the slider's last value on the server")
    wait_until(lambda: page.get_by_test_id("slider-aggression-value").inner_text() == str(expected), "shown")
    writes = [r for r in server.api("GET", "/api/audit?limit=50").json() if r["path"] == "/api/director"]
    # six key presses, not six changes: they settle into one (two if the machine stalled between keys)
    assert 1 <= len([r for r in writes if "aggression" in (r["reason"] or "")]) <= 2, writes
    shot(page, "cockpit-10-slider")


def test_turning_review_off_asks_for_the_totp_inline(page: Any, server: Server) -> None:
    page.get_by_test_id("world-select").select_option("neon")
    page.get_by_test_id("nav-control").click()
    toggle = page.get_by_test_id("toggle-human_in_the_loop")
    if not toggle.is_checked():
        pytest.skip("review is already off in this city")  # pragma: no cover
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    toggle.click()
    page.get_by_test_id("hitl-off-code").fill("000000")
    page.get_by_test_id("hitl-off-submit").click()
    page.get_by_test_id("director-status").filter(has_text="403").wait_for()
    assert toggle.is_checked() and dialogs == []  # no native prompt, nothing changed
    shot(page, "cockpit-11-inline-totp")
    page.get_by_test_id("hitl-cancel").click()


def test_force_generate_queues_a_proposal(page: Any, server: Server) -> None:
    page.get_by_test_id("world-select").select_option("neon")
    page.get_by_test_id("nav-control").click()
    before = len(server.api("GET", "/api/queue?world=neon").json())
    page.get_by_test_id("force-generate-type").select_option("NPC")
    page.get_by_test_id("force-generate-submit").click()
    page.get_by_test_id("director-status").filter(has_text="generate npc: done").wait_for(timeout=60000)
    queue = server.api("GET", "/api/queue?world=neon").json()
    assert len(queue) == before + 1 and queue[-1]["type"] == "NPC"
    shot(page, "cockpit-12-force-generate")


def test_the_city_map_names_districts_and_shows_players_npcs_and_added_rooms(
    page: Any, server: Server
) -> None:
    import socket
    import time

    page.get_by_test_id("nav-live").click()
    citymap = page.get_by_test_id("citymap")
    citymap.wait_for()
    overview = server.api("GET", "/api/worlds/neon/overview").json()
    labels = citymap.get_by_test_id("citymap-district")
    wait_until(lambda: labels.count() == len(overview["districts"]), "every district named")
    names = labels.evaluate_all("els => els.map(e => e.textContent)")  # SVG text: no inner text
    assert sorted(names) == sorted(d["name"] for d in overview["districts"])
    assert citymap.get_by_test_id("citymap-npc").count() > 0
    with socket.create_connection(("127.0.0.1", server.telnet_port), timeout=30) as runner:
        runner.sendall(b"create Mapper correct-horse\r\n")
        seen, deadline = b"", time.monotonic() + 30
        while b"Mapper" not in seen and time.monotonic() < deadline:
            seen += runner.recv(65536)
        citymap.get_by_test_id("citymap-player").filter(has_text="Mapper").wait_for()
        shot(page, "cockpit-14-city-map")
    made = server.api(
        "POST",
        "/api/queue/propose",
        json={"world": "neon", "type": "WORLD_EXPANSION", "seed": 99, "reason": "e2e: new rooms"},
    )
    assert made.status_code == 201 and made.json()["state"] == "queued", made.text
    approved = server.api(
        "POST", f"/api/queue/{made.json()['proposal_id']}/approve", json={"world": "neon", "reason": "e2e"}
    )
    assert approved.status_code == 200, approved.text
    added = citymap.get_by_test_id("citymap-added")
    wait_until(lambda: added.count() > 0, "the new rooms ringed on the map", 60)
    now = server.api("GET", "/api/worlds/neon/overview").json()
    assert added.count() == sum(r["added"] for r in now["rooms"])
    shot(page, "cockpit-15-city-map-added-rooms")


def test_the_evolution_tab_triggers_a_cycle_and_shows_its_events(page: Any, server: Server) -> None:
    page.get_by_test_id("nav-evolution").click()
    page.get_by_test_id("evolution-trigger").click()
    page.get_by_test_id("evolution-status").filter(has_text="trigger evolution: done").wait_for()
    feed = page.get_by_test_id("evolution-feed")
    feed.get_by_test_id("evolution-event").first.wait_for()
    triggers = [e for e in server.api("GET", "/api/feed?limit=1000").json() if e.get("action") == "trigger"]
    assert triggers and triggers[-1]["actor"] == "admin"
    shot(page, "cockpit-16-evolution")


def test_admin_serves_the_dashboard_and_sign_out_ends_the_session(page: Any, server: Server) -> None:
    page.goto(server.url + "/admin")
    page.get_by_test_id("btn-stop-petri").wait_for()
    shot(page, "cockpit-13-admin-path")
    page.get_by_test_id("logout").click()
    page.get_by_test_id("login-secret").wait_for()
    page.reload()
    page.get_by_test_id("login-secret").wait_for()  # signed out for good, not just in this tab
