"""``ouroboros go``: every world live in one process; each saves itself on exit and resumes where
it stopped; bad flags are one clear error. (The admin API it serves is tested in
``tests/server/api``; the real process with HTTP and telnet in ``test_go_server.py`` there.)"""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from ouroboros.cli import core as cli
from ouroboros.engine.snapshot import read_header

from .conftest import one_error_line, ouroboros

runner = CliRunner()
PORTS = ("--port", "0", "--telnet-port", "0", "--ws-port", "0", "--no-browser", "--optimizer", "off")


def _snapshot_tick(path: Path) -> int:
    header, _ = read_header(path.read_bytes())
    return header["tick"]


def _clean_snapshots(folder: Path) -> list[int]:
    """The ticks of the world's "clean state before the director" snapshots."""
    metas = [json.loads(p.read_text()) for p in sorted((folder / "snapshots").glob("*.json"))]
    return [m["tick"] for m in metas if m["label"] == "clean state before the director"]


def test_go_saves_on_exit_and_the_next_go_resumes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    args = ("go", "--world", "petri", "--max-ticks", 50, "--ticks-per-second", 0, "--entities", 100)
    first = ouroboros(*args, "--data", data, *PORTS, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    snapshot = data / "petri" / "petri.snapshot"
    assert _snapshot_tick(snapshot) == 50
    assert f"saved snapshot at tick 50 to {snapshot}" in first.stdout
    assert "first admin login (shown once)" in first.stdout and "otpauth://totp/" in first.stdout

    second = ouroboros(*args, "--data", data, *PORTS, cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "resuming from" in second.stdout and "at tick 50" in second.stdout
    assert _snapshot_tick(snapshot) == 100
    # nobody logged in yet: the second start issues a fresh one-time login (the first is void)
    assert "first admin login" in second.stdout
    # nothing half-written is left beside the snapshot
    assert not [p.name for p in (data / "petri").iterdir() if p.name.endswith(".part")]
    # the clean state was snapshotted when the dish was new, and not again when it resumed
    assert _clean_snapshots(data / "petri") == [0]


def test_fresh_starts_over(tmp_path: Path) -> None:
    args = ["go", "--world", "petri", "--max-ticks", "5", "--ticks-per-second", "0", "--entities", "20"]
    args += ["--data", str(tmp_path), *PORTS]
    assert runner.invoke(cli.app, args).exit_code == 0
    result = runner.invoke(cli.app, [*args, "--fresh", "--seed", "8"])
    assert result.exit_code == 0, result.output
    assert "new petri world, seed 8" in result.stdout
    assert _snapshot_tick(tmp_path / "petri" / "petri.snapshot") == 5
    # the new world's clean state replaces the old world's: one is kept
    assert _clean_snapshots(tmp_path / "petri") == [0]


def test_resuming_with_a_contradicting_seed_exits_2(tmp_path: Path) -> None:
    args = ["go", "--world", "petri", "--max-ticks", "2", "--ticks-per-second", "0", "--entities", "20"]
    args += ["--data", str(tmp_path), *PORTS]
    assert runner.invoke(cli.app, args).exit_code == 0
    result = runner.invoke(cli.app, [*args, "--seed", "99"])
    assert result.exit_code == 2
    assert "--fresh" in one_error_line(result.stderr)


def test_a_corrupt_saved_dish_exits_2_and_is_left_alone(tmp_path: Path) -> None:
    snapshot = tmp_path / "petri" / "petri.snapshot"
    snapshot.parent.mkdir()
    snapshot.write_bytes(b"not a snapshot")
    result = runner.invoke(
        cli.app, ["go", "--world", "petri", "--max-ticks", "2", "--data", str(tmp_path), *PORTS]
    )
    assert result.exit_code == 2
    assert "--fresh" in one_error_line(result.stderr)
    assert snapshot.read_bytes() == b"not a snapshot"


def test_bad_go_flags_exit_2(tmp_path: Path) -> None:
    for args in (
        ["--world", "atlantis"],
        ["--ticks-per-second", "-3"],
        ["--max-ticks", "-1"],
        ["--port", "70000"],
        ["--optimizer", "maybe"],
        ["--entities", "0"],
        ["--trusted-address", "not-an-ip"],
        ["--alert-webhook", "ftp://example.invalid/x"],
        ["--alert-webhook", "not a url"],
    ):
        result = runner.invoke(cli.app, ["go", "--data", str(tmp_path / "d"), "--no-browser", *args])
        assert result.exit_code == 2, args
        one_error_line(result.stderr)
        assert not (tmp_path / "d").exists(), args  # refused before anything was made
