"""``ouroboros go --world neon``: bad flags and a taken port are one clear error, exit 2; the city
saves itself and the next ``go`` resumes it."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from .conftest import one_error_line, ouroboros

NO_API = ("--port", "0", "--no-browser")


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (["--telnet-port", "99999"], "--telnet-port"),
        (["--ws-port", "-1"], "--ws-port"),
        (["--ticks-per-second", "-1"], "--ticks-per-second"),
        (["--max-ticks", "-5"], "--max-ticks"),
    ],
)
def test_bad_flags_exit_2(tmp_path: Path, flags: list[str], says: str) -> None:
    result = ouroboros("go", "--world", "neon", "--data", tmp_path / "d", *NO_API, *flags, cwd=tmp_path)
    assert result.returncode == 2
    assert says in one_error_line(result.stderr)


def test_data_that_is_a_file_or_a_taken_port_exit_2(tmp_path: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("not a folder")
    result = ouroboros("go", "--world", "neon", "--data", afile, *NO_API, cwd=tmp_path)
    assert result.returncode == 2 and "not a folder" in one_error_line(result.stderr)
    assert afile.read_text() == "not a folder"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = ouroboros(
            "go",
            "--world",
            "neon",
            "--data",
            tmp_path,
            "--telnet-port",
            port,
            "--ws-port",
            0,
            *NO_API,
            cwd=tmp_path,
        )
        assert result.returncode == 2 and "address already in use" in one_error_line(result.stderr)
        api = ouroboros(
            "go", "--world", "neon", "--data", tmp_path, "--port", port, "--no-browser", cwd=tmp_path
        )
        assert api.returncode == 2 and "--port" in one_error_line(api.stderr)


def test_a_short_run_saves_the_city_and_the_next_resumes_it(tmp_path: Path) -> None:
    args = ("go", "--world", "neon", "--data", tmp_path / "d", "--telnet-port", 0, "--ws-port", 0, *NO_API)
    first = ouroboros(*args, "--max-ticks", 30, "--ticks-per-second", 0, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "new neon city at tick 0" in first.stdout and "saved the city at tick 30" in first.stdout
    second = ouroboros(*args, "--max-ticks", 10, "--ticks-per-second", 0, cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "resuming the city at tick 30" in second.stdout and "saved the city at tick 40" in second.stdout
    fresh = ouroboros(*args, "--max-ticks", 1, "--fresh", "--seed", 5, cwd=tmp_path)
    assert "new neon city at tick 0, seed 5" in fresh.stdout
