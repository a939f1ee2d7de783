"""A verdict is typed: code reads ``verdict.ok`` (or ``"ok"`` of its dict form) and compares
``state`` only with ``State`` members — never a verdict's state with a string."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import ouroboros
from ouroboros.errors import Reason
from ouroboros.patches.governor import REFUSED, Verdict
from ouroboros.patches.states import State

SRC = Path(ouroboros.__file__).parent
VERDICT_NAMES = ("verdict", "result", "outcome_verdict")


def _is_verdict_state(node: ast.AST) -> bool:
    """``verdict.state`` or ``verdict["state"]`` (any name that says it holds a verdict)."""
    if (isinstance(node, ast.Attribute) and node.attr == "state") or (
        isinstance(node, ast.Subscript)
        and isinstance(node.slice, ast.Constant)
        and node.slice.value == "state"
    ):
        target = node.value
    else:
        return False
    return isinstance(target, ast.Name) and target.id in VERDICT_NAMES


def _has_text(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Constant) and isinstance(n.value, str) for n in ast.walk(node))


def string_comparisons(source: str) -> list[int]:
    return [
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Compare)
        and _is_verdict_state(node.left)
        and any(_has_text(c) for c in node.comparators)
    ]


def test_the_check_finds_what_it_forbids() -> None:
    bad = 'if verdict.state == "active": pass\nif result["state"] in ("rejected", "refused"): pass\n'
    assert string_comparisons(bad) == [1, 2]
    assert string_comparisons("if verdict.state == State.ACTIVE or not verdict.ok: pass\n") == []


def test_no_source_compares_a_verdicts_state_with_text() -> None:
    found = {
        str(path.relative_to(SRC)): lines
        for path in sorted(SRC.rglob("*.py"))
        if (lines := string_comparisons(path.read_text(encoding="utf-8")))
    }
    assert found == {}


@pytest.mark.parametrize("state", [*State, REFUSED])
def test_the_dict_form_carries_the_typed_decision(state: str) -> None:
    verdict = Verdict("p-1", state, [Reason("policy", "x", "", "why")])
    assert verdict.as_dict()["ok"] is verdict.ok
    assert verdict.ok == (state not in (State.REJECTED, State.ROLLED_BACK, REFUSED))
