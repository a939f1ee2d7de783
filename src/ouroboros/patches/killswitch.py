"""The kill-switch: the seed's ``ai_patch_ingest_enabled`` flag.

Engaged means no new patch is ingested, approved or activated; the active version keeps running,
rollback still works (it only ever goes back to known-good), and validation may run dry.

What it promises:

- **Deny when in doubt.** The state lives in ``control.json`` (with a checksum over its canonical
  form) and every change is also a ledger entry. A control file that is unreadable, fails its
  checksum, is missing while the ledger says it was ever set, or disagrees with the ledger's last
  kill-switch entry reads as *engaged*, with the cause in ``KillSwitchState.cause``.
- **Forced at start.** ``OUROBOROS_KILLSWITCH=engaged`` (or ``1``/``true``/``on``) in the
  environment, or the CLI's ``--killswitch`` flag, engages it for the whole process whatever the
  file says.
- **Audited.** ``engage``/``release`` need an actor and a reason; they write the ledger entry and
  the control file (crash-safe) and return the new state.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ouroboros.errors import BadInputError, OuroborosError, PatchError
from ouroboros.patches.atomic import write_atomic
from ouroboros.patches.canonical import canonical_bytes, load_json
from ouroboros.patches.ledger import Ledger

CONTROL_FILE = "control.json"
ENV_VAR = "OUROBOROS_KILLSWITCH"
_TRUE = {"1", "true", "on", "yes", "engaged"}
_FALSE = {"", "0", "false", "off", "no", "released"}


@dataclass(frozen=True)
class KillSwitchState:
    engaged: bool
    cause: str  # "control file", "environment", "flag", "unreadable control file: …", …
    actor: str | None = None
    reason: str | None = None
    changed_at: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "engaged": self.engaged,
            "ai_patch_ingest_enabled": not self.engaged,
            "cause": self.cause,
            "actor": self.actor,
            "reason": self.reason,
            "changed_at": self.changed_at,
        }


def env_forced(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the environment forces the switch. An unrecognised value forces it too."""
    value = (environ if environ is not None else os.environ).get(ENV_VAR)
    if value is None:
        return False
    value = value.strip().lower()
    return value in _TRUE or value not in _FALSE


def _checksum(body: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_bytes(dict(body))).hexdigest()


class KillSwitch:
    """The kill-switch of one data folder, read through its ledger."""

    def __init__(
        self, folder: Path, ledger: Ledger, *, forced: bool = False, environ: Mapping[str, str] | None = None
    ) -> None:
        self.path = folder / CONTROL_FILE
        self.ledger = ledger
        self.forced_by_flag = forced
        self.forced_by_env = env_forced(environ)

    def state(self) -> KillSwitchState:
        if self.forced_by_flag:
            return KillSwitchState(True, "flag")
        if self.forced_by_env:
            return KillSwitchState(True, "environment")
        return self._file_state()

    def _file_state(self) -> KillSwitchState:
        last = self.ledger.last_entry("killswitch")
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            if last is None:
                return KillSwitchState(False, "default (never set)")
            return KillSwitchState(True, "control file missing although the ledger records it")
        except OSError as exc:
            return KillSwitchState(True, f"unreadable control file: {exc.strerror or exc}")
        try:
            doc = load_json(raw, "control file")
        except OuroborosError as exc:
            return KillSwitchState(True, f"unreadable control file: {exc.message}")
        if not isinstance(doc, dict) or set(doc) != {"body", "checksum"} or not isinstance(doc["body"], dict):
            return KillSwitchState(True, "control file has the wrong shape")
        body = doc["body"]
        try:
            checksum_ok = _checksum(body) == doc["checksum"]
        except BadInputError:
            checksum_ok = False
        if not checksum_ok:
            return KillSwitchState(True, "control file fails its checksum")
        enabled = body.get("ai_patch_ingest_enabled")
        if not isinstance(enabled, bool):
            return KillSwitchState(True, "control file has no ai_patch_ingest_enabled flag")
        if (
            last is None
            or last.evidence.get("ai_patch_ingest_enabled") != enabled
            or (last.seq != body.get("ledger_seq"))
        ):
            return KillSwitchState(True, "control file disagrees with the ledger")
        return KillSwitchState(
            not enabled, "control file", body.get("actor"), body.get("reason"), body.get("changed_at")
        )

    def engaged(self) -> bool:
        return self.state().engaged

    def set(self, engaged: bool, actor: str, reason: str) -> KillSwitchState:
        """Engage or release, audited. Releasing is refused while the environment or a flag forces
        the switch (the file would say released while the process stays engaged)."""
        if not actor.strip() or not reason.strip():
            raise BadInputError("the kill-switch needs --actor and --reason")
        if not engaged and (self.forced_by_env or self.forced_by_flag):
            raise PatchError(
                "the kill-switch is forced by the environment or a flag; it cannot be released here",
                code="killswitch_forced",
            )
        before = self._file_state()
        with self.ledger.transaction(actor, reason) as tx:
            entry = tx.audit(
                "killswitch",
                {"ai_patch_ingest_enabled": not engaged, "before_cause": before.cause},
                before="engaged" if before.engaged else "released",
                after="engaged" if engaged else "released",
            )
            body = {
                "ai_patch_ingest_enabled": not engaged,
                "actor": actor,
                "reason": reason,
                "changed_at": entry.at,
                "ledger_seq": entry.seq,
            }
            write_atomic(self.path, canonical_bytes({"body": body, "checksum": _checksum(body)}) + b"\n")
        return self.state()
