"""The governor: the I/O shell around the pipeline for one data folder. Trust enters through here.

A data folder holds ``world.json`` (which world, seed and config the patches are for, and any
budget overrides), ``ledger.sqlite3`` (the ledger and the active pointer), ``active.json`` (the
pointer's mirror), ``control.json`` (the kill-switch), ``keyrings/N.json`` (every keyring
version; trust is walked from version 1 through each rotation) and ``keys/`` (private keys made
here, ``0600``).

What it promises:

- Nothing reaches the ledger before it is authenticated: a bundle that fails integrity is
  refused with its reasons and leaves the ledger exactly as it was. An authenticated bundle is
  recorded as a draft and every later stage's verdict is a recorded transition.
- Activation and rollback are one ledger transaction each (states, pointer and audit entry
  together); a running world applies the new pointer at its next tick boundary.
- A canary is not durable: opening a folder whose pointer is on a canary puts it back on the last
  permanent version and records the canary as rolled back.
- While the kill-switch is engaged nothing is ingested, approved or activated (a dry run may
  still validate); rollback to a known-good version stays possible.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from ouroboros.engine import World
from ouroboros.errors import BadInputError, KeyringError, OuroborosError, PatchError, Reason
from ouroboros.patches import stages
from ouroboros.patches.atomic import write_atomic
from ouroboros.patches.bundle import touched_domains
from ouroboros.patches.canonical import canonical_bytes, load_json
from ouroboros.patches.keys import Keyring, SigningKey
from ouroboros.patches.killswitch import KillSwitch
from ouroboros.patches.ledger import Ledger
from ouroboros.patches.states import State

WORLD_FILE = "world.json"
DEFAULT_WORLD = {"world": "petri", "seed": 0, "config": {"entities": 300}}
SYSTEM_ACTOR = "ouroboros"


@dataclass
class Verdict:
    """What became of a submitted (or approved) patch: its state, the reasons it was refused or
    held, and the evidence the stages measured."""

    patch_id: str | None
    state: str
    reasons: list[Reason] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return self.state not in (State.REJECTED, State.ROLLED_BACK)

    def as_dict(self) -> dict[str, Any]:
        return {
            "patch_id": self.patch_id,
            "state": str(self.state),
            "dry_run": self.dry_run,
            "reasons": [r.as_dict() for r in self.reasons],
            "evidence": self.evidence,
        }


# -- content folding: one place that knows the content layer's catalog ---------------------------
def load_catalog(stored: Mapping[str, Any] | None) -> Any:
    """The ``Catalog`` a version's stored form describes (``None``: the base world, empty)."""
    from ouroboros.content import Catalog

    return Catalog.from_dict(dict(stored)) if stored else Catalog.empty()


def world_content(stored: Mapping[str, Any] | None) -> dict[str, Any]:
    """What a world is given for a version: every object of its catalog, as plain JSON."""
    return dict(stored["objects"]) if stored else {}


def fold_content(stored: Mapping[str, Any] | None, patch_content: Any) -> tuple[dict[str, Any], list[Reason]]:
    """The stored form of the version a patch makes, and the reasons the fold refuses (versions
    that do not increase, removals of unknown ids)."""
    catalog = load_catalog(stored)
    folded, reasons = catalog.apply(patch_content)
    return folded.to_dict(), [Reason("static", r.code, r.path, r.message) for r in reasons]


def sandbox_script_checker(language: str, source: str, script_id: str, version: str) -> list[tuple[str, str]]:
    from ouroboros.sandbox.checks import check_script

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
    ) -> None:
        self.data = data
        self.clock = clock
        self.script_checker = script_checker
        self.live_world = live_world
        self.settings = self._load_world_settings(world_defaults)
        self.budgets = self._budgets(self.settings.get("budgets", {}))
        self.ledger = Ledger(data)
        self.killswitch = KillSwitch(data, self.ledger, forced=killswitch_forced, environ=environ)
        self.recover()

    def close(self) -> None:
        self.ledger.close()

    def __enter__(self) -> Governor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- settings --------------------------------------------------------------------------------
    def _load_world_settings(self, defaults: Mapping[str, Any] | None) -> dict[str, Any]:
        path = self.data / WORLD_FILE
        if path.exists():
            doc = load_json(path.read_bytes(), str(path))
            if not isinstance(doc, dict) or not isinstance(doc.get("world"), str):
                raise BadInputError(f"{path} must name a world")
            if not isinstance(doc.get("seed", 0), int) or not isinstance(doc.get("config", {}), dict):
                raise BadInputError(f"{path}: seed must be an integer and config an object")
            return doc
        self.data.mkdir(parents=True, exist_ok=True)
        doc = dict(defaults or DEFAULT_WORLD)
        write_atomic(path, canonical_bytes(doc) + b"\n")
        return doc

    @staticmethod
    def _budgets(overrides: Any) -> stages.Budgets:
        if not isinstance(overrides, dict):
            raise BadInputError("world.json budgets must be an object")
        known = {f.name for f in fields(stages.Budgets)}
        unknown = set(overrides) - known
        if unknown:
            raise BadInputError(f"unknown budgets {sorted(unknown)}")
        values = dict(overrides)
        if "human_domains" in values:
            values["human_domains"] = frozenset(values["human_domains"])
        return replace(stages.Budgets(), **values)

    @property
    def world_name(self) -> str:
        return str(self.settings["world"])

    # -- keys ------------------------------------------------------------------------------------
    @property
    def keys_dir(self) -> Path:
        return self.data / "keys"

    def keyring(self) -> Keyring:
        """The current keyring, trusted by walking every rotation from version 1."""
        folder = self.data / "keyrings"
        versions = (
            sorted(int(p.stem) for p in folder.glob("*.json") if p.stem.isdigit()) if folder.exists() else []
        )
        if not versions:
            raise KeyringError(
                f"no keyring in {self.data}: make a key first (ouroboros keys new NAME)", code="no_keyring"
            )
        if versions != list(range(1, len(versions) + 1)):
            raise KeyringError(f"keyring versions in {folder} are not 1..N", code="keyring_version")
        ring = Keyring.trust_first(load_json((folder / "1.json").read_bytes(), "keyring 1"))
        for version in versions[1:]:
            ring = ring.rotate(load_json((folder / f"{version}.json").read_bytes(), f"keyring {version}"))
        return ring

    def local_key(self, name_or_path: str) -> SigningKey:
        path = Path(name_or_path)
        if not path.suffix:
            path = self.keys_dir / f"{name_or_path}.key"
        return SigningKey.load(path)

    def new_key(self, name: str, domains: list[str], actor: str = "operator") -> SigningKey:
        """Make a key and trust it: the first key founds keyring version 1; later keys rotate the
        keyring, signed by this folder's own keys that the current keyring trusts."""
        import re

        from ouroboros.patches.keys import KEY_NAME_PATTERN

        if not re.fullmatch(KEY_NAME_PATTERN, name):
            raise BadInputError(f"key name must match {KEY_NAME_PATTERN}")
        if not domains:
            raise BadInputError("a key needs at least one domain ('*' for all)")
        self.keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self.keys_dir / f"{name}.key"
        if path.exists():
            raise BadInputError(f"a key named {name} already exists")
        key = SigningKey.generate(name)
        folder = self.data / "keyrings"
        folder.mkdir(exist_ok=True)
        if not any(folder.glob("*.json")):
            doc = Keyring.unsigned(1, {key.keyid: key.public_entry(domains)})
            doc = Keyring.sign_document(doc, key)
            Keyring.trust_first(doc)
            key.save(path)
            write_atomic(folder / "1.json", canonical_bytes(doc) + b"\n")
        else:
            old = self.keyring()
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
            key.save(path)
            write_atomic(folder / f"{old.version + 1}.json", canonical_bytes(doc) + b"\n")
        with self.ledger.transaction(actor, f"trust key {name}") as tx:
            tx.audit("keyring", {"keyid": key.keyid, "name": name, "domains": sorted(domains)})
        return key

    # -- the active version ----------------------------------------------------------------------
    def active(self) -> str | None:
        return self.ledger.pointer().active

    def active_content(self) -> dict[str, Any] | None:
        """The stored catalog of the active version (``None``: the base world)."""
        active = self.active()
        if active is None:
            return None
        content = self.ledger.version_content(active)
        if content is None:
            raise PatchError(f"the content of active version {active} is not kept", code="version_missing")
        return content

    def reference_world(self, stored: Mapping[str, Any] | None = None, patch_id: str | None = None) -> World:
        """The world shadow runs fork: the live one if attached, else the data folder's world built
        fresh at the active version and warmed up."""
        if self.live_world is not None:
            return self.live_world
        from ouroboros.worlds import build_world

        world = build_world(
            self.world_name, int(self.settings.get("seed", 0)), self.settings.get("config", {})
        )
        if stored is None:
            stored, patch_id = self.active_content(), self.active()
        stages._activate(world, patch_id, world_content(stored))
        world.run(self.budgets.warmup_ticks)
        return world

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
        else:
            # the mirror may be stale or torn after a crash; the database is the truth
            try:
                mirror = load_json((self.data / "active.json").read_bytes())
            except (OSError, OuroborosError):
                mirror = None
            if mirror != pointer.as_dict():
                self.ledger.write_pointer_file()

    # -- the pipeline ----------------------------------------------------------------------------
    def _refuse_if_killed(self, what: str) -> None:
        state = self.killswitch.state()
        if state.engaged:
            raise PatchError(
                f"kill-switch engaged ({state.cause}): no patch is {what}", code="killswitch_engaged"
            )

    def submit(self, doc: Any, *, actor: str = "operator", dry_run: bool = False) -> Verdict:
        """Run a bundle through the pipeline. See the module docstring for what is recorded."""
        if not dry_run:
            self._refuse_if_killed("ingested")
        now = self.clock() if self.clock else None
        patch_id = (
            doc.get("patch_id") if isinstance(doc, dict) and isinstance(doc.get("patch_id"), str) else None
        )
        try:
            keyring = self.keyring()
        except KeyringError as exc:
            return Verdict(
                patch_id,
                State.REJECTED,
                [Reason("integrity", exc.code, "/signatures", exc.message)],
                dry_run=dry_run,
            )
        pointer = self.ledger.pointer()
        reasons, evidence = stages.integrity(doc, keyring, self.ledger, pointer.active, now)
        if reasons:
            return Verdict(patch_id, State.REJECTED, reasons, evidence, dry_run)
        assert patch_id is not None  # integrity passed, so the id is the bundle's own hash
        domains = touched_domains(doc.get("content"))
        schema_reasons, _ = stages.schema(doc, self.world_name)
        if schema_reasons:  # not recorded: an authentic bundle with a broken envelope is still junk
            return Verdict(patch_id, State.REJECTED, schema_reasons, {"integrity": evidence}, dry_run)
        if not dry_run:
            with self.ledger.transaction(actor, "submitted") as tx:
                tx.add_bundle(
                    patch_id,
                    doc["sequence"],
                    doc.get("parent_patch_id"),
                    evidence["bundle_hash"],
                    doc,
                    {"signers": evidence["signers"], "domains": domains},
                )
        verdict = self._validate(doc, patch_id, evidence, dry_run)
        if dry_run or verdict.state == State.REJECTED:
            return self._record_rejection(verdict, actor) if not dry_run else verdict
        decision, human = stages.policy(domains, self.budgets)
        if decision == "human" or verdict.evidence.get("inconclusive"):
            why = (
                f"awaiting human approval for {', '.join(human)}"
                if human
                else "shadow result inconclusive: awaiting a human decision"
            )
            verdict.evidence["awaiting"] = why
            with self.ledger.transaction(actor, why) as tx:
                tx.transition(patch_id, State.VALIDATED, _small(verdict.evidence))
            verdict.state = State.VALIDATED
            return verdict
        with self.ledger.transaction(actor, "validated; policy: automatic") as tx:
            tx.transition(patch_id, State.VALIDATED, _small(verdict.evidence))
        return self._canary_and_activate(patch_id, verdict, actor)

    def _validate(
        self, doc: dict[str, Any], patch_id: str, evidence: dict[str, Any], dry_run: bool
    ) -> Verdict:
        verdict = Verdict(patch_id, State.DRAFT, [], {"integrity": evidence}, dry_run)
        reasons, envelope = stages.schema(doc, self.world_name)
        if reasons:
            verdict.reasons, verdict.state = reasons, State.REJECTED
            return verdict
        before = self.active_content()
        after, _ = fold_content(before, envelope.content)  # its refusals come again from lint
        reference = self.reference_world(before, self.active())
        from ouroboros.worlds import spec_of

        content_dict = doc["content"]
        world_problems = spec_of(reference).check_content(reference, content_dict)
        reasons = stages.static(envelope.content, load_catalog(before), world_problems, self.script_checker)
        if reasons:
            verdict.reasons, verdict.state = reasons, State.REJECTED
            return verdict
        reasons, det_evidence = stages.determinism(reference, patch_id, world_content(after), self.budgets)
        verdict.evidence["determinism"] = det_evidence
        if reasons:
            verdict.reasons, verdict.state = reasons, State.REJECTED
            return verdict
        shadow = stages.shadow(
            reference, patch_id, world_content(after), spec_of(reference).shadow_metrics, self.budgets
        )
        verdict.evidence["shadow"] = shadow.evidence
        if shadow.reasons:
            verdict.reasons, verdict.state = shadow.reasons, State.REJECTED
            return verdict
        if shadow.inconclusive:
            verdict.evidence["inconclusive"] = shadow.inconclusive
        verdict.evidence["effective_content"] = after
        verdict.state = State.VALIDATED
        return verdict

    def _record_rejection(self, verdict: Verdict, actor: str) -> Verdict:
        assert verdict.patch_id is not None
        with self.ledger.transaction(actor, verdict.reasons[0].message) as tx:
            tx.transition(
                verdict.patch_id,
                State.REJECTED,
                {"reasons": [r.as_dict() for r in verdict.reasons], **_small(verdict.evidence)},
            )
        return verdict

    def _canary_and_activate(self, patch_id: str, verdict: Verdict, actor: str) -> Verdict:
        after = verdict.evidence.pop("effective_content", None)
        if after is None:  # approved later by a person: fold again onto the (unchanged) parent
            from ouroboros.content import parse_content

            doc = self.ledger.bundle(patch_id) or {}
            after, fold_reasons = fold_content(self.active_content(), parse_content(doc.get("content")))
            if fold_reasons:
                raise PatchError(fold_reasons[0].message, code=fold_reasons[0].code)
        old = self.ledger.pointer()
        with self.ledger.transaction(actor, "canary") as tx:
            tx.transition(patch_id, State.CANARY, {"permanent": old.permanent})
            tx.store_version(patch_id, self.ledger.sequence_of(patch_id) or 0, after)
            tx.set_pointer(patch_id, old.permanent, True)
        from ouroboros.worlds import spec_of

        reference = self.reference_world(
            self.ledger.version_content(old.active) if old.active else None, old.active
        )
        canary = stages.shadow(
            reference,
            patch_id,
            world_content(after),
            spec_of(reference).shadow_metrics,
            self.budgets,
            ticks=self.budgets.canary_ticks,
            stage="canary",
        )
        verdict.evidence["canary"] = canary.evidence
        if canary.reasons:
            verdict.reasons, verdict.state = canary.reasons, State.REJECTED
            with self.ledger.transaction(actor, "canary failed") as tx:
                tx.transition(patch_id, State.REJECTED, {"reasons": [r.as_dict() for r in canary.reasons]})
                tx.set_pointer(old.permanent, old.permanent, False)
            return verdict
        self.activate(patch_id, actor, "canary passed")
        verdict.state = State.ACTIVE
        return verdict

    def activate(self, patch_id: str, actor: str, reason: str) -> None:
        """Make a canary permanent: approved, active, the previous version superseded — one
        transaction, one pointer move."""
        self._refuse_if_killed("activated")
        pointer = self.ledger.pointer()
        with self.ledger.transaction(actor, reason) as tx:
            tx.transition(patch_id, State.APPROVED)
            tx.transition(patch_id, State.ACTIVE)
            if pointer.permanent is not None and pointer.permanent != patch_id:
                tx.transition(pointer.permanent, State.SUPERSEDED, {"by": patch_id})
            tx.set_pointer(patch_id, patch_id, False)

    # -- people ----------------------------------------------------------------------------------
    def approve(self, patch_id: str, actor: str, reason: str) -> Verdict:
        """A person approves a validated patch: it goes through the canary and becomes active."""
        self._refuse_if_killed("approved")
        state = self.ledger.state_of(patch_id)
        if state is None:
            raise BadInputError(f"unknown patch {patch_id}")
        if state != State.VALIDATED:
            raise PatchError(
                f"patch {patch_id} is {state}; only a validated patch can be approved",
                code="illegal_transition",
            )
        parent = self.ledger.parent_of(patch_id)
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
        return self._canary_and_activate(patch_id, verdict, actor)

    def reject(self, patch_id: str, actor: str, reason: str) -> Verdict:
        state = self.ledger.state_of(patch_id)
        if state is None:
            raise BadInputError(f"unknown patch {patch_id}")
        verdict = Verdict(patch_id, State.REJECTED, [Reason("policy", "rejected_by_human", "", reason)])
        with self.ledger.transaction(actor, reason) as tx:
            tx.transition(patch_id, State.REJECTED, {"by": actor})
        return verdict

    def rollback(
        self, actor: str, reason: str, to: str | None = None, *, to_base: bool = False
    ) -> dict[str, Any]:
        """Go back to a known-good version on the active lineage (default: the one before)."""
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


def _small(evidence: Mapping[str, Any]) -> dict[str, Any]:
    """Evidence worth keeping in the ledger (the effective content is kept elsewhere)."""
    return {k: v for k, v in evidence.items() if k != "effective_content"}


__all__ = ["Governor", "Verdict", "fold_content"]
