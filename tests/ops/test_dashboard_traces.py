"""The dashboard's traces tab in a real browser against a real ``ouroboros go`` (tracing on, spans in
memory): an operator asks why an approval took its time and sees the request, the pipeline's
stages and the activation, nested."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.e2e.conftest import Server, browser, page, server, shot  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow


def test_the_traces_tab_shows_where_an_approval_went(page: Any, server: Server) -> None:  # noqa: F811
    made = server.api(
        "POST", "/api/queue/propose", json={"world": "neon", "type": "ITEM", "seed": 4711, "reason": "trace"}
    )
    assert made.status_code == 201, made.text
    proposal = made.json()["proposal_id"]
    approved = server.api("POST", f"/api/queue/{proposal}/approve", json={"world": "neon", "reason": "ok"})
    assert approved.status_code == 200, approved.text
    page.get_by_test_id("nav-traces").click()
    page.get_by_test_id("traces-id").fill(proposal)
    page.get_by_test_id("traces-load").click()
    spans = page.get_by_test_id("trace-span")
    deadline = time.monotonic() + 15
    while spans.count() == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    names = [t.split(" ")[0] for t in spans.all_inner_texts()]
    for name in ("queue.approve", "pipeline.submit", "stage.integrity", "stage.policy"):
        assert name in names, names
    shot(page, "20-traces")
