"""Anchors outside the data folder: the pinned trust root, the signed head and its witness.

Everything in a data folder can be rewritten by whoever can write the folder, the ledger's hashes
included (they are unkeyed). What anchors it lives elsewhere, and is checked whenever a governor
opens the folder:

- **The trust root** is the sha256 of keyring version 1 (the pin the ledger's first ``keyring``
  entry records), printed when a folder is founded. Set in ``OUROBOROS_TRUST_ROOT`` (or
  ``--trust-root``; several, comma-separated, for several folders), a folder whose pin is not one
  of them, or whose keyring files are not the pinned ones, is refused as a whole
  (``trust_root_mismatch``, ``keyring_*``): a swapped keyring with a re-pinned, re-hashed chain
  no longer verifies.
- **The head is signed.** Every transaction signs the head it leaves (``seq``, ``hash``, trust
  root; ``ouroboros/ledger_head/v1``) with a key of this folder that its keyring trusts, in the
  same transaction (``Ledger.signed_head``). With a trust root pinned, a head that is not signed
  by a key of the pinned keyring is refused (``head_unsigned``): rewriting any entry needs a
  private key, not only write access. Without a pin, a head that was never signed (a folder made
  before heads were signed) is signed at open, and a bad signature is only an alert (logged) —
  so every process that opens a pinned folder must have the pin.
- **The witness** (``--witness FILE`` or ``OUROBOROS_WITNESS``) is a JSON-lines file outside the
  folder. After every transaction the signed head is appended to it, with the folder's path. At
  open, the newest head witnessed for the folder must be in the ledger: a ledger that ends
  before it was cut (``witness_ahead``: an older copy of the folder restored, or its tail cut),
  one that holds another hash there was rewritten (``witness_diverged``), one pinned to another
  root had its keyring swapped (``trust_root_mismatch``), and a witnessed signature that the
  keyring does not verify was made by no key of this folder (``witness_signature``). A refusal
  is appended to the witness too (an ``alert`` line) and logged. A witness that lags the ledger
  (a crash between the commit and the append, commits made without the witness) is brought up
  to date at open; a line torn by a crash is skipped.

A witness line names the folder by its absolute path, so one file can witness several folders
(``ouroboros go`` keeps one per world); a folder that moves starts a new history in it.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ouroboros.errors import BadInputError, KeyringError, LedgerError, OuroborosError
from ouroboros.patches.keys import Keyring, SigningKey, verify_signature
from ouroboros.patches.ledger import Ledger
from ouroboros.patches.mirror import alert
from ouroboros.patches.trust import KeyringStore

WITNESS_ENV = "OUROBOROS_WITNESS"
TRUST_ROOT_ENV = "OUROBOROS_TRUST_ROOT"
HEAD_ROLE = "ledger_head"
#: what founding and ``go`` print when neither anchor is set
UNANCHORED_WARNING = (
    "warning: no trust root pinned (OUROBOROS_TRUST_ROOT) and no --witness file: anyone who can "
    "write to the data folder can rewrite or cut its history undetected"
)


def parse_trust_roots(text: str, source: str = TRUST_ROOT_ENV) -> frozenset[str]:
    """Comma- or space-separated sha256 fingerprints (64 hex digits each)."""
    roots = {part.strip().lower() for part in text.replace(",", " ").split()}
    bad = sorted(r for r in roots if len(r) != 64 or any(c not in "0123456789abcdef" for c in r))
    if bad:
        raise BadInputError(f"{source}: {bad[0][:70]!r} is not a trust root (64 hex digits)")
    return frozenset(roots)


@dataclass(frozen=True)
class Anchors:
    """Where a governor finds the anchors outside its folder (none: the embedded default)."""

    witness: Path | None = None
    trust_roots: frozenset[str] = frozenset()

    @classmethod
    def resolve(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        witness: Path | None = None,
        trust_root: str | None = None,
    ) -> Anchors:
        """Flags first, then ``OUROBOROS_WITNESS`` and ``OUROBOROS_TRUST_ROOT``."""
        env = os.environ if environ is None else environ
        if witness is None and env.get(WITNESS_ENV, "").strip():
            witness = Path(env[WITNESS_ENV].strip())
        if trust_root is not None:
            roots = parse_trust_roots(trust_root, "--trust-root")
        else:
            roots = parse_trust_roots(env.get(TRUST_ROOT_ENV, ""))
        return cls(witness, roots)

    @property
    def configured(self) -> bool:
        return self.witness is not None or bool(self.trust_roots)


@dataclass(frozen=True)
class WitnessedHead:
    folder: str
    seq: int
    hash: str
    root: str | None
    keyid: str | None
    sig: str | None

    def signed(self) -> dict[str, Any]:
        return head_document(self.seq, self.hash, self.root)


def head_document(seq: int, digest: str, root: str | None) -> dict[str, Any]:
    """What a head signature covers."""
    return {"seq": seq, "hash": digest, "root": root}


def head_signed_by(keyring: Keyring, head: tuple[int, str], root: str | None, signature: Any) -> bool:
    """Whether ``signature`` (``{keyid, sig}``) is a key of ``keyring`` signing ``head``."""
    keyid = signature.get("keyid") if isinstance(signature, dict) else None
    trusted = keyring.keys.get(keyid) if isinstance(keyid, str) else None
    document = head_document(head[0], head[1], root)
    return trusted is not None and verify_signature(trusted.public, HEAD_ROLE, document, signature.get("sig"))


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Witness:
    """The witness file as seen by one data folder."""

    def __init__(self, path: Path, data: Path) -> None:
        self.path = path
        self.folder = str(data.resolve())
        where = path.resolve()
        if where == Path(self.folder) or Path(self.folder) in where.parents:
            raise BadInputError(f"the witness {path} must live outside the data folder {data}")
        if path.is_dir():
            raise BadInputError(f"the witness {path} is a folder, not a file")
        if not path.parent.is_dir():
            raise BadInputError(f"the witness {path}: folder {path.parent} does not exist")

    def last(self) -> WitnessedHead | None:
        """The newest head witnessed for this folder (a line torn by a crash is skipped)."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise LedgerError(
                f"the witness {self.path} cannot be read: {exc.strerror or exc}", code="witness_unreadable"
            ) from exc
        best: WitnessedHead | None = None
        for number, line in enumerate(raw.split(b"\n"), 1):
            if not line.strip():
                continue
            head = self._parse(line, number)
            if head is not None and head.folder == self.folder and (best is None or head.seq >= best.seq):
                best = head
        return best

    def _parse(self, line: bytes, number: int) -> WitnessedHead | None:
        try:
            doc = json.loads(line)
        except (ValueError, RecursionError):
            return None  # torn by a crash mid-append: never a whole head
        if isinstance(doc, dict) and "alert" in doc:
            return None
        fields = ("folder", "seq", "hash", "root", "keyid", "sig")
        if (
            not isinstance(doc, dict)
            or not all(k in doc for k in fields)
            or not isinstance(doc["folder"], str)
            or not isinstance(doc["seq"], int)
            or isinstance(doc["seq"], bool)
            or doc["seq"] < 0
            or not isinstance(doc["hash"], str)
            or not all(doc[k] is None or isinstance(doc[k], str) for k in ("root", "keyid", "sig"))
        ):
            raise LedgerError(
                f"the witness {self.path} line {number} is not a witnessed head", code="witness_unreadable"
            )
        return WitnessedHead(*(doc[k] for k in fields))

    def _append(self, doc: dict[str, Any]) -> None:
        data = (json.dumps(doc, sort_keys=True, ensure_ascii=True) + "\n").encode()
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            end = os.lseek(fd, 0, os.SEEK_END)
            if end and os.pread(fd, 1, end - 1) != b"\n":
                data = b"\n" + data  # after a line a crash tore: start a line of our own
            os.write(fd, data)  # one write of one line: O_APPEND keeps concurrent lines whole
            os.fsync(fd)
        finally:
            os.close(fd)

    def record(self, seq: int, digest: str, root: str | None, signature: dict[str, str] | None) -> None:
        """Append the head ``seq``/``digest`` with its signature (``None``: no key at hand)."""
        signed: dict[str, str | None] = dict(signature) if signature else {"keyid": None, "sig": None}
        doc = {"folder": self.folder, **head_document(seq, digest, root), **signed, "at": _now()}
        self._append(doc)

    def alert(self, error: LedgerError | KeyringError) -> None:
        """Record a refusal outside the folder (best effort: the refusal stands either way)."""
        with contextlib.suppress(OSError):
            self._append({"folder": self.folder, "alert": error.message, "code": error.code, "at": _now()})

    def check(self, ledger: Ledger, root: str | None, keyring: Callable[[], Keyring]) -> WitnessedHead | None:
        """Refuse a ledger that is not a descendant of the newest witnessed head (see the module
        docstring). Returns that head (``None``: nothing witnessed for this folder yet)."""
        last = self.last()
        if last is None:
            return None
        seq, _ = ledger.head()
        if seq < last.seq:
            raise LedgerError(
                f"the ledger ends at entry {seq} but the witness {self.path} saw entry {last.seq}: "
                "entries were cut",
                code="witness_ahead",
            )
        if ledger.hash_at(last.seq) != last.hash:
            raise LedgerError(
                f"ledger entry {last.seq} is not the one the witness {self.path} saw: the history "
                "was rewritten",
                code="witness_diverged",
            )
        if last.root is not None and root != last.root:
            raise KeyringError(
                f"the keyring this ledger pins ({(root or 'none')[:16]}…) is not the trust root the "
                f"witness {self.path} saw ({last.root[:16]}…): the keyring was swapped",
                code="trust_root_mismatch",
            )
        if last.keyid is not None:
            signature = {"keyid": last.keyid, "sig": last.sig}
            if not head_signed_by(keyring(), (last.seq, last.hash), last.root, signature):
                raise LedgerError(
                    f"the head witnessed in {self.path} is not signed by a key this folder trusts",
                    code="witness_signature",
                )
        return last


def anchor_notes(anchors: Anchors, roots: Mapping[str, str | None]) -> list[str]:
    """What an operator should know about folders' anchors (``roots``: a label, empty for a lone
    folder, to its trust root): each trust root and how to pin it, the witness, and the warning
    when there is neither."""
    notes, unpinned = [], []
    for label, root in roots.items():
        if root is None:
            continue
        pinned = root in anchors.trust_roots
        notes.append(f"{label + ' ' if label else ''}trust root {root}" + (" (pinned)" if pinned else ""))
        if not pinned:
            unpinned.append(root)
    if unpinned:
        them = "it" if len(unpinned) == 1 else "them"
        notes.append(f"pin {them} outside the data folder: export {TRUST_ROOT_ENV}={','.join(unpinned)}")
    if anchors.witness is not None:
        notes.append(f"witness {anchors.witness}")
    if not anchors.configured:
        notes.append(UNANCHORED_WARNING)
    return notes


class Anchoring:
    """One open folder held to its anchors: checked at open, every new head witnessed."""

    def __init__(
        self, anchors: Anchors, witness: Witness | None, ledger: Ledger, trust: KeyringStore
    ) -> None:
        self.anchors = anchors
        self.witness = witness
        self.ledger = ledger
        self.trust = trust
        self._root: str | None = None
        self._signer: SigningKey | None = None

    def root(self) -> str | None:
        """The folder's trust root (cached once founded: it never changes)."""
        if self._root is None:
            self._root = self.trust.root()
        return self._root

    def check(self) -> None:
        """Refuse the folder unless it agrees with its anchors; sign an unsigned head (no pin) and
        bring a lagging witness up to date."""
        try:
            self._check_not_emptied()
            self.trust.check_root(self.anchors.trust_roots)
            self._check_head_signature()
            if self.witness is not None:
                last = self.witness.check(self.ledger, self.root(), self.trust.current)
                seq, digest = self.ledger.head()
                if seq > 0 and (last is None or last.seq < seq):
                    self.witness_head(seq, digest)  # witnessing starts (or catches up) here
        except (LedgerError, KeyringError) as exc:
            if self.witness is not None:
                self.witness.alert(exc)
            alert(exc if isinstance(exc, LedgerError) else LedgerError(exc.message, code=exc.code))
            raise

    def _check_not_emptied(self) -> None:
        """An empty ledger beside keyring files was emptied or replaced: keyrings are only ever
        written in the same transaction as the ledger entry that pins them."""
        if (
            self.ledger.head()[0] == 0
            and self.trust.folder.is_dir()
            and any(self.trust.folder.glob("*.json"))
        ):
            raise LedgerError(
                f"the ledger is empty but {self.trust.folder} holds keyrings: it was emptied or replaced",
                code="ledger_tampered",
            )

    def _check_head_signature(self) -> None:
        head = self.ledger.head()
        root = self.root()
        if head[0] == 0 or root is None:
            return  # nothing trusted yet
        signed = self.ledger.signed_head()
        ok = (
            signed is not None
            and signed[:2] == head
            and head_signed_by(self.trust.current(), head, root, {"keyid": signed[2], "sig": signed[3]})
        )
        if ok:
            return
        refusal = LedgerError(
            f"the ledger's head (entry {head[0]}) is not signed by a key of the pinned keyring: "
            "the history was rewritten (or changed by a process without a key of this folder)",
            code="head_unsigned",
        )
        if self.anchors.trust_roots:
            raise refusal
        if signed is not None:
            alert(refusal)  # no pin: the folder is trusted as it is, but never re-signed here
            return
        try:
            with self.ledger.transaction_lock():
                self.ledger.sign_head()  # a folder made before heads were signed: signed from now on
        except sqlite3.DatabaseError as exc:  # a read-only copy: it stays unsigned, and says so
            alert(LedgerError(f"the ledger's head could not be signed: {exc}", code="head_unsigned"))

    def sign_head(self, seq: int, digest: str) -> dict[str, str] | None:
        """``Ledger.head_signer``: sign a head with this folder's key (``None``: no key at hand)."""
        signer = self.signer()
        return None if signer is None else signer.sign(HEAD_ROLE, head_document(seq, digest, self.root()))

    def signer(self) -> SigningKey | None:
        """A key of this folder that its keyring trusts (the first by file name), for heads."""
        keys_dir = self.trust.keys_dir
        if self._signer is None and keys_dir.is_dir():
            try:
                ring = self.trust.current()
            except OuroborosError:
                return None
            for path in sorted(keys_dir.glob("*.key")):
                try:
                    key = SigningKey.load(path)
                except OuroborosError:
                    continue
                if key.keyid in ring.keys:
                    self._signer = key
                    break
        return self._signer

    def witness_head(self, seq: int, digest: str) -> None:
        """After each commit: append the new head to the witness. The commit stands if the append
        fails (a witness behind the ledger is safe); the failure is an alert."""
        if self.witness is None:
            return
        signed = self.ledger.signed_head()
        if signed is not None and signed[:2] == (seq, digest):
            signature: dict[str, str] | None = {"keyid": signed[2], "sig": signed[3]}
        else:
            signature = self.sign_head(seq, digest)
        try:
            self.witness.record(seq, digest, self.root(), signature)
        except OSError as exc:
            message = f"the witness {self.witness.path} could not be written: {exc.strerror or exc}"
            alert(LedgerError(message, code="witness_unwritable"))


__all__ = [
    "HEAD_ROLE",
    "TRUST_ROOT_ENV",
    "UNANCHORED_WARNING",
    "WITNESS_ENV",
    "Anchoring",
    "Anchors",
    "Witness",
    "WitnessedHead",
    "anchor_notes",
    "head_document",
    "head_signed_by",
    "parse_trust_roots",
]
