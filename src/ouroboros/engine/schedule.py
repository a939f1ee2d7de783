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
class Variant:
    """One implementation of a system's contract. Every variant of a system must leave the world
    bit-identical (state is integer), which is what the optimizer's guard checks.

    ``kind`` names the technique (``python``, ``numpy``, ``numba``, ``cupy``…). ``min_size`` and
    ``max_size`` are the entity counts it is meant for (a hint for the optimizer's rules, never a
    limit). ``prepare`` does one-off work outside any tick (a JIT compile) and is called before
    the variant first runs in a world that an optimizer drives."""

    name: str
    fn: SystemFn
    kind: str = "python"
    min_size: int = 0
    max_size: int | None = None
    prepare: Callable[[], None] | None = None

    def suits(self, size: int) -> bool:
        return size >= self.min_size and (self.max_size is None or size <= self.max_size)


@dataclass(frozen=True)
class SystemSpec:
    """A registered system: its name, phase, declared access, constraints, implementation and,
    when it has several, the name of the variant that runs (``variant``)."""

    name: str
    fn: SystemFn
    phase: str = "tick"
    reads: frozenset[str] = field(default_factory=frozenset)
    writes: frozenset[str] = field(default_factory=frozenset)
    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    variant: str = "default"

    def may_read(self, component: str) -> bool:
        return component in self.reads or component in self.writes

    def may_write(self, component: str) -> bool:
        return component in self.writes


class Schedule:
    """The registered systems and their resolved order per phase."""

    def __init__(self) -> None:
        self._systems: dict[str, SystemSpec] = {}
        self._variants: dict[str, dict[str, Variant]] = {}
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
        variants: Iterable[Variant] = (),
        variant: str | None = None,
    ) -> SystemSpec:
        """Register a system. With ``variants``, ``fn`` is ignored unless no variant is chosen:
        ``variant`` (default: the first) runs."""
        if phase not in PHASES:
            raise ScheduleError(f"unknown phase {phase!r} (phases: {', '.join(PHASES)})")
        if name in self._systems:
            raise ScheduleError(f"system {name!r} is already registered")
        table = {v.name: v for v in variants}
        chosen = "default"
        if table:
            chosen = variant if variant is not None else next(iter(table))
            if chosen not in table:
                raise ScheduleError(f"system {name!r} has no variant {chosen!r} (has {sorted(table)})")
            fn = table[chosen].fn
            self._variants[name] = table
        spec = SystemSpec(
            name, fn, phase, frozenset(reads), frozenset(writes), tuple(before), tuple(after), chosen
        )
        self._systems[name] = spec
        self._order = None
        return spec

    def variants(self, name: str) -> dict[str, Variant]:
        """The variants of ``name`` by name (empty for a system with one implementation)."""
        self.get(name)
        return dict(self._variants.get(name, {}))

    def set_variant(self, name: str, variant: str) -> str:
        """Run ``variant`` for ``name`` from now on; returns the variant it replaces."""
        old = self.get(name)
        table = self._variants.get(name, {})
        if variant not in table:
            raise ScheduleError(f"system {name!r} has no variant {variant!r} (has {sorted(table)})")
        self._systems[name] = replace(old, fn=table[variant].fn, variant=variant)
        self._order = None
        return old.variant

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
