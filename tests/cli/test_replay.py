"""``ouroboros replay``: a log of a run replays to the same digests (exit 0); an edited log is a
desync naming the tick and components (exit 1); an unreadable log is bad input (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .conftest import json_of, one_error_line, ouroboros

LOG_TICKS = 120
EDITED_TICK = 7


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A fresh run recorded with --log, in its own process."""
    work = tmp_path_factory.mktemp("logged")
    run = json_of(
        ouroboros(
            "run",
            "--ticks",
            LOG_TICKS,
            "--seed",
            3,
            "--entities",
            150,
            "--log",
            "run.log",
            "--json",
            cwd=work,
        )
    )
    return {"dir": work, "log": work / "run.log", "run": run}


def _lines(log: Path) -> list[str]:
    return log.read_text().splitlines(keepends=True)


def _edit_tick(log: Path, out: Path, tick: int, edit: Any) -> Path:
    lines = _lines(log)
    line = json.loads(lines[tick])  # line 0 is the header, line N is tick N
    assert line["t"] == tick
    edit(line, json.loads(lines[0]))
    lines[tick] = json.dumps(line, separators=(",", ":")) + "\n"
    out.write_text("".join(lines))
    return out


def _body_energy_edit(line: dict[str, Any], header: dict[str, Any]) -> None:
    i = header["sections"].index("Body.energy")
    line["s"] = line["s"][: 32 * i] + "0" * 32 + line["s"][32 * (i + 1) :]


def test_a_logged_run_replays_to_the_same_ticks_and_digest(logged: dict[str, Any]) -> None:
    result = ouroboros("replay", logged["log"], "--json", cwd=logged["dir"])
    out = json_of(result)
    assert out["ok"] is True and out["desync"] is None
    assert out["ticks"] == logged["run"]["ticks"] == LOG_TICKS
    assert out["final_digest"] == logged["run"]["digest"]


def test_human_replay_output_says_ok(logged: dict[str, Any]) -> None:
    result = ouroboros("replay", logged["log"], cwd=logged["dir"])
    assert result.returncode == 0, result.stderr
    assert "replay ok" in result.stdout and f"{LOG_TICKS} ticks" in result.stdout


def test_an_edited_tick_digest_is_a_desync_at_that_tick(logged: dict[str, Any], tmp_path: Path) -> None:
    def edit(line: dict[str, Any], header: dict[str, Any]) -> None:
        line["d"] = "0" * 32

    log = _edit_tick(logged["log"], tmp_path / "edited.log", EDITED_TICK, edit)
    result = ouroboros("replay", log, "--json", cwd=tmp_path)
    assert result.returncode == 1
    desync = json.loads(result.stdout)["desync"]
    assert desync["tick"] == EDITED_TICK
    assert desync["expected"] == "0" * 32
    assert f"tick {EDITED_TICK}" in one_error_line(result.stderr)


def test_a_recorded_body_field_that_differs_names_body(logged: dict[str, Any], tmp_path: Path) -> None:
    """As if the recorded run had computed another Body.energy at tick 7: its section and so its
    tick digest differ."""

    def edit(line: dict[str, Any], header: dict[str, Any]) -> None:
        _body_energy_edit(line, header)
        line["d"] = "f" * 32

    log = _edit_tick(logged["log"], tmp_path / "edited.log", EDITED_TICK, edit)
    result = ouroboros("replay", log, "--json", cwd=tmp_path)
    assert result.returncode == 1
    desync = json.loads(result.stdout)["desync"]
    assert desync["tick"] == EDITED_TICK
    assert desync["sections"] == ["Body.energy"]
    assert desync["components"] == ["Body"]
    line = one_error_line(result.stderr)
    assert f"tick {EDITED_TICK}" in line and "Body" in line


def test_an_edited_section_alone_is_a_desync(logged: dict[str, Any], tmp_path: Path) -> None:
    log = _edit_tick(logged["log"], tmp_path / "edited.log", EDITED_TICK, _body_energy_edit)
    result = ouroboros("replay", log, cwd=tmp_path)
    assert result.returncode == 1
    assert f"tick {EDITED_TICK}" in one_error_line(result.stderr)


def test_a_log_cut_mid_line_exits_2(logged: dict[str, Any], tmp_path: Path) -> None:
    text = logged["log"].read_bytes()
    cut = tmp_path / "cut.log"
    cut.write_bytes(text[: len(text) // 2 - 5])
    result = ouroboros("replay", cut, "--json", cwd=tmp_path)
    assert result.returncode == 2
    assert "truncated" in one_error_line(result.stderr)
    assert result.stdout == ""


@pytest.mark.parametrize(
    "content",
    [b"\x00\x01garbage\xff\n", b"", b'{"format": "something-else"}\n', b"[1, 2, 3]\n"],
    ids=["binary", "empty", "other-format", "not-an-object"],
)
def test_a_file_that_is_not_a_log_exits_2(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.log"
    path.write_bytes(content)
    result = ouroboros("replay", path, cwd=tmp_path)
    assert result.returncode == 2
    one_error_line(result.stderr)


def test_a_bad_line_late_in_the_log_is_bad_input_not_a_desync(logged: dict[str, Any], tmp_path: Path) -> None:
    lines = _lines(logged["log"])
    lines[50] = '{"t": 50, "in": "nonsense"}\n'
    path = tmp_path / "late.log"
    path.write_text("".join(lines))
    result = ouroboros("replay", path, cwd=tmp_path)
    assert result.returncode == 2
    assert "line 51" in one_error_line(result.stderr)


def test_a_missing_log_exits_2(tmp_path: Path) -> None:
    result = ouroboros("replay", tmp_path / "nope.log", cwd=tmp_path)
    assert result.returncode == 2
    assert "nope.log" in one_error_line(result.stderr)


@pytest.mark.slow
def test_a_run_from_a_snapshot_replays_from_that_snapshot(runs: dict[str, Any], tmp_path: Path) -> None:
    snapshot = tmp_path / "start.snap"
    snapshot.write_bytes(runs["snapshot"].read_bytes())
    run = json_of(
        ouroboros("run", "--from", snapshot, "--ticks", 30, "--log", "from.log", "--json", cwd=tmp_path)
    )
    out = json_of(ouroboros("replay", "from.log", "--json", cwd=tmp_path))
    assert out["ok"] is True
    assert out["ticks"] == run["ticks"] == 530
    assert out["final_digest"] == run["digest"]

    snapshot.write_bytes(runs["snapshot"].read_bytes()[:-1] + b"\x00")
    changed = ouroboros("replay", "from.log", cwd=tmp_path)
    assert changed.returncode == 2
    assert "start snapshot" in one_error_line(changed.stderr)
