"""Rollouts in the ledger: every stage change, every window's verdict with its numbers, every
automatic rollback with the check that fired, and the version metadata of a staged patch.

What it promises:

- **The ledger is the truth.** Each transition of a rollout is one ledger transaction of
  ``rollout_*`` entries (``rollout_start``, ``rollout_stage``, ``rollout_window``,
  ``rollout_rollback``, ``rollout_phase``; audit entries, so they change no patch's state), each
  carrying the rollout's whole state after it. ``load`` reads the last one. A rollback also moves
  the patch to ``rolled_back`` (terminal, so the council's queue sees it) in the same transaction.
- **A mirror that must agree.** ``rollouts.json`` beside the ledger (written crash-safe, with a
  checksum over its canonical form) holds each rollout's state and the ledger entry it was
  written for, for processes that only watch it (shard threads, the router). ``consistent``
  is false — and the controller denies promotion — when the mirror is missing, unreadable, fails
  its checksum or disagrees with the ledger, when the patch left ``validated``, or when the active
  version moved away from the rollout's control (its ``rollback_target_id``).
- **Bad requests change nothing.** ``begin`` refuses an unknown patch, a patch that is not
  validated, a stale parent and a second live rollout with one clear error, before writing.
- **Version metadata.** ``version_meta`` says for any patch its ``activation_scope`` (global,
  shard or cohort), ``rollout_id``, ``rollback_target_id`` and ``activated_at``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ouroboros.errors import BadInputError, OuroborosError, PatchError
from ouroboros.patches import Ledger, State, canonical_bytes, load_json, write_atomic
from ouroboros.rollout.controller import LIVE, Event, Phase, RolloutState
from ouroboros.rollout.controller import start as start_rollout
from ouroboros.rollout.plan import RolloutPlan

ROLLOUT_FILE = "rollouts.json"
START = "rollout_start"
KINDS = ("rollout_start", "rollout_stage", "rollout_window", "rollout_rollback", "rollout_phase")


@dataclass(frozen=True)
class VersionMeta:
    """Where and since when a version runs."""

    patch_id: str | None
    activation_scope: str | None  # "global", "shard", "cohort"; None: never activated
    rollout_id: str | None
    rollback_target_id: str | None
    activated_at: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "patch_id": self.patch_id,
            "activation_scope": self.activation_scope,
            "rollout_id": self.rollout_id,
            "rollback_target_id": self.rollback_target_id,
            "activated_at": self.activated_at,
        }


def same_state(a: RolloutState, b: RolloutState) -> bool:
    """Equal but for ``window_start``, which a running driver anchors without recording it."""
    return canonical_bytes(replace(a, window_start=-1).as_dict()) == canonical_bytes(
        replace(b, window_start=-1).as_dict()
    )


def _checksum(body: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_bytes(dict(body))).hexdigest()


class RolloutStore:
    """The rollouts of one data folder, read and written through its ledger."""

    def __init__(self, folder: Path, ledger: Ledger) -> None:
        self.path = folder / ROLLOUT_FILE
        self.ledger = ledger

    # -- reading -----------------------------------------------------------------------------------
    def _entries(self) -> list[Any]:
        out = []
        for kind in KINDS:
            out.extend(self.ledger.entries(kind=kind))
        return sorted(out, key=lambda e: e.seq)

    def rollouts(self) -> list[RolloutState]:
        """Every rollout, in the order they began, as the ledger last recorded it."""
        last: dict[str, Any] = {}
        for entry in self._entries():
            evidence = entry.evidence if isinstance(entry.evidence, dict) else {}
            rid = evidence.get("rollout_id")
            if isinstance(rid, str):
                last.setdefault(rid, None)
                last[rid] = evidence.get("state")
        return [RolloutState.from_dict(doc) for doc in last.values() if isinstance(doc, dict)]

    def try_load(self, rollout_id: str) -> RolloutState | None:
        return next((r for r in self.rollouts() if r.rollout_id == rollout_id), None)

    def load(self, rollout_id: str) -> RolloutState:
        found = self.try_load(rollout_id)
        if found is None:
            raise BadInputError(f"no rollout {rollout_id!r} in this data folder", code="unknown_rollout")
        return found

    def live(self) -> RolloutState | None:
        """The rollout that is not over (at most one per data folder)."""
        return next((r for r in self.rollouts() if not r.terminal), None)

    def _last_seq(self, rollout_id: str) -> int | None:
        seqs = [
            e.seq
            for e in self._entries()
            if isinstance(e.evidence, dict) and e.evidence.get("rollout_id") == rollout_id
        ]
        return seqs[-1] if seqs else None

    def mirror(self) -> dict[str, Any]:
        """The mirror's rollouts (``{}`` when there is no file); ``BadInputError`` when unreadable."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise BadInputError(f"unreadable {self.path}: {exc.strerror or exc}") from exc
        doc = load_json(raw, "rollout mirror")
        if not isinstance(doc, dict) or set(doc) != {"body", "checksum"} or not isinstance(doc["body"], dict):
            raise BadInputError(f"{self.path} has the wrong shape")
        if _checksum(doc["body"]) != doc["checksum"]:
            raise BadInputError(f"{self.path} fails its checksum")
        return dict(doc["body"])

    def disagreement(self, state: RolloutState) -> str | None:
        """Why ``state`` must not promote (``None``: the mirror, the ledger and the pointer agree)."""
        try:
            recorded = self.try_load(state.rollout_id)
            mirrored = self.mirror().get(state.rollout_id)
            seq = self._last_seq(state.rollout_id)
        except OuroborosError as exc:
            return f"rollout data unreadable: {exc.message}"
        if recorded is None:
            return "the ledger has no record of this rollout"
        if not same_state(recorded, state):
            return "the rollout's state differs from the ledger's"
        if not isinstance(mirrored, dict) or mirrored.get("ledger_seq") != seq:
            return f"{ROLLOUT_FILE} disagrees with the ledger"
        if mirrored.get("state") != load_json(canonical_bytes(recorded.as_dict())):
            return f"{ROLLOUT_FILE} disagrees with the ledger"
        if state.phase in LIVE and self.ledger.state_of(state.patch_id) != State.VALIDATED:
            return f"patch {state.patch_id} is {self.ledger.state_of(state.patch_id)}, no longer validated"
        if state.phase in LIVE and self.ledger.pointer().active != state.rollback_target_id:
            return f"the active version moved away from {state.rollback_target_id or 'base'}"
        return None

    def consistent(self, state: RolloutState) -> bool:
        return self.disagreement(state) is None

    def version_meta(self, patch_id: str) -> VersionMeta:
        """The version metadata of ``patch_id`` (see the module docstring)."""
        if not self.ledger.known(patch_id):
            raise BadInputError(f"unknown patch {patch_id}", code="unknown_patch")
        rollout = next((r for r in reversed(self.rollouts()) if r.patch_id == patch_id), None)
        activated = next(
            (e for e in self.ledger.entries(patch_id=patch_id, kind="transition") if e.after == "active"),
            None,
        )
        if (
            rollout is not None
            and rollout.phase is not Phase.ROLLED_BACK
            and rollout.phase is not Phase.ABORTED
        ):
            started = next(
                (
                    e.at
                    for e in self._entries()
                    if e.kind == START and e.evidence.get("rollout_id") == rollout.rollout_id
                ),
                None,
            )
            scope = "global" if rollout.phase is Phase.COMPLETE else rollout.plan.scope
            return VersionMeta(patch_id, scope, rollout.rollout_id, rollout.rollback_target_id, started)
        if activated is not None:
            return VersionMeta(patch_id, "global", None, self.ledger.parent_of(patch_id), activated.at)
        return VersionMeta(patch_id, None, None, self.ledger.parent_of(patch_id), None)

    # -- writing -----------------------------------------------------------------------------------
    def check_startable(self, patch_id: str, actor: str = "-", reason: str = "-") -> str | None:
        """Refuse a rollout that must not start (one clear error, nothing written); returns the
        active version, the rollout's control."""
        if not actor.strip() or not reason.strip():
            raise BadInputError("a rollout needs an actor and a reason")
        if not isinstance(patch_id, str) or len(patch_id) > 128 or not self.ledger.known(patch_id):
            raise BadInputError(f"unknown patch {patch_id!r}", code="unknown_patch")
        state = self.ledger.state_of(patch_id)
        if state != State.VALIDATED:
            raise BadInputError(
                f"patch {patch_id} is {state}; only a validated patch can be rolled out",
                code="patch_not_validated",
            )
        active = self.ledger.pointer().active
        if self.ledger.parent_of(patch_id) != active:
            raise BadInputError(
                f"patch {patch_id} was made for {self.ledger.parent_of(patch_id) or 'base'}, "
                f"but the world runs {active or 'base'}",
                code="stale_parent",
            )
        live = self.live()
        if live is not None:
            raise PatchError(
                f"rollout {live.rollout_id} of {live.patch_id} is still {live.phase}: one at a time",
                code="rollout_live",
            )
        return active

    def begin(
        self,
        patch_id: str,
        plan: RolloutPlan,
        actor: str,
        reason: str,
        content: dict[str, Any] | None = None,
    ) -> RolloutState:
        """Record a new rollout of a validated patch and start its first stage (the running world
        anchors its first window at its next poll). ``content``: the version the patch makes,
        kept in the same transaction (a ``version`` entry chains its hash) for the treatment's
        shards to load the checked way (``ledger.version_content``)."""
        active = self.check_startable(patch_id, actor, reason)
        seq, head = self.ledger.head()
        rollout_id = f"ro-{seq + 1}-{hashlib.sha256(f'{head}:{patch_id}'.encode()).hexdigest()[:10]}"
        pending = RolloutState(rollout_id, patch_id, active, plan)
        started, events = start_rollout(pending, -1)
        version = {  # the version's metadata; its activated_at is this entry's time
            "activation_scope": plan.scope,
            "rollout_id": rollout_id,
            "rollback_target_id": active,
        }
        evidence = {"patch_id": patch_id, "rollback_target_id": active, "version": version}
        first = Event(START, "none", "pending", reason, evidence)
        self.record(pending, started, [first, *events], actor, reason, content)
        return started

    def record(
        self,
        before: RolloutState,
        after: RolloutState,
        events: list[Event],
        actor: str,
        reason: str,
        content: dict[str, Any] | None = None,
    ) -> None:
        """One transition, one ledger transaction; then the mirror. Nothing is written when the
        rollout's recorded state is not ``before`` (another writer moved it)."""
        if not events:
            return
        with self.ledger.transaction(actor, reason) as tx:
            recorded = self.try_load(before.rollout_id)
            if recorded is not None and not same_state(recorded, before):
                raise PatchError(
                    f"rollout {before.rollout_id} moved meanwhile ({recorded.phase}, stage {recorded.stage})",
                    code="rollout_inconsistent",
                )
            if content is not None:
                tx.store_version(after.patch_id, self.ledger.sequence_of(after.patch_id) or 0, content)
            snapshot = after.as_dict()
            for event in events:
                tx.audit(
                    event.kind,
                    {**dict(event.evidence), "rollout_id": after.rollout_id, "state": snapshot},
                    before=event.before,
                    after=event.after,
                    patch_id=after.patch_id,
                    reason=event.reason,
                )
            if after.phase is Phase.ROLLED_BACK and before.phase is not Phase.ROLLED_BACK:
                tx.transition(
                    after.patch_id,
                    State.ROLLED_BACK,
                    {"rollout_id": after.rollout_id, "rollback_to": after.rollback_target_id},
                    reason=after.reason,
                )
        self._write_mirror()

    def _write_mirror(self) -> None:
        body = {}
        for state in self.rollouts():
            body[state.rollout_id] = {
                "state": load_json(canonical_bytes(state.as_dict())),
                "ledger_seq": self._last_seq(state.rollout_id),
            }
        write_atomic(self.path, canonical_bytes({"body": body, "checksum": _checksum(body)}) + b"\n")


__all__ = ["KINDS", "ROLLOUT_FILE", "RolloutStore", "VersionMeta", "same_state"]
