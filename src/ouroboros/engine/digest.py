"""The per-tick state digest.

The state is cut into named sections, hashed each on its own in a fixed order:
``entities`` (the entity table and every archetype's id column), ``resources`` (canonical JSON),
then one section per component field (``Position.x``), sorted by name, covering that column of
every archetype in signature order. The tick digest is the hash of the tick number and all section
digests, so a mismatch can be traced to the first section that differs.

xxh3-128 is the hash: it detects accidental divergence (this is not a security boundary; signing
lives in the governance layer) at memory bandwidth, about 9 GB/s here against 0.7 GB/s for blake2b.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import xxhash

from ouroboros.engine.errors import EngineError


@dataclass(frozen=True)
class Digest:
    """The digest of the state after ``tick``: a combined hash and one hash per section."""

    tick: int
    combined: bytes
    sections: tuple[tuple[str, bytes], ...]

    @property
    def hex(self) -> str:
        return self.combined.hex()

    def section_names(self) -> tuple[str, ...]:
        return tuple(n for n, _ in self.sections)

    def differing_sections(self, other: Digest) -> list[str]:
        mine = dict(self.sections)
        theirs = dict(other.sections)
        names = sorted(set(mine) | set(theirs), key=_section_rank)
        return [n for n in names if mine.get(n) != theirs.get(n)]


def _section_rank(name: str) -> tuple[int, str]:
    return ({"entities": 0, "resources": 1}.get(name, 2), name)


def _plain(value: Any, path: str) -> Any:
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise EngineError(f"resource key {path}.{k!r} is not a string")
            out[k] = _plain(v, f"{path}.{k}")
        return out
    if isinstance(value, (list, tuple)):
        return [_plain(v, f"{path}[{i}]") for i, v in enumerate(value)]
    raise EngineError(
        f"resource {path} holds {type(value).__name__}: reproducible state is int, str, bool, "
        "None, list or dict (fixed-point, never float)"
    )


_SCALARS = (str, int, bool, type(None))


def _is_plain(value: Any) -> bool:
    """``_plain`` without building paths: the check that runs every tick (paths only on failure)."""
    kind = type(value)
    if kind in _SCALARS:
        return True
    if kind is dict:
        return all(type(k) is str and _is_plain(v) for k, v in value.items())
    if kind is list or kind is tuple:
        return all(_is_plain(v) for v in value)
    return False


def canonical_json(value: Any, path: str = "resources") -> bytes:
    """Sorted, compact JSON of plain data; floats and other types are refused."""
    if not _is_plain(value):  # numpy ints, mappings of other types, or a refusal with its path
        value = _plain(value, path)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def combine(tick: int, sections: list[tuple[str, bytes]]) -> Digest:
    h = xxhash.xxh3_128()
    h.update(int(tick).to_bytes(8, "little", signed=True))
    for name, d in sections:
        h.update(name.encode())
        h.update(d)
    return Digest(tick, h.digest(), tuple(sections))


def hash_arrays(*arrays: np.ndarray) -> bytes:
    h = xxhash.xxh3_128()
    for a in arrays:
        h.update(len(a).to_bytes(8, "little"))
        h.update(np.ascontiguousarray(a).data.cast("B"))
    return h.digest()
