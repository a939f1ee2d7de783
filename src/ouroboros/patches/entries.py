"""The records of the ledger: an ``Entry`` (one chained transition or event), the ``Pointer``
(the active version and the head), and ``entry_hash``, the hash that chains entries.

An entry's hash covers every field and the previous entry's hash. It is unkeyed: whoever can
write the ledger file can recompute a whole chain, which is why the head is also signed and
witnessed outside the folder (``witness``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Entry:
    seq: int
    at: str
    actor: str
    kind: str
    patch_id: str | None
    before: str | None
    after: str | None
    reason: str
    evidence: Any
    prev_hash: str
    hash: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            "actor": self.actor,
            "kind": self.kind,
            "patch_id": self.patch_id,
            "before": self.before,
            "after": self.after,
            "reason": self.reason,
            "evidence": self.evidence,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


@dataclass(frozen=True)
class Pointer:
    """``active``: what the world runs now (``None``: the base world, nothing applied).
    ``permanent``: what it comes back on after a restart. ``canary``: active is on trial."""

    active: str | None
    permanent: str | None
    canary: bool
    head_seq: int
    head_hash: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "active": self.active,
            "permanent": self.permanent,
            "canary": self.canary,
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
        }


def entry_hash(
    seq: int,
    at: str,
    actor: str,
    kind: str,
    patch_id: str | None,
    before: str | None,
    after: str | None,
    reason: str,
    evidence_text: str,
    prev_hash: str,
) -> str:
    # A fixed array form: every field is a string, an int or null and evidence is already
    # canonical text, so json.dumps here is deterministic and far cheaper than canonicalising.
    record = [seq, at, actor, kind, patch_id, before, after, reason, evidence_text, prev_hash]
    return hashlib.sha256(json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


__all__ = ["Entry", "Pointer", "entry_hash"]
