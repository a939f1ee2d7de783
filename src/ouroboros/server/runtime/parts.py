"""What a ``WorldRunner`` is given besides its world, as narrow Protocols.

- its own parts, each given the runner as a typed host: ``GovernancePart`` (``governance.Governance``:
  the governed folder, parameters, patches) and ``EvolutionPart`` (``evolution.Evolution``: evolution
  cycles off the tick path), beside ``snapshots.Snapshots`` and ``players.Players``; the runner
  builds the real ones unless it is given others;
- the AI collaborators ``go`` attaches: the council and the evolution loop live in ``ouroboros.ai``
  (optional, and above nothing here): the runtime needs only the members named below, so it types
  them by these and never by ``Any``. The real ``ouroboros.ai.council.Council`` satisfies
  ``CouncilPart`` and ``ouroboros.ai.evolution.EvolutionLoop`` ``EvolutionLoopPart`` (mypy checks
  both where ``Runtime`` attaches them).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ouroboros.patches import Anchors, Governor


class DirectorPart(Protocol):
    #: the pace the director counts its throttles in (ticks a second)
    tick_hz: int


class ProposalStore(Protocol):
    def proposals(self) -> list[dict[str, Any]]: ...

    def update_proposal(self, proposal_id: str, **fields: Any) -> None: ...


class CouncilPart(Protocol):
    """A world's council as the runtime drives it: a step every second of ticks, on the control
    thread; its proposals looked up after a restore; closed with the governed folder."""

    #: called with a reason before a high-risk operation (the runtime takes an auto snapshot)
    before_high_risk: Callable[[str], Any] | None

    @property
    def director(self) -> DirectorPart: ...

    @property
    def store(self) -> ProposalStore: ...

    @property
    def governor(self) -> Governor: ...

    def step(
        self, events: Sequence[Mapping[str, Any]], kpis: Mapping[str, Any], tick: int
    ) -> list[dict[str, Any]]: ...

    def close(self) -> None: ...


class CyclePart(Protocol):
    """One evolution cycle under way, as its loop planned it."""

    def cancel(self) -> None: ...


class EvolutionLoopPart(Protocol):
    """A world's evolution loop as the runtime drives it, on the control thread but for
    ``evaluate`` (the evolution thread); ``cycle`` arguments are cycles it planned itself."""

    #: called before each fork tick of an evaluation (the runner's ``wait_for_idle``)
    pace: Callable[[], None] | None

    def prepare(self) -> CyclePart | None: ...

    def prepare_trigger(self, reason: str | None = None, actor: str = ...) -> CyclePart: ...

    def evaluate(self, cycle: Any) -> None: ...

    def finish(self, cycle: Any) -> dict[str, Any]: ...

    def history(self, limit: int = 100) -> list[dict[str, Any]]: ...

    def close(self) -> None: ...


class GovernancePart(Protocol):
    """A world's governed folder (``runner.governance``); ``open``, ``close``, ``rollback`` and
    ``submit_content`` run on the control thread, the others hand their work to it."""

    trust_root: str | None
    anchors: Anchors | None

    @property
    def governor(self) -> Governor: ...

    @property
    def is_open(self) -> bool: ...

    def open(self) -> None: ...

    def close(self) -> None: ...

    def settings(self) -> dict[str, Any]: ...

    def params(self) -> dict[str, Any]: ...

    def set_params(self, values: Mapping[str, int], actor: str, reason: str) -> dict[str, Any]: ...

    def rollback(
        self, actor: str, reason: str, to: str | None = None, *, to_base: bool = False
    ) -> dict[str, Any]: ...

    def submit_content(
        self, content: dict[str, Any], *, actor: str, kind: str = "patch", reason: str | None = None
    ) -> dict[str, Any]: ...


class EvolutionPart(Protocol):
    """A world's evolution cycles (``runner.evolution``); ``loop`` once ``go`` attaches one."""

    loop: EvolutionLoopPart | None

    @property
    def evolving(self) -> bool: ...

    def evolve(self, reason: str | None, actor: str, timeout_s: float = ...) -> dict[str, Any]: ...

    def maybe_start(self) -> None: ...

    def stop(self) -> None: ...

    def close(self) -> None: ...


__all__ = [
    "CouncilPart",
    "CyclePart",
    "DirectorPart",
    "EvolutionLoopPart",
    "EvolutionPart",
    "GovernancePart",
    "ProposalStore",
]
