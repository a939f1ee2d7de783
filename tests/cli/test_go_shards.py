"""``ouroboros go --shards WORLD=N``: a bad value is one clear error, exit 2, before anything
starts; ``--shards neon=2`` runs, saves each shard in its own place and resumes them."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import invoke, one_error_line, ouroboros

NO_API = ("--port", "0", "--no-browser", "--telnet-port", "0", "--ws-port", "0")


@pytest.mark.parametrize(
    ("shards", "says"),
    [
        ("neon=0", "from 1 to 16"),
        ("neon=17", "from 1 to 16"),
        ("neon=two", "not a whole number"),
        ("neon", "WORLD=N"),
        ("petri=2", "not a world this go runs"),
        ("neon=2,neon=3", "twice"),
    ],
)
def test_bad_shards_exit_2_with_one_line(tmp_path: Path, shards: str, says: str) -> None:
    code, _, stderr = invoke("go", "--world", "neon", "--data", tmp_path / "d", *NO_API, "--shards", shards)
    assert code == 2, stderr
    assert says in one_error_line(stderr)
    assert not (tmp_path / "d" / "neon").exists()


@pytest.mark.slow
def test_two_neon_shards_run_save_apart_and_resume(tmp_path: Path) -> None:
    args = ("go", "--world", "neon", "--data", tmp_path / "d", *NO_API, "--shards", "neon=2")
    first = ouroboros(*args, "--max-ticks", 20, "--ticks-per-second", 0, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "saved the city at tick 20" in first.stdout
    assert (tmp_path / "d" / "neon" / "shards" / "1" / "neon.db").is_file()
    second = ouroboros(*args, "--max-ticks", 5, "--ticks-per-second", 0, cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "resuming the city at tick 20" in second.stdout and "saved the city at tick 25" in second.stdout
