"""Structural change: the command buffer systems queue into during a tick, and how spawns,
despawns and component moves are applied to a world's archetypes (at the tick boundary, or at
once outside a tick).

Despawn is a stable compaction, so the layout after a batch of despawns depends only on who
died; a move checks everything before any row moves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ouroboros.engine.entities import INDEX_MASK
from ouroboros.engine.errors import ComponentError, EngineError
from ouroboros.engine.storage import Archetype

if TYPE_CHECKING:
    from ouroboros.engine.world import World

__all__ = ["Commands", "alive_mask", "apply_commands", "despawn_rows", "move_rows", "spawn_rows"]

I64 = npt.NDArray[np.int64]


class Commands:
    """Structural changes queued during a tick, applied in order at the tick boundary."""

    def __init__(self) -> None:
        self._queue: list[tuple[str, tuple[Any, ...]]] = []

    def spawn(self, components: Sequence[str], n: int, values: Mapping[str, npt.ArrayLike]) -> None:
        if n > 0:
            self._queue.append(("spawn", (tuple(components), n, dict(values))))

    def despawn(self, ids: npt.ArrayLike) -> None:
        arr = np.asarray(ids, dtype=np.int64).reshape(-1)
        if arr.size:
            self._queue.append(("despawn", (arr.copy(),)))

    def add_component(
        self, ids: npt.ArrayLike, component: str, values: Mapping[str, npt.ArrayLike] | None = None
    ) -> None:
        self._queue.append(
            ("add", (np.asarray(ids, dtype=np.int64).reshape(-1).copy(), component, dict(values or {})))
        )

    def remove_component(self, ids: npt.ArrayLike, component: str) -> None:
        self._queue.append(("remove", (np.asarray(ids, dtype=np.int64).reshape(-1).copy(), component)))

    def __len__(self) -> int:
        return len(self._queue)

    def drain(self) -> list[tuple[str, tuple[Any, ...]]]:
        queue, self._queue = self._queue, []
        return queue


def spawn_rows(world: World, components: Sequence[str], n: int, values: Mapping[str, npt.ArrayLike]) -> I64:
    if n < 0:
        raise EngineError("cannot spawn a negative number of entities")
    a = world._archetype_for(components)
    arch = world._archetypes[a]
    values = arch.prepare(n, values)
    index = world._entities.allocate(n)
    ids = world._entities.ids_of(index)
    start = arch.append(ids, values)
    world._entities.archetype[index] = a
    world._entities.row[index] = np.arange(start, start + n, dtype=np.int64)
    return ids


def despawn_rows(world: World, ids: I64, *, strict: bool) -> None:
    if strict:
        index = world._entities.resolve(ids)
    else:
        index = ids[alive_mask(world, ids)] & INDEX_MASK
    index = unique_sorted(index)
    if index.size == 0:
        return
    archs = world._entities.archetype[index]
    for a in unique_sorted(archs):
        arch = world._archetypes[int(a)]
        keep = np.ones(arch.count, dtype=bool)
        keep[world._entities.row[index[archs == a]]] = False
        arch.compact(keep)
        renumber(world, arch)
    world._entities.release(index)


def unique_sorted(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """``np.unique`` of a 1-d integer array (sorted, each value once), without its general
    machinery: a structural change calls it a few times per tick, on a handful of values."""
    if values.size < 2:
        return values.copy()
    ordered = np.sort(values)
    if ordered[0] == ordered[-1]:
        return ordered[:1]
    first = np.empty(ordered.size, dtype=bool)
    first[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    return ordered[first]


def alive_mask(world: World, ids: I64) -> npt.NDArray[np.bool_]:
    t = world._entities
    index = ids & INDEX_MASK
    gen = ids >> 32
    ok = (ids > 0) & (index < t.high_water)
    ok[ok] = (t.generation[index[ok]] == gen[ok]) & (t.archetype[index[ok]] >= 0)
    return ok


def renumber(world: World, arch: Archetype) -> None:
    world._entities.row[arch.ids[: arch.count] & INDEX_MASK] = np.arange(arch.count, dtype=np.int64)


def move_rows(
    world: World,
    ids: I64,
    *,
    add: str | None = None,
    remove: str | None = None,
    values: Mapping[str, npt.ArrayLike] | None = None,
) -> None:
    """Move entities to the archetype with ``add`` / without ``remove``. Per-entity values
    follow the order of ``ids``; everything is checked before any row moves."""
    given = world._entities.resolve(ids)
    once = unique_sorted(given)
    if once.size != given.size:
        if values and any(np.ndim(v) > 0 for v in values.values()):
            raise EngineError("per-entity values for an entity named twice")
        given = once
    if add is not None:
        world.component(add)
    index = np.sort(given)
    position = np.empty(world._entities.high_water, dtype=np.int64)
    position[given] = np.arange(given.size)
    archs = world._entities.archetype[index]
    plans = []
    for a in unique_sorted(archs):
        src = world._archetypes[int(a)]
        sig = set(src.signature)
        if add is not None:
            sig.add(add)
        if remove is not None:
            if remove not in sig:
                raise ComponentError(f"entities lack component {remove!r}")
            sig.discard(remove)
        dst_i = world._archetype_for(sig)
        moving = index[archs == a]
        new_values = {}
        if add is not None and values:
            full = world._archetypes[dst_i].prepare(given.size, values)
            new_values = {k: v[position[moving]] for k, v in full.items()}
        plans.append((src, dst_i, moving, new_values))
    for src, dst_i, moving, new_values in plans:
        rows = world._entities.row[moving]
        if dst_i == world._by_signature[src.signature]:
            for key, v in new_values.items():
                src.columns[key][rows] = v
            continue
        dst = world._archetypes[dst_i]
        data = {k: v for k, v in src.rows(rows).items() if k in dst.columns}
        data.update(new_values)
        moved_ids = src.ids[rows].copy()
        keep = np.ones(src.count, dtype=bool)
        keep[rows] = False
        src.compact(keep)
        renumber(world, src)
        start = dst.append(moved_ids, data)
        world._entities.archetype[moving] = dst_i
        world._entities.row[moving] = np.arange(start, start + moving.size, dtype=np.int64)


def apply_commands(world: World) -> None:
    for op, args in world.commands.drain():
        world._churn += int(args[1]) if op == "spawn" else int(np.size(args[0]))
        if op == "spawn":
            spawn_rows(world, *args)
        elif op == "despawn":
            despawn_rows(world, args[0], strict=False)
        elif op == "add":
            alive = alive_mask(world, args[0])
            values = {
                k: (np.asarray(v)[alive] if np.ndim(v) == 1 and len(v) == alive.size else v)
                for k, v in args[2].items()
            }
            if alive.any():
                move_rows(world, args[0][alive], add=args[1], values=values)
        elif op == "remove":
            ids = args[0][alive_mask(world, args[0])]
            if ids.size:
                move_rows(world, ids, remove=args[1])
