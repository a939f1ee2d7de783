"""Trust on disk: the ``keyrings/N.json`` files of a data folder, pinned by its ledger.

What it promises:

- Trust is walked: the current keyring is version 1 rotated through every later version, each
  rotation signed by a threshold of the old keys and of the new ones (``Keyring.rotate``).
- Trust is pinned: ``add_key`` records the sha256 of each keyring version it writes in a chained
  ledger entry (kind ``keyring``), in the same transaction. A keyring file the ledger does not
  record (``keyring_unpinned``), records with another hash (``keyring_tampered``) or records but
  which is gone (``keyring_missing``) is refused: a self-signed keyring dropped into the folder
  is not a trust root, and deleting the newest version does not roll trust back.
- The trust root is the pin of keyring version 1 (``root``): printed at founding, it can be
  pinned outside the folder (``witness.Anchors``), and then a folder pinned to another root is
  refused whole (``trust_root_mismatch``), and so is founding a new keyring under such a pin.
- Private key files (``keys/NAME.key``, ``0600``) are written here and never shown.
"""

from __future__ import annotations

import re
from pathlib import Path

from ouroboros.errors import BadInputError, KeyringError
from ouroboros.patches.atomic import write_atomic
from ouroboros.patches.canonical import canonical_bytes, load_json, sha256_hex
from ouroboros.patches.keys import KEY_NAME_PATTERN, Keyring, SigningKey
from ouroboros.patches.ledger import Ledger

KEYRING_ENTRY = "keyring"


class KeyringStore:
    """The keyrings and local keys of one data folder."""

    def __init__(self, data: Path, ledger: Ledger) -> None:
        self.data = data
        self.ledger = ledger
        self.folder = data / "keyrings"
        self.keys_dir = data / "keys"

    def pins(self) -> dict[int, str]:
        """Keyring version → the sha256 of its canonical form, as the ledger recorded them."""
        pins: dict[int, str] = {}
        for entry in self.ledger.entries(kind=KEYRING_ENTRY):
            evidence = entry.evidence if isinstance(entry.evidence, dict) else {}
            version, digest = evidence.get("keyring_version"), evidence.get("keyring_sha256")
            if isinstance(version, int) and isinstance(digest, str):
                pins[version] = digest
        return pins

    def root(self) -> str | None:
        """The trust root: the sha256 of keyring version 1 as the ledger pinned it (``None``:
        no keyring yet)."""
        return self.pins().get(1)

    def check_root(self, roots: frozenset[str]) -> None:
        """With trust roots pinned outside the folder, this folder's root must be one of them and
        its keyring files the ones pinned; without any, nothing is checked."""
        if not roots:
            return
        root = self.root()
        if root is None:
            return  # nothing trusted yet: founding is refused in add_key
        if root not in roots:
            raise KeyringError(
                f"this folder's trust root {root[:16]}… is not the one pinned outside it "
                f"({', '.join(sorted(r[:16] + '…' for r in roots))}): its keyring was replaced",
                code="trust_root_mismatch",
            )
        self.current()

    def current(self) -> Keyring:
        """The current keyring; every version's file must be the one the ledger pinned."""
        folder = self.folder
        versions = (
            sorted(int(p.stem) for p in folder.glob("*.json") if p.stem.isdigit()) if folder.exists() else []
        )
        pins = self.pins()
        missing = sorted(set(pins) - set(versions))
        if missing:
            raise KeyringError(
                f"keyring version {missing[0]}, recorded in the ledger, is missing from {folder}",
                code="keyring_missing",
            )
        if not versions:
            raise KeyringError(
                f"no keyring in {self.data}: make a key first (ouroboros keys new NAME)", code="no_keyring"
            )
        if versions != list(range(1, len(versions) + 1)):
            raise KeyringError(f"keyring versions in {folder} are not 1..N", code="keyring_version")
        docs = []
        for version in versions:
            path = folder / f"{version}.json"
            doc = load_json(path.read_bytes(), f"keyring {version}")
            if version not in pins:
                raise KeyringError(
                    f"{path} is not recorded in the ledger: only keyrings made here (keys new) are trusted",
                    code="keyring_unpinned",
                )
            if sha256_hex(doc) != pins[version]:
                raise KeyringError(
                    f"{path} is not the keyring the ledger recorded for version {version} (replaced?)",
                    code="keyring_tampered",
                )
            docs.append(doc)
        ring = Keyring.trust_first(docs[0])
        for doc in docs[1:]:
            ring = ring.rotate(doc)
        return ring

    def add_key(
        self, name: str, domains: list[str], actor: str, roots: frozenset[str] = frozenset()
    ) -> SigningKey:
        """Make a key and trust it: the first key founds keyring version 1; later keys rotate the
        keyring, signed by this folder's own keys that the current keyring trusts. The pin, the
        key file and the keyring file are written in one ledger transaction."""
        if not re.fullmatch(KEY_NAME_PATTERN, name):
            raise BadInputError(f"key name must match {KEY_NAME_PATTERN}")
        if not domains:
            raise BadInputError("a key needs at least one domain ('*' for all)")
        self.keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self.keys_dir / f"{name}.key"
        if path.exists():
            raise BadInputError(f"a key named {name} already exists")
        key = SigningKey.generate(name)
        self.folder.mkdir(exist_ok=True)
        if not any(self.folder.glob("*.json")) and not self.pins():
            if roots:
                raise KeyringError(
                    f"a trust root is pinned outside {self.data} but it has no keyring: founding one "
                    "here would make a root nobody pinned (unset the pin to found a new folder)",
                    code="trust_root_mismatch",
                )
            doc = Keyring.sign_document(Keyring.unsigned(1, {key.keyid: key.public_entry(domains)}), key)
            Keyring.trust_first(doc)
        else:
            old = self.current()
            if old.key_named(name):
                raise BadInputError(f"the keyring already has a key named {name}")
            keys = dict(old.document["signed"]["keys"])
            keys[key.keyid] = key.public_entry(domains)
            doc = Keyring.unsigned(old.version + 1, keys, old.thresholds)
            for existing in sorted(self.keys_dir.glob("*.key")):
                signer = SigningKey.load(existing)
                if signer.keyid in old.keys:
                    doc = Keyring.sign_document(doc, signer)
            doc = Keyring.sign_document(doc, key)
            old.rotate(doc)  # refuses unless a threshold of the old keys signed
        version = doc["signed"]["version"]
        evidence = {
            "keyid": key.keyid,
            "name": name,
            "domains": sorted(domains),
            "keyring_version": version,
            "keyring_sha256": sha256_hex(doc),
        }
        try:
            with self.ledger.transaction(actor, f"trust key {name}") as tx:
                tx.audit(KEYRING_ENTRY, evidence)
                key.save(path)
                write_atomic(self.folder / f"{version}.json", canonical_bytes(doc) + b"\n")
        except BaseException:
            path.unlink(missing_ok=True)  # the pin rolled back: the key was never trusted
            raise
        return key


__all__ = ["KeyringStore"]
