"""The admin API pages through the durable event log (``GET /api/events``); bad paging is a 422."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server.api.conftest import Live, start_live


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    yield from start_live(tmp_path_factory.mktemp("ops"))


def test_events_page_through_the_log(live: Live) -> None:
    feed = live.runtime.feed
    published = [feed.publish("governance", "petri", action="approve", n=i)["seq"] for i in range(7)]
    newest = live.client.get("/api/events?limit=3", headers=live.headers("viewer"))
    assert newest.status_code == 200, newest.text
    assert [e["seq"] for e in newest.json()["events"]][-1] >= published[-1]
    seen, since = [], published[0] - 1
    while True:
        page = live.client.get(
            f"/api/events?since={since}&kind=governance&limit=2", headers=live.headers("viewer")
        ).json()
        seen += [e["seq"] for e in page["events"]]
        since = page["next"]
        if not page["more"]:
            break
    assert [s for s in seen if s in published] == published
    assert all(e["kind"] == "governance" for e in page["events"])


@pytest.mark.parametrize(
    "query", ["since=-1", "limit=0", "limit=100000", "kind=DROP%20TABLE", "since=abc", "world=%27"]
)
def test_bad_paging_is_a_422(live: Live, query: str) -> None:
    assert live.client.get(f"/api/events?{query}", headers=live.headers("viewer")).status_code == 422


def test_events_need_a_token(live: Live) -> None:
    assert live.client.get("/api/events").status_code == 401


def test_the_log_file_is_in_the_data_folder(live: Live) -> None:
    assert Path(live.runtime.data_dir, "events.sqlite3").is_file()
