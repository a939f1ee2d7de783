"""Explicit repairs an operator makes on a data folder, each recorded in its ledger.

- ``rewrite_mirror``: a pointer file (``active.json``) that is missing or damaged is refused at
  open and never re-derived silently (``mirror``). When the operator knows why it was lost, this
  writes it again from the database — after the hash chain, every table it vouches for and the
  anchors outside the folder (a pinned trust root, a witness) have been checked — and records a
  ``mirror_rewritten`` entry with who did it, why, and what the file was. With a pin or a
  witness, a cut or rewritten ledger still fails those checks, so the repair cannot launder it;
  without them, it is the operator's word, and the ledger keeps it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ouroboros.errors import BadInputError, LedgerError
from ouroboros.patches.ledger import Ledger
from ouroboros.patches.mirror import read_mirror
from ouroboros.patches.trust import KeyringStore
from ouroboros.patches.witness import Anchoring, Anchors, Witness

MIRROR_REWRITTEN = "mirror_rewritten"


def rewrite_mirror(data: Path, actor: str, reason: str, anchors: Anchors) -> dict[str, Any]:
    """Rewrite ``active.json`` of ``data`` from its checked ledger; returns what it was and is now."""
    if not actor.strip() or not reason.strip():
        raise BadInputError("rewriting the pointer file needs --actor and --reason")
    witness = Witness(anchors.witness, data) if anchors.witness else None
    ledger = Ledger(data, verify=False)
    try:
        ledger.verify(mirror=False)
        try:
            found = read_mirror(data)
            was = "missing" if found is None else f"naming entry {found['head_seq']}"
        except LedgerError as exc:
            was = f"unreadable: {exc.message}"
        anchoring = Anchoring(anchors, witness, ledger, KeyringStore(data, ledger))
        ledger.head_signer = anchoring.sign_head
        anchoring.check()
        ledger.on_commit = anchoring.witness_head
        with ledger.transaction(actor, reason) as tx:
            tx.audit(MIRROR_REWRITTEN, {"was": was})
        ledger.write_pointer_file()
        return {"was": was, "now": ledger.pointer().as_dict()}
    finally:
        ledger.close()


__all__ = ["MIRROR_REWRITTEN", "rewrite_mirror"]
