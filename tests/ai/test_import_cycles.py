"""``ai/`` has no import circles: every ``import`` in ``ai/**`` (module level or inside a function,
``TYPE_CHECKING`` blocks included) is an edge of the module graph, and the graph is acyclic."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import ouroboros

SRC = Path(ouroboros.__file__).parent.parent
PACKAGE = "ouroboros.ai"


def _modules(package: str) -> dict[str, Path]:
    folder = SRC / package.replace(".", "/")
    out = {}
    for path in sorted(folder.rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _imported(module: str, path: Path, known: Iterable[str] = ()) -> set[str]:
    """The modules ``path`` imports (relative imports resolved against ``module``): ``from a import
    b`` imports the module ``a.b`` when ``known`` has one, else the module ``a``."""
    known = set(known)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                names.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    return names


def _graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the modules of ``modules`` it imports, with the packages above each (importing
    ``a.b.c`` runs ``a/b/__init__`` first), except the importer's own packages (already running)."""
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        own_packages = {name.rsplit(".", n)[0] for n in range(name.count(".") + 1)}
        for target in _imported(name, path, modules):
            while target and target not in modules:
                target = target.rpartition(".")[0]
            while target and target != name:  # importing a.b.c runs a.b's __init__ first
                if target in modules and target not in own_packages:
                    graph[name].add(target)
                target = target.rpartition(".")[0]
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as ``[a, b, ..., a]``, or ``None`` when it is acyclic."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)) is not None:
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)) is not None:
            return found
    return None


def test_the_finder_sees_a_circle_through_a_function_level_import(tmp_path: Path) -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from ouroboros.ai.queue import x\n    import ouroboros.ai.store\n")
    known = {"ouroboros.ai.queue", "ouroboros.ai.store"}
    assert _imported("ouroboros.ai.m", source, known) == known


def test_the_ai_package_has_no_import_cycles() -> None:
    modules = _modules(PACKAGE)
    assert "ouroboros.ai.council" in modules and "ouroboros.ai.queue" in modules
    graph = _graph(modules)
    assert graph["ouroboros.ai.council"], "the graph sees the council's imports"
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle in ai/: " + " -> ".join(cycle or ())
