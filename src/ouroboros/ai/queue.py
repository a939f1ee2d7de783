"""The approval queue: the proposals waiting for a person, and what a person may do with them.

What it promises:

- **States.** ``queued`` (waiting for a person), ``refused`` (the kill-switch or the ledger said
  no; approve again later), ``awaiting`` (the pipeline validated it and holds it for a person,
  e.g. an economy change), ``active``, ``failed`` (a guardrail or a pipeline stage refused it, with
  the reasons), ``rejected`` (by a person), ``rolled_back`` (its objects left the world: undone by
  ``undo``, or its patch rolled back in the ledger), ``undone`` (the older name of an undo, in
  stores written before it), ``staging`` (its patch is validated and a staged rollout of it is
  under way; the rollout's last stage makes it active).
- **The queue follows the ledger** (``reconcile``, run on every read): a proposal whose patch the
  ledger rolled back shows ``rolled_back``; an undone one whose undo patch was rolled back (its
  objects are live again) shows ``active`` again; a ``staging`` one follows its rollout: ``active``
  when it completed, ``rolled_back`` when its KPIs rolled it back, ``awaiting`` when an operator
  aborted it (approving it then starts a new rollout with the same plan), ``failed`` when its
  patch was rejected.
- **approve** sends the validated payload through the council (signed bundle → governor) and
  records the verdict; **reject** closes it; **edit** merges words and numbers into the payload
  (only fields that exist, of the same kind, never an ``id``), re-checks schema and guardrails
  and changes nothing when the result is refused; **undo** submits a new patch that removes
  exactly that proposal's objects (``Proposal.object_ids()``), leaving every other proposal's.
- **Every human action is audited** (actor, time, reason) in the AI store.
- ``diff(id)`` shows the generated payload and the validated one, and the fields that differ.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from ouroboros.ai.proposals import Proposal
from ouroboros.ai.store import AiStore
from ouroboros.content.versions import next_version
from ouroboros.errors import BadInputError, OuroborosError, PatchError, Reason, RejectedError
from ouroboros.patches import effective_objects
from ouroboros.tracing import traced

if TYPE_CHECKING:
    from ouroboros.ai.guardrails import RarityHistory
    from ouroboros.content.rules import Guardrails
    from ouroboros.patches import Governor, Verdict

__all__ = [
    "OPEN_STATES",
    "ROLLED_BACK",
    "STATES",
    "ApprovalQueue",
    "Submitter",
    "flatten_edit",
    "merge3",
    "payload_diff",
    "resummarize",
]

STATES = (
    "queued", "refused", "awaiting", "active", "failed", "rejected", "rolled_back", "undone", "submitting",
    "staging",
)  # fmt: skip
ROLLED_BACK = "rolled_back"
#: states in which a proposal still waits for something (an expansion in one is "under way")
OPEN_STATES = frozenset({"queued", "refused", "awaiting", "submitting", "staging"})
#: keys an edit may never touch (identity and references)
FROZEN_KEYS = frozenset({"id", "version", "world", "domain"})


_Reasons = list[Reason]
_Changes = list[dict[str, Any]]


class Submitter(Protocol):
    """What the queue needs of whoever sends its proposals to the pipeline (the council): the
    guardrails and history to re-check an edit by, and the submit calls. The queue knows nothing
    else of the council."""

    @property
    def governor(self) -> Governor: ...
    def require_guardrails(self) -> Guardrails: ...
    def rarity_history(self) -> RarityHistory: ...
    def content(self) -> dict[str, Any] | None: ...
    def submit_record(self, proposal_id: str, actor: str) -> dict[str, Any]: ...
    def record_verdict(
        self, proposal_id: str, verdict: Verdict, *, rollout: Mapping[str, Any] | None = None
    ) -> None: ...
    def start_rollout(self, proposal_id: str, actor: str, reason: str) -> dict[str, Any]: ...
    def submit_content(
        self,
        content: Mapping[str, Any],
        *,
        run_id: str,
        actor: str,
        migration: Mapping[str, Any] | None = None,
    ) -> Verdict: ...


class ApprovalQueue:
    """The queue over an ``AiStore``, deciding through a ``Submitter`` (the council)."""

    def __init__(self, store: AiStore, council: Submitter) -> None:
        self.store = store
        self.council = council

    # -- reading ---------------------------------------------------------------------------------------
    def list(self, state: str | None = None) -> list[dict[str, Any]]:
        if state is not None and state not in STATES:
            raise BadInputError(f"unknown queue state {state!r} (one of {', '.join(STATES)})")
        self.reconcile()
        return [_summary(r) for r in self.store.proposals(state)]

    def try_get(self, proposal_id: str) -> dict[str, Any] | None:
        self.reconcile()
        return self.store.proposal(proposal_id)

    def reconcile(self) -> _Changes:
        """Bring the proposals' states in line with the ledger; returns what changed
        (``proposal_id``, ``before``, ``after``, ``reason``)."""
        from ouroboros.patches import State

        ledger = self.council.governor.ledger
        changed: _Changes = []

        def move(record: Mapping[str, Any], after: str, why: str) -> None:
            self.store.update_proposal(record["proposal_id"], state=after, reason=why)
            changed.append({"proposal_id": record["proposal_id"], "before": record["state"], "after": after,
                            "reason": why})  # fmt: skip

        for record in self.store.proposals("active"):
            patch_id = record["patch_id"]
            if patch_id and ledger.state_of(patch_id) == State.ROLLED_BACK:
                move(record, ROLLED_BACK, f"rolled back in the ledger ({patch_id})")
        live = self.council.governor.live_rollout()
        for record in self.store.proposals("staging"):
            patch_id = record["patch_id"]
            now = ledger.state_of(patch_id) if patch_id else None
            if now == State.ACTIVE:
                from ouroboros.patches import Verdict

                staged = (record.get("verdict") or {}).get("rollout")
                self.council.record_verdict(
                    record["proposal_id"], Verdict(patch_id, State.ACTIVE, []), rollout=staged
                )
                changed.append({"proposal_id": record["proposal_id"], "before": "staging", "after": "active",
                                "reason": "its rollout completed"})  # fmt: skip
            elif now == State.ROLLED_BACK:
                move(record, ROLLED_BACK, f"its staged rollout rolled back ({patch_id})")
            elif now == State.VALIDATED and (live is None or live[1] != patch_id):
                plan = ((record.get("verdict") or {}).get("rollout") or {}).get("plan")
                move(record, "awaiting", f"its rollout was aborted; approving it starts a new one ({plan})")
            elif now != State.VALIDATED:
                move(record, "failed", f"its patch {patch_id} is {now}")
        for record in self.store.proposals(ROLLED_BACK):
            undo = (record.get("verdict") or {}).get("undone_by")
            own = record["patch_id"]
            if (
                undo
                and ledger.state_of(undo) == State.ROLLED_BACK
                and own
                and ledger.state_of(own) in (State.ACTIVE, State.SUPERSEDED)
            ):
                move(record, "active", f"its undo ({undo}) was rolled back: its objects are live again")
        return changed

    def get(self, proposal_id: str) -> dict[str, Any]:
        self.reconcile()
        record = self.store.proposal(proposal_id)
        if record is None:
            raise BadInputError(f"unknown proposal {proposal_id}")
        return record

    def diff(self, proposal_id: str) -> dict[str, Any]:
        """The payload as generated and as validated (enriched, edited, checked), and what differs."""
        record = self.get(proposal_id)
        before = record["generated"]["payload"]
        after = (record["validated"] or record["generated"])["payload"]
        return {
            "proposal_id": proposal_id,
            "generated": before,
            "validated": after,
            "changes": payload_diff(before, after),
        }

    # -- deciding ----------------------------------------------------------------------------------------
    @traced("queue.approve")
    def approve(self, proposal_id: str, actor: str, reason: str) -> dict[str, Any]:
        """Send a queued (or refused) proposal through the pipeline; approve one the pipeline holds
        for a person. Returns the verdict (``state``, ``reasons``) and the proposal's new state."""
        _attribution(actor, reason)
        record = self.get(proposal_id)
        state = record["state"]
        if state in ("queued", "refused", "awaiting"):
            self.council.require_guardrails()  # an unreadable guardrails file denies activations
        if state in ("queued", "refused"):
            self.store.audit(actor, "queue.approve", proposal_id, reason)
            verdict = self.council.submit_record(proposal_id, actor)
        elif state == "awaiting" and ((record.get("verdict") or {}).get("rollout") or {}).get("plan"):
            # to be staged: the person's approval starts its rollout (the last stage activates it)
            self.store.audit(actor, "queue.approve", proposal_id, reason, {"patch_id": record["patch_id"]})
            verdict = self.council.start_rollout(proposal_id, actor, reason)
        elif state == "awaiting":
            self.store.audit(actor, "queue.approve", proposal_id, reason, {"patch_id": record["patch_id"]})
            verdict = self._governor_approve(proposal_id, record["patch_id"], actor, reason)
        else:
            raise PatchError(
                f"proposal {proposal_id} is {state}; only a waiting one can be approved", code="not_waiting"
            )
        return {**verdict, "proposal_state": self.get(proposal_id)["state"]}

    def _governor_approve(self, proposal_id: str, patch_id: str, actor: str, reason: str) -> dict[str, Any]:
        from ouroboros.patches import REFUSED, Verdict

        try:
            verdict = self.council.governor.approve(patch_id, actor, reason)
        except PatchError as exc:
            verdict = Verdict(patch_id, REFUSED, [Reason("policy", exc.code, "", exc.message)])
            self.store.update_proposal(proposal_id, reason=exc.message)
            return verdict.as_dict()  # still awaiting: nothing lost
        self.council.record_verdict(proposal_id, verdict)
        return verdict.as_dict()

    @traced("queue.reject")
    def reject(self, proposal_id: str, actor: str, reason: str) -> dict[str, Any]:
        _attribution(actor, reason)
        record = self.get(proposal_id)
        if record["state"] not in ("queued", "refused", "awaiting"):
            raise PatchError(
                f"proposal {proposal_id} is {record['state']}; only a waiting one can be rejected",
                code="not_waiting",
            )
        with self.store.transaction():
            if record["state"] == "awaiting" and record["patch_id"]:
                self.council.governor.reject(record["patch_id"], actor, reason)
            self.store.update_proposal(proposal_id, state="rejected", reason=f"rejected by {actor}: {reason}")
            self.store.audit(actor, "queue.reject", proposal_id, reason)
        return self.get(proposal_id)

    def edit(
        self, proposal_id: str, payload_patch: Mapping[str, Any], actor: str, reason: str
    ) -> dict[str, Any]:
        """Merge ``payload_patch`` (nested: domain → object id or index → field → value) into the
        validated payload. Refused edits (``BadInputError`` for a bad shape, ``RejectedError`` for
        schema or guardrails) change nothing."""
        from ouroboros.ai.guardrails import check
        from ouroboros.content import parse_content

        _attribution(actor, reason)
        record = self.get(proposal_id)
        if record["state"] not in ("queued", "refused"):
            raise PatchError(
                f"proposal {proposal_id} is {record['state']}; only a queued one can be edited",
                code="not_waiting",
            )
        current = Proposal.model_validate(record["validated"] or record["generated"])
        payload = _copy(current.payload)
        changes = []
        for path, value in flatten_edit(payload, payload_patch):
            target, key = _resolve(payload, path)
            old = target[key]
            changes.append({"path": "/" + "/".join(str(p) for p in path), "before": old, "after": value})
            target[key] = value
        parsed = parse_content(payload)  # ContentError (a RejectedError) with the reasons
        guardrails = self.council.require_guardrails()
        problems = self._edit_problems(parsed, payload, changes, current, guardrails)
        if problems:
            raise RejectedError(problems)
        flavour = dict(current.flavour)
        for change in changes:
            if change["path"] in flavour and isinstance(change["after"], str):
                flavour[change["path"]] = change["after"]
        edited = resummarize(current, current.model_copy(update={"payload": payload, "flavour": flavour}))
        violations = check(
            edited, guardrails, history=self.council.rarity_history(), content=self.council.content()
        )
        if violations:
            raise RejectedError([Reason("guardrails", v.code, v.path, v.message) for v in violations])
        with self.store.transaction():
            self.store.update_proposal(proposal_id, validated=edited.model_dump(mode="json"))
            self.store.audit(actor, "queue.edit", proposal_id, reason, {"changes": changes})
        return {**self.get(proposal_id), "changes": changes}

    def _edit_problems(
        self,
        parsed: Any,
        payload: Mapping[str, Any],
        changes: Sequence[dict[str, Any]],
        current: Proposal,
        guardrails: Any,
    ) -> _Reasons:
        """Why the edited fields may not stand: a reference to an object that exists neither in
        the active version nor in the proposal, or words the text filter refuses (markup,
        control characters, banned terms, too long)."""
        from ouroboros.ai.llm.enrich import WORD_FIELDS, text_problem
        from ouroboros.content.patch import DOMAIN_MODELS
        from ouroboros.content.references import references

        edited = {c["path"]: c for c in changes}
        gov = self.council.governor
        known = effective_objects(gov.world_name, gov.active_content())
        for domain, objects in payload.items():
            if isinstance(objects, list):
                ids = {o["id"] for o in objects if isinstance(o, dict) and isinstance(o.get("id"), str)}
                known.setdefault(domain, {}).update({key: {} for key in ids})
        problems: _Reasons = []
        reference_paths = set()
        for domain in DOMAIN_MODELS:
            for index, obj in enumerate(parsed.objects(domain)):
                for ref in references(obj):
                    path = "/" + "/".join(str(p) for p in (domain, index, *ref.field))
                    reference_paths.add(path)
                    if path in edited and ref.target_id not in known.get(ref.target_domain, {}):
                        problems.append(
                            Reason(
                                "edit",
                                "unresolved_reference",
                                path,
                                f"no {ref.target_domain} object {ref.target_id!r} in the active version "
                                "or this proposal",
                            )
                        )
        banned = set(getattr(guardrails, "banned_words", ()) or ())
        for path, change in edited.items():
            field = path.rsplit("/", 1)[-1]
            if not isinstance(change["after"], str) or path in reference_paths:
                continue
            if field in WORD_FIELDS or path in current.flavour:
                problem = text_problem(change["after"], field if field in WORD_FIELDS else "name", banned)
                if problem is not None:
                    problems.append(Reason("edit", problem[0], path, problem[1]))
        return problems

    def undo(self, proposal_id: str, actor: str, reason: str) -> dict[str, Any]:
        """Take back exactly this active proposal with a new patch: the objects it added are
        removed; objects it changed (a vendor that gained stock, a room that gained an exit) keep
        whatever else changed since and lose only their references to the removed objects. Other
        proposals' objects stay."""
        from ouroboros.patches import REFUSED, State, Verdict

        _attribution(actor, reason)
        record = self.get(proposal_id)
        if record["state"] != "active":
            raise PatchError(
                f"proposal {proposal_id} is {record['state']}; only an active one can be undone",
                code="not_active",
            )
        proposal = Proposal.model_validate(record["validated"] or record["generated"])
        gov = self.council.governor
        parent = gov.ledger.parent_of(record["patch_id"]) if record["patch_id"] else None
        before = effective_objects(gov.world_name, gov.content_of(parent))
        now = effective_objects(gov.world_name, gov.active_content())
        added = [
            (d, i) for d, i in proposal.object_ids() if i not in before.get(d, {}) and i in now.get(d, {})
        ]
        changed = [(d, i) for d, i in proposal.object_ids() if i in before.get(d, {}) and i in now.get(d, {})]
        if not added:
            raise PatchError(f"proposal {proposal_id} has no objects left to remove", code="nothing_to_undo")
        gone = {i for _, i in added}
        content: dict[str, Any] = {"remove": [{"domain": d, "id": i} for d, i in added]}
        for domain, object_id in changed:
            current = now[domain][object_id]
            scrubbed = _scrub(current, gone)
            if scrubbed != current:
                scrubbed["version"] = next_version(str(current.get("version", "1.0.0")))
                content.setdefault(domain, []).append(scrubbed)
        self.store.audit(actor, "queue.undo", proposal_id, reason, {"content": content})
        try:
            verdict = self.council.submit_content(
                content, run_id=f"undo:{proposal_id}", actor=actor, migration=_undo_words(proposal)
            )
        except OuroborosError as exc:
            verdict = Verdict(None, REFUSED, [Reason("policy", exc.code, "", exc.message)])
        result = verdict.as_dict()
        if verdict.ok and verdict.state == State.ACTIVE:
            self.store.update_proposal(
                proposal_id,
                state=ROLLED_BACK,
                reason=f"undone by {actor}: {reason} ({verdict.patch_id})",
                verdict={**(record.get("verdict") or {}), "undone_by": verdict.patch_id},
            )
        return {**result, "proposal_state": self.get(proposal_id)["state"], "removed": content["remove"]}


# -- helpers ---------------------------------------------------------------------------------------------
def _undo_words(proposal: Proposal) -> dict[str, str] | None:
    """What players read when an undo lands: the proposal's own summary, printable, one line."""
    summary = "".join(ch for ch in proposal.summary if ch.isprintable()).strip()
    return {"announcement": f"Taken back: {summary}"[:300]} if summary else None


def resummarize(before: Proposal, after: Proposal) -> Proposal:
    """``after`` with its summary (and budget figures) following what changed in its payload
    since ``before``: a renamed object's new name, an item's new price and power points."""
    from ouroboros.content.rules import item_power

    summary = after.summary
    budget = dict(after.budget)
    for change in payload_diff(before.payload, after.payload):
        old, new = change["before"], change["after"]
        if isinstance(old, str) and isinstance(new, str) and old and old in summary:
            summary = summary.replace(old, new)
        elif change["path"].endswith("/price") and isinstance(old, int) and isinstance(new, int):
            summary = summary.replace(f"{old} credits", f"{new} credits")
            if budget.get("price_credits") == old:
                budget["price_credits"] = new
    old_items = before.payload.get("items") or []
    new_items = after.payload.get("items") or []
    if len(old_items) == len(new_items) == 1 and isinstance(old_items[0], dict):
        spent_before, spent_after = item_power(old_items[0]), item_power(new_items[0])
        allowed = budget.get("power_allowed")
        if spent_before != spent_after and allowed is not None:
            summary = summary.replace(f"{spent_before}/{allowed}", f"{spent_after}/{allowed}")
            if budget.get("power_spent") == spent_before:
                budget["power_spent"] = spent_after
    if summary == after.summary and budget == after.budget:
        return after
    return after.model_copy(update={"summary": summary, "budget": budget})


def _summary(record: Mapping[str, Any]) -> dict[str, Any]:
    proposal = record["validated"] or record["generated"]
    return {
        "proposal_id": record["proposal_id"],
        "type": record["type"],
        "seed": record["seed"],
        "state": record["state"],
        "summary": proposal.get("summary", ""),
        "reason": record["reason"],
        "patch_id": record["patch_id"],
    }


def _attribution(actor: str, reason: str) -> None:
    if not isinstance(actor, str) or not actor.strip():
        raise BadInputError("an actor is required")
    if not isinstance(reason, str) or not reason.strip():
        raise BadInputError("a reason is required")


_MISSING: Any = object()


def merge3(base: Any, mine: Any, theirs: Any) -> Any:
    """Three-way merge of one object: what ``mine`` changed from ``base`` wins, what ``theirs``
    changed stays. Lists merge as sets of elements (``mine``'s additions appended, its removals
    removed). ``base`` ``None`` (not known): every field of ``mine`` counts as a change, lists
    are unions."""
    if isinstance(mine, dict) and isinstance(theirs, dict):
        b = base if isinstance(base, dict) else {}
        out: dict[str, Any] = {}
        for key in [*theirs, *(k for k in mine if k not in theirs)]:
            m, t = mine.get(key, _MISSING), theirs.get(key, _MISSING)
            bv = b.get(key, _MISSING) if isinstance(base, dict) else _MISSING
            value = _merge_value(bv, m, t)
            if value is not _MISSING:
                out[key] = value
        return out
    return _merge_value(base if base is not None else _MISSING, mine, theirs)


def _merge_value(base: Any, mine: Any, theirs: Any) -> Any:
    if base is not _MISSING and mine == base:
        return theirs
    if base is not _MISSING and theirs == base:
        return mine
    if isinstance(mine, dict) and isinstance(theirs, dict):
        return merge3(base if isinstance(base, dict) else None, mine, theirs)
    if isinstance(mine, list) and isinstance(theirs, list):
        old = base if isinstance(base, list) else []
        removed = [x for x in old if x not in mine]
        added = [x for x in mine if x not in old]
        kept = [x for x in theirs if x not in removed]
        return kept + [x for x in added if x not in kept]
    return mine if mine is not _MISSING else theirs


def _scrub(value: Any, gone: set[str]) -> Any:
    """``value`` without list elements or mapping entries that are one of the ``gone`` ids (or an
    object with such an ``id``)."""
    if isinstance(value, dict):
        return {k: _scrub(v, gone) for k, v in value.items() if not (isinstance(v, str) and v in gone)}
    if isinstance(value, list):
        return [
            _scrub(v, gone)
            for v in value
            if not (isinstance(v, str) and v in gone) and not (isinstance(v, dict) and v.get("id") in gone)
        ]
    return value


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _step(container: Any, key: str | int) -> str | int:
    """The real key for ``key`` in ``container``: a dict key, a list index, or in a list of
    objects the index of the object with that ``id``."""
    if isinstance(container, dict):
        if key not in container:
            raise BadInputError(f"no field {key!r} to edit")
        return key
    if isinstance(container, list):
        if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
            index = int(key)
            if not 0 <= index < len(container):
                raise BadInputError(f"no element {index} to edit")
            return index
        for i, obj in enumerate(container):
            if isinstance(obj, dict) and obj.get("id") == key:
                return i
        raise BadInputError(f"no object {key!r} to edit")
    raise BadInputError(f"cannot edit inside a {type(container).__name__}")


def _resolve(payload: Any, path: list[str | int]) -> tuple[Any, str | int]:
    node = payload
    for key in path[:-1]:
        node = node[_step(node, key)]
    return node, _step(node, path[-1])


def flatten_edit(payload: Any, patch: Mapping[str, Any]) -> list[tuple[list[str | int], Any]]:
    """The (resolved path, new value) leaves of a merge ``patch`` against ``payload``. Only words
    replace words and whole numbers replace whole numbers; ids and references stay."""
    if not isinstance(patch, Mapping) or not patch:
        raise BadInputError("an edit is a non-empty JSON object")
    out: list[tuple[list[str | int], Any]] = []

    def walk(node: Any, sub: Mapping[str, Any], path: list[str | int]) -> None:
        for raw_key, value in sub.items():
            key = _step(node, raw_key)
            where = "/".join(str(p) for p in [*path, key])
            if isinstance(key, str) and key in FROZEN_KEYS:
                raise BadInputError(f"{where}: {key} may not be edited")
            old = node[key]
            if isinstance(value, Mapping):
                if not isinstance(old, dict | list):
                    raise BadInputError(f"{where}: is a {type(old).__name__}, not an object")
                walk(old, value, [*path, key])
                continue
            if isinstance(old, bool) or isinstance(value, bool):
                raise BadInputError(f"{where}: only words and numbers may be edited")
            same_kind = (isinstance(old, str) and isinstance(value, str)) or (
                isinstance(old, int) and isinstance(value, int)
            )
            if not same_kind:
                kind = (
                    "words"
                    if isinstance(old, str)
                    else "a whole number"
                    if isinstance(old, int)
                    else "not editable"
                )
                raise BadInputError(f"{where}: must be {kind}, not {value!r}")
            out.append(([*path, key], value))

    walk(payload, patch, [])
    return out


def payload_diff(before: Any, after: Any, path: str = "") -> list[dict[str, Any]]:
    """Every leaf that differs between two payloads, as {path, before, after} (JSON pointers)."""
    if isinstance(before, dict) and isinstance(after, dict):
        out = []
        for key in sorted(set(before) | set(after)):
            out += payload_diff(before.get(key), after.get(key), f"{path}/{key}")
        return out
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [
            d
            for i, (b, a) in enumerate(zip(before, after, strict=True))
            for d in payload_diff(b, a, f"{path}/{i}")
        ]
    return [] if before == after else [{"path": path or "/", "before": before, "after": after}]
