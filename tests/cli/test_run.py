"""``ouroboros run``: reproducible digests, snapshots that resume exactly, and bad input that
is refused before any tick runs and leaves no file behind."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ouroboros.cli import core as cli
from ouroboros.errors import OuroborosError

from .conftest import one_error_line, ouroboros

runner = CliRunner()


def test_same_seed_gives_the_same_digest_in_separate_processes(runs: dict[str, Any]) -> None:
    a, b = runs["straight_a"], runs["straight_b"]
    assert a["ticks"] == b["ticks"] == 1000
    assert a["digest"] == b["digest"]
    assert a["entities"] == b["entities"] > 0
    assert a["kpis"] == b["kpis"]


def test_a_different_seed_gives_a_different_digest(runs: dict[str, Any]) -> None:
    assert runs["other_seed"]["seed"] == 2
    assert runs["other_seed"]["digest"] != runs["straight_a"]["digest"]


def test_json_carries_what_a_script_needs(runs: dict[str, Any]) -> None:
    out = runs["straight_a"]
    assert out["world"] == "petri" and out["seed"] == 1
    assert len(out["digest"]) == 32 and int(out["digest"], 16) >= 0
    assert set(out["tick_ms"]) == {"p50", "p95", "max"}
    assert 0 < out["tick_ms"]["p50"] <= out["tick_ms"]["p95"] <= out["tick_ms"]["max"]
    assert out["kpis"]["tick"] == 1000 and "entity_count" in out["kpis"]


def test_resuming_a_snapshot_in_a_new_process_matches_a_straight_run(runs: dict[str, Any]) -> None:
    assert runs["first_half"]["ticks"] == 500
    assert runs["snapshot"].is_file()
    resumed = runs["second_half"]
    assert resumed["ticks"] == 1000, "--ticks counts more ticks; the JSON shows the final tick"
    assert resumed["seed"] == 1
    assert resumed["digest"] == runs["straight_a"]["digest"]


def test_zero_ticks_runs_nothing_and_human_output_names_the_digest(tmp_path: Path) -> None:
    result = runner.invoke(cli.app, ["run", "--ticks", "0", "--entities", "10", "--seed", "4"])
    assert result.exit_code == 0, result.output
    assert "tick      0 (ran 0)" in result.stdout
    assert "digest" in result.stdout and "kpis" in result.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--world", "atlantis"], "unknown world 'atlantis'"),
        (["--ticks", "-1"], "--ticks"),
        (["--ticks", "10000000000"], "--ticks"),
        (["--seed", "-5"], "seed"),
        (["--entities", "-1"], "entities"),
    ],
)
def test_bad_flags_exit_2_with_one_line(tmp_path: Path, args: list[str], expected: str) -> None:
    result = ouroboros("run", *args, "--save", "out.snap", "--log", "out.log", cwd=tmp_path)
    assert result.returncode == 2
    assert expected in one_error_line(result.stderr)
    assert result.stdout == ""
    assert list(tmp_path.iterdir()) == []


def _bad_snapshots(snapshot: Path, tmp_path: Path) -> dict[str, Path]:
    data = snapshot.read_bytes()
    corrupt = bytearray(data)
    corrupt[len(data) // 2] ^= 0xFF
    files = {
        "corrupt": bytes(corrupt),
        "truncated": data[: len(data) - 100],
        "garbage": b"this is not a snapshot at all" * 10,
        "empty": b"",
    }
    paths = {}
    for name, content in files.items():
        paths[name] = tmp_path / f"{name}.snap"
        paths[name].write_bytes(content)
    return paths


@pytest.mark.parametrize("kind", ["corrupt", "truncated", "garbage", "empty"])
def test_a_bad_snapshot_for_from_exits_2_and_writes_nothing(
    runs: dict[str, Any], tmp_path: Path, kind: str
) -> None:
    bad = _bad_snapshots(runs["snapshot"], tmp_path)[kind]
    before = sorted(tmp_path.iterdir())
    result = runner.invoke(
        cli.app, ["run", "--from", str(bad), "--ticks", "5", "--save", str(tmp_path / "o.snap")]
    )
    assert result.exit_code == 2
    assert "snapshot" in one_error_line(result.stderr)
    assert sorted(tmp_path.iterdir()) == before


def test_a_missing_snapshot_for_from_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(cli.app, ["run", "--from", str(tmp_path / "nope.snap")])
    assert result.exit_code == 2
    assert "nope.snap" in one_error_line(result.stderr)


@pytest.mark.parametrize(("flag", "value"), [("--seed", "9"), ("--entities", "7"), ("--world", "neon")])
def test_flags_that_contradict_the_snapshot_exit_2(runs: dict[str, Any], flag: str, value: str) -> None:
    result = runner.invoke(cli.app, ["run", "--from", str(runs["snapshot"]), flag, value])
    assert result.exit_code == 2
    assert f"{flag} {value} conflicts" in one_error_line(result.stderr)


def test_flags_that_agree_with_the_snapshot_are_fine(runs: dict[str, Any]) -> None:
    args = ["run", "--from", str(runs["snapshot"]), "--seed", "1", "--entities", "200", "--world", "petri"]
    result = runner.invoke(cli.app, [*args, "--ticks", "0", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["digest"] == runs["first_half"]["digest"]


@pytest.mark.parametrize("flag", ["--save", "--log"])
def test_an_output_in_a_missing_directory_exits_2_before_running(tmp_path: Path, flag: str) -> None:
    result = ouroboros("run", "--ticks", 5, flag, tmp_path / "missing" / "out", cwd=tmp_path)
    assert result.returncode == 2
    assert "does not exist" in one_error_line(result.stderr)
    assert list(tmp_path.iterdir()) == []


def test_a_failure_mid_run_leaves_no_partial_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    existing = tmp_path / "keep.snap"
    existing.write_bytes(b"the old snapshot")
    calls = {"n": 0}
    real_record = cli.LogWriter.record

    def failing_record(self: cli.LogWriter, report: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(28, "No space left on device")
        real_record(self, report)

    monkeypatch.setattr(cli.LogWriter, "record", failing_record)
    result = runner.invoke(
        cli.app,
        [
            "run",
            "--ticks",
            "10",
            "--entities",
            "10",
            "--save",
            str(existing),
            "--log",
            str(tmp_path / "run.log"),
        ],
    )
    assert result.exit_code == 2
    assert "No space left on device" in one_error_line(result.stderr)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.snap"]
    assert existing.read_bytes() == b"the old snapshot"


def test_an_engine_error_mid_run_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_step(self: Any) -> Any:
        raise OuroborosError("the dish caught fire")

    monkeypatch.setattr(cli.World, "step", broken_step)
    result = runner.invoke(
        cli.app, ["run", "--ticks", "3", "--entities", "5", "--log", str(tmp_path / "x.log")]
    )
    assert result.exit_code == 1  # the run failed: not bad input
    assert one_error_line(result.stderr) == "error: the dish caught fire"
    assert list(tmp_path.iterdir()) == []


def test_usage_errors_still_exit_2(tmp_path: Path) -> None:
    result = ouroboros("run", "--ticks", "many", cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_version(tmp_path: Path) -> None:
    from ouroboros import __version__

    result = ouroboros("--version", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == f"ouroboros {__version__}"
