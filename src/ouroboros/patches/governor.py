"""The governor: the I/O shell around the pipeline for one data folder. Trust enters through here.

A data folder holds ``world.json`` (which world, seed and config the patches are for, and any
budget overrides), ``ledger.sqlite3`` (the ledger and the active pointer), ``active.json`` (the
pointer's mirror), ``control.json`` (the kill-switch), ``keyrings/N.json`` (every keyring
version; trust is walked from version 1 through each rotation) and ``keys/`` (private keys made
here, ``0600``).

What it promises:

- Nothing reaches the ledger before it is authenticated: ``door.verify`` (integrity, then schema,
  once each) makes the ``VerifiedBundle`` every later stage takes; a bundle it refuses leaves the
  ledger exactly as it was. A verified bundle is recorded as a draft and every later stage's
  verdict is a recorded transition (the numbers gate first, for a machine-made bundle); a stage
  that fails unexpectedly rejects the patch (``internal_error``), it never leaves it a draft.
- Trust is pinned: every keyring version's sha256 is recorded in the ledger when ``new_key``
  makes it, and a keyring file the ledger does not record, or records with another hash, is
  refused (``keyring_unpinned``, ``keyring_tampered``, ``keyring_missing``).
- Activation and rollback are one ledger transaction each (states, pointer and audit entry
  together); a running world applies the new pointer at its next tick boundary. The content a
  world is given is checked against the hash chained in the ledger (see ``ledger``).
- A canary is not durable: opening a folder whose pointer is on a canary puts it back on the last
  permanent version and records the canary as rolled back.
- While the kill-switch is engaged nothing is ingested, approved or activated (a dry run may
  still validate); rollback to a known-good version stays possible. The switch is read again
  inside the canary and the activation transactions, so engaging it mid-pipeline rejects the
  patch before its canary, or rolls the canary back. Running under a switch forced by flag or
  environment is recorded in the ledger (``killswitch_forced``) the first time a change is made.
- The folder is checked against the anchors outside it at open (``witness``): with a trust root
  pinned, a folder pinned to another root, with other keyring files or with a head no key of its
  keyring signed is refused whole; with a witness, a ledger behind the witnessed head or not its
  descendant is refused. Every transaction signs the head it leaves with a trusted key of this
  folder, and the witness receives it. A refusal is an alert (logged, and appended to the
  witness). A missing or inconsistent pointer mirror is refused (``mirror``).
- While a staged rollout is live (``rollout/``; its ``rollout_*`` entries are in this ledger) the
  rollout owns the pointer: nothing is ingested and nothing else is approved (``rollout_live``,
  exit 2, HTTP 409, nothing written) but the rollout's own last stage (``approve(...,
  rollout_id=)``); a rollback and the kill-switch stay possible. ``submit(..., hold=why)`` stops
  a patch at ``validated`` (the state a rollout starts from) instead of activating it.
- **An activation gate** (``activation_gate``: set by whoever composes the governor, e.g. a
  cluster's control process) may deny new activations while it says why (Redis unreachable: the
  shards could not be told). Then ``submit`` (not a dry run) and ``approve`` raise one
  ``PatchError`` (``activation_denied``, exit 2; HTTP 409) before anything changes, and the denial
  is an audit entry (``activation_denied``); rollback stays possible.
- ``world.json`` is checked whole at open: an unknown world or a budget of the wrong type or out
  of its bounds is one ``BadInputError``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from ouroboros.engine import World
from ouroboros.errors import EXIT_BAD_INPUT, BadInputError, KeyringError, LedgerError, PatchError, Reason
from ouroboros.patches import stages
from ouroboros.patches.catalogs import (
    content_summary,
    effective_objects,
    fold_content,
    lint_catalog,
    world_content,
)
from ouroboros.patches.door import Refused, VerifiedBundle, recheck, verify
from ouroboros.patches.keys import Keyring, SigningKey
from ouroboros.patches.killswitch import KillSwitch
from ouroboros.patches.ledger import Ledger
from ouroboros.patches.mirror import read_mirror
from ouroboros.patches.numbers import guardrails_for, legendary_before, machine_made, numbers
from ouroboros.patches.states import State
from ouroboros.patches.trust import KeyringStore
from ouroboros.patches.verdict import REFUSED, Verdict
from ouroboros.patches.witness import Anchoring, Anchors, Witness
from ouroboros.patches.world_file import WORLD_FILE, load_world_settings
from ouroboros.tracing import traced

SYSTEM_ACTOR = "ouroboros"
#: the ledger entries a rollout writes (``rollout.store.KINDS``; a test holds both equal), and the
#: phases in which it is live
ROLLOUT_KINDS = ("rollout_start", "rollout_stage", "rollout_window", "rollout_rollback", "rollout_phase")
_ROLLOUT_LIVE_PHASES = frozenset({"pending", "running", "paused"})


class _ActiveVersion:
    """The version the pointer names when asked (see ``Governor.reference_world``)."""

    def __repr__(self) -> str:
        return "ACTIVE"


#: ``reference_world(ACTIVE)``: the active version; ``reference_world(None)``: the base version.
ACTIVE: Final = _ActiveVersion()


def sandbox_script_checker(language: str, source: str, script_id: str, version: str) -> list[tuple[str, str]]:
    from ouroboros.sandbox import check_script

    return [
        (str(f.code), f.message) for f in check_script(language, source, script_id=script_id, version=version)
    ]


class Governor:
    """Governance over one data folder. See the module docstring."""

    def __init__(
        self,
        data: Path,
        *,
        killswitch_forced: bool = False,
        environ: Mapping[str, str] | None = None,
        clock: Callable[[], datetime] | None = None,
        script_checker: stages.ScriptChecker | None = sandbox_script_checker,
        live_world: World | None = None,
        world_defaults: Mapping[str, Any] | None = None,
        witness: Path | None = None,
        trust_root: str | None = None,
    ) -> None:
        self.data = data
        self.anchors = Anchors.resolve(environ, witness=witness, trust_root=trust_root)
        witnessed = Witness(self.anchors.witness, data) if self.anchors.witness else None
        self.clock = clock
        self.script_checker = script_checker
        self.live_world = live_world
        self.settings = load_world_settings(data, world_defaults)
        self.budgets = stages.Budgets.from_overrides(
            self.settings.get("budgets", {}), f"{WORLD_FILE} budgets"
        )
        try:
            self.ledger = Ledger(data)
        except LedgerError as exc:
            if witnessed is not None:
                witnessed.alert(exc)
            raise
        self.trust = KeyringStore(data, self.ledger)
        self.anchoring = Anchoring(self.anchors, witnessed, self.ledger, self.trust)
        self.ledger.head_signer = self.anchoring.sign_head
        try:
            self.anchoring.check()
        except BaseException:
            self.ledger.close()
            raise
        self.ledger.on_commit = self.anchoring.witness_head
        self.killswitch = KillSwitch(data, self.ledger, forced=killswitch_forced, environ=environ)
        self._forced_recorded = False
        #: why new activations are denied now (``None``: they are not); see the module docstring
        self.activation_gate: Callable[[], str | None] | None = None
        self.recover()

    def close(self) -> None:
        self.ledger.close()

    def __enter__(self) -> Governor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- anchors outside the folder ----------------------------------------------------------------
    def trust_root(self) -> str | None:
        """The folder's trust root (the pin of keyring version 1); ``None`` before founding."""
        return self.anchoring.root()

    # -- settings --------------------------------------------------------------------------------
    @property
    def world_name(self) -> str:
        return str(self.settings["world"])

    # -- keys ------------------------------------------------------------------------------------
    @property
    def keys_dir(self) -> Path:
        return self.data / "keys"

    def keyring(self) -> Keyring:
        """The current keyring, walked from version 1 and pinned by the ledger."""
        return self.trust.current()

    def local_key(self, name_or_path: str) -> SigningKey:
        path = Path(name_or_path)
        if not path.suffix:
            path = self.keys_dir / f"{name_or_path}.key"
        return SigningKey.load(path)

    def new_key(self, name: str, domains: list[str], actor: str = "operator") -> SigningKey:
        """Make a key and trust it (see ``KeyringStore.add_key``)."""
        self._record_forced_switch(actor, "keys new")
        return self.trust.add_key(name, domains, actor, self.anchors.trust_roots)

    # -- the active version ----------------------------------------------------------------------
    def active(self) -> str | None:
        return self.ledger.pointer().active

    def active_content(self) -> dict[str, Any] | None:
        """The stored catalog of the active version (``None``: the base world)."""
        return self.content_of(self.active())

    def content_of(self, version: str | None) -> dict[str, Any] | None:
        """The stored catalog of a version (``None``: the base version, which has none)."""
        if version is None:
            return None
        content = self.ledger.version_content(version)
        if content is None:
            raise PatchError(f"the content of version {version} is not kept", code="version_missing")
        return content

    def reference_world(self, version: str | _ActiveVersion | None = ACTIVE) -> World:
        """The world shadow runs fork: the live one if attached, else the data folder's world built
        fresh at ``version`` and warmed up. ``version`` is a patch id, ``None`` for the base
        version (no patch applied) or ``ACTIVE`` (the default) for whatever is active now."""
        if self.live_world is not None:
            return self.live_world
        from ouroboros.worlds import build_world

        patch_id = self.active() if isinstance(version, _ActiveVersion) else version
        world = build_world(
            self.world_name, int(self.settings.get("seed", 0)), self.settings.get("config", {})
        )
        stages._activate(world, patch_id, world_content(self.content_of(patch_id)))
        world.run(self.budgets.warmup_ticks)
        return world

    def shadow_limits(self, world: World) -> dict[str, dict[str, int]]:
        """The world's shadow limits with ``world.json``'s overrides laid over them, metric by metric."""
        from ouroboros.worlds import spec_of

        limits = {metric: dict(rules) for metric, rules in spec_of(world).shadow_limits.items()}
        for metric, rules in self.budgets.shadow_limits.items():
            limits.setdefault(metric, {}).update(rules)
        return limits

    # -- recovery --------------------------------------------------------------------------------
    def recover(self) -> None:
        """Put a canary left active by a crash or restart back to the permanent version."""
        pointer = self.ledger.pointer()
        if pointer.canary and pointer.active is not None:
            canary = pointer.active
            with self.ledger.transaction(
                SYSTEM_ACTOR, "restart during canary: back to the permanent version"
            ) as tx:
                if self.ledger.state_of(canary) in (State.CANARY,):
                    tx.transition(canary, State.ROLLED_BACK, {"permanent": pointer.permanent})
                tx.set_pointer(pointer.permanent, pointer.permanent, False)
        elif read_mirror(self.data) != pointer.as_dict():
            # Opening the ledger refused a mirror that is missing, unreadable, leads the database
            # or names another head; what is left is one that lags (entries since that moved no
            # pointer, or a crash between a commit and the mirror's rename): brought up to date.
            self.ledger.write_pointer_file()

    # -- the pipeline ----------------------------------------------------------------------------
    def _record_forced_switch(self, actor: str, operation: str) -> None:
        """Record once per process that a change is made under a switch forced at start."""
        ks = self.killswitch
        cause = "flag" if ks.forced_by_flag else "environment" if ks.forced_by_env else None
        if cause is None or self._forced_recorded:
            return
        with self.ledger.transaction(actor, f"kill-switch forced by {cause} for this process") as tx:
            tx.audit("killswitch_forced", {"cause": cause, "operation": operation}, after="engaged")
        self._forced_recorded = True

    def _refuse_if_killed(self, what: str, actor: str = SYSTEM_ACTOR) -> None:
        state = self.killswitch.state()
        if state.engaged:
            self._record_forced_switch(actor, f"refused: no patch is {what}")
            raise PatchError(
                f"kill-switch engaged ({state.cause}): no patch is {what}", code="killswitch_engaged"
            )

    def live_rollout(self) -> tuple[str, str] | None:
        """``(rollout_id, patch_id)`` of the rollout under way, if one is. Only the newest started
        can be (a rollout starts only when none is live); its last entry holds its phase."""
        start = self.ledger.last_entry(ROLLOUT_KINDS[0])
        evidence = start.evidence if start is not None and isinstance(start.evidence, dict) else {}
        rollout_id, patch_id = evidence.get("rollout_id"), start.patch_id if start is not None else None
        if start is None or not isinstance(rollout_id, str) or patch_id is None:
            return None
        last = start
        for kind in ROLLOUT_KINDS:
            for entry in self.ledger.entries(patch_id=patch_id, kind=kind):
                mine = isinstance(entry.evidence, dict) and entry.evidence.get("rollout_id") == rollout_id
                if mine and entry.seq > last.seq:
                    last = entry
        state = last.evidence.get("state") if isinstance(last.evidence, dict) else None
        phase = state.get("phase") if isinstance(state, dict) else None
        return (rollout_id, patch_id) if phase in _ROLLOUT_LIVE_PHASES else None

    def _refuse_if_rolling_out(
        self, what: str, patch_id: str | None = None, rollout_id: str | None = None
    ) -> None:
        """``rollout_live`` unless no rollout is under way, or this is its own last stage."""
        live = self.live_rollout()
        if live is None or (rollout_id is not None and live == (rollout_id, patch_id)):
            return
        own = f"; its last stage approves {live[1]}" if patch_id == live[1] else ""
        error = PatchError(
            f"rollout {live[0]} of {live[1]} is under way: no patch is {what} until it completes, "
            f"rolls back or is aborted{own}",
            code="rollout_live",
        )
        error.exit_code = EXIT_BAD_INPUT  # as the activation gate's refusal: exit 2, HTTP 409
        raise error

    def _refuse_if_gated(self, operation: str, actor: str, patch_id: str | None) -> None:
        why = self.activation_gate() if self.activation_gate is not None else None
        if why is None:
            return
        with self.ledger.transaction(actor, f"activation denied: {why}") as tx:
            tx.audit("activation_denied", {"operation": operation, "cause": why}, patch_id=patch_id)
        error = PatchError(f"activations are denied now: {why}", code="activation_denied")
        error.exit_code = EXIT_BAD_INPUT
        raise error

    @traced("pipeline.submit")
    def submit(
        self, doc: Any, *, actor: str = "operator", dry_run: bool = False, hold: str | None = None
    ) -> Verdict:
        """Run a bundle through the pipeline. See the module docstring for what is recorded.
        ``hold``: why a patch the policy would activate stops at ``validated`` (a staged rollout
        starts from there)."""
        if not dry_run:
            self._refuse_if_killed("ingested", actor)
            self._refuse_if_rolling_out("ingested")
        now = self.clock() if self.clock else None
        patch_id = (
            doc.get("patch_id") if isinstance(doc, dict) and isinstance(doc.get("patch_id"), str) else None
        )
        if not dry_run:
            self._refuse_if_gated("submit", actor, None)
        try:
            keyring = self.keyring()
        except KeyringError as exc:
            return Verdict(
                patch_id,
                State.REJECTED,
                [Reason("integrity", exc.code, "/signatures", exc.message)],
                dry_run=dry_run,
            )
        # the door: integrity, then schema, once each. Neither refusal is recorded: a bundle that
        # is not authentic, or an authentic one with a broken envelope, is junk
        bundle = verify(doc, keyring, self.ledger, self.ledger.pointer().active, self.world_name, now=now)
        if isinstance(bundle, Refused):
            return Verdict(patch_id, State.REJECTED, bundle.reasons, bundle.evidence, dry_run)
        patch_id = bundle.patch_id
        if not dry_run:
            with self.ledger.transaction(actor, "submitted") as tx:
                tx.add_bundle(
                    patch_id,
                    bundle.sequence,
                    bundle.parent_patch_id,
                    bundle.bundle_hash,
                    bundle.as_json(),
                    {"signers": sorted(bundle.signers), "domains": list(bundle.domains)},
                )
        verdict = self._validate(bundle, dry_run)
        if dry_run or verdict.state == State.REJECTED:
            return self._record_rejection(verdict, actor) if not dry_run else verdict
        decision, human = stages.policy(bundle.domains, self.budgets)
        if decision == "human" or verdict.evidence.get("inconclusive") or hold:
            why = (
                f"awaiting human approval for {', '.join(human)}"
                if human
                else "shadow result inconclusive: awaiting a human decision"
                if verdict.evidence.get("inconclusive")
                else str(hold)
            )
            verdict.evidence["awaiting"] = why
            with self.ledger.transaction(actor, why) as tx:
                tx.transition(patch_id, State.VALIDATED, verdict.evidence)
            verdict.state = State.VALIDATED
            return verdict
        with self.ledger.transaction(actor, "validated; policy: automatic") as tx:
            tx.transition(patch_id, State.VALIDATED, verdict.evidence)
        return self._canary_and_activate(bundle, verdict, actor)

    def _validate(self, bundle: VerifiedBundle, dry_run: bool) -> Verdict:
        """The stages after the door: the numbers gate (machine-made bundles), static,
        determinism, shadow. Never raises for the patch's sake: an unexpected failure of a stage
        is a rejection with the code ``internal_error`` (so a recorded draft is always decided)."""
        from ouroboros.worlds import spec_of

        patch_id = bundle.patch_id
        verdict = Verdict(patch_id, State.DRAFT, [], {"integrity": bundle.evidence()}, dry_run)
        stage = "numbers"
        try:
            active = self.active()
            before = self.content_of(active)
            reasons = self._numbers_gate(bundle, active, before) if machine_made(bundle) else []
            if reasons:
                return self._refused(verdict, reasons)
            stage = "static"
            after, _ = fold_content(before, bundle.content)  # its refusals come again from lint
            reference = self.reference_world(active)
            world_problems = spec_of(reference).check_content(reference, bundle.content_json())
            catalog = lint_catalog(self.world_name, before)
            reasons = stages.static(bundle.content, catalog, world_problems, self.script_checker)
            if reasons:
                return self._refused(verdict, reasons)
            stage = "determinism"
            reasons, det_evidence = stages.determinism(
                reference, patch_id, world_content(after), self.budgets
            )
            verdict.evidence["determinism"] = det_evidence
            if reasons:
                return self._refused(verdict, reasons)
            stage = "shadow"
            shadow = stages.shadow(
                reference,
                patch_id,
                world_content(after),
                spec_of(reference).shadow_metrics,
                self.shadow_limits(reference),
                self.budgets.shadow_ticks,
            )
            verdict.evidence["shadow"] = shadow.evidence
            if shadow.reasons:
                return self._refused(verdict, shadow.reasons)
            if shadow.inconclusive:
                verdict.evidence["inconclusive"] = shadow.inconclusive
        except Exception as exc:  # any failure of ours must still decide the patch
            message = f"the {stage} stage failed: {type(exc).__name__}: {exc}"
            return self._refused(verdict, [Reason(stage, "internal_error", "", message)])
        verdict.effective = after
        verdict.evidence["effective_content"] = content_summary(after)
        verdict.state = State.VALIDATED
        return verdict

    def _numbers_gate(
        self, bundle: VerifiedBundle, active: str | None, before: dict[str, Any] | None
    ) -> list[Reason]:
        """The guardrails' numbers on a machine-made bundle (``patches.numbers``)."""
        try:
            guardrails = guardrails_for(self.data)
        except BadInputError as exc:
            message = (
                f"the guardrails in force do not parse, so no machine-made patch is taken: {exc.message}"
            )
            return [Reason("numbers", "guardrails_unreadable", "/", message)]
        rooms = effective_objects(self.world_name, before).get("rooms", {})
        history = legendary_before(self.ledger, active)
        return numbers(bundle, guardrails, known_rooms=rooms, legendary_so_far=history)

    @staticmethod
    def _refused(verdict: Verdict, reasons: list[Reason]) -> Verdict:
        verdict.reasons, verdict.state = reasons, State.REJECTED
        return verdict

    def _record_rejection(self, verdict: Verdict, actor: str) -> Verdict:
        if verdict.patch_id is None or not verdict.reasons:
            raise PatchError("a recorded rejection needs a patch id and a reason", code="internal_error")
        with self.ledger.transaction(actor, verdict.reasons[0].message) as tx:
            tx.transition(
                verdict.patch_id,
                State.REJECTED,
                {"reasons": [r.as_dict() for r in verdict.reasons], **verdict.evidence},
            )
        return verdict

    def _killswitch_refusal(self, when: str) -> Reason | None:
        state = self.killswitch.state()
        if not state.engaged:
            return None
        return Reason("policy", "killswitch_engaged", "", f"kill-switch engaged ({state.cause}) {when}")

    def _canary_and_activate(self, bundle: VerifiedBundle, verdict: Verdict, actor: str) -> Verdict:
        from ouroboros.worlds import spec_of

        patch_id, parent = bundle.patch_id, bundle.parent_patch_id
        after = verdict.effective
        if after is None:  # approved later by a person: fold again onto the (unchanged) parent
            after, fold_reasons = fold_content(self.content_of(parent), bundle.content)
            if fold_reasons:
                return self._record_rejection(self._refused(verdict, fold_reasons), actor)
        with self.ledger.transaction(actor, "canary") as tx:
            # read inside the transaction: nobody can engage the switch or move the pointer meanwhile
            old = self.ledger.pointer()
            refusal = self._killswitch_refusal("before the canary: not activated")
            if refusal is None and old.active != parent:
                refusal = Reason(
                    "policy",
                    "stale_parent",
                    "/parent_patch_id",
                    f"the active version moved to {old.active or 'base'} since this patch was validated",
                )
            if refusal is not None:
                tx.transition(
                    patch_id, State.REJECTED, {"reasons": [refusal.as_dict()]}, reason=refusal.message
                )
            else:
                tx.transition(patch_id, State.CANARY, {"permanent": old.permanent})
                tx.store_version(patch_id, self.ledger.sequence_of(patch_id) or 0, after)
                tx.set_pointer(patch_id, old.permanent, True)
        if refusal is not None:
            return self._refused(verdict, [refusal])
        try:
            reference = self.reference_world(old.active)  # the parent: None is the base version
            canary = stages.shadow(
                reference,
                patch_id,
                world_content(after),
                spec_of(reference).shadow_metrics,
                self.shadow_limits(reference),
                self.budgets.canary_ticks,
                stage="canary",
            )
        except Exception as exc:  # the canary could not even start: it did not pass
            message = f"the canary stage failed: {type(exc).__name__}: {exc}"
            canary = stages.ShadowResult([Reason("canary", "internal_error", "", message)], [], {})
        verdict.evidence["canary"] = canary.evidence
        if canary.reasons:
            with self.ledger.transaction(actor, "canary failed") as tx:
                tx.transition(patch_id, State.REJECTED, {"reasons": [r.as_dict() for r in canary.reasons]})
                tx.set_pointer(old.permanent, old.permanent, False)
            return self._refused(verdict, canary.reasons)
        return self._make_permanent(patch_id, verdict, actor)

    def _make_permanent(self, patch_id: str, verdict: Verdict, actor: str) -> Verdict:
        """The canary passed: approved, active, the previous version superseded — one transaction,
        one pointer move. A kill-switch engaged meanwhile rolls the canary back instead."""
        with self.ledger.transaction(actor, "canary passed") as tx:
            pointer = self.ledger.pointer()
            refusal = self._killswitch_refusal(
                f"during the canary: back to {pointer.permanent or 'the base version'}"
            )
            if refusal is not None:
                tx.transition(
                    patch_id,
                    State.ROLLED_BACK,
                    {"reasons": [refusal.as_dict()], "permanent": pointer.permanent},
                    reason=refusal.message,
                )
                tx.set_pointer(pointer.permanent, pointer.permanent, False)
            else:
                tx.transition(patch_id, State.APPROVED)
                tx.transition(patch_id, State.ACTIVE)
                if pointer.permanent is not None and pointer.permanent != patch_id:
                    tx.transition(pointer.permanent, State.SUPERSEDED, {"by": patch_id})
                tx.set_pointer(patch_id, patch_id, False)
        if refusal is not None:
            verdict.reasons, verdict.state = [refusal], State.ROLLED_BACK
            return verdict
        verdict.state = State.ACTIVE
        return verdict

    # -- people ----------------------------------------------------------------------------------
    @traced("pipeline.approve")
    def approve(self, patch_id: str, actor: str, reason: str, *, rollout_id: str | None = None) -> Verdict:
        """A person approves a validated patch: its integrity is checked again (expiry, keys),
        then it goes through the canary and becomes active. ``rollout_id``: the live rollout of
        this patch, whose last stage this approval is (no other approval while one is live)."""
        self._refuse_if_killed("approved", actor)
        state = self.ledger.state_of(patch_id)
        if state is None:
            raise BadInputError(f"unknown patch {patch_id}")
        self._refuse_if_rolling_out("approved", patch_id, rollout_id)
        if state != State.VALIDATED:
            raise PatchError(
                f"patch {patch_id} is {state}; only a validated patch can be approved",
                code="illegal_transition",
            )
        self._refuse_if_gated("approve", actor, patch_id)
        self._record_forced_switch(actor, "approve")
        now = self.clock() if self.clock else None
        bundle = recheck(self.ledger.bundle(patch_id), self.keyring(), self.world_name, now=now)
        if isinstance(bundle, Refused):
            return self._record_rejection(Verdict(patch_id, State.REJECTED, bundle.reasons), actor)
        parent = bundle.parent_patch_id
        if parent != self.active():
            verdict = Verdict(
                patch_id,
                State.REJECTED,
                [
                    Reason(
                        "policy",
                        "stale_parent",
                        "/parent_patch_id",
                        f"the active version moved to {self.active()} since this patch was validated",
                    )
                ],
            )
            return self._record_rejection(verdict, actor)
        verdict = Verdict(patch_id, State.VALIDATED, [], {"approved_by": actor, "approval_reason": reason})
        return self._canary_and_activate(bundle, verdict, actor)

    def reject(self, patch_id: str, actor: str, reason: str) -> Verdict:
        state = self.ledger.state_of(patch_id)
        if state is None:
            raise BadInputError(f"unknown patch {patch_id}")
        verdict = Verdict(patch_id, State.REJECTED, [Reason("policy", "rejected_by_human", "", reason)])
        self._record_forced_switch(actor, "reject")
        with self.ledger.transaction(actor, reason) as tx:
            tx.transition(patch_id, State.REJECTED, {"by": actor})
        return verdict

    def rollback(
        self, actor: str, reason: str, to: str | None = None, *, to_base: bool = False
    ) -> dict[str, Any]:
        """Go back to a known-good version on the active lineage (default: the one before)."""
        self._record_forced_switch(actor, "rollback")
        pointer = self.ledger.pointer()
        current = pointer.active
        if current is None:
            raise PatchError(
                "nothing to roll back: the world runs its base version", code="nothing_to_roll_back"
            )
        lineage = []  # current, parent, grandparent, … (None at the base)
        node: str | None = current
        while node is not None:
            lineage.append(node)
            node = self.ledger.parent_of(node)
        if to_base:
            target = None
        elif to is None:
            target = self.ledger.parent_of(current)
        else:
            target = to
        if target is not None and (
            target not in lineage[1:]
            or self.ledger.version_content(target) is None
            or self.ledger.state_of(target) != State.SUPERSEDED
        ):
            raise PatchError(
                f"{target} is not a known-good version before {current} whose content is kept",
                code="bad_rollback_target",
            )
        undone = lineage[: lineage.index(target)] if target is not None else lineage
        with self.ledger.transaction(actor, reason) as tx:
            for patch_id in undone:
                tx.transition(patch_id, State.ROLLED_BACK, {"rollback_to": target})
            if target is not None:
                tx.transition(target, State.ACTIVE, {"rollback_from": current})
            tx.audit(
                "rollback",
                {"from": current, "to": target, "undone": undone},
                before=current,
                after=target or "base",
            )
            tx.set_pointer(target, target, False)
        return {"from": current, "to": target, "undone": undone}


__all__ = ["ACTIVE", "REFUSED", "Governor", "Verdict", "fold_content"]
