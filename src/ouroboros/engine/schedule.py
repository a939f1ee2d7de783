"""Systems in named phases with declared access and a stable order.

A tick runs the phases ``pre_tick``, ``tick`` and ``post_tick`` in that order (``startup`` runs
once, before the first tick). Inside a phase, systems run in an order that satisfies their
``before=`` / ``after=`` constraints; where no constraint speaks, registration order decides, so
the order never depends on dict or set iteration. ``reads=`` / ``writes=`` are enforced by the
world's column access while the system runs.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ouroboros.engine.errors import ScheduleError

if TYPE_CHECKING:
    from ouroboros.engine.world import World

PHASES: tuple[str, ...] = ("startup", "pre_tick", "tick", "post_tick")
TICK_PHASES: tuple[str, ...] = PHASES[1:]

SystemFn = Callable[["World"], Any]


@dataclass(frozen=True)
class SystemSpec:
    """A registered system: its name, phase, declared access, constraints and implementation."""

    name: str
    fn: SystemFn
    phase: str = "tick"
    reads: frozenset[str] = field(default_factory=frozenset)
    writes: frozenset[str] = field(default_factory=frozenset)
    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()

    def may_read(self, component: str) -> bool:
        return component in self.reads or component in self.writes

    def may_write(self, component: str) -> bool:
        return component in self.writes


class Schedule:
    """The registered systems and their resolved order per phase."""

    def __init__(self) -> None:
        self._systems: dict[str, SystemSpec] = {}
        self._order: dict[str, tuple[SystemSpec, ...]] | None = None

    def add(
        self,
        name: str,
        fn: SystemFn,
        *,
        phase: str = "tick",
        reads: Iterable[str] = (),
        writes: Iterable[str] = (),
        before: Iterable[str] = (),
        after: Iterable[str] = (),
    ) -> SystemSpec:
        if phase not in PHASES:
            raise ScheduleError(f"unknown phase {phase!r} (phases: {', '.join(PHASES)})")
        if name in self._systems:
            raise ScheduleError(f"system {name!r} is already registered")
        spec = SystemSpec(name, fn, phase, frozenset(reads), frozenset(writes), tuple(before), tuple(after))
        self._systems[name] = spec
        self._order = None
        return spec

    def replace_impl(self, name: str, fn: SystemFn) -> SystemFn:
        """Swap the implementation of ``name`` (its contract stays); returns the old one."""
        old = self.get(name)
        self._systems[name] = replace(old, fn=fn)
        self._order = None
        return old.fn

    def get(self, name: str) -> SystemSpec:
        try:
            return self._systems[name]
        except KeyError:
            raise ScheduleError(f"no system named {name!r}") from None

    def names(self) -> list[str]:
        return list(self._systems)

    def phase(self, phase: str) -> tuple[SystemSpec, ...]:
        if self._order is None:
            self._order = self._resolve()
        return self._order[phase]

    def _resolve(self) -> dict[str, tuple[SystemSpec, ...]]:
        rank = {name: i for i, name in enumerate(self._systems)}
        edges: dict[str, set[str]] = {name: set() for name in self._systems}
        for spec in self._systems.values():
            for other in spec.before:
                self._check_peer(spec, other)
                edges[spec.name].add(other)
            for other in spec.after:
                self._check_peer(spec, other)
                edges[other].add(spec.name)
        result: dict[str, tuple[SystemSpec, ...]] = {}
        for phase in PHASES:
            members = [n for n in self._systems if self._systems[n].phase == phase]
            indegree = {n: 0 for n in members}
            for n in members:
                for m in edges[n]:
                    indegree[m] += 1
            ready = [(rank[n], n) for n in members if indegree[n] == 0]
            heapq.heapify(ready)
            ordered: list[SystemSpec] = []
            while ready:
                _, n = heapq.heappop(ready)
                ordered.append(self._systems[n])
                for m in sorted(edges[n], key=rank.__getitem__):
                    indegree[m] -= 1
                    if indegree[m] == 0:
                        heapq.heappush(ready, (rank[m], m))
            if len(ordered) != len(members):
                stuck = sorted(n for n in members if indegree[n] > 0)
                raise ScheduleError(f"ordering cycle among systems {stuck} in phase {phase}")
            result[phase] = tuple(ordered)
        return result

    def _check_peer(self, spec: SystemSpec, other: str) -> None:
        peer = self._systems.get(other)
        if peer is None:
            raise ScheduleError(f"system {spec.name!r} is ordered against unknown {other!r}")
        if peer.phase != spec.phase:
            raise ScheduleError(
                f"system {spec.name!r} ({spec.phase}) is ordered against {other!r} ({peer.phase})"
            )
