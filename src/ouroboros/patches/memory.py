"""An in-memory governor: the governor's interface over memory, for a process that changes a world
with no data folder — ``ouroboros evolve``, the experiments, tests.

It keeps the rule the real one keeps: a change is a signed bundle, and only the active pointer,
followed at a tick boundary, reaches a world. What it promises:

- ``submit(doc)`` runs the pipeline's own integrity (hash, signatures against the keys made here,
  lineage, freshness), schema and static stages (content lint and references against the active
  catalog, the world's own refusals, the sandbox's script checks) and refuses with their reasons
  as data; an accepted bundle becomes the active version at once. It runs no determinism, shadow
  or canary stage and asks no person: whoever submits here evaluated the change on forks of the
  world already (the evolution cascade), and nothing here is durable.
- The kill-switch is honoured like the real one: engaged, nothing is ingested (``PatchError``,
  ``killswitch_engaged``).
- What it holds is bounded: the bundle and content of the newest ``KEEP_VERSIONS`` versions; an
  older one keeps its id, sequence and parent (so it is never taken twice) but cannot be rolled
  back to.
- Time stands still unless a ``clock`` is given (``now`` is ``EPOCH``), so bundles made against
  it (``bundle_on_active(..., now=governor.clock())``) and so a run are deterministic for a seed.
- Nothing here writes a world: ``follower()`` is the ``PointerFollower`` of this governor — at a
  tick boundary it queues ``gameplay.activate`` with the active version's content when the world
  runs another version; the engine applies it at the next tick boundary.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ouroboros.engine import World
from ouroboros.errors import BadInputError, PatchError, Reason
from ouroboros.patches import stages
from ouroboros.patches.bundle import touched_domains
from ouroboros.patches.catalogs import content_summary, fold_content, lint_catalog, world_content
from ouroboros.patches.entries import Pointer
from ouroboros.patches.keys import DEFAULT_THRESHOLDS, Keyring, SigningKey
from ouroboros.patches.killswitch import KillSwitchState
from ouroboros.patches.states import State

#: the instant an in-memory governor's time stands still at (unless given a clock)
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
#: versions whose bundle and content are kept (the newest); older ones keep their id and lineage
KEEP_VERSIONS = 8


@dataclass
class _Patch:
    doc: dict[str, Any]
    sequence: int
    parent: str | None
    state: State
    stored: dict[str, Any] | None = None  # the version's whole effective catalog, once active


@dataclass
class MemoryLedger:
    """What the governor's callers read of its ledger (``pointer``, lineage, kept versions)."""

    patches: dict[str, _Patch] = field(default_factory=dict)
    active: str | None = None
    #: migration reports and rollbacks, the newest ``KEEP_VERSIONS`` * 4 (``{"kind", ...}``)
    entries: list[dict[str, Any]] = field(default_factory=list)

    #: how many changes this ledger saw (its head)
    seq: int = 0

    def add_entry(self, entry: dict[str, Any]) -> None:
        self.seq += 1
        self.entries.append(entry)
        del self.entries[: max(0, len(self.entries) - KEEP_VERSIONS * 4)]

    def pointer(self) -> Pointer:
        return Pointer(self.active, self.active, False, self.seq, "")

    def known(self, patch_id: str) -> bool:
        return patch_id in self.patches

    def sequence_of(self, patch_id: str) -> int | None:
        patch = self.patches.get(patch_id)
        return None if patch is None else patch.sequence

    def parent_of(self, patch_id: str) -> str | None:
        patch = self.patches.get(patch_id)
        return None if patch is None else patch.parent

    def state_of(self, patch_id: str) -> State | None:
        patch = self.patches.get(patch_id)
        return None if patch is None else patch.state

    def ever_active(self, patch_id: str) -> bool:
        patch = self.patches.get(patch_id)
        return patch is not None and patch.state in (State.ACTIVE, State.SUPERSEDED)

    def bundle(self, patch_id: str) -> dict[str, Any] | None:
        patch = self.patches.get(patch_id)
        return patch.doc if patch is not None and patch.doc else None

    def version_content(self, patch_id: str) -> dict[str, Any] | None:
        patch = self.patches.get(patch_id)
        return None if patch is None else patch.stored


class MemoryKillSwitch:
    """The kill-switch's interface, in memory."""

    def __init__(self) -> None:
        self._state = KillSwitchState(False, "control file")

    def state(self) -> KillSwitchState:
        return self._state

    def engaged(self) -> bool:
        return self._state.engaged

    def set(self, engaged: bool, actor: str, reason: str) -> KillSwitchState:
        self._state = KillSwitchState(bool(engaged), "control file", actor, reason)
        return self._state


class MemoryGovernor:
    """The governor's interface over memory. See the module docstring."""

    def __init__(
        self,
        world_name: str,
        *,
        live_world: World | None = None,
        clock: Callable[[], datetime] | None = None,
        script_checker: stages.ScriptChecker | None = None,
    ) -> None:
        from ouroboros.patches.governor import sandbox_script_checker
        from ouroboros.worlds import world_spec

        world_spec(world_name)  # WorldError for an unknown world
        self.world_name = world_name
        self.settings: dict[str, Any] = {"world": world_name}
        self.live_world = live_world
        self.clock: Callable[[], datetime] = clock or (lambda: EPOCH)
        self.script_checker = script_checker or sandbox_script_checker
        self.ledger = MemoryLedger()
        self.killswitch = MemoryKillSwitch()
        self._keys: dict[str, tuple[SigningKey, list[str]]] = {}

    @classmethod
    def for_world(cls, world: World, **options: Any) -> MemoryGovernor:
        """A governor for ``world`` (its world's name; it reads the live world for content checks)."""
        return cls(str(world.meta.get("world")), live_world=world, **options)

    def close(self) -> None:
        return None

    def __enter__(self) -> MemoryGovernor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- keys ------------------------------------------------------------------------------------
    def keyring(self) -> Keyring:
        entries = {key.keyid: key.public_entry(domains) for key, domains in self._keys.values()}
        if not entries:
            raise BadInputError("this governor has no key yet")
        return Keyring(Keyring.unsigned(1, entries, DEFAULT_THRESHOLDS))

    def local_key(self, name_or_path: str) -> SigningKey:
        held = self._keys.get(name_or_path)
        if held is None:
            raise BadInputError(f"no key named {name_or_path} in this governor")
        return held[0]

    def new_key(self, name: str, domains: list[str], actor: str = "operator") -> SigningKey:
        if name in self._keys:
            raise BadInputError(f"a key named {name} already exists")
        if not domains:
            raise BadInputError("a key needs at least one domain ('*' for all)")
        key = SigningKey.generate(name)
        self._keys[name] = (key, list(domains))
        return key

    # -- the active version ----------------------------------------------------------------------
    def active(self) -> str | None:
        return self.ledger.active

    def active_content(self) -> dict[str, Any] | None:
        return self.content_of(self.active())

    def content_of(self, version: str | None) -> dict[str, Any] | None:
        if version is None:
            return None
        content = self.ledger.version_content(version)
        if content is None:
            raise PatchError(f"the content of version {version} is not kept", code="version_missing")
        return content

    # -- the pipeline ----------------------------------------------------------------------------
    def submit(
        self, doc: Any, *, actor: str = "operator", dry_run: bool = False, hold: str | None = None
    ) -> Any:
        """Integrity, schema and static; an accepted bundle is active at once (see the module).
        ``hold`` (the real governor's: stop at ``validated`` for a staged rollout) is refused:
        nothing is staged in memory."""
        if hold is not None:
            raise PatchError("a memory governor stages nothing: no rollout here", code="no_rollout")
        from ouroboros.patches.governor import Verdict
        from ouroboros.worlds import world_spec

        if not dry_run and self.killswitch.engaged():
            raise PatchError("kill-switch engaged: no patch is ingested", code="killswitch_engaged")
        patch_id = doc.get("patch_id") if isinstance(doc, Mapping) else None
        patch_id = patch_id if isinstance(patch_id, str) else None
        try:
            keyring = self.keyring()
        except BadInputError as exc:
            return Verdict(
                patch_id, State.REJECTED, [Reason("integrity", exc.code, "/signatures", exc.message)]
            )
        active = self.active()
        reasons, evidence = stages.integrity(doc, keyring, self.ledger, active, self.clock())
        if not reasons:
            reasons, envelope = stages.schema(doc, self.world_name)
        if not reasons:
            before = self.content_of(active)
            after, _ = fold_content(before, envelope.content)  # its refusals come again from lint
            problems: list[tuple[str, str, str]] = []
            if self.live_world is not None:
                problems = world_spec(self.world_name).check_content(self.live_world, doc["content"])
            catalog = lint_catalog(self.world_name, before)
            reasons = stages.static(envelope.content, catalog, problems, self.script_checker)
        if reasons or patch_id is None:
            return Verdict(patch_id, State.REJECTED, reasons, {"integrity": evidence}, dry_run)
        verdict = Verdict(patch_id, State.VALIDATED, [], {"integrity": evidence}, dry_run, effective=after)
        verdict.evidence["effective_content"] = content_summary(after)
        verdict.evidence["domains"] = touched_domains(doc.get("content"))
        if dry_run:
            return verdict
        if active is not None:
            self.ledger.patches[active].state = State.SUPERSEDED
        self.ledger.patches[patch_id] = _Patch(dict(doc), doc["sequence"], active, State.ACTIVE, after)
        self.ledger.active = patch_id
        self.ledger.seq += 1
        for old in list(self.ledger.patches)[:-KEEP_VERSIONS]:
            self.ledger.patches[old].doc, self.ledger.patches[old].stored = {}, None
        verdict.state = State.ACTIVE
        return verdict

    def rollback(
        self, actor: str, reason: str, to: str | None = None, *, to_base: bool = False
    ) -> dict[str, Any]:
        """Back to a version before the active one on its lineage (default: its parent)."""
        current = self.active()
        if current is None:
            raise PatchError(
                "nothing to roll back: the world runs its base version", code="nothing_to_roll_back"
            )
        lineage: list[str] = []
        node: str | None = current
        while node is not None:
            lineage.append(node)
            node = self.ledger.parent_of(node)
        target = None if to_base else (self.ledger.parent_of(current) if to is None else to)
        if target is not None and (target not in lineage[1:] or self.ledger.version_content(target) is None):
            raise PatchError(f"{target} is not a version before {current}", code="bad_rollback_target")
        undone = lineage[: lineage.index(target)] if target is not None else lineage
        for patch_id in undone:
            self.ledger.patches[patch_id].state = State.ROLLED_BACK
        if target is not None:
            self.ledger.patches[target].state = State.ACTIVE
        self.ledger.active = target
        self.ledger.add_entry({"kind": "rollback", "from": current, "to": target, "actor": actor})
        return {"from": current, "to": target, "undone": undone}

    def follower(self) -> MemoryFollower:
        return MemoryFollower(self)


class MemoryFollower:
    """The ``PointerFollower`` of a ``MemoryGovernor``: call ``sync(world)`` between two ticks."""

    def __init__(self, governor: MemoryGovernor) -> None:
        self.governor = governor
        #: why the world is not following the pointer (never set here: memory cannot be torn)
        self.refusal: str | None = None

    def sync(self, world: World, *, force: bool = False) -> str | bool | None:
        """Queue the switch if the world runs another version than the active one; returns the
        version queued, or ``False`` when the world is already on it."""
        from ouroboros.worlds import ACTIVATE_INPUT

        ledger = self.governor.ledger
        active = ledger.active
        current = world.resources.get("gameplay_version")
        if current == active:
            return False
        was = ledger.sequence_of(current) if isinstance(current, str) else None
        now = ledger.sequence_of(active) if active is not None else None
        backwards = was is not None and (now is None or now < was)
        migration: dict[str, Any] = {"kind": "rollback" if backwards else "change"}
        doc = ledger.bundle(active) if active is not None and not backwards else None
        declared = doc.get("migration") if isinstance(doc, dict) else None
        if isinstance(declared, dict) and isinstance(declared.get("announcement"), str):
            migration["announcement"] = declared["announcement"]
        content = world_content(ledger.version_content(active) if active is not None else None)
        world.submit(ACTIVATE_INPUT, {"patch_id": active, "content": content, "migration": migration})
        return active

    def record(self, world: World, actor: str = "ouroboros") -> dict[str, Any] | None:
        """After a tick: keep the migration report it left (if any)."""
        from ouroboros.worlds import MIGRATION_SCRATCH

        report = world.scratch.get(MIGRATION_SCRATCH)
        if report is None:
            return None
        entry = {"kind": "migration", "actor": actor, **report}
        self.governor.ledger.add_entry(entry)
        return entry

    def close(self) -> None:
        return None


__all__ = ["EPOCH", "MemoryFollower", "MemoryGovernor", "MemoryKillSwitch", "MemoryLedger"]
