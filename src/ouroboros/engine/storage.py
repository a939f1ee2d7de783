"""Archetype storage: every entity with the same set of components shares one table, ``count``
rows densely packed, one column per component field.

Two layouts hold the same rows: ``soa`` (struct of arrays: one contiguous numpy array per field,
the default) and ``aos`` (array of structs: one numpy structured array, whose field views are the
columns). Every reader and writer goes through ``columns``, so the layout is invisible to systems
and to the digest (which hashes contiguous copies); ``set_layout`` converts between them at a
tick boundary, which makes layout one more variant the optimizer may choose.

Rows are kept in insertion order. Removal is a stable compaction (``keep`` mask), not a
swap-remove, so the layout after any batch of despawns depends only on which entities went, never
on the order they were asked for in.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from ouroboros.engine.components import Component
from ouroboros.engine.errors import ComponentError

I64 = npt.NDArray[np.int64]


LAYOUTS = ("soa", "aos")


def column_key(component: str, field: str) -> str:
    return f"{component}.{field}"


class Archetype:
    """One table: entity ids plus a column per (component, field), ``count`` rows in use."""

    def __init__(self, components: tuple[Component, ...], capacity: int = 64) -> None:
        self.components = tuple(sorted(components, key=lambda c: c.name))
        self.signature: tuple[str, ...] = tuple(c.name for c in self.components)
        self.count = 0
        self.layout = "soa"
        self.ids = np.zeros(capacity, dtype=np.int64)
        self.columns: dict[str, np.ndarray] = self._allocate(capacity, "soa")

    def _fields(self) -> list[tuple[str, np.dtype]]:
        return [(column_key(c.name, f), np.dtype(d)) for c in self.components for f, d in c.fields]

    def _allocate(self, capacity: int, layout: str) -> dict[str, np.ndarray]:
        fields = self._fields()
        if layout == "soa":
            return {key: np.zeros(capacity, dtype=dtype) for key, dtype in fields}
        records = np.zeros(capacity, dtype=np.dtype(fields)) if fields else np.zeros(capacity, dtype=[])
        return {key: records[key] for key, _ in fields}

    def set_layout(self, layout: str) -> None:
        """Convert to ``soa`` or ``aos`` in place, rows and capacity unchanged (O(rows))."""
        if layout not in LAYOUTS:
            raise ComponentError(f"unknown layout {layout!r} (layouts: {', '.join(LAYOUTS)})")
        if layout == self.layout:
            return
        columns = self._allocate(self.capacity, layout)
        for key, col in self.columns.items():
            columns[key][: self.count] = col[: self.count]
        self.columns = columns
        self.layout = layout

    @property
    def capacity(self) -> int:
        return int(self.ids.size)

    def has(self, component: str) -> bool:
        return component in self.signature

    def _reserve(self, needed: int) -> None:
        if needed <= self.capacity:
            return
        new_cap = max(needed, self.capacity * 2)

        def grown(a: np.ndarray) -> np.ndarray:
            out = np.zeros(new_cap, dtype=a.dtype)
            out[: self.count] = a[: self.count]
            return out

        self.ids = grown(self.ids)
        columns = self._allocate(new_cap, self.layout)
        for key, col in self.columns.items():
            columns[key][: self.count] = col[: self.count]
        self.columns = columns

    def prepare(self, n: int, values: Mapping[str, npt.ArrayLike]) -> dict[str, np.ndarray]:
        """Check ``values`` for ``n`` new rows and cast them, before anything is changed:
        unknown columns and values of the wrong shape raise ``ComponentError`` here."""
        unknown = set(values) - set(self.columns)
        if unknown:
            raise ComponentError(f"unknown column(s) {sorted(unknown)} for archetype {self.signature}")
        prepared = {}
        for key, value in values.items():
            try:
                # An array already of the column's dtype and length passes uncopied (the callers
                # copy it into the columns at once); anything else is cast and broadcast.
                a = np.asarray(value)
                dtype = self.columns[key].dtype
                if a.dtype != dtype:
                    a = a.astype(dtype)
                prepared[key] = a if a.shape == (n,) else np.broadcast_to(a, (n,))
            except (ValueError, TypeError) as exc:
                raise ComponentError(f"values for {key} do not fit {n} rows: {exc}", path=key) from exc
        return prepared

    def append(self, ids: I64, values: Mapping[str, npt.ArrayLike]) -> int:
        """Append rows for ``ids``; ``values`` maps column keys to arrays or scalars (missing
        columns are zero). Returns the first new row."""
        n = int(ids.size)
        values = self.prepare(n, values)
        start = self.count
        self._reserve(start + n)
        self.ids[start : start + n] = ids
        for key, col in self.columns.items():
            if key in values:
                col[start : start + n] = values[key]
            else:
                col[start : start + n] = 0
        self.count = start + n
        return start

    def compact(self, keep: npt.NDArray[np.bool_]) -> None:
        """Drop the rows where ``keep`` is False, keeping the others in order."""
        rows = np.flatnonzero(keep[: self.count])  # once: integer rows gather faster than a mask per column
        n = rows.size
        self.ids[:n] = self.ids[rows]
        for col in self.columns.values():
            col[:n] = col[rows]
        self.count = n

    def rows(self, rows: I64) -> dict[str, np.ndarray]:
        """Copies of every column at ``rows``."""
        return {k: v[rows].copy() for k, v in self.columns.items()}

    def view(self, key: str) -> np.ndarray:
        return self.columns[key][: self.count]
