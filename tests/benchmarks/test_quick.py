"""Every benchmark still runs: each ``benchmarks/bench_*.py`` in its ``--quick`` mode (tiny
sizes, seconds), writing its JSON where it is told. A benchmark that rots — as ``bench_neon.py``
did when ``go`` changed what it prints — fails here instead of on the day someone needs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BENCHMARKS = sorted((REPO / "benchmarks").glob("bench_*.py"))


def test_there_are_benchmarks() -> None:
    assert len(BENCHMARKS) >= 8


@pytest.mark.slow
@pytest.mark.parametrize("script", BENCHMARKS, ids=lambda p: p.stem)
def test_quick_mode_runs_and_writes_its_json(script: Path, tmp_path: Path) -> None:
    out = tmp_path / f"{script.stem}.json"
    published = sorted((REPO / "benchmarks" / "results").glob("*.json"))
    before = {p: p.stat().st_mtime_ns for p in published}
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    done = subprocess.run(
        [sys.executable, str(script), "--quick", "--out", str(out)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, (
        f"{script.name} --quick failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    )
    assert done.stdout.strip(), f"{script.name} printed no table"
    result = json.loads(out.read_text())
    assert result, f"{script.name} wrote an empty result"
    assert {p: p.stat().st_mtime_ns for p in published} == before, "a quick run overwrote published results"
