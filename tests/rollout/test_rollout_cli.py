"""``ouroboros rollout`` as an operator runs it: exit 0 done, 1 refused, 2 bad input — and a
refused or bad command leaves the ledger exactly as it was."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ouroboros.cli import app
from ouroboros.patches.governor import Governor
from ouroboros.patches.ledger import Ledger


def run(*args: object) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def one_error_line(err: str) -> bool:
    return err.startswith("error: ") and "Traceback" not in err and len(err.strip().splitlines()) == 1


def head(data: Path) -> tuple[int, str]:
    with Ledger(data) as ledger:
        return ledger.head()


@pytest.fixture
def folder(gov: Governor, validated: Callable[..., str]) -> tuple[Path, str, str]:
    """A data folder with one validated patch and one rejected one (the governor closed)."""
    patch = validated(30)
    rejected = validated(31)
    gov.reject(rejected, "alice", "no")
    gov.close()
    return gov.data, patch, rejected


@pytest.mark.parametrize(
    ("plan", "why"),
    [
        ("10,1,100", "must increase"),
        ("1,10,10,100", "must increase"),
        ("1,50,150", "at most 100"),
        ("1,10,50", "ends at 100"),
        ("one,100", "not a percentage"),
    ],
)
def test_a_bad_plan_exits_2_with_one_reason_and_changes_nothing(
    folder: tuple[Path, str, str], plan: str, why: str
) -> None:
    data, patch, _ = folder
    before = head(data)
    code, out, err = run("rollout", "start", patch, "--plan", plan, "--data", data)
    assert code == 2 and one_error_line(err) and why in err and out == ""
    assert head(data) == before


def test_bad_patches_and_flags_exit_2(folder: tuple[Path, str, str], tmp_path: Path) -> None:
    data, _, rejected = folder
    before = head(data)
    for args, why in [
        (("p-unknown",), "unknown patch"),
        ((rejected,), "only a validated patch"),
        ((rejected, "--window-ticks", "0"), "--window-ticks"),
        ((rejected, "--min-exposures", "-3"), "--min-exposures"),
        ((rejected, "--scope", "planet"), "cohort or shard"),
        ((rejected, "--check", "happiness:limit=1"), "unknown rollout metric"),
        ((rejected, "--check", "faults_per_1000_ticks:limit=x"), "not a number"),
        ((rejected, "--check", "faults_per_1000_ticks"), "needs a limit or a margin"),
        (
            (
                rejected,
                "--check",
                "faults_per_1000_ticks:limit=1",
                "--check",
                "faults_per_1000_ticks:margin=1",
            ),
            "once",
        ),
    ]:
        code, _, err = run("rollout", "start", *args, "--data", data)
        assert code == 2 and one_error_line(err) and why in err, (args, err)
    code, _, err = run("rollout", "status", "--data", tmp_path / "nowhere")
    assert code == 2 and "no such folder" in err
    assert head(data) == before


def test_an_operator_runs_a_rollout_from_the_command_line(folder: tuple[Path, str, str]) -> None:
    data, patch, _ = folder
    code, out, err = run(
        "rollout",
        "start",
        patch,
        "--plan",
        "1,10,50,100",
        "--window-ticks",
        "300",
        "--min-exposures",
        "5",
        "--json",
        "--data",
        data,
    )
    assert code == 0, err
    started = json.loads(out)
    assert (started["phase"], started["pct_bp"], started["plan"]["window_ticks"]) == ("running", 100, 300)
    code, out, err = run("rollout", "start", patch, "--data", data)
    assert code == 1 and "one at a time" in err
    code, out, _ = run("rollout", "status", "--json", "--data", data)
    report = json.loads(out)
    assert report["rollout"]["rollout_id"] == started["rollout_id"] and report["consistent"] is True
    assert report["version"]["activation_scope"] == "cohort"
    before = head(data)
    code, _, err = run("rollout", "promote", "--data", data)
    assert code == 1 and "not a pass" in err and head(data) == before
    assert run("rollout", "pause", "--data", data)[0] == 0
    code, _, err = run("rollout", "promote", "--force", "--data", data)
    assert code == 1 and "resume it first" in err
    assert run("rollout", "resume", "--data", data)[0] == 0
    code, out, err = run("rollout", "promote", "--force", "--json", "--data", data)
    assert code == 0 and json.loads(out)["pct_bp"] == 1000, err
    code, out, _ = run("rollout", "status", "--data", data)
    assert "10% treatment" in out and "rollout_stage" in out and "forced promotion" in out
    code, out, _ = run("rollout", "abort", "--reason", "enough", "--data", data)
    assert code == 0 and "aborted" in out
    code, _, err = run("rollout", "abort", "--data", data)
    assert code == 1 and "no rollout is under way" in err


def test_the_kill_switch_refuses_a_start(folder: tuple[Path, str, str]) -> None:
    data, patch, _ = folder
    assert run("killswitch", "engage", "--actor", "a", "--reason", "r", "--data", data)[0] == 0
    before = head(data)
    code, _, err = run("rollout", "start", patch, "--data", data)
    assert code == 1 and "kill-switch" in err and head(data) == before


def test_a_world_without_players_stages_with_its_own_checks(folder: tuple[Path, str, str]) -> None:
    data, patch, _ = folder
    code, out, err = run(
        "rollout", "start", patch, "--check", "faults_per_1000_ticks:limit=5:margin=1",
        "--check", "tick_p99_over_budget_ms:limit=0", "--scope", "shard", "--json", "--data", data,
    )  # fmt: skip
    assert code == 0, err
    plan = json.loads(out)["plan"]
    assert plan["scope"] == "shard"
    assert plan["checks"] == [
        {"metric": "faults_per_1000_ticks", "limit": 5, "margin": 1},
        {"metric": "tick_p99_over_budget_ms", "limit": 0, "margin": None},
    ]
