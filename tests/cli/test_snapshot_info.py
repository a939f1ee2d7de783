"""``ouroboros snapshot info``: what a snapshot holds, read without building a world."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ouroboros.cli import core as cli

from .conftest import one_error_line

runner = CliRunner()


def test_info_shows_tick_entities_and_digest_of_a_real_snapshot(runs: dict[str, Any]) -> None:
    result = runner.invoke(cli.app, ["snapshot", "info", str(runs["snapshot"]), "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    half = runs["first_half"]
    assert info["world"] == "petri"
    assert info["seed"] == 1
    assert info["tick"] == half["ticks"] == 500
    assert info["entities"] == half["entities"]
    assert info["digest"] == half["digest"]
    assert info["bytes"] == runs["snapshot"].stat().st_size
    assert sum(a["count"] for a in info["archetypes"]) == half["entities"]


def test_human_info_lists_archetypes(runs: dict[str, Any]) -> None:
    result = runner.invoke(cli.app, ["snapshot", "info", str(runs["snapshot"])])
    assert result.exit_code == 0, result.output
    assert "tick        500" in result.stdout
    assert f"entities    {runs['first_half']['entities']}" in result.stdout
    assert "Food, Position" in result.stdout


@pytest.mark.parametrize(
    "content", [b"garbage" * 40, b"", b"OUROSNAP\x01\x00"], ids=["garbage", "empty", "cut"]
)
def test_info_on_a_bad_file_exits_2(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.snap"
    path.write_bytes(content)
    result = runner.invoke(cli.app, ["snapshot", "info", str(path)])
    assert result.exit_code == 2
    assert "bad.snap" in one_error_line(result.stderr)


def test_info_on_a_truncated_snapshot_exits_2(runs: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "cut.snap"
    path.write_bytes(runs["snapshot"].read_bytes()[:-1])
    result = runner.invoke(cli.app, ["snapshot", "info", str(path)])
    assert result.exit_code == 2
    assert "truncated" in one_error_line(result.stderr)
