"""The council: the director, the generators, an optional enrich stage, the guardrails and the
approval queue wired to one governed world's pipeline.

What it promises:

- **One path for every proposal.** director job (or a manual ``propose``) → ``generate`` (seeded,
  deterministic) → ``enrich`` (optional, words only) → guardrails → the approval queue when a
  human is in the loop, else straight through the pipeline. The generated payload and the
  validated (enriched, checked) one are both stored, so a person sees the difference.
- **Signed by the generator's own key.** Bundles are signed by a ``generator`` key the council
  creates in the governor's keyring on first use (content domains only, never ``economy_tuning``
  alone: that still needs a second key and a person). Parent = the active patch, sequence = next.
- **Nothing is lost.** A kill-switch refusal, a pipeline rejection or a guardrail violation is
  recorded on the proposal (state and reason); a refused proposal can be approved again later.
- **The director's one-expansion rule sees the queue:** an expansion is "under way" while its
  proposal is queued, refused or awaiting a person.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from ouroboros.ai.director import Director, Job
from ouroboros.ai.guardrails import Guardrails, GuardrailsFile, RarityHistory, check
from ouroboros.ai.proposals import Proposal, ProposalType
from ouroboros.ai.queue import OPEN_STATES, ApprovalQueue
from ouroboros.ai.store import AI_DB, AiStore
from ouroboros.errors import BadInputError, LedgerError, OuroborosError, PatchError, Reason
from ouroboros.patches.governor import REFUSED, Governor, Verdict
from ouroboros.patches.states import State

__all__ = ["GENERATOR_DOMAINS", "GENERATOR_KEY", "Council", "Enrich", "Generate", "provider_enrich"]

GENERATOR_KEY = "generator"
GENERATOR_DOMAINS = [
    "dialogue",
    "items",
    "npc_behaviors",
    "npcs",
    "procgen_rules",
    "quests",
    "rooms",
    "scripts",
    "traits",
    "world_params",
]
#: what enrich is: a proposal in, a proposal out whose words may differ (the LLM helper's closure)
Enrich = Callable[[Proposal], Proposal]
Generate = Callable[..., Proposal]
GUARDRAILS_FILE = "guardrails.json"


def provider_enrich(
    provider: Any,
    guardrails: Callable[[], Guardrails],
    *,
    log: Callable[[dict[str, Any]], None] | None = None,
    model: str = "",
) -> Enrich:
    """An ``enrich`` stage over an LLM ``provider`` (``ouroboros.ai.llm.enrich``: words only,
    with the guardrails in force when it runs)."""

    def run(proposal: Proposal) -> Proposal:
        from ouroboros.ai.llm import enrich

        enriched, _report = enrich(proposal, provider, guardrails=guardrails(), log=log, model=model)
        return enriched

    return run


def _default_generate(*args: Any, **kwargs: Any) -> Proposal:
    from ouroboros.ai.generators import generate

    return generate(*args, **kwargs)


class Council:
    """The AI of one governed data folder. See the module docstring."""

    def __init__(
        self,
        data_dir: Path,
        governor: Governor,
        *,
        world: str,
        guardrails_file: Path | GuardrailsFile | None = None,
        enrich: Enrich | None = None,
        generate: Generate | None = None,
        tick_hz: int = 50,
        provider_registry: Any = None,
    ) -> None:
        if world != governor.world_name:
            raise BadInputError(f"{data_dir} is governed for world {governor.world_name!r}, not {world!r}")
        self.data_dir = Path(data_dir)
        self.governor = governor
        self.world = world
        self.enrich = enrich
        self.provider_registry = provider_registry
        self._generate = generate or _default_generate
        if isinstance(guardrails_file, GuardrailsFile):
            self.guardrails_file = guardrails_file
        else:
            self.guardrails_file = GuardrailsFile(guardrails_file or self.data_dir / GUARDRAILS_FILE)
        self.store = AiStore(self.data_dir / AI_DB)
        seed = governor.settings.get("seed", 0)
        self.director = Director(
            self.store,
            world_seed=seed if isinstance(seed, int) else 0,
            tick_hz=tick_hz,
            open_expansions=self._open_expansions,
            caps=self._caps,
        )
        self.queue = ApprovalQueue(self.store, self)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Council:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- what the pieces read ------------------------------------------------------------------------
    def guardrails(self) -> Guardrails:
        return self.guardrails_file.current()

    def rarity_history(self) -> RarityHistory:
        rows = self.store.rarity_history(200)
        return RarityHistory([r["rarity"] for r in rows for _ in range(r["count"])])

    def content(self) -> dict[str, Any] | None:
        """The active effective content the generators grow from (None: the base world)."""
        return self.governor.active_content()

    def _caps(self) -> dict[str, int]:
        g = self.guardrails()
        return {
            "jobs_per_minute": g.jobs_per_minute,
            "max_concurrent_expansions": g.max_concurrent_expansions,
        }

    def _open_expansions(self) -> int:
        return sum(
            len(self.store.proposals(state, str(ProposalType.WORLD_EXPANSION)))
            for state in sorted(OPEN_STATES)
        )

    # -- the loop ------------------------------------------------------------------------------------
    def step(
        self, events: Sequence[Mapping[str, Any]], kpis: Mapping[str, Any], tick: int, world: Any = None
    ) -> list[dict[str, Any]]:
        """Observe, then generate and queue or submit what the director asks for. Returns one
        record per job (its proposal's state, or why it failed)."""
        if self.director.stopped:
            return []
        out = []
        for job in self.director.observe(world, list(events), kpis, tick):
            out.append(self.propose(job.type, job.seed, job.context, job=job, queue=job.queue))
        return out

    def propose(
        self,
        type: ProposalType | str,
        seed: int,
        context: Mapping[str, Any] | None = None,
        *,
        job: Job | None = None,
        queue: bool | None = None,
        actor: str = "director",
    ) -> dict[str, Any]:
        """Generate, enrich, check and then queue or submit one proposal; the stored record."""
        if self.director.stopped:
            raise PatchError(
                "the director is stopped (emergency stop): no proposals", code="director_stopped"
            )
        if queue is None:
            queue = bool(self.director.get("human_in_the_loop"))
        guardrails = self.guardrails()
        history = self.rarity_history()
        try:
            proposal = self._generate(
                type, seed, world=self.world, content=self.content(), guardrails=guardrails, context=context
            )
        except OuroborosError as exc:
            why = {"type": str(type), "seed": seed, "context": dict(context or {}), "error": exc.as_dict()}
            self.store.record_decision(
                job.tick if job else -1, "council", "generate_failed", why, None, str(type)
            )
            return {"proposal_id": None, "state": "failed", "reason": exc.message, "error": exc.as_dict()}
        proposal = proposal.with_id() if not proposal.proposal_id else proposal
        generated = proposal.model_dump(mode="json")
        validated, reason = proposal, ""
        if self.enrich is not None:
            try:
                validated = self.enrich(proposal)
            except Exception as exc:  # enrich is optional: a failing one keeps the procedural words
                reason = f"enrich failed, kept the generated words: {exc}"
        violations = check(validated, guardrails, history=history)
        state = "failed" if violations else "queued" if queue else "submitting"
        if violations:
            reason = "; ".join(f"{v.code} at {v.path}: {v.message}" for v in violations)
        pid = proposal.proposal_id
        known = self.store.proposal(pid)
        if known is not None:
            return known
        self.store.add_proposal(
            pid,
            str(proposal.type),
            proposal.seed,
            state,
            generated,
            validated=validated.model_dump(mode="json"),
            job=job.as_dict() if job else {"actor": actor, "context": dict(context or {})},
            reason=reason,
        )
        if state == "submitting":
            self.submit_record(pid, actor)
        record = self.store.proposal(pid)
        if record is None:
            raise OuroborosError(f"proposal {pid} vanished from {self.store.path}", code="ai_store")
        return record

    # -- the pipeline ----------------------------------------------------------------------------------
    def _key(self) -> Any:
        if (self.governor.keys_dir / f"{GENERATOR_KEY}.key").exists():
            return self.governor.local_key(GENERATOR_KEY)
        return self.governor.new_key(GENERATOR_KEY, GENERATOR_DOMAINS, "council")

    def submit_content(self, content: Mapping[str, Any], *, run_id: str, actor: str) -> Verdict:
        """Sign ``content`` with the generator key and run it through the pipeline (raises
        ``PatchError`` when the kill-switch is engaged)."""
        from ouroboros.cli.governance import default_engine_compat
        from ouroboros.patches.bundle import new_bundle, sign_bundle

        gov = self.governor
        gov.killswitch.state()  # an unreadable switch raises before a key is made
        key = self._key()
        active = gov.active()
        sequence = 0 if active is None else (gov.ledger.sequence_of(active) or 0) + 1
        doc = new_bundle(
            dict(content),
            world=gov.world_name,
            parent_patch_id=active,
            sequence=sequence,
            author={"type": "generator", "model": None, "run_id": run_id},
            engine_compat=default_engine_compat(),
            ttl=timedelta(hours=1),
        )
        return gov.submit(sign_bundle(doc, key), actor=actor)

    def submit(self, proposal: Proposal, actor: str = "director") -> Verdict:
        """One proposal's (validated) payload through the pipeline."""
        if self.director.stopped:
            raise PatchError(
                "the director is stopped (emergency stop): nothing is submitted", code="director_stopped"
            )
        return self.submit_content(proposal.payload, run_id=proposal.proposal_id or "manual", actor=actor)

    def submit_record(self, proposal_id: str, actor: str) -> dict[str, Any]:
        """Submit a stored proposal; record the verdict on it. Returns the verdict as a dict."""
        record = self.store.proposal(proposal_id)
        if record is None:
            raise BadInputError(f"unknown proposal {proposal_id}")
        proposal = Proposal.model_validate(record["validated"] or record["generated"])
        try:
            verdict = self.submit(proposal, actor)
        except (PatchError, LedgerError) as exc:
            stage = "policy" if isinstance(exc, PatchError) else "ledger"
            verdict = Verdict(None, REFUSED, [Reason(stage, exc.code, "", exc.message)])
        self.record_verdict(proposal_id, verdict)
        return verdict.as_dict()

    def record_verdict(self, proposal_id: str, verdict: Verdict) -> None:
        state = _queue_state(verdict)
        reason = "; ".join(f"[{r.stage}] {r.code}: {r.message}" for r in verdict.reasons)
        if state == "awaiting":
            reason = str(verdict.evidence.get("awaiting", "awaiting a person"))
        record = self.store.proposal(proposal_id)
        with self.store.transaction():
            self.store.update_proposal(
                proposal_id,
                state=state,
                reason=reason,
                patch_id=verdict.patch_id or (record or {}).get("patch_id"),
                verdict={"state": str(verdict.state), "reasons": [r.as_dict() for r in verdict.reasons]},
            )
            if state == "active" and record is not None and record["undo_of"] is None:
                counts: dict[str, int] = {}
                for item in (record["validated"] or record["generated"])["payload"].get("items") or ():
                    rarity = str(item.get("rarity", "common"))
                    counts[rarity] = counts.get(rarity, 0) + 1
                self.store.record_rarity(proposal_id, counts)


def _queue_state(verdict: Verdict) -> str:
    if verdict.state == REFUSED:
        return "refused"
    if verdict.state == State.ACTIVE:
        return "active"
    if verdict.state == State.VALIDATED:
        return "awaiting"
    return "failed"
