"""The contract of a character store: characters every shard can load, one shard at a time.

A record is an opaque JSON object (what a world's ``GameHook.characters`` gives for one name); the
store never looks inside it. What every ``CharacterStore`` promises:

- **One holder at a time.** ``claim`` takes a lease on a character for ``ttl_s`` seconds and
  returns its stored record (``None`` for a name never stored). While another holder's lease is
  live, ``claim`` raises ``CharacterHeldError`` and changes nothing. The same holder may claim
  again (a restarted shard under the same name takes its characters back).
- **Fencing.** Every successful claim takes the next number of one monotonic counter (the fencing
  token); the store object that claimed keeps it, and ``save``/``release``/``renew`` present it.
  A write whose token is no longer the character's current one — the lease ran out, another
  holder took it, or another life of the same holder claimed again — is refused with
  ``CharacterLeaseLostError`` and writes nothing, so a shard presumed dead never overwrites the
  newer copy. A refused token is forgotten: a fence never reopens.
- ``release`` ends the lease (writing ``record`` first when given); releasing what one no longer
  holds writes nothing (with a record: ``CharacterLeaseLostError``; without one: ``False``).
- ``renew(holder, ttl_s)`` extends every lease this store object holds for ``holder`` and returns
  the names it has lost (they are forgotten).
- Bad input — an empty or malformed name or holder, a record that is not a JSON object, or one
  larger than ``MAX_RECORD_BYTES`` — is one ``BadInputError`` (exit 2) and changes nothing.
"""

from __future__ import annotations

import json
import math
import re
import threading
from typing import Any, Protocol, runtime_checkable

from ouroboros.errors import BadInputError

Record = dict[str, Any]

#: a name: what a key may hold without ambiguity (no ':' — it separates a key's parts)
NAME_PATTERN = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
#: a holder: a shard's name, perhaps with its boot id (':' allowed)
HOLDER_PATTERN = re.compile(r"[A-Za-z0-9_.:\-]{1,128}")
MAX_RECORD_BYTES = 1 << 20
MAX_TTL_S = 24 * 3600.0


@runtime_checkable
class CharacterStore(Protocol):
    def claim(self, name: str, holder: str, ttl_s: float) -> Record | None:
        """Take the lease on ``name`` for ``ttl_s`` s; the stored record, ``None`` if never stored.
        Raises ``CharacterHeldError`` when another holder's lease is live."""
        ...

    def save(self, name: str, holder: str, record: Record) -> None:
        """Store ``record`` while holding ``name``; ``CharacterLeaseLostError`` otherwise."""
        ...

    def release(self, name: str, holder: str, record: Record | None = None) -> bool:
        """End the lease (storing ``record`` first when given); whether a lease was ended."""
        ...

    def renew(self, holder: str, ttl_s: float) -> list[str]:
        """Extend every lease this store object holds for ``holder``; the names lost, sorted."""
        ...

    def holder(self, name: str) -> str | None:
        """Who holds ``name`` now (``None``: nobody, or the lease ran out)."""
        ...

    def names(self) -> list[str]:
        """Every name with a stored record, sorted."""
        ...

    def close(self) -> None: ...


def check_name(name: object) -> str:
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise BadInputError(
            f"character name {name!r}: 1 to 64 letters, digits, '_', '.' or '-'", code="bad_character_name"
        )
    return name


def check_holder(holder: object) -> str:
    if not isinstance(holder, str) or not HOLDER_PATTERN.fullmatch(holder):
        raise BadInputError(
            f"holder {holder!r}: 1 to 128 letters, digits, '_', '.', ':' or '-'", code="bad_holder"
        )
    return holder


def check_ttl(ttl_s: object) -> float:
    if (
        isinstance(ttl_s, bool)
        or not isinstance(ttl_s, int | float)
        or not math.isfinite(ttl_s)
        or not 0.001 <= ttl_s <= MAX_TTL_S
    ):
        raise BadInputError(f"lease ttl {ttl_s!r}: seconds from 0.001 to {MAX_TTL_S:g}", code="bad_ttl")
    return float(ttl_s)


def encode_record(name: str, record: object) -> str:
    """``record`` as compact, strict JSON (no NaN, string keys); ``BadInputError`` otherwise."""
    if not isinstance(record, dict):
        raise BadInputError(
            f"character {name}: a record is a JSON object, not {type(record).__name__}",
            code="bad_character_record",
            path=name,
        )
    try:
        text = json.dumps(record, allow_nan=False, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise BadInputError(
            f"character {name}: the record is not JSON ({exc})", code="bad_character_record", path=name
        ) from None
    if json.loads(text) != record:  # a tuple, a non-string key: JSON would change it silently
        raise BadInputError(
            f"character {name}: the record holds values JSON cannot keep as they are (tuples, "
            "keys that are not strings)",
            code="bad_character_record",
            path=name,
        )
    if len(text.encode()) > MAX_RECORD_BYTES:
        raise BadInputError(
            f"character {name}: the record is over {MAX_RECORD_BYTES} bytes",
            code="bad_character_record",
            path=name,
        )
    return text


class Tokens:
    """The fencing tokens this store object holds, by (name, holder); thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by: dict[tuple[str, str], int] = {}

    def put(self, name: str, holder: str, token: int) -> None:
        with self._lock:
            self._by[(name, holder)] = token

    def get(self, name: str, holder: str) -> int | None:
        with self._lock:
            return self._by.get((name, holder))

    def drop(self, name: str, holder: str) -> None:
        with self._lock:
            self._by.pop((name, holder), None)

    def of(self, holder: str) -> dict[str, int]:
        with self._lock:
            return {n: t for (n, h), t in self._by.items() if h == holder}


__all__ = [
    "HOLDER_PATTERN",
    "MAX_RECORD_BYTES",
    "NAME_PATTERN",
    "CharacterStore",
    "Record",
    "Tokens",
    "check_holder",
    "check_name",
    "check_ttl",
    "encode_record",
]
