"""Bundles: the signed envelope every change travels in, and how its identity is derived.

- ``patch_id`` is ``"p-"`` + the first 32 hex digits of the sha256 of the canonical form of the
  envelope without ``patch_id`` and ``signatures``: a bundle names itself, so a flipped byte
  anywhere is seen before any key is consulted.
- ``bundle_hash`` is the sha256 of the canonical form without ``signatures``: what every key signs
  (domain-separated, see ``keys.signing_message``). Signatures can be added one key at a time
  (a threshold) without changing the bundle's id or hash.
- A bundle is trusted only as a ``door.VerifiedBundle``, made by ``door.verify`` once the integrity
  and schema stages passed; a dict built here is never trusted.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from ouroboros.errors import BadInputError
from ouroboros.patches.canonical import sha256_hex
from ouroboros.patches.keys import SigningKey

BUNDLE_KIND = "bundle"
DEFAULT_TTL = timedelta(days=7)
SCHEMA_VERSION = "1"


def default_engine_compat() -> str:
    """The engine range a bundle made now declares: this minor version (``>=0.1,<0.2``) before
    1.0, this major version after."""
    from ouroboros.engine import ENGINE_VERSION

    major, minor = (int(x) for x in ENGINE_VERSION.split(".")[:2])
    return f">={major}.{minor},<{major}.{minor + 1}" if major == 0 else f">={major}.{minor},<{major + 1}"


def _without(doc: Mapping[str, Any], *fields: str) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in fields}


def compute_patch_id(doc: Mapping[str, Any]) -> str:
    return "p-" + sha256_hex(_without(doc, "patch_id", "signatures"))[:32]


def signed_part(doc: Mapping[str, Any]) -> dict[str, Any]:
    return _without(doc, "signatures")


def bundle_hash(doc: Mapping[str, Any]) -> str:
    return sha256_hex(signed_part(doc))


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def touched_domains(content: Any) -> list[str]:
    """The domains a content object changes: non-empty lists, and the domains it removes from."""
    if not isinstance(content, Mapping):
        return []
    domains = {k for k, v in content.items() if k != "remove" and isinstance(k, str) and v}
    for item in content.get("remove") or ():
        if isinstance(item, Mapping) and isinstance(item.get("domain"), str):
            domains.add(item["domain"])
    return sorted(domains)


def new_bundle(
    content: Mapping[str, Any],
    *,
    world: str,
    parent_patch_id: str | None,
    sequence: int,
    author: Mapping[str, Any],
    engine_compat: str,
    now: datetime | None = None,
    ttl: timedelta = DEFAULT_TTL,
    migration: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """An unsigned bundle (its ``patch_id`` filled in); ``migration``: the optional hint
    (``announcement``, ``items``) the world applies when the patch lands."""
    now = now or datetime.now(UTC)
    doc: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "patch_id": "",
        "parent_patch_id": parent_patch_id,
        "sequence": sequence,
        "world": world,
        "created_at": rfc3339(now),
        "expires_at": rfc3339(now + ttl),
        "engine_compat": engine_compat,
        "author": dict(author),
        "content": dict(content),
        "signatures": [],
    }
    if migration:
        doc["migration"] = dict(migration)
    doc["patch_id"] = compute_patch_id(doc)
    return doc


def sign_bundle(doc: Mapping[str, Any], key: SigningKey) -> dict[str, Any]:
    """The bundle with ``key``'s signature added (replacing an older one by the same key)."""
    if not isinstance(doc, Mapping) or not isinstance(doc.get("signatures", []), list):
        raise BadInputError("not a bundle: expected an object with a 'signatures' list")
    if doc.get("patch_id") != compute_patch_id(doc):
        raise BadInputError("the bundle's patch_id does not match its contents; refusing to sign it")
    sigs = [
        s for s in doc.get("signatures", []) if not (isinstance(s, Mapping) and s.get("keyid") == key.keyid)
    ]
    sigs.append(key.sign(BUNDLE_KIND, signed_part(doc)))
    return {**doc, "signatures": sorted(sigs, key=lambda s: str(s.get("keyid")))}


def bundle_on_active(
    governor: Any,
    content: Mapping[str, Any],
    key: SigningKey,
    *,
    author: Mapping[str, Any],
    ttl: timedelta = timedelta(hours=1),
    migration: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """``content`` as a bundle signed by ``key`` on ``governor``'s active version (its parent and
    next sequence), for the engine this process runs, made at ``now`` (``None``: the clock): how a
    running component (council, evolution loop, server) hands a change to the pipeline."""
    active = governor.active()
    sequence = 0 if active is None else (governor.ledger.sequence_of(active) or 0) + 1
    doc = new_bundle(
        dict(content),
        world=governor.world_name,
        parent_patch_id=active,
        sequence=sequence,
        author=author,
        engine_compat=default_engine_compat(),
        now=now,
        ttl=ttl,
        migration=migration,
    )
    return sign_bundle(doc, key)
