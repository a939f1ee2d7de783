"""Shadows: a private world holding copies of what one system may see at one point of a live
tick, and the bit-for-bit comparison of what the system left there and in the live world."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import numpy as np

from ouroboros.engine.profiler import Profiler
from ouroboros.engine.schedule import SystemSpec
from ouroboros.engine.storage import Archetype
from ouroboros.engine.structure import Commands
from ouroboros.engine.world import World

__all__ = ["Shadow"]


class Shadow:
    """A private world holding copies of what one system may see at one point of a live tick, in
    a chosen layout. It shares only what a system cannot change inside a tick (the schedule, the
    entity table, component and input registrations); it never steps."""

    def __init__(self, live: World, layout: str) -> None:
        w = object.__new__(World)
        w.__dict__.update(live.__dict__)
        w.profiler = Profiler(1)
        w.commands = Commands()
        w._pending = []
        w._archetypes = []
        w._by_signature = {}
        w._query_cache = {}
        w._layout_default = layout
        w.last_digest = None
        self.world = w
        self.layout = layout

    def _mirror(self, arch: Archetype, rows: int) -> Archetype:
        mirror = Archetype(arch.components, capacity=max(1, rows + rows // 4))
        mirror.set_layout(self.layout)
        return mirror

    def sync(self, live: World, spec: SystemSpec) -> None:
        """Copy what ``spec`` may see, as the live world holds it now."""
        w = self.world
        seen = spec.reads | spec.writes
        if len(w._archetypes) != len(live._archetypes):
            w._archetypes.extend(self._mirror(a, a.count) for a in live._archetypes[len(w._archetypes) :])
            w._by_signature, w._query_cache = dict(live._by_signature), {}
        for i, arch in enumerate(live._archetypes):
            n = arch.count
            m = w._archetypes[i]
            if m.capacity < n:
                m = w._archetypes[i] = self._mirror(arch, n)
            m.count = n
            m.ids[:n] = arch.ids[:n]
            if any(arch.has(c) for c in seen):
                for key, col in arch.columns.items():
                    if key.partition(".")[0] in seen:
                        m.columns[key][:n] = col[:n]
        w.tick, w.started, w._entities, w.schedule = live.tick, live.started, live._entities, live.schedule
        w.resources = _copy(live.resources)
        w.meta = _copy(live.meta)
        w.scratch = _copy(live.scratch)
        w.commands = Commands()
        w._running, w._in_tick = spec, True

    def differences(self, live: World, spec: SystemSpec, commands_from: int) -> list[str]:
        """What the system left differently here and in the live world (empty: identical)."""
        w = self.world
        out: list[str] = []
        for i, arch in enumerate(live._archetypes):
            mirror = w._archetypes[i]
            for key in arch.columns:
                if key.partition(".")[0] not in spec.writes or key in out:
                    continue
                if mirror.count != arch.count or not np.array_equal(arch.view(key), mirror.view(key)):
                    out.append(key)
        if not _plain_equal(live.resources, w.resources):
            out.append("resources")
        if not _plain_equal(live.meta, w.meta):
            out.append("meta")
        if not _same(live.commands._queue[commands_from:], w.commands._queue):
            out.append("commands")
        for key in sorted(set(live.scratch) | set(w.scratch)):
            if (
                key not in live.scratch
                or key not in w.scratch
                or not _same(live.scratch[key], w.scratch[key])
            ):
                out.append(f"scratch:{key}")
        return out


def _copy(value: Any) -> Any:
    """A deep copy of plain data, arrays and dataclasses of them (``copy.deepcopy`` for anything
    else), without ``deepcopy``'s bookkeeping: scalars and strings are shared, being immutable."""
    kind = type(value)
    if kind in (int, str, bool, float, type(None)):
        return value
    if kind is dict:
        return {k: _copy(v) for k, v in value.items()}
    if kind is list:
        return [_copy(v) for v in value]
    if kind is tuple:
        return tuple(_copy(v) for v in value)
    if kind is np.ndarray:
        return value.copy()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.replace(
            value, **{f.name: _copy(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}
        )
    return copy.deepcopy(value)


def _plain_equal(a: Any, b: Any) -> bool:
    """``==`` for plain data (fast, in C), ``_same`` where that is not enough."""
    try:
        return bool(a == b) and type(a) is type(b)
    except (TypeError, ValueError):
        return _same(a, b)


def _same(a: Any, b: Any) -> bool:
    """Bit-for-bit equality of plain data, arrays and dataclasses of them."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.shape == b.shape
            and bool(np.array_equal(a, b))
        )
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(map(_same, a, b))
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        return type(a) is type(b) and all(
            _same(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a)
        )
    if type(a).__eq__ is object.__eq__ and hasattr(a, "__dict__"):  # a copy is never `is` the original
        return type(a) is type(b) and _same(vars(a), vars(b))
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False
