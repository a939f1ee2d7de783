"""The life of a patch as a state machine: pure data, no I/O.

::

    draft ─▶ validated ─▶ canary ─▶ approved ─▶ active ─▶ superseded
      │          │          │          │          │            │
      └──────────┴──────────┴──────────┴─▶ rejected            │
                            └─────────────────────┴─▶ rolled_back
                                         superseded ─▶ active   (a rollback re-activates a known-good one)
           validated ─▶ rolled_back                 (a staged rollout rolled back on its KPIs)

``rejected`` and ``rolled_back`` are terminal. Anything not drawn here is refused with a
``PatchError`` naming both states. Every transition the ledger records goes through ``check``.
"""

from __future__ import annotations

from enum import StrEnum

from ouroboros.errors import PatchError


class State(StrEnum):
    DRAFT = "draft"
    VALIDATED = "validated"
    CANARY = "canary"
    APPROVED = "approved"
    ACTIVE = "active"
    SUPERSEDED = "superseded"
    REJECTED = "rejected"
    ROLLED_BACK = "rolled_back"


TRANSITIONS: dict[State, frozenset[State]] = {
    State.DRAFT: frozenset({State.VALIDATED, State.REJECTED}),
    State.VALIDATED: frozenset({State.CANARY, State.REJECTED, State.ROLLED_BACK}),
    State.CANARY: frozenset({State.APPROVED, State.REJECTED, State.ROLLED_BACK}),
    State.APPROVED: frozenset({State.ACTIVE, State.REJECTED}),
    State.ACTIVE: frozenset({State.SUPERSEDED, State.ROLLED_BACK}),
    State.SUPERSEDED: frozenset({State.ACTIVE, State.ROLLED_BACK}),
    State.REJECTED: frozenset(),
    State.ROLLED_BACK: frozenset(),
}

TERMINAL = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)
#: States whose bundle once ran as the live version and was good: rollback targets.
KNOWN_GOOD = frozenset({State.ACTIVE, State.SUPERSEDED})


def check(before: State | None, after: State) -> None:
    """Refuse an illegal transition. ``before`` is ``None`` for a patch the ledger has never seen,
    which may only enter as a draft."""
    if before is None:
        if after is not State.DRAFT:
            raise PatchError(f"a new patch enters as draft, not {after}", code="illegal_transition")
        return
    if after not in TRANSITIONS[before]:
        raise PatchError(f"illegal transition {before} → {after}", code="illegal_transition")
