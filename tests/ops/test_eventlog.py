"""The durable event log: what the feed showed survives a restart, ids never repeat, pages cover
everything exactly once, and ``ouroboros events`` reads it (bad input is one error, exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ouroboros.cli import core as cli
from ouroboros.server.runtime.eventlog import EVENTS_FILE, EventLog, iter_events, read_events
from ouroboros.server.runtime.feed import Feed

runner = CliRunner()


def test_a_restarted_feed_continues_the_ids_and_shows_what_came_before(tmp_path: Path) -> None:
    log = EventLog(tmp_path / EVENTS_FILE)
    feed = Feed(maxlen=3, log=log)
    for i in range(5):
        feed.publish("governance", "petri", action="approve", n=i)
    log.close()

    log = EventLog(tmp_path / EVENTS_FILE)
    feed = Feed(maxlen=3, log=log)
    # the operator who reloads the dashboard after a restart still sees the newest events
    assert [e["n"] for e in feed.recent()] == [2, 3, 4]
    event = feed.publish("director", "neon", event={"rule": "quiet"})
    assert event["seq"] == 6
    log.flush()
    assert [e["seq"] for e in read_events(log.path, since=0)] == [1, 2, 3, 4, 5, 6]
    assert [e["seq"] for e in read_events(log.path, kind="director")] == [6]
    assert read_events(log.path, since=4, limit=1) == [json.loads(json.dumps(feed.recent()[-2]))]
    log.close()


def test_what_json_cannot_say_is_kept_as_text(tmp_path: Path) -> None:
    log = EventLog(tmp_path / EVENTS_FILE)
    Feed(log=log).publish("snapshot", "petri", path=tmp_path)
    log.close()
    assert read_events(tmp_path / EVENTS_FILE)[0]["path"] == str(tmp_path)


@settings(max_examples=25, deadline=None)
@given(
    kinds=st.lists(st.sampled_from(["director", "governance", "error"]), min_size=0, max_size=60),
    page=st.integers(1, 7),
    kind=st.sampled_from([None, "director", "error"]),
)
def test_paging_with_since_returns_every_event_once_in_order(
    tmp_path_factory: object, kinds: list[str], page: int, kind: str | None
) -> None:
    folder = tmp_path_factory.mktemp("log")  # type: ignore[attr-defined]
    log = EventLog(folder / EVENTS_FILE)
    feed = Feed(log=log)
    for k in kinds:
        feed.publish(k, None)
    log.close()
    seen: list[int] = []
    since = 0
    while True:
        got = read_events(folder / EVENTS_FILE, since=since, kind=kind, limit=page)
        seen += [e["seq"] for e in got]
        if len(got) < page:
            break
        since = got[-1]["seq"]
    expected = [i + 1 for i, k in enumerate(kinds) if kind is None or k == kind]
    assert seen == expected
    assert [e["seq"] for e in iter_events(folder / EVENTS_FILE, kind=kind)] == expected


def test_events_cli_tail_and_export(tmp_path: Path) -> None:
    log = EventLog(tmp_path / EVENTS_FILE)
    feed = Feed(log=log)
    for i in range(30):
        feed.publish("governance" if i % 2 else "director", "petri", n=i)
    log.close()
    tail = runner.invoke(cli.app, ["events", "tail", "--data", str(tmp_path), "--json"])
    assert tail.exit_code == 0, tail.output
    rows = [json.loads(line) for line in tail.stdout.splitlines()]
    assert [r["seq"] for r in rows] == list(range(11, 31))
    text = runner.invoke(
        cli.app, ["events", "tail", "--data", str(tmp_path), "--kind", "director", "--limit", "2"]
    )
    assert text.exit_code == 0
    assert [line.split()[0] for line in text.stdout.splitlines()] == ["27", "29"]
    assert all(" director petri n=" in line for line in text.stdout.splitlines())
    export = runner.invoke(cli.app, ["events", "export", "--data", str(tmp_path), "--since", "25", "--json"])
    assert [json.loads(line)["n"] for line in export.stdout.splitlines()] == [25, 26, 27, 28, 29]


def test_events_cli_bad_input_is_one_error_and_exit_2(tmp_path: Path) -> None:
    for args, says in (
        (["events", "tail", "--data", str(tmp_path / "nope")], "no such folder"),
        (["events", "tail", "--data", str(tmp_path)], "no event log"),
        (["events", "export", "--data", str(tmp_path), "--kind", "DROP TABLE"], "--kind"),
        (["events", "tail", "--data", str(tmp_path), "--since", "-1"], "--since"),
    ):
        result = runner.invoke(cli.app, args)
        assert result.exit_code == 2, (args, result.output)
        assert says in result.stderr


def test_a_stalled_disk_never_blocks_the_publisher_and_the_gap_is_counted(tmp_path: Path) -> None:
    import sqlite3

    log = EventLog(tmp_path / EVENTS_FILE, max_pending=5)
    feed = Feed(log=log)
    blocker = sqlite3.connect(tmp_path / EVENTS_FILE, timeout=0)
    blocker.execute("BEGIN EXCLUSIVE")  # the writer now waits for the file (its busy timeout)
    try:
        for i in range(40):  # the queue holds 5: publishing goes on, the rest are counted as lost
            feed.publish("director", None, n=i)
        assert log.dropped >= 40 - 5 - 1
    finally:
        blocker.rollback()
        blocker.close()
    log.flush()  # the disk is back: what was queued is written
    after = feed.publish("director", None, n=40)
    log.close()
    stored = read_events(tmp_path / EVENTS_FILE, since=0, limit=100)
    assert len(stored) + log.dropped == 41
    assert [e["seq"] for e in stored] == sorted(e["seq"] for e in stored)
    assert stored[-1]["seq"] == after["seq"] and stored[-1]["dropped_before"] == log.dropped
    assert sum(e.get("dropped_before", 0) for e in stored) == log.dropped
