"""The worlds that ship with ouroboros, by name, and how to build one.

A world is a plugin of the engine. ``build_world(name, seed, config)`` gives a fresh world;
``world_from_header`` rebuilds one from what a snapshot or an input log recorded (its ``meta``),
which is how replay and ``--from`` find the right world without the engine knowing any.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ouroboros.engine import Plugin, World
from ouroboros.errors import WorldError


def _petri(config: Mapping[str, Any]) -> Plugin:
    from ouroboros.worlds.petri import PetriPlugin

    unknown = set(config) - {"entities", "params"}
    if unknown:
        raise WorldError(f"unknown petri config keys {sorted(unknown)}")
    return PetriPlugin(entities=config.get("entities", 500), params=config.get("params"))


WORLDS: dict[str, Callable[[Mapping[str, Any]], Plugin]] = {"petri": _petri}


def world_names() -> list[str]:
    return sorted(WORLDS)


def build_world(name: str, seed: int, config: Mapping[str, Any] | None = None, **world_options: Any) -> World:
    factory = WORLDS.get(name)
    if factory is None:
        raise WorldError(f"unknown world {name!r} (worlds: {', '.join(world_names())})", path=name)
    if not isinstance(config, Mapping | None):
        raise WorldError("world config must be an object")
    return World(seed, plugins=[factory(config or {})], **world_options)


def world_from_meta(seed: int, meta: Any, **world_options: Any) -> World:
    """The world a snapshot or a log was made with, from its recorded ``meta``."""
    if not isinstance(meta, Mapping) or not isinstance(meta.get("world"), str):
        raise WorldError("recorded meta names no world")
    config = meta.get("config", {})
    if not isinstance(config, Mapping):
        raise WorldError("recorded world config is not an object")
    return build_world(meta["world"], seed, config, **world_options)


__all__ = ["WORLDS", "build_world", "world_from_meta", "world_names"]
