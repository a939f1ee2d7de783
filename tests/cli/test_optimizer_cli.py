"""`ouroboros optimizer …` and `run --optimizer/--force-variant` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ouroboros.cli import app


def run(*args: object) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def test_variants_lists_every_system_with_its_implementations() -> None:
    code, out, _ = run("optimizer", "variants", "--json")
    assert code == 0
    table = json.loads(out)
    assert {"eat", "collide"} <= set(table)
    assert {"python", "numpy"} <= set(table["eat"])


def test_forced_variants_give_the_same_digest_as_any_other() -> None:
    digests = set()
    for variant in ("python", "numpy"):
        code, out, err = run(
            "run",
            "--ticks",
            "40",
            "--entities",
            "150",
            "--seed",
            "3",
            "--optimizer",
            "off",
            "--force-variant",
            f"eat={variant}",
            "--force-variant",
            f"collide={variant}",
            "--json",
        )
        assert code == 0, err
        summary = json.loads(out)
        assert summary["variants"]["eat"] == variant and summary["variants"]["collide"] == variant
        digests.add(summary["digest"])
    code, out, _ = run("run", "--ticks", "40", "--entities", "150", "--seed", "3", "--json")
    digests.add(json.loads(out)["digest"])  # optimizer on: whatever it chose, the same world
    assert len(digests) == 1


@pytest.mark.parametrize(
    "args",
    [
        ("--force-variant", "eat"),
        ("--force-variant", "eat=nope"),
        ("--force-variant", "nosuch=numpy"),
        ("--optimizer", "maybe"),
    ],
)
def test_bad_optimizer_flags_exit_2(args: tuple[str, ...]) -> None:
    code, _, err = run("run", "--ticks", "1", *args)
    assert code == 2 and err.startswith("error: ")


def test_freeze_force_status_and_history(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert run("optimizer", "freeze", "--data", data)[0] == 0
    assert run("optimizer", "force", "eat=numpy", "--data", data)[0] == 0
    code, out, _ = run("optimizer", "status", "--data", data, "--json")
    status = json.loads(out)
    assert status["frozen"] and status["forced"] == {"eat": "numpy"}
    assert run("optimizer", "force", "eat=warp", "--data", data)[0] == 2
    code, out, _ = run(
        "go", "--data", data, "--max-ticks", "5", "--ticks-per-second", "0", "--entities", "80"
    )
    assert code == 0
    code, out, _ = run("optimizer", "history", "--data", data, "--json")
    kinds = [d["kind"] for d in json.loads(out)["decisions"]]
    assert kinds[:3] == ["start", "freeze", "force"]
    assert run("optimizer", "release", "eat", "--data", data)[0] == 0
    assert run("optimizer", "release", "eat", "--data", data)[0] == 2
    assert run("optimizer", "unfreeze", "--data", data)[0] == 0
    assert json.loads(run("optimizer", "status", "--data", data, "--json")[1])["frozen"] is False


def _history(data: Path, *entries: dict[str, Any]) -> None:
    data = data / "petri"  # where `go --data DATA` runs petri
    data.mkdir(parents=True, exist_ok=True)
    lines = [
        json.dumps({"tick": 0, "system": None, "from": None, "to": None, "why": "", **e}) for e in entries
    ]
    (data / "optimizer-history.jsonl").write_text("\n".join(lines) + "\n")


def test_status_follows_releases_and_restarts(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _history(
        data,
        {"kind": "start", "frozen": False},
        {"kind": "force", "system": "eat", "from": "numpy", "to": "python"},
        {"kind": "switch", "system": "collide", "from": "numpy", "to": "numba"},
        {"kind": "release", "system": "eat"},
    )
    engine = json.loads(run("optimizer", "status", "--data", data, "--json")[1])["engine"]
    assert engine["forced"] == {} and engine["variants"] == {"eat": "python", "collide": "numba"}
    code, out, _ = run("optimizer", "status", "--data", data)
    assert code == 0 and "(forced)" not in out and "collide      numba" in out
    _history(
        data,
        {"kind": "start", "frozen": False},
        {"kind": "switch", "system": "collide", "from": "numpy", "to": "numba"},
        {"kind": "start", "frozen": True},  # a restart: its world began from the defaults
        {"kind": "force", "system": "eat", "from": "numpy", "to": "python"},
    )
    status = json.loads(run("optimizer", "status", "--data", data, "--json")[1])
    assert status["variants"] == {"eat": "python"} and status["engine"]["forced"] == {"eat": "python"}
    assert status["engine"]["frozen"] is True and status["frozen"] is False  # no control file


def test_a_system_forced_twice_is_a_contradiction() -> None:
    code, _, err = run("run", "--ticks", "1", "--force-variant", "eat=python", "--force-variant", "eat=numpy")
    assert code == 2 and err.startswith("error: ") and len(err.strip().splitlines()) == 1


def test_history_shows_the_advice_beside_each_decision(tmp_path: Path) -> None:
    data = tmp_path / "data"
    ok = {
        "advisor": "offline",
        "status": "ok",
        "rank": 1,
        "of": 2,
        "risk": 0.15,
        "reason": "measured 3.10 times",
    }
    late = {
        "advisor": "ollama/smollm2",
        "status": "late",
        "why": "no answer in time; decided by the rules alone",
    }
    _history(
        data,
        {"kind": "start", "frozen": False},
        {"kind": "switch", "system": "eat", "from": "python", "to": "numpy", "advice": ok},
        {"kind": "keep", "system": "collide", "from": "numpy", "to": "numba", "advice": late},
        {
            "kind": "advice",
            "advice": {
                "advisor": "ollama/smollm2",
                "status": "late",
                "ranking": ["collide=numba"],
                "risks": {"collide=numba": {"risk": 0.4, "reason": "jit"}},
            },
        },
    )
    code, out, _ = run("optimizer", "history", "--data", data)
    assert code == 0
    lines = out.splitlines()
    assert "switch" in lines[1] and "eat: python → numpy" in lines[1]
    assert lines[2].strip() == "advice: ok (offline): rank 1 of 2; risk 0.15: measured 3.10 times"
    assert lines[4].strip() == "advice: late (ollama/smollm2): no answer in time; decided by the rules alone"
    assert lines[6].strip() == "advice: late (ollama/smollm2): ranked collide=numba risk 0.40"
    decisions = json.loads(run("optimizer", "history", "--data", data, "--json")[1])["decisions"]
    assert decisions[1]["advice"] == ok
