"""What a world tells the layers above it: one typed ``WorldSpec`` per world folder.

Each world package holds a ``spec`` module exporting ``SPEC``; ``ouroboros.worlds`` discovers them
(its own sub-packages, then the ``ouroboros.worlds`` entry-point group for worlds installed from
elsewhere). ``ai/``, ``server/`` and ``cli/`` learn everything world-specific from the spec — they
import no world's internals and never branch on a world's name — so adding a world touches
nothing outside its folder.

The core of a spec (build, KPIs, shadow metrics, content) every world has. The hooks below it are
optional capabilities, ``None`` where a world lacks one: a stream frame for the dashboard, an
operator-tunable parameter table, a live game with players, director signals, evolution, the
runtime's gauges. Each hook is a Protocol, so a world implements it with whatever object suits
it; a caller asks ``spec.<hook> is not None`` where it used to ask a world's name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from ouroboros.engine import Plugin, World
from ouroboros.worlds.frame import Frame

ContentProblems = list[tuple[str, str, str]]


class StreamHook(Protocol):
    """How the dashboard's live view draws the world (``FrameStream`` is the usual one)."""

    @property
    def kind(self) -> int:
        """The frame's world-kind code on the wire (unique across worlds, 0-255)."""
        ...

    @property
    def legend(self) -> Mapping[int, str]:
        """What each entity ``kind`` code of a frame is (for the dashboard's legend)."""
        ...

    @property
    def resource(self) -> str:
        """What a frame's resources are (``""``: the world has none)."""
        ...

    def frame(self, world: World) -> Frame:
        """The world now (read only, between two ticks)."""
        ...


@dataclass(frozen=True)
class FrameStream:
    """A ``StreamHook`` made of a frame function."""

    kind: int
    make: Callable[[World], Frame]
    legend: Mapping[int, str] = field(default_factory=dict)
    resource: str = ""

    def frame(self, world: World) -> Frame:
        return self.make(world)


class ParamsHook(Protocol):
    """The operator-tunable parameters (``GET/PUT /api/world/params``): an operator's change is
    a governed ``world_params`` patch, so it is in the ledger and later versions keep it."""

    @property
    def governed_id(self) -> str:
        """The ``world_params`` object that holds the operators' changes (a new one is made at
        ``1.0.0``; a base world's own object may be it)."""
        ...

    def current(self, world: World) -> dict[str, int]:
        """The values in force now."""
        ...

    def defaults(self) -> dict[str, int]:
        """The base world's values."""
        ...

    def check(self, name: Any, value: Any) -> tuple[str, int]:
        """``(name, value)`` when ``value`` may be ``name``; an ``OuroborosError`` saying why not
        (unknown, wrong type, out of bounds)."""
        ...


class RunningGame(Protocol):
    """A world people play, running: the runner ticks it and the gateways serve it (the members
    from ``name`` to ``run_ticks`` are the gateways' ``server.gateway.game.LiveGame``)."""

    name: str

    def command(self, character: str, line: str) -> None: ...

    def leave(self, character: str) -> None: ...

    def present(self, character: str) -> bool: ...

    def subscribe(self, deliver: Callable[[str, list[dict[str, Any]]], None]) -> Callable[[], None]: ...

    async def run_ticks(self) -> None: ...

    tick_hz: float
    #: seconds between two saves while it runs
    autosave_s: float
    #: while STOPped: what players are told; None while it runs
    frozen: str | None

    def step(self) -> Any:
        """One tick of the world, with the game's inputs and events."""
        ...

    def save(self) -> None: ...

    def close(self) -> None:
        """Release its store (after the last ``save``)."""
        ...

    def enter(self, character: str) -> None: ...

    def operators_stopped(self, why: str) -> None:
        """STOP: players are told (``why``: `` (the operator's reason)`` or empty) and their
        commands are answered at once until ``operators_resumed``."""
        ...

    def operators_resumed(self, why: str) -> None: ...

    def take_everyone_out(self) -> list[str]:
        """After a restore: every character is offline and no longer present; returns who was, to
        ``enter`` again once the world is back on its version."""
        ...


class EvolutionHook(Protocol):
    """What the evolution loop (``ouroboros.ai.evolution``) needs of a world whose creatures run
    evolved Lua traits. Every method reads a world (the live one or a fork) and never writes it:
    the loop changes a world only by submitting a bundle to its governor."""

    #: the experiments ``scenario`` knows (``ouroboros evolve --scenario NAME``)
    scenarios: tuple[str, ...]

    def free_trait_slots(self, world: World) -> int:
        """How many more scripted traits the world has room for."""
        ...

    def population(self, world: World) -> int:
        """Creatures alive now."""
        ...

    def starvation_deaths(self, world: World) -> int:
        """Creatures starved so far (a counter that only grows)."""
        ...

    def carriers(self, world: World, trait_id: str) -> Any:
        """The ids (an integer array) of the creatures carrying the live version of ``trait_id``."""
        ...

    def lineage_value(self, world: World, group: Any) -> dict[str, int]:
        """How ``group`` (ids) and their children fare: ``alive``, ``energy_fp``, ``value_fp``
        (the paired KPI) and ``mean_speed_fp``."""
        ...

    def probe_context(self, world: World) -> Any:
        """The context a candidate script is called with once, in its own sandbox (probe stage)."""
        ...

    def param_candidates(self, world: World) -> list[dict[str, int]]:
        """The parameter changes worth trying when the world starves, in the order to try them."""
        ...

    def scenario(self, name: str, entities: int) -> Mapping[str, Any]:
        """The world config of experiment ``name`` with ``entities`` creatures at the start."""
        ...


@dataclass
class Signals:
    """One read of a world's director signals: events (``kind`` plus fields, each reported once,
    on the change that causes it), KPIs, and the tick they were read at."""

    events: list[dict[str, Any]]
    kpis: dict[str, Any]
    tick: int


class SignalsReader(Protocol):
    """What the director reads from one running world between ticks. It remembers what it
    reported (so ``spec.signals`` makes a fresh one per live world) and never writes the world."""

    def read(self, world: World) -> Signals:
        """The events since the last read, and the KPIs now."""
        ...


class CharacterMetrics(NamedTuple):
    """One character's part of a world's ``metrics`` (what a shard holding it counts)."""

    money_supply: int = 0
    quests_started: int = 0
    quests_completed: int = 0


class GameHook(Protocol):
    """A world people play: its live game, its saved state and its operator's player tools."""

    @property
    def noun(self) -> str:
        """What people call the world in ``go``'s notes (``new neon city``, ``saved the city``)."""
        ...

    @property
    def accounts_file(self) -> str:
        """The SQLite file in the world's folder that holds the saved world and the accounts."""
        ...

    @property
    def move_input(self) -> str:
        """The world input that moves a player (``check_move`` first)."""
        ...

    def ticks_per_second(self, world: World) -> float:
        """The pace the world asks for (held to its bounds)."""
        ...

    def saved(self, folder: Path) -> bool:
        """Whether ``folder`` holds a saved world."""
        ...

    def load(self, folder: Path) -> World | None:
        """The world saved in ``folder``, or None when there is none yet."""
        ...

    def save(self, world: World, folder: Path) -> None: ...

    def open(self, world: World, folder: Path, tick_hz: float) -> RunningGame:
        """The live game of ``world``, saving to ``folder``."""
        ...

    def players(self, world: World) -> list[dict[str, Any]]: ...

    def player(self, world: World, name: str) -> dict[str, Any]:
        """One player (``BadInputError``: no such player)."""
        ...

    def feedback(self, world: World, limit: int) -> dict[str, Any]: ...

    def check_move(self, world: World, name: str, room: str) -> dict[str, Any]:
        """``from``/``to`` of a move the world would accept (``BadInputError`` otherwise)."""
        ...

    def characters(self, world: World) -> dict[str, dict[str, Any]]:
        """Every character's numbers, belongings, jobs and position (what a restore may change)."""
        ...

    def put_characters(self, world: World, kept: Mapping[str, Mapping[str, Any]]) -> None: ...

    def restore_cost(self, now: Mapping[str, Any], then: Mapping[str, Any] | None) -> list[dict[str, Any]]:
        """What each player loses going from ``now`` to ``then`` (``None``: keeping ``now``)."""
        ...


@dataclass(frozen=True)
class WorldSpec:
    name: str
    plugin: Callable[[Mapping[str, Any]], Plugin]
    kpis: Callable[[World], dict[str, Any]]
    shadow_metrics: Callable[[World], dict[str, int]]
    check_content: Callable[[World, Mapping[str, Any]], ContentProblems]
    #: ``(world, content, migration=None)``: follow ``content``; returns a migration report or None
    apply_content: Callable[..., dict[str, Any] | None]
    #: The ``shadow_metrics`` a shadow or canary run requires, each with its limits against the
    #: baseline run (integers): ``max_drift_permille`` (|patched - baseline| per mille of the
    #: baseline), ``min_permille`` (patched at least this per mille of the baseline),
    #: ``max_increase`` (patched - baseline at most this), ``min_baseline`` (a smaller baseline
    #: cannot be judged: the result is inconclusive and a person decides). ``{}``: required only.
    shadow_limits: Mapping[str, Mapping[str, int]]
    #: The world's end state as named arrays (``run --dump FILE.npz``); ``None``: it has none.
    dump: Callable[[World], dict[str, Any]] | None = None
    #: one line for people (``ouroboros worlds``, ``--help``)
    summary: str = ""
    #: named world configs (``run --preset NAME``)
    presets: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: the world config a fresh live world starts with (``go``)
    live_config: Mapping[str, Any] = field(default_factory=dict)
    #: part of ``go``'s default set of worlds
    live_default: bool = False
    # -- optional capabilities --------------------------------------------------------------
    stream: StreamHook | None = None
    params: ParamsHook | None = None
    game: GameHook | None = None
    #: a fresh reader of what the director sees of the world (one per live world; it remembers)
    signals: Callable[[], SignalsReader] | None = None
    #: the world's hooks for the evolution loop (see ``ai.evolution``), None: it does not evolve
    evolution: EvolutionHook | None = None
    #: a fresh world of ``(seed, entities, trait)`` whose only behaviour trait is ``trait``
    #: (``sandbox run``); None: behaviour scripts do not run in this world
    trait_world: Callable[[int, int, Any], World] | None = None
    #: the runtime's gauges (``population``, ``money_supply``, ``inflation_permille``) and the
    #: counters a sharded world's rollout compares per arm (cumulative: ``script_faults``,
    #: ``quests_started``, ``quests_completed``, ``moderation_incidents``); others are ignored.
    #: Read between two ticks (every tick of a sharded world); None: only the entity count
    metrics: Callable[[World], Mapping[str, int | float]] | None = None
    #: each character's part of ``metrics`` by name (``money_supply``, ``quests_started``,
    #: ``quests_completed``): a shard of a played world counts only the characters it holds.
    #: None: a shard counts its whole world
    character_metrics: Callable[[World], Mapping[str, CharacterMetrics]] | None = None
    #: the world as a map for the dashboard (plain data: rooms, districts, who is where), or None
    overview: Callable[[World], dict[str, Any]] | None = None
    #: what must hold between any two ticks, whatever the version: one line per broken rule
    #: (empty: all hold). A sharded world checks every shard after each tick; one broken on a
    #: rollout's treatment is the ``invariant_broken`` hard guard. Cheap (every tick). None: none
    invariants: Callable[[World], list[str]] | None = None


__all__ = [
    "CharacterMetrics",
    "ContentProblems",
    "EvolutionHook",
    "FrameStream",
    "GameHook",
    "ParamsHook",
    "RunningGame",
    "Signals",
    "SignalsReader",
    "StreamHook",
    "WorldSpec",
]
