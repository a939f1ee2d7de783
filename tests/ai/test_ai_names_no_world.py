"""``ai/`` learns everything world-specific from the world's spec: it imports no world's internals
(``ouroboros.worlds.<world>``) and holds no string constant equal to a registered world's name
(docstrings aside), so a new world needs nothing in ``ai/``."""

from __future__ import annotations

import ast
from pathlib import Path

import ouroboros
from ouroboros.worlds import world_names

PACKAGES = ("ai",)
SRC = Path(ouroboros.__file__).parent


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of the string nodes that are docstrings (of a module, class or function)."""
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                out.add(id(body[0].value))
    return out


def offences(source: str, worlds: set[str]) -> list[str]:
    tree = ast.parse(source)
    docs = _docstrings(tree)
    found: list[str] = []
    for node in ast.walk(tree):
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            inner = node.module == "ouroboros.worlds"  # ``from ouroboros.worlds import petri``
            modules = [f"{node.module}.{a.name}" for a in node.names] if inner else [node.module]
        for module in modules:
            parts = module.split(".")
            if parts[:2] == ["ouroboros", "worlds"] and len(parts) > 2 and parts[2] in worlds:
                found.append(f"line {node.lineno}: imports {module}")
        is_text = isinstance(node, ast.Constant) and isinstance(node.value, str)
        if is_text and id(node) not in docs and node.value in worlds:
            found.append(f"line {node.lineno}: names the world {node.value!r}")
    return found


def test_the_check_finds_what_it_forbids() -> None:
    worlds = {"petri", "neon"}
    bad = (
        "from ouroboros.worlds.petri.systems import molbots\nimport ouroboros.worlds.neon\n"
        'from ouroboros.worlds import petri\nW = "neon"\n'
    )
    assert len(offences(bad, worlds)) == 4
    good = '"""petri is named in a docstring."""\nfrom ouroboros.worlds import spec_of\nW = "neon.x"\n'
    assert offences(good, worlds) == []


def test_no_package_above_worlds_names_a_world() -> None:
    worlds = set(world_names())
    found = {
        str(path.relative_to(SRC)): problems
        for package in PACKAGES
        for path in sorted((SRC / package).rglob("*.py"))
        if (problems := offences(path.read_text(encoding="utf-8"), worlds))
    }
    assert found == {}
