"""The engine imports nothing else of ours: arrows point down only."""

from __future__ import annotations

import ast
from pathlib import Path

import ouroboros.engine

ENGINE = Path(ouroboros.engine.__file__).resolve().parent


def imported_modules(path: Path, package: str = "ouroboros.engine") -> list[str]:
    """Absolute names of every module ``path`` (a module of ``package``) imports, anywhere in it."""
    out: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            out.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            # ``from ouroboros import errors`` imports the module ouroboros.errors
            if module == "ouroboros":
                out.extend(f"{module}.{alias.name}" for alias in node.names)
            else:
                out.append(module)
    return out


def is_ours_outside_engine(name: str) -> bool:
    ours = name == "ouroboros" or name.startswith("ouroboros.")
    engine = name == "ouroboros.engine" or name.startswith("ouroboros.engine.")
    return ours and not engine


def test_the_engine_imports_nothing_else_of_ours() -> None:
    files = sorted(ENGINE.rglob("*.py"))
    assert {"world.py", "snapshot.py", "replay.py", "errors.py"} <= {f.name for f in files}
    offenders = []
    for path in files:
        package = ".".join(["ouroboros", "engine", *path.relative_to(ENGINE).parent.parts])
        offenders += [
            f"{path.relative_to(ENGINE)}: {name}"
            for name in imported_modules(path, package)
            if is_ours_outside_engine(name)
        ]
    assert offenders == []


def test_the_scan_sees_every_kind_of_forbidden_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import numpy\nfrom ouroboros.engine import world\nfrom . import rng\n"
        "def f():\n    from ouroboros import errors\n    from .. import patches\n"
        "    import ouroboros.ai.director\n    from ..store import sqlite\n"
    )
    flagged = sorted(n for n in imported_modules(bad) if is_ours_outside_engine(n))
    assert flagged == ["ouroboros.ai.director", "ouroboros.errors", "ouroboros.patches", "ouroboros.store"]


WALL_CLOCK = frozenset(
    {"perf_counter", "perf_counter_ns", "monotonic", "monotonic_ns", "time_ns", "process_time", "utcnow"}
)


def test_only_the_clock_module_reads_the_wall_clock() -> None:
    """Time is measurement, injected (``World(clock=)``): nothing else in the engine may read it, so
    a ``ManualClock`` drives the profiler, the optimizer and its advisor's timeout in tests."""
    offenders = []
    for path in sorted(ENGINE.rglob("*.py")):
        if path.name == "clock.py":
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names]
                module = getattr(node, "module", None) or ""
                if "time" in names or module in ("time", "datetime") or "datetime" in names:
                    offenders.append(f"{path.relative_to(ENGINE)}:{node.lineno}: imports {module or names}")
            elif isinstance(node, ast.Attribute) and node.attr in WALL_CLOCK:
                offenders.append(f"{path.relative_to(ENGINE)}:{node.lineno}: .{node.attr}")
    assert offenders == []


def test_the_optimizer_package_shows_a_small_sorted_face_and_hides_its_parts() -> None:
    import ouroboros.engine.optimizer as optimizer

    names = optimizer.__all__
    style = sorted(names, key=lambda n: (0 if n.isupper() else 1 if n[0].isupper() else 2, n))
    assert names == style and len(names) <= 15
    assert all(hasattr(optimizer, n) for n in names)
    assert {"Optimizer", "OptimizerConfig", "Hooks", "Advice", "ProfileSummary", "LAYOUT"} <= set(names)
    assert not {"Measurements", "Rewriter", "Shadow", "Trial"} & set(names)  # the parts stay inside
