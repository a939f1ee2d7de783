"""``ouroboros go`` keeps what an operator needs after the fact: the event log survives a restart
(its ids go on), and each world's input log replays with ``ouroboros replay``."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from ouroboros.cli import core as cli

runner = CliRunner()
PORTS = ("--port", "0", "--telnet-port", "0", "--ws-port", "0", "--no-browser", "--optimizer", "off")


def _go(data: Path, ticks: int) -> None:
    args = ["go", "--world", "petri", "--max-ticks", str(ticks), "--ticks-per-second", "0"]
    result = runner.invoke(cli.app, [*args, "--entities", "40", "--data", str(data), *PORTS])
    assert result.exit_code == 0, result.output


def _events(data: Path, *extra: str) -> list[dict[str, object]]:
    result = runner.invoke(cli.app, ["events", "export", "--data", str(data), "--json", *extra])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_events_and_inputs_survive_a_restart_and_replay(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _go(data, 30)
    first = _events(data)
    assert [e["action"] for e in first if e["kind"] == "control"] == ["start"]
    _go(data, 20)
    both = _events(data)
    ids = [e["seq"] for e in both]
    assert ids == sorted(set(ids)) and both[: len(first)] == first  # nothing lost, no id reused
    assert [e["action"] for e in both if e["kind"] == "control"] == ["start", "start"]
    assert _events(data, "--kind", "control", "--since", str(first[-1]["seq"]))[0]["action"] == "start"
    # each go's stretch replays from the snapshot before it
    logs = sorted((data / "petri" / "inputs").glob("seg-*.jsonl"))
    assert [p.name for p in logs] == ["seg-0.jsonl", "seg-30.jsonl"]
    for log, (start, end) in zip(logs, ((0, 30), (30, 50)), strict=True):
        result = runner.invoke(cli.app, ["replay", str(log), "--json"])
        assert result.exit_code == 0, result.output
        done = json.loads(result.stdout)
        assert (done["ok"], done["start_tick"], done["ticks"]) == (True, start, end)
