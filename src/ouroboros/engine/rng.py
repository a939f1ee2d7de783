"""Counter-based random streams keyed by (world seed, stream name, tick).

A draw is a pure function of its key and its counter: ``mix(key, counter)``. Nothing is carried
from one tick to the next, so the same (seed, name, tick) draws the same numbers whatever ran
before, a replay or a shadow fork needs no generator state, and two implementations of one system
(a scalar loop and a numpy kernel) draw identical numbers per entity with ``for_ids`` whatever
order they visit entities in.

The mixer is the SplitMix64 finaliser over ``key + counter * golden``, written here in numpy
``uint64`` arithmetic (which wraps) rather than taken from ``numpy.random``: numpy promises stable
bit generators but not stable distributions across versions, and a digest must not change with a
numpy upgrade.
"""

from __future__ import annotations

import hashlib

import numpy as np
import numpy.typing as npt

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S32 = np.uint64(32)

U64Array = npt.NDArray[np.uint64]
I64Array = npt.NDArray[np.int64]


def stream_key(seed: int, name: str, tick: int) -> int:
    """The 64-bit key of the stream ``name`` at ``tick`` of a world seeded with ``seed``."""
    material = f"{seed}\x1f{name}\x1f{tick}".encode()
    return int.from_bytes(hashlib.blake2b(material, digest_size=8).digest(), "little")


def mix(key: int, counters: npt.ArrayLike) -> U64Array:
    """SplitMix64 of ``key + counter * golden`` for every counter (vectorised, wraps mod 2**64)."""
    c = np.asarray(counters)
    if c.ndim == 0:  # numpy scalars warn on the wrap that arrays do silently
        with np.errstate(over="ignore"):
            z = np.uint64(key) + c.astype(np.uint64) * _GOLDEN
            z = (z ^ (z >> _S30)) * _M1
            z = (z ^ (z >> _S27)) * _M2
        return z ^ (z >> _S31)  # type: ignore[no-any-return]
    return _mix_into(c.astype(np.uint64), key)


def _mix_into(z: U64Array, key: int) -> U64Array:
    """``mix`` in place over ``z`` (a fresh copy of the counters): the same operations in the
    same order, without a temporary per step."""
    z *= _GOLDEN
    z += np.uint64(key)
    z ^= z >> _S30
    z *= _M1
    z ^= z >> _S27
    z *= _M2
    z ^= z >> _S31
    return z


_MASK = (1 << 64) - 1


def mix_one(key: int, counter: int) -> int:
    """``mix`` of one counter in Python integers: the same 64 bits, without an array."""
    z = (key + counter * 0x9E3779B97F4A7C15) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


class Stream:
    """One keyed stream. Sequential draws advance a counter; ``for_ids`` draws per entity."""

    __slots__ = ("_counter", "key")

    def __init__(self, key: int) -> None:
        self.key = key
        self._counter = 0

    @classmethod
    def for_tick(cls, seed: int, name: str, tick: int) -> Stream:
        return cls(stream_key(seed, name, tick))

    def uint64(self, n: int) -> U64Array:
        """``n`` raw 64-bit draws, continuing where the last sequential draw stopped."""
        start = self._counter
        self._counter += n
        return mix(self.key, np.arange(start, start + n, dtype=np.uint64))

    def for_ids(self, ids: npt.ArrayLike, salt: int = 0) -> U64Array:
        """One raw draw per id, independent of order and of other draws (``salt`` picks a lane)."""
        return mix(mix_one(self.key, salt & _MASK), ids)

    # -- shaping raw draws ------------------------------------------------------------------
    @staticmethod
    def below(raw: U64Array, bound: npt.ArrayLike) -> I64Array:
        """Map raw draws to ``[0, bound)`` by multiply-shift; no Python loop. ``bound`` must be
        at most 2**32 (the product is taken in 64 bits)."""
        b = np.asarray(bound).astype(np.uint64, copy=False)
        if np.ndim(raw) == 0 and b.ndim == 0:  # numpy scalars warn on a wrap (arrays do not)
            with np.errstate(over="ignore"):
                return (((raw >> _S32) * b) >> _S32).astype(np.int64)
        z = (raw >> _S32) * b
        z >>= _S32
        return z.astype(np.int64)

    def integers(self, low: int, high: int, n: int) -> I64Array:
        """``n`` integers uniform in ``[low, high)``."""
        if high <= low or high - low > 1 << 32:
            raise ValueError("integers() needs 0 < high - low <= 2**32")
        return self.below(self.uint64(n), high - low) + low

    def signed_fp(self, n: int, one: int, ids: npt.ArrayLike | None = None, salt: int = 0) -> I64Array:
        """Fixed-point values uniform in ``[-one, one)``, sequential or per id."""
        raw = self.uint64(n) if ids is None else self.for_ids(ids, salt)
        return self.below(raw, 2 * one) - one
