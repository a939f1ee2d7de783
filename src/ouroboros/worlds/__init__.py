"""The worlds, by name, and how to build one.

A world is a folder: a package under ``ouroboros/worlds/`` whose ``spec`` module exports ``SPEC``, a
``WorldSpec`` (``ouroboros.worlds.spec``): how to build it, its KPIs for people, the integer metrics
shadow runs compare, how gameplay content lands in it, and its optional hooks (stream, params,
live game, director signals, evolution). The registry here discovers the specs — the packages
beside this module, then the ``ouroboros.worlds`` entry-point group — so nothing above ``worlds/``
names a world.
``build_world(name, seed, config)`` gives a fresh world; ``world_from_meta`` rebuilds one from
what a snapshot or an input log recorded (its ``meta``), which is how replay and ``--from`` find
the right world without the engine knowing any.

Every world gets the ``gameplay.activate`` input: ``{"patch_id": ID or null, "content": {...}}``
makes the world follow that version's whole effective content at the next tick boundary and
records the version in ``resources["gameplay_version"]`` (so it is digested, snapshotted and
replayed like any other input). It is the only way gameplay content reaches world state.
An optional ``"migration": {...}`` carries the change's hints (``kind``: ``rollback`` or
``change``, ``announcement``: the words players see, ``items``: old item id → new one); the
world's migration report for the change is left in ``world.scratch[MIGRATION_SCRATCH]`` after
the tick, for the runtime to record in the ledger.
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
from collections.abc import Callable, Mapping
from importlib.metadata import entry_points
from typing import Any

from ouroboros.engine import World
from ouroboros.errors import WorldError
from ouroboros.worlds.spec import WorldSpec

ACTIVATE_INPUT = "gameplay.activate"
#: where the migration report of a version change waits after its tick (``world.scratch``)
MIGRATION_SCRATCH = "gameplay.migration"
ContentProblems = list[tuple[str, str, str]]
ENTRY_POINT_GROUP = "ouroboros.worlds"
#: Content domains no world reads (the council's model roles): world checks and activation skip them.
WORLD_AGNOSTIC_DOMAINS = frozenset({"model_roles"})


def world_content(content: Mapping[str, Any]) -> dict[str, Any]:
    return {domain: objects for domain, objects in content.items() if domain not in WORLD_AGNOSTIC_DOMAINS}


_registry: dict[str, WorldSpec] | None = None
_registry_lock = threading.Lock()


def _discover() -> dict[str, WorldSpec]:
    found: dict[str, WorldSpec] = {}
    for module in sorted(m.name for m in pkgutil.iter_modules(__path__) if m.ispkg):
        spec = getattr(importlib.import_module(f"{__name__}.{module}.spec"), "SPEC", None)
        if not isinstance(spec, WorldSpec) or spec.name != module:
            raise WorldError(f"world package {module!r} exports no SPEC named {module!r}")
        found[spec.name] = spec
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        spec = ep.load()
        if not isinstance(spec, WorldSpec) or spec.name in found:
            raise WorldError(f"entry point {ep.name!r} is not a WorldSpec with a new name")
        found[spec.name] = spec
    codes = [s.stream.kind for s in found.values() if s.stream is not None]
    if len(codes) != len(set(codes)):
        raise WorldError(f"two worlds share a stream kind code: {sorted(codes)}")
    return found


def registry() -> Mapping[str, WorldSpec]:
    """Every world's spec by name (discovered once)."""
    global _registry
    with _registry_lock:
        if _registry is None:
            _registry = _discover()
        return _registry


def world_names() -> list[str]:
    return sorted(registry())


def live_worlds() -> list[str]:
    """The worlds ``go`` runs when none is named."""
    return [name for name, spec in sorted(registry().items()) if spec.live_default]


def default_world(where: Callable[[WorldSpec], bool] | None = None) -> str:
    """The first live world (``live_worlds``), else the first world, whose spec ``where`` accepts:
    what a command uses when no world is named (``WorldError``: none has what it needs)."""
    specs = registry()
    for name in [*live_worlds(), *world_names()]:
        if where is None or where(specs[name]):
            return name
    raise WorldError("no world has what this needs")


def world_spec(name: str) -> WorldSpec:
    spec = registry().get(name)
    if spec is None:
        raise WorldError(f"unknown world {name!r} (worlds: {', '.join(world_names())})", path=name)
    return spec


def spec_of(world: World) -> WorldSpec:
    return world_spec(str(world.meta.get("world")))


def __getattr__(name: str) -> Any:
    # the old constants, computed from the registry on first use
    if name == "WORLD_SPECS":
        return dict(registry())
    if name == "WORLDS":
        return {n: s.plugin for n, s in registry().items()}
    raise AttributeError(name)


ACTIVATE_KEYS = frozenset({"patch_id", "content", "migration"})
MIGRATION_KINDS = ("change", "rollback")


def check_migration(value: Any) -> dict[str, Any]:
    """A ``gameplay.activate`` migration hint, checked: ``kind``, ``announcement``, ``items``."""
    if not isinstance(value, Mapping) or not set(value) <= {"kind", "announcement", "items"}:
        raise WorldError('migration takes {"kind"?, "announcement"?, "items"?}')
    out: dict[str, Any] = {}
    if "kind" in value:
        if value["kind"] not in MIGRATION_KINDS:
            raise WorldError(f"migration kind must be one of {', '.join(MIGRATION_KINDS)}")
        out["kind"] = value["kind"]
    if value.get("announcement") is not None:
        if not isinstance(value["announcement"], str) or len(value["announcement"]) > 300:
            raise WorldError("migration announcement must be text of at most 300 characters")
        out["announcement"] = value["announcement"]
    items = value.get("items") or {}
    pairs = items.items() if isinstance(items, Mapping) else ()
    if not isinstance(items, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in pairs):
        raise WorldError("migration items must map item ids to item ids")
    if items:
        out["items"] = dict(items)
    return out


class GameplayPlugin:
    """Adds the ``gameplay.activate`` input to a world (see the module docstring)."""

    name = "gameplay"

    def __init__(self, spec: WorldSpec) -> None:
        self.spec = spec

    def build(self, world: World) -> None:
        world.resources["gameplay_version"] = None
        spec = self.spec

        def check(payload: Any) -> dict[str, Any]:
            keys = set(payload) if isinstance(payload, Mapping) else set()
            if not isinstance(payload, Mapping) or not {"patch_id", "content"} <= keys <= ACTIVATE_KEYS:
                raise WorldError(
                    'gameplay.activate takes {"patch_id": ID|null, "content": {...}, "migration"?: {...}}'
                )
            patch_id, content = payload["patch_id"], payload["content"]
            if not (patch_id is None or isinstance(patch_id, str)) or not isinstance(content, Mapping):
                raise WorldError("gameplay.activate: patch_id must be a string or null, content an object")
            out = {"patch_id": patch_id, "content": dict(content)}
            if "migration" in payload:
                out["migration"] = check_migration(payload["migration"])
            return out

        def apply(w: World, payload: dict[str, Any]) -> None:
            before = w.resources.get("gameplay_version")
            report = spec.apply_content(w, payload["content"], payload.get("migration"))
            w.resources["gameplay_version"] = payload["patch_id"]
            if report is not None:
                w.scratch[MIGRATION_SCRATCH] = {
                    "from": before, "to": payload["patch_id"], "tick": w.tick, **report
                }  # fmt: skip

        world.register_input(ACTIVATE_INPUT, apply, check)


def build_world(name: str, seed: int, config: Mapping[str, Any] | None = None, **world_options: Any) -> World:
    spec = world_spec(name)
    if not isinstance(config, Mapping | None):
        raise WorldError("world config must be an object")
    return World(seed, plugins=[spec.plugin(config or {}), GameplayPlugin(spec)], **world_options)


def world_from_meta(seed: int, meta: Any, **world_options: Any) -> World:
    """The world a snapshot or a log was made with, from its recorded ``meta``."""
    if not isinstance(meta, Mapping) or not isinstance(meta.get("world"), str):
        raise WorldError("recorded meta names no world")
    config = meta.get("config", {})
    if not isinstance(config, Mapping):
        raise WorldError("recorded world config is not an object")
    return build_world(meta["world"], seed, config, **world_options)


def world_kpis(world: World) -> dict[str, Any]:
    """The world's KPIs as plain data."""
    return spec_of(world).kpis(world)


__all__ = [
    "ACTIVATE_INPUT",
    "ENTRY_POINT_GROUP",
    "MIGRATION_SCRATCH",
    "WORLD_AGNOSTIC_DOMAINS",
    "GameplayPlugin",
    "WorldSpec",
    "build_world",
    "check_migration",
    "default_world",
    "live_worlds",
    "registry",
    "spec_of",
    "world_content",
    "world_from_meta",
    "world_kpis",
    "world_names",
    "world_spec",
]
