"""What became of a submitted (or approved) patch, as data: ``Verdict`` (``verdict.ok``, never a
string compared), and ``REFUSED``, the state of an operation refused before any patch changed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from ouroboros.errors import Reason
from ouroboros.patches.states import State

__all__ = ["REFUSED", "Verdict"]

#: The state a verdict shows for an operation refused before any patch state changed (kill-switch).
REFUSED: Final = "refused"


@dataclass
class Verdict:
    """What became of a submitted (or approved) patch: its state, the reasons it was refused or
    held, and the evidence the stages measured."""

    patch_id: str | None
    state: str
    reasons: list[Reason] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)
    dry_run: bool = False
    #: the stored form of the version the patch makes (kept out of ``evidence``: it is big)
    effective: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.state not in (State.REJECTED, State.ROLLED_BACK, REFUSED)

    def as_dict(self) -> dict[str, Any]:
        return {
            "patch_id": self.patch_id,
            "state": str(self.state),
            "ok": self.ok,  # the decision, typed: read this, never compare ``state`` as text
            "dry_run": self.dry_run,
            "reasons": [r.as_dict() for r in self.reasons],
            "evidence": self.evidence,
        }
