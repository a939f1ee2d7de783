"""``ouroboros go --shards WORLD=N``: a bad value is one clear error, exit 2, before anything
starts; ``--shards neon=2`` runs, saves each shard in its own place and resumes them."""

from __future__ import annotations

import json
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


@pytest.mark.parametrize(
    ("shards", "says"), [("neon=0", "from 1 to 16"), ("petri=2", "not a world this go runs")]
)
def test_a_bad_shards_setting_exits_2_with_one_line_naming_the_setting(
    tmp_path: Path, shards: str, says: str
) -> None:
    args = ("go", "--world", "neon", "--data", tmp_path / "d", *NO_API)
    code, _, stderr = invoke(*args, env={"OUROBOROS_SHARDS": shards})
    assert code == 2, stderr
    line = one_error_line(stderr)
    assert says in line and "shards setting" in line
    config = tmp_path / "ouroboros.toml"
    config.write_text(f'shards = "{shards}"\n', encoding="utf-8")
    code, _, stderr = invoke(*args, "--config", config)
    assert code == 2 and says in one_error_line(stderr)
    assert not (tmp_path / "d" / "neon").exists()


def test_shards_from_the_environment_run_the_shards_and_config_show_says_so(tmp_path: Path) -> None:
    env = {"OUROBOROS_SHARDS": "neon=2"}
    code, out, _ = invoke("config", "show", "--json", env=env)
    assert code == 0
    assert json.loads(out)["settings"]["shards"] == {"value": "neon=2", "source": "env"}
    args = (
        "go",
        "--world",
        "neon",
        "--data",
        tmp_path / "d",
        *NO_API,
        "--max-ticks",
        3,
        "--ticks-per-second",
        0,
    )
    code, out, stderr = invoke(*args, env=env)
    assert code == 0, stderr
    assert (tmp_path / "d" / "neon" / "shards" / "1").is_dir()  # the second shard kept its own place
    code, _, stderr = invoke(*args, "--shards", "neon=17", env=env)  # the flag wins, and is checked
    assert code == 2 and "--shards neon: the count" in one_error_line(stderr)
