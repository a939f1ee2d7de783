"""``ouroboros sandbox check|run``: ok or faults, exit codes 0/1/2, one JSON object, and no
script can crash or hang the command."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ouroboros.cli import app
from ouroboros.sandbox import SEEK_FOOD_LUA

from .conftest import in_parallel, one_error_line, ouroboros

runner = CliRunner()


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def test_check_passes_a_good_script(tmp_path: Path) -> None:
    result = runner.invoke(app, ["sandbox", "check", str(write(tmp_path, "seek.lua", SEEK_FOOD_LUA))])
    assert result.exit_code == 0 and result.output.strip() == "ok"


def test_check_refuses_with_the_fault_and_exit_1(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.lua", "function act(ctx) os.exit(1) end")
    result = runner.invoke(app, ["sandbox", "check", str(path), "--json"])
    assert result.exit_code == 1
    out = json.loads(result.stdout)
    assert out["ok"] is False and out["faults"][0]["code"] == "forbidden_name"


def test_check_refuses_a_python_trait_the_gate_refuses(tmp_path: Path) -> None:
    path = write(tmp_path, "evil.py", "import os\nos.system('id')\n")
    result = runner.invoke(app, ["sandbox", "check", str(path), "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["language"] == "python"


@pytest.mark.parametrize("name", ["nested_lambda_bomb.py", "deep_parser_bomb.py"])
def test_check_refuses_a_python_nesting_bomb_with_one_syntax_fault(name: str) -> None:
    """Issue 14: 3,000 nested lambdas once raised a parser MemoryError traceback."""
    path = Path(__file__).parents[1] / "sandbox" / "corpus" / "python" / name
    result = runner.invoke(app, ["sandbox", "check", str(path), "--json"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    out = json.loads(result.stdout)
    assert [f["code"] for f in out["faults"]] == ["syntax"]
    assert "nested more than" in out["faults"][0]["message"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.lua", None, "cannot read script"),
        ("script.txt", "x", "unknown script type"),
        ("latin.lua", b"-- caf\xe9\nfunction act(ctx) end\n", "not UTF-8"),
    ],
)
def test_bad_input_is_one_error_line_and_exit_2(
    tmp_path: Path, name: str, content: str | bytes | None, message: str
) -> None:
    path = tmp_path / name if content is None else write(tmp_path, name, content)
    for command in ("check", "run"):
        result = runner.invoke(app, ["sandbox", command, str(path)])
        assert result.exit_code == 2
        assert message in one_error_line(result.stderr)


def test_run_reports_a_clean_trial(tmp_path: Path) -> None:
    path = write(tmp_path, "seek.lua", SEEK_FOOD_LUA)
    result = runner.invoke(app, ["sandbox", "run", str(path), "--entities", "50", "--ticks", "7", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["ok"] is True and out["fault"] is None and out["ticks_run"] == 7
    assert len(out["digest"]) == 32


def test_run_stops_at_the_first_fault_with_ok_false_and_exit_1(tmp_path: Path) -> None:
    path = write(
        tmp_path, "hog.lua", "function act(ctx)\n  local s = 'x'\n  while true do s = s .. s end\nend\n"
    )
    result = runner.invoke(app, ["sandbox", "run", str(path), "--ticks", "50", "--json"])
    assert result.exit_code == 1
    out = json.loads(result.stdout)
    assert out["ok"] is False and out["ticks_run"] == 1
    assert out["fault"]["code"] == "memory"
    assert set(out["fault"]) == {"code", "message", "budget_used"}


def test_run_of_a_refused_script_runs_no_tick(tmp_path: Path) -> None:
    path = write(tmp_path, "bin.lua", b"\x1bLuaT\x00")
    result = runner.invoke(app, ["sandbox", "run", str(path), "--json"])
    assert result.exit_code == 1
    out = json.loads(result.stdout)
    assert (out["ok"], out["ticks_run"], out["fault"]["code"]) == (False, 0, "binary_chunk")


def test_bad_flags_are_exit_2(tmp_path: Path) -> None:
    path = write(tmp_path, "seek.lua", SEEK_FOOD_LUA)
    for flags in (["--ticks", "-1"], ["--entities", "0"], ["--world", "neon"]):
        result = runner.invoke(app, ["sandbox", "run", str(path), *flags])
        assert result.exit_code == 2, flags
        one_error_line(result.stderr)


def test_the_real_command_survives_a_hostile_script_quickly(tmp_path: Path) -> None:
    corpus = Path(__file__).parents[1] / "sandbox" / "corpus" / "lua"
    started = time.perf_counter()
    result = ouroboros("sandbox", "run", corpus / "pattern_find.lua", "--json", cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    out = json.loads(result.stdout)
    assert out["fault"]["code"] == "wall_clock" and out["ticks_run"] == 1
    assert time.perf_counter() - started < 30


def test_run_takes_a_gated_python_trait_too(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "drift.py",
        "class Drift(Trait):\n    async def execute(self, entity):\n        entity.thrust_x = 1\n",
    )
    result = runner.invoke(app, ["sandbox", "run", str(path), "--entities", "30", "--ticks", "2", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert (out["ok"], out["language"], out["ticks_run"]) == (True, "python", 2)


@pytest.mark.parametrize(
    ("names", "codes"),
    [
        (
            ("table_remove_len_lies.lua", "table_insert_len_lies.lua", "table_sort_len_changes.lua"),
            ("wall_clock", "wall_clock", "wall_clock"),
        ),
        (("mem_rep_wraparound.lua", "mem_rep_empty.lua"), ("memory", "memory")),
    ],
    ids=["len_tricks", "rep_overflow"],
)
def test_the_real_command_returns_quickly_on_scripts_that_once_hung_it(
    tmp_path: Path, names: tuple[str, ...], codes: tuple[str, ...]
) -> None:
    corpus = Path(__file__).parents[1] / "sandbox" / "corpus" / "lua"
    started = time.perf_counter()
    results = in_parallel(*[("sandbox", "run", corpus / n, "--json") for n in names], cwd=tmp_path)
    for name, code, result in zip(names, codes, results, strict=True):
        assert result.returncode == 1 and "Traceback" not in result.stderr, name
        out = json.loads(result.stdout)
        assert (out["ok"], out["fault"]["code"], out["ticks_run"]) == (False, code, 1), (name, out)
        assert out["fault"]["budget_used"]["instructions"] >= 0
    assert time.perf_counter() - started < 30
