"""The World: entities, components, resources, random streams, systems and the tick.

A ``World`` owns all of its state; two worlds in one process (a live one and its shadow fork)
share nothing mutable. What it promises:

- Structural change happens at one point. Inside a tick, systems spawn, despawn and add or remove
  components only through ``world.commands``; the buffer is applied after ``post_tick``, in the
  order the commands were given. Outside a tick (set-up, tests, input handlers) the immediate
  methods may be used.
- Inputs (``submit``) are validated when submitted and applied at the start of the next tick,
  in submission order, before any system runs; each ``TickReport`` lists the inputs it applied, so
  an input log plus the start state reproduces a run.
- Systems touch only what they declared: a column of a component outside ``reads``/``writes`` is
  refused, and a column outside ``writes`` is handed out read-only.
- ``resources`` is plain data (int, str, bool, None, list, dict), part of the digest and the
  snapshot; ``scratch`` is a per-tick cache, emptied before every tick and never digested.
- ``digest()`` covers everything a snapshot carries, so equal digests mean equal states.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from ouroboros.engine.chunk import Chunk
from ouroboros.engine.clock import Clock, monotonic_ns
from ouroboros.engine.components import Component
from ouroboros.engine.digest import Digest, canonical_json, combine, hash_arrays
from ouroboros.engine.entities import EntityTable
from ouroboros.engine.errors import (
    AccessError,
    ComponentError,
    EngineError,
    EntityNotFoundError,
    InputError,
)
from ouroboros.engine.profiler import TICK, Profiler
from ouroboros.engine.rng import Stream
from ouroboros.engine.schedule import TICK_PHASES, Schedule, SystemFn, SystemSpec, Variant
from ouroboros.engine.storage import Archetype, column_key
from ouroboros.engine.structure import (
    Commands,
    apply_commands,
    despawn_rows,
    move_rows,
    spawn_rows,
)

I64 = npt.NDArray[np.int64]

ENGINE_VERSION = "0.1.0"
#: The allocation signal (``sys.getallocatedblocks``, which walks every arena: ~50 µs a call in a
#: process with numba loaded, more than a small system costs) is sampled on one tick in this many.
ALLOC_SAMPLE_TICKS = 16


class Plugin(Protocol):
    """A world, or any other feature, registers itself through one ``build(world)`` call."""

    name: str

    def build(self, world: World) -> None: ...


@dataclass(frozen=True)
class Input:
    """A command from outside the simulation, applied at a tick boundary."""

    kind: str
    payload: Any


@dataclass(frozen=True)
class InputHandler:
    apply: Callable[[World, Any], None]
    validate: Callable[[Any], Any] | None = None


@dataclass(frozen=True)
class TickReport:
    tick: int
    inputs: tuple[Input, ...]
    digest: Digest | None


class World:
    """Entities, components, resources, keyed random streams and a fixed-step schedule."""

    def __init__(
        self,
        seed: int,
        *,
        plugins: Iterable[Plugin] = (),
        digest_every_tick: bool = True,
        profiler_window: int = 512,
        clock: Clock = monotonic_ns,
    ) -> None:
        if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**63:
            raise EngineError(f"seed must be an integer in [0, 2**63), got {seed!r}")
        self.seed = seed
        self.tick = 0
        self.started = False
        self.meta: dict[str, Any] = {}
        self.resources: dict[str, Any] = {}
        self.scratch: dict[str, Any] = {}
        self.commands = Commands()
        self.schedule = Schedule()
        self.profiler = Profiler(profiler_window)
        self.clock = clock  # what the profiler and the optimizer measure with; never state
        self.digest_every_tick = digest_every_tick
        self.last_digest: Digest | None = None
        self._components: dict[str, Component] = {}
        self._inputs: dict[str, InputHandler] = {}
        self._pending: list[Input] = []
        self._entities = EntityTable()
        self._archetypes: list[Archetype] = []
        self._by_signature: dict[tuple[str, ...], int] = {}
        self._query_cache: dict[tuple[str, ...], list[int]] = {}
        self._running: SystemSpec | None = None
        self._in_tick = False
        self._churn = 0
        self._layout_default = "soa"
        self.plugins: list[str] = []
        for plugin in plugins:
            self.add_plugin(plugin)

    # -- registration -------------------------------------------------------------------------
    def add_plugin(self, plugin: Plugin) -> None:
        plugin.build(self)
        self.plugins.append(plugin.name)

    def register_component(self, component: Component) -> None:
        existing = self._components.get(component.name)
        if existing is not None and existing != component:
            raise ComponentError(f"component {component.name} is already registered differently")
        self._components[component.name] = component

    def component(self, name: str) -> Component:
        try:
            return self._components[name]
        except KeyError:
            raise ComponentError(f"unknown component {name!r}") from None

    @property
    def components(self) -> dict[str, Component]:
        return dict(self._components)

    def add_system(
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
        reads, writes = tuple(reads), tuple(writes)
        for c in (*reads, *writes):
            self.component(c)
        return self.schedule.add(
            name,
            fn,
            phase=phase,
            reads=reads,
            writes=writes,
            before=before,
            after=after,
            variants=variants,
            variant=variant,
        )

    # -- variants -----------------------------------------------------------------------------
    def variants(self) -> dict[str, list[str]]:
        """Every system that has several implementations, with their names."""
        return {
            n: list(self.schedule.variants(n)) for n in self.schedule.names() if self.schedule.variants(n)
        }

    def active_variants(self) -> dict[str, str]:
        return {n: self.schedule.get(n).variant for n in self.variants()}

    def set_variant(self, system: str, variant: str) -> str:
        """Switch ``system`` to ``variant`` at this tick boundary; returns the previous variant.
        Variants are bit-identical by contract, so state and digests do not change."""
        if self._in_tick:
            raise EngineError("set_variant() inside a tick: variants change at tick boundaries")
        return self.schedule.set_variant(system, variant)

    # -- layout -------------------------------------------------------------------------------
    def set_layout(self, layout: str, components: Iterable[str] | None = None) -> dict[str, str]:
        """Store the archetypes holding all of ``components`` (default: every archetype) as
        ``soa`` or ``aos``, at this tick boundary. Layout is not state: digests and snapshots
        are the same either way (a restored world starts in ``soa``). Returns ``layouts()``."""
        if self._in_tick:
            raise EngineError("set_layout() inside a tick: layouts change at tick boundaries")
        wanted = tuple(components or ())
        for c in wanted:
            self.component(c)
        if not wanted:
            Archetype((), 1).set_layout(layout)  # refuse an unknown layout before changing anything
            self._layout_default = layout
        for arch in self._archetypes:
            if all(arch.has(c) for c in wanted):
                arch.set_layout(layout)
        return self.layouts()

    @property
    def default_layout(self) -> str:
        """The layout the last world-wide ``set_layout`` chose (new archetypes get it)."""
        return self._layout_default

    def layouts(self) -> dict[str, str]:
        """Each archetype (its components joined by ``+``) and its layout."""
        return {"+".join(a.signature): a.layout for a in self.archetype_order()}

    def system_size(self, system: str) -> int:
        """Entities a system works over: the rows of every archetype holding any component it
        declares (what the optimizer's size rules look at)."""
        spec = self.schedule.get(system)
        touched = spec.reads | spec.writes
        return sum(a.count for a in self._archetypes if any(a.has(c) for c in touched))

    def register_input(
        self,
        kind: str,
        apply: Callable[[World, Any], None],
        validate: Callable[[Any], Any] | None = None,
    ) -> None:
        if kind in self._inputs:
            raise EngineError(f"input kind {kind!r} is already registered")
        self._inputs[kind] = InputHandler(apply, validate)

    @property
    def input_kinds(self) -> list[str]:
        return sorted(self._inputs)

    # -- inputs -------------------------------------------------------------------------------
    def submit(self, kind: str, payload: Any = None) -> None:
        """Queue an input for the next tick; bad input raises ``InputError`` now, not mid-tick."""
        handler = self._inputs.get(kind)
        if handler is None:
            raise InputError(f"unknown input kind {kind!r}", path=kind)
        if handler.validate is not None:
            payload = handler.validate(payload)
        try:
            canonical_json(payload, f"input {kind}")
        except EngineError as exc:
            raise InputError(exc.message, path=kind) from exc
        self._pending.append(Input(kind, payload))

    # -- random streams -----------------------------------------------------------------------
    def rng(self, name: str | None = None) -> Stream:
        """The stream ``name`` (default: the running system's name) for the tick being run."""
        if name is None:
            if self._running is None:
                raise EngineError("rng() needs a stream name outside a system")
            name = self._running.name
        return Stream.for_tick(self.seed, name, self.tick + (1 if self._in_tick else 0))

    # -- archetypes and queries ---------------------------------------------------------------
    def _archetype_for(self, signature: Iterable[str]) -> int:
        sig = tuple(sorted(set(signature)))
        idx = self._by_signature.get(sig)
        if idx is None:
            comps = tuple(self.component(n) for n in sig)
            idx = len(self._archetypes)
            arch = Archetype(comps)
            arch.set_layout(self._layout_default)
            self._archetypes.append(arch)
            self._by_signature[sig] = idx
            self._query_cache.clear()
        return idx

    def query(self, *components: str) -> list[Chunk]:
        """Chunks of every archetype that has all ``components``, in signature order."""
        key = tuple(sorted(components))
        matches = self._query_cache.get(key)
        if matches is None:
            for c in key:
                self.component(c)
            matches = sorted(
                (i for i, a in enumerate(self._archetypes) if all(a.has(c) for c in key)),
                key=lambda i: self._archetypes[i].signature,
            )
            self._query_cache[key] = matches
        return [Chunk(self._archetypes[i], self) for i in matches]

    def count(self, *components: str) -> int:
        return sum(c.count for c in self.query(*components))

    @property
    def in_tick(self) -> bool:
        """Whether systems are running now (structural change must then go through ``commands``)."""
        return self._in_tick

    @property
    def entity_count(self) -> int:
        return self._entities.alive_count

    # -- immediate structural change (outside ticks) ------------------------------------------
    def _outside_tick(self, what: str) -> None:
        if self._in_tick:
            raise EngineError(f"{what} inside a tick: use world.commands (applied at the tick boundary)")

    def spawn_batch(
        self, components: Sequence[str], n: int, values: Mapping[str, npt.ArrayLike] | None = None
    ) -> I64:
        """Create ``n`` entities with ``components``; ``values`` maps "Comp.field" to data."""
        self._outside_tick("spawn")
        return spawn_rows(self, components, n, values or {})

    def spawn(self, **components: Mapping[str, Any]) -> int:
        """Create one entity: ``spawn(Position={"x": 1, "y": 2}, Tag={"v": 0})``."""
        values = {column_key(c, f): v for c, fields in components.items() for f, v in fields.items()}
        return int(self.spawn_batch(list(components), 1, values)[0])

    def despawn(self, ids: npt.ArrayLike) -> None:
        self._outside_tick("despawn")
        despawn_rows(self, np.asarray(ids, dtype=np.int64).reshape(-1), strict=True)

    def add_component(
        self, ids: npt.ArrayLike, component: str, values: Mapping[str, npt.ArrayLike] | None = None
    ) -> None:
        self._outside_tick("add_component")
        move_rows(self, np.asarray(ids, dtype=np.int64).reshape(-1), add=component, values=values or {})

    def remove_component(self, ids: npt.ArrayLike, component: str) -> None:
        self._outside_tick("remove_component")
        move_rows(self, np.asarray(ids, dtype=np.int64).reshape(-1), remove=component)

    # -- single-entity access -----------------------------------------------------------------
    def is_alive(self, entity: int) -> bool:
        return self._entities.is_alive(entity)

    def try_get(self, entity: int, component: str) -> dict[str, int] | None:
        try:
            return self.get(entity, component)
        except (EntityNotFoundError, ComponentError):
            return None

    def _check_access(self, component: str, write: bool) -> None:
        running = self._running
        if running is None:
            return
        allowed = running.may_write(component) if write else running.may_read(component)
        if not allowed:
            verb = "wrote" if write else "read"
            raise AccessError(
                f"system {running.name!r} {verb} {component} without declaring it", path=component
            )

    def get(self, entity: int, component: str) -> dict[str, int]:
        """The fields of ``component`` on ``entity`` as plain ints; raises if absent."""
        spec = self.component(component)
        self._check_access(component, write=False)
        index = self._entities.resolve_one(entity)
        arch = self._archetypes[int(self._entities.archetype[index])]
        if not arch.has(component):
            raise ComponentError(f"entity {entity} has no component {component!r}")
        row = int(self._entities.row[index])
        columns = arch.columns
        return {f: columns[key][row].item() for f, key in spec.column_keys}

    def set(self, entity: int, component: str, **fields: int) -> None:
        spec = self.component(component)
        self._check_access(component, write=True)
        index = self._entities.resolve_one(entity)
        arch = self._archetypes[int(self._entities.archetype[index])]
        if not arch.has(component):
            raise ComponentError(f"entity {entity} has no component {component!r}")
        row = int(self._entities.row[index])
        for f, v in fields.items():
            spec.dtype_of(f)
            arch.columns[column_key(component, f)][row] = v

    def components_of(self, entity: int) -> tuple[str, ...]:
        index = self._entities.resolve_one(entity)
        return self._archetypes[int(self._entities.archetype[index])].signature

    # -- the tick -----------------------------------------------------------------------------
    def _run_phase(self, phase: str) -> None:
        profiler, clock = self.profiler, self.clock
        sample_allocs = self.tick % ALLOC_SAMPLE_TICKS == 0
        for spec in self.schedule.phase(phase):
            self._running = spec
            blocks = sys.getallocatedblocks() if sample_allocs else 0
            t0 = clock()
            try:
                spec.fn(self)
            finally:
                self._running = None
            elapsed = clock() - t0
            profiler.record(spec.name, elapsed, sys.getallocatedblocks() - blocks if sample_allocs else None)

    def start(self) -> None:
        """Run the ``startup`` systems once (tick 0); ``step`` calls this when needed."""
        if self.started:
            return
        self._in_tick = True
        try:
            self._run_phase("startup")
        finally:
            self._in_tick = False
        apply_commands(self)
        self.started = True
        self.last_digest = self.digest() if self.digest_every_tick else None

    def step(self) -> TickReport:
        """Advance one tick: inputs, then the tick phases, then structural commands, then digest."""
        if not self.started:
            self.start()
        t0 = self.clock()
        self.scratch.clear()
        inputs, self._pending = tuple(self._pending), []
        # Inputs are applied at the boundary, before the tick opens: handlers may use the
        # immediate structural methods.
        for inp in inputs:
            self._inputs[inp.kind].apply(self, inp.payload)
        self._in_tick = True
        try:
            for phase in TICK_PHASES:
                self._run_phase(phase)
        finally:
            self._in_tick = False
        apply_commands(self)
        self.tick += 1
        digest = self.digest() if self.digest_every_tick else None
        self.last_digest = digest
        self.profiler.record(TICK, self.clock() - t0)
        self.profiler.record_tick(self.tick, self._entities_alive(), self._churn)
        self._churn = 0
        return TickReport(self.tick, inputs, digest)

    def _entities_alive(self) -> int:
        return sum(a.count for a in self._archetypes)

    def run(self, ticks: int) -> TickReport | None:
        report = None
        for _ in range(ticks):
            report = self.step()
        return report

    # -- digest -------------------------------------------------------------------------------
    def archetype_order(self) -> list[Archetype]:
        return sorted(self._archetypes, key=lambda a: a.signature)

    def digest(self) -> Digest:
        t = self._entities
        hw = t.high_water
        archs = self.archetype_order()
        entity_arrays: list[np.ndarray] = [t.generation[:hw], t.archetype[:hw], t.row[:hw], t.free]
        for a in archs:
            entity_arrays.append(a.ids[: a.count])
        sections: list[tuple[str, bytes]] = [
            ("entities", hash_arrays(*entity_arrays)),
            ("resources", hash_arrays(np.frombuffer(canonical_json(self.resources), dtype=np.uint8))),
        ]
        for name in sorted(self._components):
            for field, _ in self._components[name].fields:
                key = column_key(name, field)
                cols = [a.view(key) for a in archs if key in a.columns]
                sections.append((key, hash_arrays(*cols)))
        return combine(self.tick, sections)

    # -- snapshot and fork --------------------------------------------------------------------
    def snapshot(self) -> bytes:
        from ouroboros.engine.snapshot import encode

        return encode(self)

    def restore(self, data: bytes) -> None:
        """Replace this world's state with a snapshot's; raises ``SnapshotError`` on any fault
        and leaves the world untouched then."""
        from ouroboros.engine.snapshot import decode_into

        decode_into(self, data)

    def fork(self) -> World:
        """An independent copy (same systems and inputs, copied state) for shadow runs."""
        if self._in_tick:
            raise EngineError("fork() inside a tick")
        other = object.__new__(World)
        other.__dict__.update(self.__dict__)
        other.meta = _deep(self.meta)
        other.resources = _deep(self.resources)
        other.scratch = {}
        other.commands = Commands()
        other.schedule = Schedule()
        other.schedule._systems = dict(self.schedule._systems)
        other.schedule._variants = dict(self.schedule._variants)
        other.profiler = Profiler(self.profiler.window)
        other._inputs = dict(self._inputs)
        other._pending = list(self._pending)
        other._components = dict(self._components)
        other._entities = EntityTable(0)
        for attr in ("generation", "archetype", "row", "free"):
            setattr(other._entities, attr, getattr(self._entities, attr).copy())
        other._entities.high_water = self._entities.high_water
        other._archetypes = []
        for arch in self._archetypes:
            copy = Archetype(arch.components, capacity=max(arch.count, 1))
            copy.set_layout(arch.layout)
            copy.count = arch.count
            copy.ids[: arch.count] = arch.ids[: arch.count]
            for k in arch.columns:
                copy.columns[k][: arch.count] = arch.view(k)
            other._archetypes.append(copy)
        other._by_signature = dict(self._by_signature)
        other._query_cache = {}
        other.plugins = list(self.plugins)
        return other

    # internal, for the snapshot codec
    def _install_state(
        self,
        *,
        tick: int,
        started: bool,
        resources: dict[str, Any],
        meta: dict[str, Any],
        entities: EntityTable,
        archetypes: list[Archetype],
    ) -> None:
        self.tick = tick
        self.started = started
        self.resources = resources
        self.meta = meta
        self._entities = entities
        self._archetypes = archetypes
        self._by_signature = {a.signature: i for i, a in enumerate(archetypes)}
        self._query_cache = {}
        self._pending = []
        self.commands = Commands()
        self.scratch = {}
        self.last_digest = None


def _deep(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _deep(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep(v) for v in value]
    return value
