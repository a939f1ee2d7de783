"""Shared documents for the content tests: one small, consistent world touching every domain."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ouroboros.errors import ContentError, Reason

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "patches"


def world() -> dict[str, Any]:
    """A valid content document with one or two objects in every domain, all references resolved."""
    return {
        "items": [
            {
                "id": "it.knife",
                "version": "1.0.0",
                "name": "Knife",
                "kind": "weapon",
                "price": 10,
                "stats": {"damage": 5},
            },
            {"id": "it.chip", "version": "1.0.0", "name": "Chip", "kind": "junk", "price": 1},
        ],
        "rooms": [
            {
                "id": "rm.a",
                "version": "1.0.0",
                "name": "Alley",
                "description": "Wet.",
                "zone": "z.low",
                "district": "d.one",
                "coords": {"x": 0, "y": 0},
                "exits": {"n": "rm.b"},
            },
            {
                "id": "rm.b",
                "version": "1.0.0",
                "name": "Bar",
                "description": "Loud.",
                "zone": "z.low",
                "district": "d.one",
                "coords": {"x": 0, "y": 1},
                "exits": {"s": "rm.a"},
            },
        ],
        "npc_behaviors": [
            {
                "id": "bh.guard",
                "version": "1.0.0",
                "initial": "idle",
                "states": {
                    "idle": {"action": "idle", "transitions": [{"on": "attacked", "to": "fight"}]},
                    "fight": {"action": "aggressive", "transitions": [{"on": "target_lost", "to": "idle"}]},
                },
                "plan": {
                    "steps": [
                        {"id": "look", "action": "patrol"},
                        {"id": "hit", "action": "aggressive", "after": ["look"]},
                    ]
                },
            },
        ],
        "npcs": [
            {
                "id": "np.vendor",
                "version": "1.0.0",
                "name": "Vendor",
                "kind": "vendor",
                "faction": "f.free",
                "hp": 10,
                "behavior": "bh.guard",
                "dialogue": "dl.hi",
                "stock": ["it.knife"],
                "drops": [{"item": "it.chip", "chance_permille": 500}],
                "spawn_room": "rm.a",
            },
            {
                "id": "np.rat",
                "version": "1.0.0",
                "name": "Rat",
                "kind": "drone",
                "faction": "f.vermin",
                "hp": 3,
                "behavior": "bh.guard",
                "spawn_room": "rm.b",
            },
        ],
        "dialogue": [
            {
                "id": "dl.hi",
                "version": "1.0.0",
                "npc": "np.vendor",
                "lines": [
                    {"id": "a", "text": "Hi {player.name}.", "next": ["b"]},
                    {"id": "b", "text": "Bye."},
                ],
            },
        ],
        "quests": [
            {
                "id": "qs.rats",
                "version": "1.0.0",
                "name": "Rats",
                "giver": "np.vendor",
                "objectives": [
                    {"kind": "kill", "target": "np.rat", "count": 3},
                    {"kind": "deliver", "target": "it.chip", "to": "np.vendor"},
                    {"kind": "visit", "target": "rm.b"},
                ],
                "rewards": {"credits": 50, "xp": 10, "items": ["it.knife"]},
                "dialogue": "dl.hi",
            },
            {
                "id": "qs.more",
                "version": "1.0.0",
                "name": "More rats",
                "giver": "np.vendor",
                "objectives": [{"kind": "collect", "target": "it.chip", "count": 2}],
                "prerequisites": ["qs.rats"],
            },
        ],
        "economy_tuning": [
            {"id": "ec.all", "version": "1.0.0", "scope": "*", "multipliers": {"price": 1000, "sink": 1200}},
        ],
        "procgen_rules": [
            {
                "id": "pg.alleys",
                "version": "1.0.0",
                "kind": "room_block",
                "templates": ["rm.a"],
                "spawn_count": 4,
            },
        ],
        "scripts": [
            {
                "id": "sc.seek",
                "version": "1.0.0",
                "language": "lua",
                "source": "function act(ctx) end",
                "entry": "act",
            },
        ],
        "traits": [
            {"id": "tr.seek", "version": "1.0.0", "world": "petri", "kind": "lua", "script": "sc.seek"},
            {"id": "tr.wander", "version": "1.0.0", "world": "petri", "kind": "builtin", "builtin": "wander"},
        ],
        "world_params": [
            {"id": "wp.petri", "version": "1.0.0", "world": "petri", "params": {"temperature": 25}},
        ],
    }


def envelope(content: Any = None, **overrides: Any) -> dict[str, Any]:
    doc = {
        "schema_version": "1",
        "patch_id": "p-" + "a" * 32,
        "parent_patch_id": None,
        "sequence": 0,
        "world": "neon",
        "created_at": "2025-01-01T00:00:00Z",
        "expires_at": "2025-01-08T00:00:00Z",
        "engine_compat": ">=0.1,<0.2",
        "author": {"type": "generator", "model": None, "run_id": "run-1"},
        "content": world() if content is None else content,
        "signatures": [],
    }
    doc.update(overrides)
    return doc


def mutate(doc: Any, path: str, value: Any) -> Any:
    """A deep copy of ``doc`` with ``value`` at JSON pointer ``path`` (``DELETE`` removes it)."""
    doc = copy.deepcopy(doc)
    *parents, last = [int(p) if p.isdigit() else p for p in path.strip("/").split("/")]
    target = doc
    for part in parents:
        target = target[part]
    if value is DELETE:
        del target[last]
    else:
        target[last] = value
    return doc


DELETE = object()


def reasons_of(call: Callable[[], Any]) -> list[Reason]:
    with pytest.raises(ContentError) as caught:
        call()
    return list(caught.value.reasons)


def codes_paths(reasons: list[Reason]) -> set[tuple[str, str]]:
    return {(r.code, r.path) for r in reasons}


def leaf_paths(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(JSON pointer, value) of every scalar in a JSON document."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaf_paths(item, f"{path}/{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaf_paths(item, f"{path}/{index}")
    else:
        yield path, value


def load_example(name: str) -> Any:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
