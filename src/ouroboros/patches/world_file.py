"""A data folder's ``world.json``: which world, seed and config its patches are for, and any budget
overrides. Read whole and checked at open: an unknown world, a seed that is not an integer or a
config that is not an object is one ``BadInputError``. A folder without one is given
``DEFAULT_WORLD`` (or the caller's defaults), written atomically.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ouroboros.errors import BadInputError
from ouroboros.patches.atomic import write_atomic
from ouroboros.patches.canonical import canonical_bytes, load_json

__all__ = ["DEFAULT_WORLD", "WORLD_FILE", "load_world_settings"]

WORLD_FILE = "world.json"
DEFAULT_WORLD = {"world": "petri", "seed": 0, "config": {"entities": 300}}


def load_world_settings(data: Path, defaults: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The folder's ``world.json``, checked; written first from ``defaults`` when it is missing."""
    from ouroboros.worlds import world_names

    path = data / WORLD_FILE
    if path.exists():
        doc = load_json(path.read_bytes(), str(path))
    else:
        doc = dict(defaults or DEFAULT_WORLD)
    if not isinstance(doc, dict) or not isinstance(doc.get("world"), str):
        raise BadInputError(f"{path} must name a world")
    if doc["world"] not in world_names():
        raise BadInputError(f"{path}: unknown world {doc['world']!r} (worlds: {', '.join(world_names())})")
    seed = doc.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool) or not isinstance(doc.get("config", {}), dict):
        raise BadInputError(f"{path}: seed must be an integer and config an object")
    if not path.exists():
        data.mkdir(parents=True, exist_ok=True)
        write_atomic(path, canonical_bytes(doc) + b"\n")
    return doc
