"""Entity ids with generations.

An id is ``generation << 32 | index``. Destroying an entity bumps the generation of its index, so
a stale id never names the entity that later reuses the slot. Freed indices are reused first in,
first out (the oldest freed first), which keeps reuse rare and the order deterministic.
Generations start at 1, so the id 0 is never alive and serves as "no entity".
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ouroboros.engine.errors import EntityNotFoundError

INDEX_BITS = 32
INDEX_MASK = (1 << INDEX_BITS) - 1
NO_ENTITY = 0

I64 = npt.NDArray[np.int64]


def make_ids(generation: npt.NDArray[np.uint32], index: I64) -> I64:
    return (generation.astype(np.int64) << INDEX_BITS) | index


class EntityTable:
    """Generation, archetype and row of every entity slot, plus the FIFO of free slots."""

    def __init__(self, capacity: int = 1024) -> None:
        self.generation = np.ones(capacity, dtype=np.uint32)
        self.archetype = np.full(capacity, -1, dtype=np.int32)
        self.row = np.zeros(capacity, dtype=np.int64)
        self.high_water = 0
        self.free = np.empty(0, dtype=np.int64)

    @property
    def alive_count(self) -> int:
        return self.high_water - int(self.free.size)

    def _grow(self, needed: int) -> None:
        cap = self.generation.size
        if needed <= cap:
            return
        new_cap = max(needed, cap * 2)
        extra = new_cap - cap
        self.generation = np.concatenate([self.generation, np.ones(extra, dtype=np.uint32)])
        self.archetype = np.concatenate([self.archetype, np.full(extra, -1, dtype=np.int32)])
        self.row = np.concatenate([self.row, np.zeros(extra, dtype=np.int64)])

    def allocate(self, n: int) -> I64:
        """Indices for ``n`` new entities: the oldest free ones first, then fresh ones."""
        reused = self.free[:n]
        self.free = self.free[reused.size :]
        fresh_n = n - reused.size
        fresh = np.arange(self.high_water, self.high_water + fresh_n, dtype=np.int64)
        self._grow(self.high_water + fresh_n)
        self.high_water += fresh_n
        return np.concatenate([reused, fresh]) if reused.size else fresh

    def release(self, indices: I64) -> None:
        """Free ``indices`` (already unique and sorted by the caller) and bump their generation."""
        # Generations stay in [1, 2**31 - 1] so ids stay positive int64; a slot wraps after
        # two billion reuses, by then no stale id of its first generation can be meaningful.
        gen = self.generation[indices] + np.uint32(1)
        gen[gen >= np.uint32(1 << 31)] = 1
        self.generation[indices] = gen
        self.archetype[indices] = -1
        self.free = np.concatenate([self.free, indices])

    def ids_of(self, indices: I64) -> I64:
        return make_ids(self.generation[indices], indices)

    def resolve(self, ids: npt.ArrayLike) -> I64:
        """Slot indices of live ``ids``; ``EntityNotFoundError`` names the first dead one."""
        arr = np.asarray(ids, dtype=np.int64).reshape(-1)
        index = arr & INDEX_MASK
        gen = arr >> INDEX_BITS
        in_range = (arr > 0) & (index < self.high_water)
        ok = in_range.copy()
        ok[in_range] = (self.generation[index[in_range]] == gen[in_range]) & (
            self.archetype[index[in_range]] >= 0
        )
        if not ok.all():
            bad = int(arr[~ok][0])
            raise EntityNotFoundError(f"entity {bad} is not alive")
        return index

    def resolve_one(self, entity: int) -> int:
        """The slot index of one live id (the scalar path of ``resolve``, for per-entity access)."""
        entity = int(entity)
        index = entity & INDEX_MASK
        if (
            entity <= 0
            or index >= self.high_water
            or int(self.generation[index]) != entity >> INDEX_BITS
            or int(self.archetype[index]) < 0
        ):
            raise EntityNotFoundError(f"entity {entity} is not alive")
        return index

    def is_alive(self, entity: int) -> bool:
        try:
            self.resolve_one(entity)
        except EntityNotFoundError:
            return False
        return True
