"""Helpers for end-to-end CLI tests: the real ``python -m ouroboros`` in child processes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ENTITIES = "200"
TIMEOUT_S = 120


def command(*args: object) -> list[str]:
    return [sys.executable, "-m", "ouroboros", *map(str, args)]


def ouroboros(*args: object, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the command line in a new process and wait for it."""
    return subprocess.run(command(*args), cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT_S)


def in_parallel(*runs: tuple[object, ...], cwd: Path) -> list[subprocess.CompletedProcess[str]]:
    """Run several commands at once (each in its own process); results in the given order."""
    procs = [
        subprocess.Popen(command(*args), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for args in runs
    ]
    results = []
    for args, proc in zip(runs, procs, strict=True):
        out, err = proc.communicate(timeout=TIMEOUT_S)
        results.append(subprocess.CompletedProcess(command(*args), proc.returncode, out, err))
    return results


def json_of(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def invoke(*args: Any, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """The command line in this process (typer's runner): exit code, stdout, stderr."""
    from typer.testing import CliRunner

    from ouroboros.cli import app

    result = CliRunner().invoke(app, [str(a) for a in args], env=env)
    return result.exit_code, result.stdout, result.stderr


def one_error_line(stderr: str) -> str:
    """The whole of stderr must be one ``error:`` line: no traceback, no usage box."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.fixture(scope="session")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The expensive runs, shared: seed 1 for 1000 ticks twice, seed 2 once, and seed 1 saved
    at tick 500 then continued from the snapshot for 500 more, each in a process of its own."""
    work = tmp_path_factory.mktemp("runs")
    straight_a, straight_b = in_parallel(
        ("run", "--ticks", 1000, "--seed", 1, "--entities", ENTITIES, "--json"),
        ("run", "--ticks", 1000, "--seed", 1, "--entities", ENTITIES, "--json"),
        cwd=work,
    )
    other_seed, first_half = in_parallel(
        ("run", "--ticks", 1000, "--seed", 2, "--entities", ENTITIES, "--json"),
        ("run", "--ticks", 500, "--seed", 1, "--entities", ENTITIES, "--save", "half.snap", "--json"),
        cwd=work,
    )
    second_half = ouroboros("run", "--from", "half.snap", "--ticks", 500, "--json", cwd=work)
    return {
        "dir": work,
        "snapshot": work / "half.snap",
        "straight_a": json_of(straight_a),
        "straight_b": json_of(straight_b),
        "other_seed": json_of(other_seed),
        "first_half": json_of(first_half),
        "second_half": json_of(second_half),
    }
