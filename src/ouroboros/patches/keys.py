"""ed25519 keys and the keyring: who may sign what, and how trust moves to new keys.

- A key's id is the sha256 hex of its raw 32-byte public key.
- Private key files are written ``0600`` and never printed or logged: ``SigningKey`` has no
  ``repr`` of its secret and the CLI only ever shows key ids and public halves.
- A keyring lists trusted public keys, the domains each may sign (``"*"`` is every domain) and a
  threshold per domain: how many distinct allowed keys must sign a bundle that touches it
  (``economy_tuning`` defaults to 2: the generator and an operator).
- Rotation follows TUF's root rotation: keyring version N+1 is trusted only if it is signed by a
  threshold of the keys of version N *and* a threshold of its own keys, and its version is exactly
  N+1. Trust never jumps: a chain of rotations is checked link by link.
- Signatures are over a domain-separated message (``ouroboros/<kind>/v1`` + the sha256 of the
  canonical JSON), so a bundle signature can never be replayed as a keyring signature.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ouroboros.errors import BadInputError, KeyringError
from ouroboros.patches.atomic import write_atomic
from ouroboros.patches.canonical import canonical_bytes, load_json

KEY_NAME_PATTERN = "^[a-z][a-z0-9_-]{0,31}$"
DEFAULT_THRESHOLDS = {"*": 1, "economy_tuning": 2, "keyring": 1}
KEYRING_ROLE = "keyring"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any, size: int, what: str) -> bytes:
    if not isinstance(text, str):
        raise KeyringError(f"{what} is not a base64 string")
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise KeyringError(f"{what} is not valid base64") from exc
    if len(raw) != size:
        raise KeyringError(f"{what} must be {size} bytes, not {len(raw)}")
    return raw


def keyid_of(public_raw: bytes) -> str:
    return hashlib.sha256(public_raw).hexdigest()


def signing_message(kind: str, document: Any) -> bytes:
    return f"ouroboros/{kind}/v1\n".encode() + hashlib.sha256(canonical_bytes(document)).digest()


class SigningKey:
    """A private ed25519 key with its name. The secret never appears in ``repr`` or ``str``."""

    def __init__(self, name: str, private: Ed25519PrivateKey) -> None:
        self.name = name
        self._private = private
        self.public_raw = private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.keyid = keyid_of(self.public_raw)

    def __repr__(self) -> str:
        return f"SigningKey(name={self.name!r}, keyid={self.keyid[:16]}…)"

    @classmethod
    def generate(cls, name: str) -> SigningKey:
        return cls(name, Ed25519PrivateKey.generate())

    def sign(self, kind: str, document: Any) -> dict[str, str]:
        return {"keyid": self.keyid, "sig": _b64(self._private.sign(signing_message(kind, document)))}

    def public_entry(self, domains: Iterable[str]) -> dict[str, Any]:
        return {"name": self.name, "public": _b64(self.public_raw), "domains": sorted(set(domains))}

    def save(self, path: Path) -> None:
        """Write the private key file (mode 0600, crash-safe); refuses to overwrite."""
        if path.exists():
            raise BadInputError(f"key file {path} already exists")
        secret = self._private.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        doc = {"type": "ed25519-private", "name": self.name, "keyid": self.keyid, "private": _b64(secret)}
        write_atomic(path, canonical_bytes(doc) + b"\n")
        os.chmod(path, 0o600)

    @classmethod
    def load(cls, path: Path) -> SigningKey:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise BadInputError(f"cannot read key file {path}: {exc.strerror or exc}") from exc
        doc = load_json(data, f"key file {path}")
        if not isinstance(doc, dict) or doc.get("type") != "ed25519-private":
            raise KeyringError(f"{path} is not an ouroboros private key file")
        raw = _unb64(doc.get("private"), 32, f"private key in {path}")
        key = cls(str(doc.get("name", path.stem)), Ed25519PrivateKey.from_private_bytes(raw))
        if doc.get("keyid") != key.keyid:
            raise KeyringError(f"key file {path}: keyid does not match the key")
        return key


@dataclass(frozen=True)
class TrustedKey:
    keyid: str
    name: str
    public: Ed25519PublicKey
    domains: frozenset[str]

    def allows(self, domain: str) -> bool:
        return "*" in self.domains or domain in self.domains


def verify_signature(public: Ed25519PublicKey, kind: str, document: Any, sig: Any) -> bool:
    try:
        raw = _unb64(sig, 64, "signature")
        public.verify(raw, signing_message(kind, document))
    except (KeyringError, InvalidSignature):
        return False
    return True


class Keyring:
    """A verified keyring document: build one with ``Keyring.trust_first`` (version 1, trusted on
    first use by the operator who creates the data folder) or ``Keyring.rotate`` (checked)."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = dict(document)
        signed = document.get("signed")
        if not isinstance(signed, dict):
            raise KeyringError("keyring has no 'signed' object")
        version = signed.get("version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise KeyringError("keyring version must be a positive integer")
        self.version = version
        keys, thresholds = signed.get("keys"), signed.get("thresholds")
        if not isinstance(keys, dict) or not keys:
            raise KeyringError("keyring lists no keys")
        if not isinstance(thresholds, dict):
            raise KeyringError("keyring has no thresholds")
        self.keys: dict[str, TrustedKey] = {}
        for keyid, entry in keys.items():
            if not isinstance(entry, dict):
                raise KeyringError(f"keyring entry {keyid} is not an object")
            raw = _unb64(entry.get("public"), 32, f"public key {keyid}")
            if keyid_of(raw) != keyid:
                raise KeyringError(f"keyring entry {keyid}: id does not match its public key")
            domains = entry.get("domains")
            if not isinstance(domains, list) or not all(isinstance(d, str) for d in domains):
                raise KeyringError(f"keyring entry {keyid}: domains must be a list of names")
            self.keys[keyid] = TrustedKey(
                keyid, str(entry.get("name", "")), Ed25519PublicKey.from_public_bytes(raw), frozenset(domains)
            )
        self.thresholds: dict[str, int] = {}
        for domain, value in thresholds.items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise KeyringError(f"threshold for {domain} must be a positive integer")
            self.thresholds[domain] = value

    # -- questions ------------------------------------------------------------------------------
    def threshold(self, domain: str) -> int:
        return self.thresholds.get(domain, self.thresholds.get("*", 1))

    def key_named(self, name: str) -> TrustedKey | None:
        return next((k for k in self.keys.values() if k.name == name), None)

    def valid_signers(self, kind: str, document: Any, signatures: Any) -> tuple[set[str], list[str]]:
        """Key ids whose signature verifies, and problems (unknown key, bad signature) by keyid."""
        valid: set[str] = set()
        problems: list[str] = []
        for sig in signatures if isinstance(signatures, list) else []:
            keyid = sig.get("keyid") if isinstance(sig, dict) else None
            trusted = self.keys.get(keyid) if isinstance(keyid, str) else None
            if trusted is None or not isinstance(keyid, str):
                problems.append(f"unknown_key:{keyid}")
            elif not verify_signature(trusted.public, kind, document, sig.get("sig")):
                problems.append(f"bad_signature:{keyid}")
            else:
                valid.add(keyid)
        return valid, problems

    def count_allowed(self, signers: set[str], domain: str) -> int:
        return sum(1 for keyid in signers if self.keys[keyid].allows(domain))

    # -- making and moving trust -----------------------------------------------------------------
    @staticmethod
    def unsigned(
        version: int, keys: Mapping[str, dict[str, Any]], thresholds: Mapping[str, int] | None = None
    ) -> dict[str, Any]:
        signed = {
            "version": version,
            "keys": dict(keys),
            "thresholds": dict(thresholds or DEFAULT_THRESHOLDS),
        }
        return {"signed": signed, "signatures": []}

    @classmethod
    def trust_first(cls, document: Mapping[str, Any]) -> Keyring:
        """Version 1, self-signed by a threshold of its own keys."""
        ring = cls(document)
        if ring.version != 1:
            raise KeyringError("the first keyring must be version 1")
        ring._check_signed_by(ring, "own")
        return ring

    def rotate(self, document: Mapping[str, Any]) -> Keyring:
        """The next keyring, trusted only when version is exactly this one's + 1 and a threshold
        of this keyring's keys and a threshold of its own keys signed it."""
        new = Keyring(document)
        if new.version != self.version + 1:
            raise KeyringError(
                f"keyring version must be {self.version + 1}, not {new.version}", code="keyring_version"
            )
        new._check_signed_by(self, "previous")
        new._check_signed_by(new, "new")
        return new

    def _check_signed_by(self, authority: Keyring, which: str) -> None:
        signers, _ = authority.valid_signers(
            KEYRING_ROLE, self.document["signed"], self.document.get("signatures")
        )
        allowed = authority.count_allowed(signers, KEYRING_ROLE)
        need = authority.threshold(KEYRING_ROLE)
        if allowed < need:
            raise KeyringError(
                f"keyring version {self.version} has {allowed} valid signature(s) from the {which} "
                f"keys allowed to sign keyrings; {need} needed",
                code="keyring_threshold",
            )

    @staticmethod
    def sign_document(document: dict[str, Any], key: SigningKey) -> dict[str, Any]:
        sigs = [s for s in document.get("signatures", []) if s.get("keyid") != key.keyid]
        sigs.append(key.sign(KEYRING_ROLE, document["signed"]))
        return {"signed": document["signed"], "signatures": sorted(sigs, key=lambda s: s["keyid"])}
