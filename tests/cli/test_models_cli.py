"""``ouroboros models``: a role's model changes only through a signed patch in the governance
pipeline (so ``rollback`` restores the one before), ``list`` shows the active assignment and
``stats`` what the council recorded; bad input is one line and exit 2, refusals exit 1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_ai_cli import data, one_error_line, run  # noqa: F401  (data is a fixture)


def roles(folder: Path) -> dict[str, dict[str, str]]:
    code, out, err = run("models", "list", "--data", folder, "--json")
    assert code == 0, err
    return dict(json.loads(out)["roles"])


def test_models_set_goes_through_the_pipeline_and_rollback_restores(data: Path) -> None:  # noqa: F811
    assert roles(data)["flavour"]["provider"] == "offline"
    code, out, err = run(
        "models", "set", "flavour", "--provider", "ollama", "--model", "llama3.2:3b",
        "--base-url", "http://127.0.0.1:11434", "--key", "op", "--data", data, "--json",
    )  # fmt: skip
    assert code == 0, err
    first = json.loads(out)
    assert first["state"] == "active"
    code, out, err = run(
        "models", "set", "flavour", "--provider", "openai", "--model", "qwen2.5-7b",
        "--base-url", "http://10.0.0.2:8000", "--key", "op", "--data", data, "--json",
    )  # fmt: skip
    assert code == 0 and json.loads(out)["state"] == "active", err
    now = roles(data)["flavour"]
    assert (now["provider"], now["model"], now["version"]) == ("openai", "qwen2.5-7b", "1.0.1")
    assert roles(data)["dialogue"]["provider"] == "offline"  # other roles untouched
    code, out, _ = run("ledger", "--data", data, "--json")
    assert code == 0 and first["patch_id"] in out  # recorded in the ledger like any patch
    code, _, err = run("rollback", "--data", data, "--actor", "ann", "--reason", "purple prose")
    assert code == 0, err
    back = roles(data)["flavour"]
    assert (back["provider"], back["model"], back["version"]) == ("ollama", "llama3.2:3b", "1.0.0")


@pytest.mark.parametrize(
    "args",
    [
        ("flavour", "--provider", "ollama", "--model", "m", "--key", "op"),  # no base url
        ("poetry", "--provider", "offline", "--model", "m", "--key", "op"),  # no such role
        ("flavour", "--provider", "skynet", "--model", "m", "--key", "op"),  # no such provider
        ("flavour", "--provider", "offline", "--model", "m", "--key", "nobody"),  # no such key
    ],
)
def test_bad_model_settings_are_one_line_and_change_nothing(data: Path, args: tuple[str, ...]) -> None:  # noqa: F811
    before = roles(data)
    code, _, err = run("models", "set", *args, "--data", data)
    assert code == 2 and one_error_line(err), err
    assert roles(data) == before


def test_a_kill_switch_refuses_a_model_change(data: Path) -> None:  # noqa: F811
    assert run("killswitch", "engage", "--actor", "ops", "--reason", "incident", "--data", data)[0] == 0
    code, out, err = run(
        "models", "set", "narrative", "--provider", "offline", "--model", "grammar@2", "--key", "op",
        "--data", data, "--json",
    )  # fmt: skip
    assert code == 1 and one_error_line(err)
    assert json.loads(out)["state"] == "refused"
    assert roles(data)["narrative"]["version"] is None


def test_stats_start_empty_and_fill_as_the_council_enriches(data: Path) -> None:  # noqa: F811
    code, out, _ = run("models", "stats", "--data", data)
    assert code == 0 and out.strip() == "no model calls recorded yet"
    code, out, err = run("generate", "ITEM", "--seed", 7, "--data", data, "--queue", "--json")
    assert code == 0, err
    pid = json.loads(out)["proposal_id"]
    assert run("queue", "approve", pid, "--data", data)[0] == 0
    code, out, _ = run("models", "stats", "--data", data, "--json")
    (row,) = json.loads(out)["stats"]
    assert (row["role"], row["model"], row["calls"], row["failures"], row["accepted"]) == (
        "flavour",
        "grammar@1",
        1,
        0,
        1,
    )


def test_models_key_reads_stdin_into_a_private_file_and_stats_show_cost(data: Path) -> None:  # noqa: F811
    import os

    from typer.testing import CliRunner

    from ouroboros.ai.llm import ModelRegistry
    from ouroboros.cli import app

    secret = "sk-live-abcdef0123456789"
    result = CliRunner().invoke(
        app, ["models", "key", "--role", "flavour", "--data", str(data)], input=secret + "\n"
    )
    assert result.exit_code == 0, result.stderr
    assert secret not in result.stdout
    key_file = data / "llm-keys.json"
    assert os.stat(key_file).st_mode & 0o777 == 0o600 and secret in key_file.read_text()
    for args, message in [
        (["--role", "poetry"], "--role must be one of"),
        ([], "give --role or --server"),
        (["--server", "ftp://x"], "--server must start with http"),
    ]:
        bad = CliRunner().invoke(app, ["models", "key", *args, "--data", str(data)], input=secret)
        assert bad.exit_code == 2 and message in one_error_line(bad.stderr)
    key_file.chmod(0o644)
    code, _, err = run("models", "stats", "--data", data)
    assert code == 0, err  # stats never need the key
    registry = ModelRegistry(db_path=data / "ai.sqlite3")
    registry.record("flavour", "hosted-1", 900, ok=True, accepted=False, tokens_in=200_000, tokens_out=50_000)
    registry.record("narrative", "free-1", 100, ok=True, accepted=False, tokens_in=10, tokens_out=5)
    registry.close()
    prices = {"models": {"hosted-1": {"input_per_million": 0.5, "output_per_million": 2.0}}}
    (data / "llm-prices.json").write_text(json.dumps(prices))
    code, out, err = run("models", "stats", "--data", data, "--json")
    assert code == 0, err
    body = json.loads(out)
    assert body["cost_by_role"] == {"flavour": 0.2, "narrative": 0.0}
    code, out, _ = run("models", "stats", "--data", data)
    assert "cost $0.200000" in out and "no price set in llm-prices.json" in out
