"""The worlds that ship with ouroboros, by name, and how to build one.

A world is a plugin of the engine plus a ``WorldSpec``: how to build it, its KPIs for people, the
integer metrics shadow runs compare, and how gameplay content lands in it.
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

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ouroboros.engine import Plugin, World
from ouroboros.errors import WorldError

ACTIVATE_INPUT = "gameplay.activate"
#: where the migration report of a version change waits after its tick (``world.scratch``)
MIGRATION_SCRATCH = "gameplay.migration"
ContentProblems = list[tuple[str, str, str]]
#: Content domains no world reads (the council's model roles): world checks and activation skip them.
WORLD_AGNOSTIC_DOMAINS = frozenset({"model_roles"})


def _world_content(content: Mapping[str, Any]) -> dict[str, Any]:
    return {domain: objects for domain, objects in content.items() if domain not in WORLD_AGNOSTIC_DOMAINS}


@dataclass(frozen=True)
class WorldSpec:
    name: str
    plugin: Callable[[Mapping[str, Any]], Plugin]
    kpis: Callable[[World], dict[str, Any]]
    shadow_metrics: Callable[[World], dict[str, int]]
    check_content: Callable[[World, Mapping[str, Any]], ContentProblems]
    #: ``(world, content, migration=None)``: follow ``content``; returns a migration report or None
    apply_content: Callable[..., dict[str, Any] | None]
    #: The ``shadow_metrics`` a shadow or canary run requires, each with its limits against the
    #: baseline run (integers): ``max_drift_permille`` (|patched - baseline| per mille of the
    #: baseline), ``min_permille`` (patched at least this per mille of the baseline),
    #: ``max_increase`` (patched - baseline at most this), ``min_baseline`` (a smaller baseline
    #: cannot be judged: the result is inconclusive and a person decides). ``{}``: required only.
    shadow_limits: Mapping[str, Mapping[str, int]]
    #: The world's end state as named arrays (``run --dump FILE.npz``); ``None``: it has none.
    dump: Callable[[World], dict[str, Any]] | None = None


def _petri_plugin(config: Mapping[str, Any]) -> Plugin:
    from ouroboros.worlds.petri import PetriPlugin

    unknown = set(config) - {"entities", "params"}
    if unknown:
        raise WorldError(f"unknown petri config keys {sorted(unknown)}")
    return PetriPlugin(entities=config.get("entities", 500), params=config.get("params"))


def _petri_kpis(world: World) -> dict[str, Any]:
    from ouroboros.worlds.petri import compute_kpis

    return compute_kpis(world)


def _petri_metrics(world: World) -> dict[str, int]:
    from ouroboros.worlds.petri.gameplay import shadow_metrics

    return shadow_metrics(world)


def _petri_check(world: World, content: Mapping[str, Any]) -> ContentProblems:
    from ouroboros.worlds.petri.gameplay import check_content

    names = world.meta.get("traits", ())
    return check_content(_world_content(content), frozenset(names), len(names))


def _petri_apply(
    world: World, content: Mapping[str, Any], migration: Mapping[str, Any] | None = None
) -> None:
    from ouroboros.worlds.petri.gameplay import apply_content

    apply_content(world, _world_content(content))  # a molbot refers to no content object


def _neon_plugin(config: Mapping[str, Any]) -> Plugin:
    from ouroboros.worlds.neon import NeonPlugin

    if config:
        raise WorldError(f"unknown neon config keys {sorted(config)}")
    return NeonPlugin()


def _neon_kpis(world: World) -> dict[str, Any]:
    from ouroboros.worlds.neon import kpis

    return kpis(world)


def _neon_metrics(world: World) -> dict[str, int]:
    from ouroboros.worlds.neon import shadow_metrics

    return shadow_metrics(world)


def _neon_check(world: World, content: Mapping[str, Any]) -> ContentProblems:
    from ouroboros.worlds.neon import check_content

    return check_content(_world_content(content))


def _neon_apply(
    world: World, content: Mapping[str, Any], migration: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    from ouroboros.worlds.neon import apply_content

    return apply_content(world, _world_content(content), migration)


def _wolfsheep_plugin(config: Mapping[str, Any]) -> Plugin:
    from ouroboros.worlds.wolfsheep import WolfSheepPlugin

    return WolfSheepPlugin.from_config(config)


def _wolfsheep_kpis(world: World) -> dict[str, Any]:
    from ouroboros.worlds.wolfsheep import compute_kpis

    return compute_kpis(world)


def _wolfsheep_metrics(world: World) -> dict[str, int]:
    from ouroboros.worlds.wolfsheep.gameplay import shadow_metrics

    return shadow_metrics(world)


def _wolfsheep_check(world: World, content: Mapping[str, Any]) -> ContentProblems:
    from ouroboros.worlds.wolfsheep.gameplay import check_content

    return check_content(_world_content(content))


def _wolfsheep_apply(world: World, content: Mapping[str, Any]) -> None:
    from ouroboros.worlds.wolfsheep.gameplay import apply_content

    apply_content(world, _world_content(content))


def _flocking_plugin(config: Mapping[str, Any]) -> Plugin:
    from ouroboros.worlds.flocking import FlockingPlugin

    return FlockingPlugin.from_config(config)


def _flocking_kpis(world: World) -> dict[str, Any]:
    from ouroboros.worlds.flocking import compute_kpis

    return compute_kpis(world)


def _flocking_metrics(world: World) -> dict[str, int]:
    from ouroboros.worlds.flocking.gameplay import shadow_metrics

    return shadow_metrics(world)


def _flocking_check(world: World, content: Mapping[str, Any]) -> ContentProblems:
    from ouroboros.worlds.flocking.gameplay import check_content

    return check_content(_world_content(content))


def _flocking_apply(world: World, content: Mapping[str, Any]) -> None:
    from ouroboros.worlds.flocking.gameplay import apply_content

    apply_content(world, _world_content(content))


def _flocking_dump(world: World) -> dict[str, Any]:
    from ouroboros.worlds.flocking import state_arrays

    return state_arrays(world)


WORLD_SPECS: dict[str, WorldSpec] = {
    "neon": WorldSpec(
        "neon",
        _neon_plugin,
        _neon_kpis,
        _neon_metrics,
        _neon_check,
        _neon_apply,
        {
            "npcs": {"min_permille": 800},  # a patch may not empty the streets
            "items": {"max_drift_permille": 500},
            "money_supply": {"max_drift_permille": 250},  # players' credits within ±25 %
            "held": {"max_increase": 3},  # transactions the economic guard had to hold
            "quests_done": {"min_permille": 500},
        },
    ),
    "petri": WorldSpec(
        "petri",
        _petri_plugin,
        _petri_kpis,
        _petri_metrics,
        _petri_check,
        _petri_apply,
        {"population": {"max_drift_permille": 500, "min_baseline": 5}, "faults": {"max_increase": 0}},
    ),
    "wolfsheep": WorldSpec(
        "wolfsheep",
        _wolfsheep_plugin,
        _wolfsheep_kpis,
        _wolfsheep_metrics,
        _wolfsheep_check,
        _wolfsheep_apply,
        {"sheep": {"max_drift_permille": 500, "min_baseline": 5}, "wolves": {"max_drift_permille": 500}},
    ),
    "flocking": WorldSpec(
        "flocking",
        _flocking_plugin,
        _flocking_kpis,
        _flocking_metrics,
        _flocking_check,
        _flocking_apply,
        {"birds": {"max_increase": 0, "min_permille": 1000}},
        dump=_flocking_dump,
    ),
}
#: name → plugin factory (kept for callers that only build worlds)
WORLDS: dict[str, Callable[[Mapping[str, Any]], Plugin]] = {n: s.plugin for n, s in WORLD_SPECS.items()}


def world_names() -> list[str]:
    return sorted(WORLD_SPECS)


def world_spec(name: str) -> WorldSpec:
    spec = WORLD_SPECS.get(name)
    if spec is None:
        raise WorldError(f"unknown world {name!r} (worlds: {', '.join(world_names())})", path=name)
    return spec


def spec_of(world: World) -> WorldSpec:
    return world_spec(str(world.meta.get("world")))


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
    "MIGRATION_SCRATCH",
    "WORLDS",
    "WORLD_AGNOSTIC_DOMAINS",
    "WORLD_SPECS",
    "GameplayPlugin",
    "WorldSpec",
    "build_world",
    "check_migration",
    "spec_of",
    "world_from_meta",
    "world_kpis",
    "world_names",
    "world_spec",
]
