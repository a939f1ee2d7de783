"""A world is a folder: nothing above ``worlds/`` names one, and a world dropped in is found.

The first half reads the source with the AST: no module of the listed packages imports a world's
internals (only ``ouroboros.worlds`` and its world-agnostic modules) and no string constant there
(docstrings apart) is a registered world's name. The second half drops a third world in as a
folder on ``sys.path``, registered through the real ``ouroboros.worlds`` entry-point group, and
checks that ``run``, ``go --world``, the runtime and the stream see it without any other change.
"""

from __future__ import annotations

import ast
import json
import textwrap
from collections.abc import Iterator
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from typer.testing import CliRunner

import ouroboros
import ouroboros.worlds as worlds_pkg
from ouroboros.worlds import ENTRY_POINT_GROUP, registry, world_names

SRC = Path(ouroboros.__file__).resolve().parent
#: the packages that must not name a world (``ai`` joins once its world adapters move out)
UPPER_PACKAGES = ("ai", "server", "cli")


def _modules(package: str) -> list[Path]:
    return sorted((SRC / package).rglob("*.py"))


def _docstrings(tree: ast.AST) -> set[int]:
    """``id`` of every docstring node (the first bare string of a module, class or function)."""
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                out.add(id(body[0].value))
    return out


def world_imports(tree: ast.AST, names: set[str]) -> list[str]:
    """The imports in ``tree`` that reach into a world's package."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            modules = [node.module]
            if node.module == "ouroboros.worlds":
                modules += [f"ouroboros.worlds.{alias.name}" for alias in node.names]
        else:
            continue
        for module in modules:
            parts = module.split(".")
            if parts[:2] == ["ouroboros", "worlds"] and len(parts) > 2 and parts[2] in names:
                found.append(f"line {node.lineno}: {module}")
    return found


def world_literals(tree: ast.AST, names: set[str]) -> list[str]:
    """The string constants in ``tree`` (docstrings apart) that are a world's name."""
    skip = _docstrings(tree)
    return [
        f"line {node.lineno}: {node.value!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        and node.value in names and id(node) not in skip
    ]  # fmt: skip


@pytest.mark.parametrize("package", UPPER_PACKAGES)
def test_no_module_above_the_worlds_imports_a_world_or_names_one(package: str) -> None:
    names = set(world_names())
    assert {"neon", "petri", "wolfsheep", "flocking"} <= names  # the check below checks something
    problems = []
    for path in _modules(package):
        tree = ast.parse(path.read_text(), filename=str(path))
        rel = path.relative_to(SRC)
        problems += [f"{rel} imports {hit}" for hit in world_imports(tree, names)]
        problems += [f"{rel} names a world at {hit}" for hit in world_literals(tree, names)]
    assert problems == []


def test_the_checks_catch_what_they_are_for() -> None:
    names = {"neon", "petri"}
    source = textwrap.dedent(
        '''
        """Docstrings may say "petri"."""
        import ouroboros.worlds.neon.store
        from ouroboros.worlds.petri.params import FP_SHIFT
        from ouroboros.worlds import petri, world_spec
        from ouroboros.worlds.spec import WorldSpec

        def f(name):
            """Nor does this: 'neon'."""
            return name == "neon" or f"{name}" == "petri" or name == "neon city"
        '''
    )
    tree = ast.parse(source)
    assert [hit.split(": ")[1] for hit in world_imports(tree, names)] == [
        "ouroboros.worlds.neon.store",
        "ouroboros.worlds.petri.params",
        "ouroboros.worlds.petri",
    ]
    assert [hit.split(": ")[1] for hit in world_literals(tree, names)] == ["'neon'", "'petri'"]


# -- a third world, dropped in as a folder ----------------------------------------------------
TOY_SPEC = '''
"""toy: one dot per entity, walking right one cell a tick (a world from outside the package)."""

from __future__ import annotations

import numpy as np

from ouroboros.engine import Component, World
from ouroboros.worlds.frame import ENTITY_DTYPE, Frame, no_resources
from ouroboros.worlds.spec import FrameStream, WorldSpec

Dot = Component("Dot", x="i4")


class ToyPlugin:
    name = "toy"

    def __init__(self, dots: int) -> None:
        self.dots = dots

    def build(self, world: World) -> None:
        world.register_component(Dot)
        world.meta.update({"world": "toy", "config": {"dots": self.dots}})

        def populate(w: World) -> None:
            w.commands.spawn(["Dot"], self.dots, {"Dot.x": np.arange(self.dots)})

        def walk(w: World) -> None:
            for chunk in w.query("Dot"):
                chunk["Dot.x"][:] += 1

        world.add_system("populate", populate, phase="startup")
        world.add_system("walk", walk, reads=["Dot"], writes=["Dot"])


def _plugin(config):
    return ToyPlugin(int(config.get("dots", 3)))


def _kpis(world):
    return {"tick": world.tick, "dots": world.count("Dot")}


def _metrics(world):
    return {"dots": world.count("Dot")}


def _frame(world):
    chunks = world.query("Dot")
    e = np.zeros(sum(c.count for c in chunks), dtype=ENTITY_DTYPE)
    at = 0
    for c in chunks:
        e["id"][at : at + c.count] = c.ids
        e["x"][at : at + c.count] = c["Dot.x"]
        at += c.count
    e["energy"] = 1000
    return Frame("toy", world.tick, e, no_resources())


SPEC = WorldSpec(
    "toy",
    _plugin,
    _kpis,
    _metrics,
    lambda world, content: [],
    lambda world, content, migration=None: None,
    {},
    summary="dots walking right",
    stream=FrameStream(200, _frame, legend={0: "dot"}),
)
'''


@pytest.fixture
def toy_world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A folder ``toyworld/`` outside the package, registered as an ``ouroboros.worlds`` entry
    point, and a registry discovered afresh (and forgotten afterwards)."""
    folder = tmp_path / "site" / "toyworld"
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text("")
    (folder / "spec.py").write_text(TOY_SPEC)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    point = EntryPoint(name="toy", value="toyworld.spec:SPEC", group=ENTRY_POINT_GROUP)

    def entry_points(group: str) -> list[EntryPoint]:
        return [point] if group == ENTRY_POINT_GROUP else []

    monkeypatch.setattr(worlds_pkg, "entry_points", entry_points)
    monkeypatch.setattr(worlds_pkg, "_registry", None)
    yield "toy"
    monkeypatch.setattr(worlds_pkg, "_registry", None)


def test_a_world_dropped_in_as_a_folder_is_discovered_and_runs(toy_world: str, tmp_path: Path) -> None:
    from ouroboros.cli import app

    assert toy_world in registry() and toy_world in world_names()
    got = CliRunner().invoke(app, ["run", "--world", toy_world, "--ticks", "4", "--json"])
    assert got.exit_code == 0, got.output
    doc = json.loads(got.stdout)
    assert doc["world"] == toy_world and doc["ticks"] == 4 and doc["kpis"] == {"tick": 4, "dots": 3}


def test_go_runs_a_world_dropped_in_and_streams_it(toy_world: str, tmp_path: Path) -> None:
    from ouroboros.cli import app
    from ouroboros.server.stream import decode_binary_frame, encode_frame, frame_source, world_kinds

    assert world_kinds()[toy_world] == 200
    frame = frame_source(toy_world)(_ticked_toy(2))
    assert frame.entities["x"].tolist() == [2, 3, 4]
    wire = encode_frame(toy_world, 2, [{"id": i, "x": i} for i in range(250)], [])
    assert isinstance(wire, bytes) and decode_binary_frame(wire).world == toy_world

    args = ["go", "--world", toy_world, "--max-ticks", "5", "--ticks-per-second", "0"]
    args += ["--data", tmp_path / "d", "--port", "0", "--no-browser", "--optimizer", "off"]
    got = CliRunner().invoke(app, [str(a) for a in args])
    assert got.exit_code == 0, got.output
    assert f"new {toy_world} world" in got.output
    assert (tmp_path / "d" / toy_world / f"{toy_world}.snapshot").is_file()


def _ticked_toy(ticks: int) -> object:
    from ouroboros.worlds import build_world

    world = build_world("toy", 0, {})
    world.start()
    for _ in range(ticks):
        world.step()
    return world
