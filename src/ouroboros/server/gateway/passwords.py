"""Password hashing for accounts: stdlib scrypt, with its parameters stored beside the hash.

What it promises:

- A stored hash is one ASCII string, ``scrypt$<n>$<r>$<p>$<salt>$<hash>`` (salt and hash in
  unpadded base64). ``verify_password`` reads the parameters from that string, so the defaults can
  grow later; ``needs_rehash`` says when a stored hash is older than the current parameters.
- Every salt is fresh (``os.urandom``); comparison is constant-time (``hmac.compare_digest``).
- Parameters read back from storage are bounded, so a corrupt row cannot make one check cost
  gigabytes of memory.
- Pure CPU, no I/O, no logging. scrypt blocks for tens of milliseconds on purpose: async callers
  run these functions in a worker thread (``AccountStore`` does).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass

SCHEME = "scrypt"
MAX_N = 2**20
MAX_R = 32
MAX_P = 16


@dataclass(frozen=True)
class ScryptParams:
    """The cost of one hash: CPU/memory cost ``n`` (a power of two), block size ``r``,
    parallelism ``p``; memory used is about ``128 * n * r`` bytes (16 MiB for the defaults)."""

    n: int = 2**14
    r: int = 8
    p: int = 1
    salt_bytes: int = 16
    hash_bytes: int = 32

    def __post_init__(self) -> None:
        if not (2 <= self.n <= MAX_N and self.n & (self.n - 1) == 0):
            raise ValueError(f"scrypt n must be a power of two in [2, {MAX_N}], got {self.n}")
        if not 1 <= self.r <= MAX_R:
            raise ValueError(f"scrypt r must be in [1, {MAX_R}], got {self.r}")
        if not 1 <= self.p <= MAX_P:
            raise ValueError(f"scrypt p must be in [1, {MAX_P}], got {self.p}")
        if not 8 <= self.salt_bytes <= 64 or not 16 <= self.hash_bytes <= 64:
            raise ValueError("salt must be 8-64 bytes and hash 16-64 bytes")


DEFAULT_PARAMS = ScryptParams()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def _scrypt(password: str, salt: bytes, params: ScryptParams, length: int) -> bytes:
    # OpenSSL checks 128*r*(n+2) + 128*r*p bytes against maxmem; leave a MiB of slack.
    maxmem = 128 * params.r * (params.n + 2 + params.p) + 2**20
    return hashlib.scrypt(
        password.encode("utf-8", "surrogatepass"),
        salt=salt,
        n=params.n,
        r=params.r,
        p=params.p,
        maxmem=maxmem,
        dklen=length,
    )


def hash_password(password: str, params: ScryptParams = DEFAULT_PARAMS) -> str:
    """A fresh salted hash of ``password`` in the stored format."""
    salt = os.urandom(params.salt_bytes)
    digest = _scrypt(password, salt, params, params.hash_bytes)
    return f"{SCHEME}${params.n}${params.r}${params.p}${_b64(salt)}${_b64(digest)}"


def _parse(stored: str) -> tuple[ScryptParams, bytes, bytes] | None:
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != SCHEME:
        return None
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt, digest = _unb64(parts[4]), _unb64(parts[5])
        params = ScryptParams(n=n, r=r, p=p, salt_bytes=len(salt), hash_bytes=len(digest))
    except (ValueError, binascii.Error):
        return None
    return params, salt, digest


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored``; ``False`` (never an exception) for a malformed
    stored string."""
    parsed = _parse(stored)
    if parsed is None:
        return False
    params, salt, digest = parsed
    return hmac.compare_digest(_scrypt(password, salt, params, len(digest)), digest)


def needs_rehash(stored: str, params: ScryptParams = DEFAULT_PARAMS) -> bool:
    """Whether ``stored`` was made with other parameters than ``params`` (or is unreadable)."""
    parsed = _parse(stored)
    if parsed is None:
        return True
    old, _salt, _digest = parsed
    return (old.n, old.r, old.p, old.hash_bytes) != (params.n, params.r, params.p, params.hash_bytes)
