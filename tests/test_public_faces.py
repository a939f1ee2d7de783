"""Every package shows a small public face: an ``__init__`` with a sorted ``__all__`` whose every
name exists, and code outside a package with a face of its own imports only that face's names
(``patches/`` and ``sandbox/`` are held to it: no ``from ouroboros.patches.<module> import``
outside it)."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

import ouroboros

SRC = Path(ouroboros.__file__).parent
PACKAGES = sorted(
    ".".join(("ouroboros", *folder.relative_to(SRC).parts))
    for folder in [SRC, *(p for p in SRC.rglob("*") if p.is_dir())]
    if any(folder.glob("*.py"))
)
#: a face is small: a handful of names, never a package's every module-level name
MAX_PUBLIC_NAMES = 50
#: packages whose insides only they may import (the rest are still being given their faces)
HELD_TO_THEIR_FACE = ("ouroboros.patches", "ouroboros.sandbox")


def isort_key(name: str) -> tuple[int, str]:
    """ruff's RUF022 order: SCREAMING_CASE, then CamelCase, then the rest, each alphabetical."""
    if re.fullmatch(r"[A-Z][A-Z0-9_]*", name) and len(name) > 1:
        return (0, name)
    if name[:1].isupper():
        return (1, name)
    return (2, name)


def test_every_folder_of_modules_is_a_package() -> None:
    assert "ouroboros.patches" in PACKAGES and "ouroboros.server.api" in PACKAGES
    for name in PACKAGES:
        folder = SRC.joinpath(*name.split(".")[1:])
        assert (folder / "__init__.py").is_file(), name


@pytest.mark.parametrize("name", PACKAGES)
def test_the_face_is_sorted_small_and_every_name_exists(name: str) -> None:
    package = importlib.import_module(name)
    public = getattr(package, "__all__", None)
    assert isinstance(public, list), f"{name} has no __all__ list"
    assert all(isinstance(n, str) for n in public)
    assert public == sorted(public, key=isort_key), f"{name}.__all__ is not sorted"
    assert len(set(public)) == len(public), f"{name}.__all__ repeats a name"
    assert len(public) <= MAX_PUBLIC_NAMES, f"{name} exports {len(public)} names"
    missing = [n for n in public if not hasattr(package, n)]
    assert missing == [], f"{name}.__all__ names what it lacks"


def deep_imports(package: str, root: Path = SRC) -> list[str]:
    """``from <package>.<module> import …`` (or ``import <package>.<module>``) in source files
    outside ``package``, and names imported from ``package`` that are not in its face."""
    inside = SRC.joinpath(*package.split(".")[1:])
    face = set(importlib.import_module(package).__all__)
    found = []
    for path in sorted(root.rglob("*.py")):
        if inside in path.parents:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            where = f"{path.relative_to(root)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.ImportFrom) and node.module:
                if node.module.startswith(package + "."):
                    found.append(f"{where} from {node.module}")
                elif node.module == package:
                    found += [f"{where} {a.name}" for a in node.names if a.name not in face]
            elif isinstance(node, ast.Import):
                found += [f"{where} {a.name}" for a in node.names if a.name.startswith(package + ".")]
    return found


@pytest.mark.parametrize("package", HELD_TO_THEIR_FACE)
def test_code_outside_a_package_imports_only_its_public_names(package: str) -> None:
    assert deep_imports(package) == []


def test_the_check_sees_a_deep_import(tmp_path: Path) -> None:
    """The scan is not vacuous: a module deep in the package, or a name not in its face, is found."""
    (tmp_path / "caller.py").write_text(
        "from ouroboros.patches import Governor\n"
        "from ouroboros.patches.ledger import Ledger\n"
        "import ouroboros.patches.keys\n"
        "def f():\n    from ouroboros.patches import entry_hash\n"
    )
    assert deep_imports("ouroboros.patches", tmp_path) == [
        "caller.py:2 from ouroboros.patches.ledger",
        "caller.py:3 ouroboros.patches.keys",
        "caller.py:5 entry_hash",
    ]
