"""What a ``WorldRunner`` holds besides its world and its governor, as narrow Protocols.

The council lives in ``ouroboros.ai`` (optional, and above nothing here): the runtime needs only
the members named below, so it types its collaborator by them and never by ``Any``. The real
``ouroboros.ai.council.Council`` satisfies ``CouncilPart`` (mypy checks it where ``Runtime``
attaches one).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ouroboros.patches import Governor


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


__all__ = ["CouncilPart", "DirectorPart", "ProposalStore"]
