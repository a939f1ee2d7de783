"""The trust door: where a bundle becomes a ``VerifiedBundle``, and the only place that makes one.

``verify`` runs the integrity stage (patch id, signatures, keys allowed for the domains with
their thresholds, lineage, expiry) and then the schema stage (envelope and content schemas,
``engine_compat``, the target world), each once. A bundle that passes both comes out as a
``VerifiedBundle``; one that fails comes out as its reasons and no trusted value at all.
``recheck`` is the door again for a recorded bundle when a person approves it (the lineage is the
governor's to check then): today's keyring, expiry, and the schema for the engine running now.

Invariants a ``VerifiedBundle`` keeps (python-tuf's ``TrustedMetadataSet`` habit):

- It is made only here: its constructor refuses any caller without this module's seal, so code
  holding one knows both stages passed, for this keyring, this lineage and this world.
- It is frozen and owns its data: the document is copied deeply at the door and handed out as
  copies (``as_json``), so nothing done to the submitted dict afterwards changes what was checked;
  the parsed ``envelope`` is an immutable pydantic model.
- ``signers`` are the key ids whose signatures verified; ``signer_names`` their names in the
  keyring; ``domains`` the domains the content touches.

Later stages of the pipeline take a ``VerifiedBundle`` (typed: mypy refuses a raw dict there).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ouroboros.content.envelope import Envelope
from ouroboros.content.patch import PatchContent
from ouroboros.engine import ENGINE_VERSION
from ouroboros.errors import PatchError, Reason
from ouroboros.patches import stages
from ouroboros.patches.bundle import touched_domains
from ouroboros.patches.keys import Keyring

__all__ = ["Refused", "VerifiedBundle", "recheck", "verify"]

_SEAL = object()


@dataclass(frozen=True, eq=False)
class VerifiedBundle:
    """A bundle whose integrity, signatures, lineage and schema were checked (see the module)."""

    envelope: Envelope
    patch_id: str
    parent_patch_id: str | None
    sequence: int
    bundle_hash: str
    signers: frozenset[str]
    signer_names: frozenset[str]
    domains: tuple[str, ...]
    _doc: Mapping[str, Any] = field(repr=False)
    _seal: object = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self._seal is not _SEAL:
            raise PatchError("a VerifiedBundle is made only by patches.door.verify", code="unverified_bundle")

    @property
    def content(self) -> PatchContent:
        """The parsed content (immutable)."""
        return self.envelope.content

    @property
    def author_type(self) -> str:
        return str(self.envelope.author.type)

    def as_json(self) -> dict[str, Any]:
        """A copy of the bundle exactly as it was submitted (what the ledger records)."""
        return copy.deepcopy(dict(self._doc))

    def content_json(self) -> dict[str, Any]:
        """A copy of the ``content`` object as it was submitted."""
        return copy.deepcopy(dict(self._doc["content"]))

    def evidence(self) -> dict[str, Any]:
        """What the integrity stage measured, for the ledger."""
        return {"bundle_hash": self.bundle_hash, "signers": sorted(self.signers)}


@dataclass(frozen=True)
class Refused:
    """What the door says to a bundle it does not let in: the reasons, and the evidence measured
    before it stopped (``stage``: where)."""

    stage: str
    reasons: list[Reason]
    evidence: dict[str, Any]


def verify(
    doc: Any,
    keyring: Keyring,
    lineage: stages.Lineage,
    active: str | None,
    world_name: str,
    *,
    now: datetime | None = None,
    engine_version: str = ENGINE_VERSION,
) -> VerifiedBundle | Refused:
    """Integrity, then schema, each once: a ``VerifiedBundle`` or the reasons it is refused."""
    owned = copy.deepcopy(doc)  # checked and kept is the same object: the caller's dict may change
    reasons, evidence = stages.integrity(owned, keyring, lineage, active, now)
    if reasons:
        return Refused("integrity", reasons, evidence)
    return _admit(owned, evidence, keyring, world_name, engine_version)


def recheck(
    doc: Any,
    keyring: Keyring,
    world_name: str,
    *,
    now: datetime | None = None,
    engine_version: str = ENGINE_VERSION,
) -> VerifiedBundle | Refused:
    """The door again for a recorded bundle, at approval time: its hash, its signatures against
    today's keyring and its expiry (``stages.recheck``; the lineage is the caller's), then the
    schema against the engine running now."""
    owned = copy.deepcopy(doc)
    reasons, evidence = stages.recheck(owned, keyring, now)
    if reasons:
        return Refused("integrity", reasons, evidence)
    return _admit(owned, evidence, keyring, world_name, engine_version)


def _admit(
    owned: Any, evidence: dict[str, Any], keyring: Keyring, world_name: str, engine_version: str
) -> VerifiedBundle | Refused:
    reasons, envelope = stages.schema(owned, world_name, engine_version)
    if reasons or envelope is None:
        return Refused("schema", reasons, {"integrity": evidence})
    signers = frozenset(evidence["signers"])
    names = frozenset(keyring.keys[k].name for k in signers if k in keyring.keys)
    return VerifiedBundle(
        envelope=envelope,
        patch_id=envelope.patch_id,
        parent_patch_id=envelope.parent_patch_id,
        sequence=envelope.sequence,
        bundle_hash=str(evidence["bundle_hash"]),
        signers=signers,
        signer_names=names,
        domains=tuple(touched_domains(owned.get("content"))),
        _doc=owned,
        _seal=_SEAL,
    )
