"""What a world tells the layers above it: one typed ``WorldSpec`` per world folder.

Each world package holds a ``spec`` module exporting ``SPEC``; ``ouroboros.worlds`` discovers them
(its own sub-packages, then the ``ouroboros.worlds`` entry-point group for worlds installed from
elsewhere). ``ai/``, ``server/`` and ``cli/`` learn everything world-specific from the spec — they
import no world's internals and never branch on a world's name — so adding a world touches
nothing outside its folder.

The core of a spec (build, KPIs, shadow metrics, content) every world has. The hooks below it are
optional capabilities, ``None`` where a world lacks one: a stream frame for the dashboard, an
operator-tunable parameter table, a live game with players, director signals, evolution. Each
hook is a Protocol, so a world implements it with whatever object suits it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ouroboros.engine import Plugin, World

ContentProblems = list[tuple[str, str, str]]


class StreamHook(Protocol):
    """How the dashboard's live view draws the world."""

    #: the frame's world-kind code on the wire (unique across worlds, 0-255)
    kind: int

    def frame(self, world: World) -> Any:
        """The world now, as a ``server.stream.frames.Frame``-shaped snapshot."""
        ...


class ParamsHook(Protocol):
    """The operator-tunable parameters (``GET/POST /api/params``, ``set_param``): changed only
    through ``world_params`` patches, so they live in the ledger and survive later versions."""

    def schema(self) -> dict[str, dict[str, Any]]:
        """name → ``{"min", "max", "default", "doc"}`` (integers or floats)."""
        ...

    def current(self, world: World) -> dict[str, Any]:
        """The values in force now."""
        ...

    def problem(self, name: str, value: Any) -> str | None:
        """Why ``value`` cannot be ``name`` (unknown, wrong type, out of bounds), or None."""
        ...


class GameHook(Protocol):
    """A world people play: its live game, its player store and its operator's player tools."""

    def ticks_per_second(self, world: World) -> float:
        """The pace the world asks for (held to its bounds)."""
        ...

    def load(self, folder: Path) -> World | None:
        """The world saved in ``folder``, or None when there is none yet."""
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
    #: the director's view of the world (plain data; read-only)
    signals: Callable[[World], dict[str, Any]] | None = None
    #: the world's hooks for the evolution loop (see ``ai.evolution``), None: it does not evolve
    evolution: Any | None = None
    #: extra chart metrics (name → number) beyond the runtime's own tick figures
    metrics: Callable[[World], dict[str, float]] | None = None
    #: the world as a map for the dashboard (plain data: rooms, districts, who is where), or None
    overview: Callable[[World], dict[str, Any]] | None = None


__all__ = ["ContentProblems", "GameHook", "ParamsHook", "StreamHook", "WorldSpec"]
