"""The envelope of a patch bundle: who made it, what it follows, when it expires, what it carries.

The governance layer canonicalises, hashes and signs envelopes; this module only defines their
shape and parses them. ``parse_envelope`` never raises anything but ``ContentError``.

Invariants a parsed ``Envelope`` keeps:

- ``schema_version`` is ``SCHEMA_VERSION``.
- Genesis: ``parent_patch_id`` is null exactly when ``sequence`` is 0.
- ``created_at`` and ``expires_at`` are RFC 3339 UTC timestamps (``...Z``) and expiry comes after
  creation, at most ``MAX_LIFETIME`` (366 days) after it (a bundle cannot be frozen for later
  forever); they stay strings so the signed bytes are exactly the bytes that were written.
- ``engine_compat`` is a non-empty PEP 440 specifier set (``">=0.1,<0.2"``).
- ``migration`` (optional) is the patch's migration hint: ``announcement``, the words players see
  when it lands, and ``items``, item id → the item id that those holding it get instead when the
  item leaves (at most ``MAX_ITEM_HINTS``); the world applies it at the tick boundary of the change.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal, Self

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version
from pydantic import AfterValidator, Field, StringConstraints, model_validator

from ouroboros.content._base import Id, StrictModel, Tup, content_error
from ouroboros.content._errors import guarded
from ouroboros.content.patch import PatchContent

__all__ = [
    "MAX_LIFETIME",
    "SCHEMA_VERSION",
    "Author",
    "Envelope",
    "MigrationHint",
    "Signature",
    "parse_envelope",
    "parse_timestamp",
]

SCHEMA_VERSION = "1"
#: The longest a bundle may be valid: ``expires_at - created_at`` at most this.
MAX_LIFETIME = timedelta(days=366)

PATCH_ID_PATTERN = r"^p-[0-9a-f]{32}$"
_TIMESTAMP_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z$"
_SIGNATURE_BYTES = 64


def parse_timestamp(value: str) -> datetime:
    """``"2025-01-02T03:04:05Z"`` -> an aware UTC ``datetime``; ``ValueError`` if it is not one."""
    return datetime.fromisoformat(value[:-1] + "+00:00").astimezone(UTC)


def _valid_timestamp(value: str) -> str:
    try:
        parse_timestamp(value)
    except ValueError:
        raise content_error("bad_value", f"{value!r} is not a real date and time") from None
    return value


def _valid_specifier(value: str) -> str:
    try:
        specifiers = SpecifierSet(value)
    except InvalidSpecifier:
        raise content_error("bad_value", "not a PEP 440 specifier set (like '>=0.1,<0.2')") from None
    if not len(specifiers):
        raise content_error("bad_value", "engine_compat must name at least one specifier")
    return value


def _valid_signature(value: str) -> str:
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise content_error("bad_value", "signature is not standard base64") from None
    if len(raw) != _SIGNATURE_BYTES:
        raise content_error("bad_value", f"signature is {len(raw)} bytes, not {_SIGNATURE_BYTES}")
    return value


PatchId = Annotated[str, StringConstraints(pattern=PATCH_ID_PATTERN)]
Timestamp = Annotated[str, StringConstraints(pattern=_TIMESTAMP_PATTERN), AfterValidator(_valid_timestamp)]
ShortText = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=r"^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$")
]


class Author(StrictModel):
    """Who produced the patch: for an ``llm`` the ``model`` that wrote it, for a generator the
    ``run_id`` that reproduces it."""

    type: Literal["human", "operator", "generator", "llm"]
    model: ShortText | None = None
    run_id: ShortText | None = None


class Signature(StrictModel):
    """An ed25519 signature: ``keyid`` is the key's sha256 in hex, ``sig`` 64 bytes in base64."""

    keyid: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    sig: Annotated[str, StringConstraints(max_length=100), AfterValidator(_valid_signature)]


MAX_ITEM_HINTS = 256
Announcement = Annotated[
    str, StringConstraints(min_length=1, max_length=300, pattern=r"^[\x20-\x7e\u00a0-\uffff]+$")
]


class MigrationHint(StrictModel):
    """What a patch says about live state when it lands: the ``announcement`` players read, and
    which item replaces one that leaves (``items``: old id → new id)."""

    announcement: Announcement | None = None
    items: Annotated[dict[Id, Id], Field(max_length=MAX_ITEM_HINTS)] = Field(default_factory=dict)


class Envelope(StrictModel):
    """A patch: its place in the chain (``parent_patch_id``, ``sequence``), the world it is for,
    its validity window, the engine versions it works with, its author, content and signatures."""

    schema_version: Literal["1"]
    patch_id: PatchId
    parent_patch_id: PatchId | None
    sequence: int = Field(ge=0, le=2**53 - 1)
    world: Id
    created_at: Timestamp
    expires_at: Timestamp
    engine_compat: Annotated[
        str, StringConstraints(min_length=1, max_length=200), AfterValidator(_valid_specifier)
    ]
    author: Author
    content: PatchContent
    signatures: Annotated[Tup[Signature], Field(max_length=16)] = ()
    migration: MigrationHint | None = None

    @model_validator(mode="after")
    def _chain_and_window(self) -> Self:
        if (self.parent_patch_id is None) != (self.sequence == 0):
            raise content_error(
                "bad_value",
                "genesis rule: parent_patch_id is null exactly when sequence is 0",
                at="parent_patch_id",
            )
        if self.parent_patch_id == self.patch_id:
            raise content_error("bad_value", "a patch cannot be its own parent", at="parent_patch_id")
        if parse_timestamp(self.expires_at) <= parse_timestamp(self.created_at):
            raise content_error("bad_value", "expires_at must be after created_at", at="expires_at")
        if parse_timestamp(self.expires_at) - parse_timestamp(self.created_at) > MAX_LIFETIME:
            raise content_error(
                "bad_value",
                f"expires_at must be at most {MAX_LIFETIME.days} days after created_at",
                at="expires_at",
            )
        return self

    @property
    def created(self) -> datetime:
        return parse_timestamp(self.created_at)

    @property
    def expires(self) -> datetime:
        return parse_timestamp(self.expires_at)

    def is_expired(self, now: datetime) -> bool:
        """True from ``expires_at`` on (``now`` must be timezone-aware)."""
        return now >= self.expires

    def compatible_with(self, engine_version: str) -> bool:
        """Whether ``engine_version`` satisfies ``engine_compat`` (pre-releases included)."""
        try:
            version = Version(engine_version)
        except InvalidVersion:
            return False
        return SpecifierSet(self.engine_compat).contains(version, prereleases=True)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (defaults included) that ``parse_envelope`` reads back equal."""
        return self.model_dump(mode="json")


def parse_envelope(data: Any) -> Envelope:
    """Validate ``data`` (a decoded JSON value) as an ``Envelope``.

    Raises ``ContentError`` (stage ``schema``) and nothing else, for any input; paths are JSON
    pointers from the envelope root (``/content/items/0/price``)."""
    return guarded(Envelope.model_validate, data)
