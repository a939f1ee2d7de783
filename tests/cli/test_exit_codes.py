"""Every error carries its exit code, every error class lives in ``ouroboros.errors``, and one
boundary in the command line reads the code: a command failing with an error of each kind ends
with that kind's code and one ``error:`` line."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ouroboros import cli, errors
from ouroboros.ai.guardrails import Violation
from ouroboros.errors import EXIT_BAD_INPUT, EXIT_FAILED, OuroborosError, Reason
from tests.cli.conftest import one_error_line

SRC = Path(errors.__file__).parent
HOMES = {SRC / "errors.py", SRC / "engine" / "errors.py"}

ERROR_CLASSES = sorted(
    (obj for obj in vars(errors).values() if inspect.isclass(obj) and issubclass(obj, BaseException)),
    key=lambda cls: cls.__name__,
)


def an_error(cls: type[OuroborosError]) -> OuroborosError:
    """One instance of ``cls``, built the way the code that raises it builds it."""
    if issubclass(cls, errors.RejectedError):
        return cls([Reason("schema", "wrong_type", "/items/0", "expected an object")])
    if cls is errors.GuardrailError:
        return cls([Violation("max_damage", "/items/0/damage", 900, 50, "damage 900 is over 50")])
    if cls is errors.LlmError:
        return cls("the model timed out", code="timeout")
    if cls is errors.SyncTestError:
        return cls("desync", tick=3, sections=["body"])
    if cls is errors.CharacterHeldError:
        return cls("Molly", holder="neon-1")
    return cls(f"a {cls.__name__} happened")


def test_every_error_class_is_an_ouroboros_error_with_an_int_exit_code() -> None:
    assert len(ERROR_CLASSES) >= 30
    for cls in ERROR_CLASSES:
        assert issubclass(cls, OuroborosError), cls
        assert type(cls.exit_code) is int and cls.exit_code in (EXIT_FAILED, EXIT_BAD_INPUT), cls
        assert an_error(cls).exit_code in (EXIT_FAILED, EXIT_BAD_INPUT), cls


def test_bad_input_exits_2_and_failures_and_refusals_exit_1() -> None:
    assert errors.BadInputError.exit_code == errors.AccountError.exit_code == EXIT_BAD_INPUT
    assert errors.ContentError.exit_code == errors.SnapshotError.exit_code == EXIT_BAD_INPUT
    assert errors.PatchError.exit_code == errors.LedgerError.exit_code == EXIT_FAILED
    assert errors.GuardrailError.exit_code == errors.LlmError.exit_code == EXIT_FAILED
    assert OuroborosError.exit_code == EXIT_FAILED
    # a refusal by the house's rules is 1, whatever its class says about the document's shape
    refused = errors.RejectedError([Reason("guardrails", "max_damage", "/items/0", "too strong")])
    assert refused.exit_code == EXIT_FAILED
    assert errors.KeyringError("bad file", code="keyring_version").exit_code == EXIT_BAD_INPUT
    assert errors.KeyringError("tampered", code="keyring_tampered").exit_code == EXIT_FAILED
    assert errors.AuthError("malformed", 400).exit_code == EXIT_BAD_INPUT
    assert errors.AuthError("wrong secret").exit_code == EXIT_FAILED


def test_no_error_class_is_defined_outside_the_errors_modules() -> None:
    strays = []
    for path in sorted(SRC.rglob("*.py")):
        if path in HOMES:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and node.name.endswith("Error"):
                strays.append(f"{path.relative_to(SRC)}:{node.lineno} {node.name}")
    assert strays == []


def test_no_command_picks_an_exit_code_for_an_exception_itself() -> None:
    """Only ``cli/boundary.py`` turns a caught exception into an exit (``fail`` or ``typer.Exit``)."""
    offenders = []
    for path in sorted((SRC / "cli").glob("*.py")):
        if path.name == "boundary.py":
            continue
        for handler in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(handler, ast.ExceptHandler):
                continue
            for node in ast.walk(handler):
                if isinstance(node, ast.Call):
                    func = node.func
                    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
                    if name in ("fail", "_fail", "Exit"):
                        offenders.append(f"{path.name}:{handler.lineno}")
    assert offenders == []


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda cls: cls.__name__)
def test_a_command_failing_with_each_kind_exits_with_its_code(
    cls: type[OuroborosError], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    error = an_error(cls)

    def broken_step(self: Any) -> Any:
        raise error

    monkeypatch.setattr(cli.core.World, "step", broken_step)
    result = CliRunner().invoke(
        cli.app, ["run", "--ticks", "3", "--entities", "5", "--log", str(tmp_path / "x.log")]
    )
    assert result.exit_code == error.exit_code, result.stderr
    line = one_error_line(result.stderr)
    assert line.startswith("error: ") and line.removeprefix("error: ")
    assert list(tmp_path.iterdir()) == []  # the failed run left no partial log


@pytest.mark.parametrize(
    ("code", "exit_code"), [("keyring_tampered", EXIT_FAILED), ("keyring_threshold", EXIT_BAD_INPUT)]
)
def test_a_governance_command_reads_the_same_codes(
    code: str, exit_code: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``keys list`` goes through the same boundary: a keyring error ends it with the error's code."""
    from ouroboros.cli import governance

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise errors.KeyringError("the keyring says no", code=code)

    monkeypatch.setattr(governance, "_governor", broken)
    tmp_path.joinpath("data").mkdir()
    result = CliRunner().invoke(cli.app, ["patch", "list", "--data", str(tmp_path / "data")])
    assert result.exit_code == exit_code, result.stderr
    assert one_error_line(result.stderr) == "error: the keyring says no"
