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
- **The product's council** (``build_council``) enriches through the model registry of the active
  version (offline unless a governed ``model_roles`` object says otherwise): every call is timed
  and recorded per role and model, acceptance is recorded when the proposal goes active, and the
  enrich report (which model, whether it kept the generated words and why) is stored with the
  proposal and written to the decision log. A chaos event's kind is chosen by the ``Ensemble``
  (the storyteller); its votes, answers and weights go to the decision log.
- **Approval re-checks.** A queued proposal is re-checked against the guardrails in force (and
  the rarity history) when it is approved, and rebased onto the active version (``rebase``): an
  existing object it changes (a vendor's stock) is merged with what changed since and its version
  moved past the active one, so two proposals that touch the same vendor both go active.
- **Staged when the policy says so.** Before a proposal is submitted the director's staging
  policy (``rollout.policy``, its map from the guardrails' ``rollout_plans``; absent: staging off)
  decides: a change it stages goes through the pipeline, is held at ``validated`` and a rollout
  starts with its plan (the proposal shows ``staging`` until the rollout completes, rolls back or
  is aborted); a text-only change, or a type it does not stage, goes active at once. The decision
  is written to the decision log with its plan (``staged 1,10,50,100`` / ``global: text only``).
  A patch the governor holds for a person is not staged until that person approves it; a rollout
  that could not start (the kill-switch engaged meanwhile) leaves it ``awaiting``, and approving
  it from the queue starts the rollout with the plan it was given.
- **An invalid guardrails file denies**: while ``guardrails.json`` exists but does not parse,
  nothing is proposed or approved (``guardrails_invalid``), and the director's status says why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ouroboros.ai.director import Director, Job
from ouroboros.ai.enrich_stage import LLM_CACHE_DB, Enrich, RegistryEnrich, enrich_context, provider_enrich
from ouroboros.ai.guardrails import GUARDRAILS_FILE, Guardrails, GuardrailsFile, RarityHistory, check
from ouroboros.ai.proposals import Proposal, ProposalType
from ouroboros.ai.queue import OPEN_STATES, ApprovalQueue
from ouroboros.ai.rebase import rebase
from ouroboros.ai.store import AI_DB, AiStore
from ouroboros.errors import BadInputError, LedgerError, OuroborosError, PatchError, Reason
from ouroboros.patches import REFUSED, Governor, State, Verdict
from ouroboros.rollout.policy import Staging, StagingPolicy, plan_words
from ouroboros.tracing import traced

__all__ = [
    "GENERATOR_DOMAINS",
    "GENERATOR_KEY",
    "Council",
    "Enrich",
    "Generate",
    "RegistryEnrich",
    "build_council",
    "provider_enrich",
]

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
Generate = Callable[..., Proposal]


def build_council(
    data_dir: Path,
    governor: Governor,
    *,
    world: str,
    guardrails_file: GuardrailsFile | Path | None = None,
    tick_hz: int = 50,
    enrich_timeout_s: float = 10.0,
    model_defaults: Mapping[str, Any] | None = None,
    storyteller_weights: Mapping[str, int] | None = None,
) -> Council:
    """The council as the product runs it: enrich and the storyteller through the model registry
    of the active version (``<data>/ai.sqlite3`` keeps the per-role stats), the guardrails from
    ``guardrails_file`` (default ``<data>/guardrails.json``)."""
    from ouroboros.ai.llm.cache import ResponseCache
    from ouroboros.ai.llm.keys import KEY_FILE, KeyRing
    from ouroboros.ai.llm.routing import LiveRegistry

    keys = KeyRing(Path(data_dir) / KEY_FILE)  # an unsafe key file is refused here, before any call
    # every provider answers through one cache (valid answers only): an equal question is asked once
    cache = ResponseCache(Path(data_dir) / LLM_CACHE_DB)
    models = LiveRegistry(governor, Path(data_dir) / AI_DB, defaults=model_defaults, keys=keys, cache=cache)
    return Council(
        data_dir,
        governor,
        world=world,
        guardrails_file=guardrails_file,
        tick_hz=tick_hz,
        models=models,
        enrich_timeout_s=enrich_timeout_s,
        storyteller_weights=storyteller_weights,
    )


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
        models: Any = None,
        enrich_timeout_s: float = 10.0,
        storyteller_weights: Mapping[str, int] | None = None,
    ) -> None:
        if world != governor.world_name:
            raise BadInputError(f"{data_dir} is governed for world {governor.world_name!r}, not {world!r}")
        self.data_dir = Path(data_dir)
        self.governor = governor
        self.world = world
        self.models = models  # a LiveRegistry: the registry of the active version, or None
        self.provider_registry = provider_registry
        self.enrich_timeout_s = enrich_timeout_s
        self.storyteller_weights = None if storyteller_weights is None else dict(storyteller_weights)
        if storyteller_weights is not None:
            from ouroboros.ai.llm.ensemble import storyteller_voters
            from ouroboros.ai.llm.offline import OfflineProvider

            storyteller_voters(OfflineProvider(), storyteller_weights)  # bad weights: refused now
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
            guardrails_error=self.guardrails_problem,
        )
        self.queue = ApprovalQueue(self.store, self)
        #: called with a reason before a high-risk proposal (``HIGH_RISK_TYPES``) is submitted: the
        #: runtime takes an automatic snapshot there
        self.before_high_risk: Callable[[str], Any] | None = None
        if enrich is None and models is not None:
            enrich = RegistryEnrich(
                models, self.guardrails, timeout_s=enrich_timeout_s, context=self._enrich_context
            )
        self.enrich = enrich
        self._last_guardrails_problem: str | None = None
        #: the operator's MCP tools for words (``ai/tools.py``; set by the runtime), or None
        self.tools: Any = None
        #: a ``GenOffload`` (``ai/offload.py``): the director's jobs go to workers as ``gen`` jobs
        #: (low-priority ones deferred while the workers lag); None: generated in-process
        self.offload: Any = None
        #: stage by the default plans when the guardrails set none (the runtime sets it for a world
        #: that runs as shards, where rollouts advance; one world alone would never promote)
        self.staged_by_default = False

    def close(self) -> None:
        if self.models is not None:
            self.models.close()
        self.store.close()

    def __enter__(self) -> Council:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- what the pieces read ------------------------------------------------------------------------
    def guardrails(self) -> Guardrails:
        return self.guardrails_file.current()

    def guardrails_problem(self) -> str | None:
        """Why the guardrails file cannot be trusted now (it exists but does not parse), or None."""
        self.guardrails_file.current()
        error = self.guardrails_file.last_error
        return error if error and self.guardrails_file.path.exists() else None

    def require_guardrails(self) -> Guardrails:
        problem = self.guardrails_problem()
        if problem is not None:
            raise PatchError(
                f"the guardrails file is invalid, nothing is proposed or approved: {problem}",
                code="guardrails_invalid",
            )
        return self.guardrails()

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
    @traced("council.step")
    def step(
        self, events: Sequence[Mapping[str, Any]], kpis: Mapping[str, Any], tick: int, world: Any = None
    ) -> list[dict[str, Any]]:
        """Observe, then generate and queue or submit what the director asks for. Returns one
        record per job (its proposal's state, or why it failed)."""
        if self.director.stopped:
            return []
        problem = self.guardrails_problem()
        if problem is not None:
            if problem != self._last_guardrails_problem:
                self.store.record_decision(
                    tick, "council", "suppressed", {"guardrails_invalid": problem}, None, None
                )
            self._last_guardrails_problem = problem
            return []
        self._last_guardrails_problem = None
        out = [] if self.offload is None else self.offload.retry_deferred(self)
        for job in self.director.observe(world, list(events), kpis, tick):
            context, narrative = dict(job.context), None
            if job.rule == "chaos" and self.models is not None and len(job.options) > 1:
                # the storyteller chooses among the events whose premise holds (the director's facts)
                choice, narrative = self._storyteller(job)
                context = {
                    k: v for k, v in context.items() if k not in ("event", "boss", "inflation_permille")
                }
                context.update({"event": choice, **job.options[choice]})
                lore = self._tool_lore(job, choice)
                if lore:
                    narrative = {**narrative, "lore": lore}
            if self.offload is not None:
                out.append(self.offload.offer(self, job, context, narrative))
                continue
            out.append(
                self.propose(job.type, job.seed, context, job=job, queue=job.queue, narrative=narrative)
            )
        return out

    def apply_results(self, effects: Any) -> list[dict[str, Any]]:
        """The workers' generated proposals since ``effects``' cursor (a ``cluster.EffectLog``),
        each enriched, checked and queued or submitted once, as ``propose`` does."""
        return [] if self.offload is None else self.offload.drain(self, effects)

    def _tool_lore(self, job: Job, event: str) -> list[str]:
        """Words from the operator's MCP tools the narrative role may call (untrusted text, filtered
        like a model's answer; every call in the decision log), kept with the proposal's narrative."""
        tools = self.tools
        if tools is None:
            return []

        def record(outcome: str, why: dict[str, Any]) -> None:
            self.store.record_decision(job.tick, "mcp_tool", outcome, why, job.job_id, str(job.type))

        words = []
        for tool in tools.allowed("narrative")[:3]:
            text = tools.words("narrative", tool, {"world": self.world, "event": event}, record=record)
            if text is not None:
                words.append(text)
        return words

    def _storyteller(self, job: Job) -> tuple[str, dict[str, Any]]:
        """Which event chaos brings, by the ensemble's weighted vote; audited with every vote.
        With a model on the narrative role the panel is ``storyteller_voters``: the model's
        steady and dramatic voices and the offline storyteller (``storyteller_weights``);
        without one, the offline storyteller alone."""
        from ouroboros.ai.generators.event import EVENTS
        from ouroboros.ai.llm import Ensemble
        from ouroboros.ai.llm.ensemble import storyteller_voters
        from ouroboros.ai.llm.routing import RoleRouter

        registry = self.models.current()
        router = RoleRouter(registry)
        voters: list[tuple[Any, int]] = [(router, 2)]
        if registry.assignment("narrative").provider != "offline":
            voters = storyteller_voters(router, self.storyteller_weights)
        audit: list[dict[str, Any]] = []
        decision = Ensemble(voters, audit=audit.append, timeout_s=self.enrich_timeout_s).decide(
            "Chaos stirs the city. Which event happens now?",
            sorted(job.options) or list(EVENTS),
            context=f"World {self.world}, tick {job.tick}, chaos {job.context.get('chaos')}.",
        )
        why = {"job_id": job.job_id, "calls": router.calls, **(audit[0] if audit else decision.as_dict())}
        self.store.record_decision(job.tick, "ensemble", "decided", why, job.job_id, str(job.type))
        return decision.choice, {"choice": decision.choice, "calls": router.calls}

    @traced("council.propose")
    def propose(
        self,
        type: ProposalType | str,
        seed: int,
        context: Mapping[str, Any] | None = None,
        *,
        job: Job | None = None,
        queue: bool | None = None,
        actor: str = "director",
        narrative: Mapping[str, Any] | None = None,
        generated: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Generate, enrich, check and then queue or submit one proposal; the stored record.
        ``generated``: the proposal a worker generated already (a ``gen`` job's result)."""
        if self.director.stopped:
            raise PatchError(
                "the director is stopped (emergency stop): no proposals", code="director_stopped"
            )
        if queue is None:
            queue = bool(self.director.get("human_in_the_loop"))
        guardrails = self.require_guardrails()
        history = self.rarity_history()
        try:
            if generated is not None:
                proposal = _worker_proposal(generated)
            else:
                content = self.content()
                proposal = self._generate(
                    type, seed, world=self.world, content=content, guardrails=guardrails, context=context
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
        report: dict[str, Any] | None = None
        if self.enrich is not None:
            try:
                out = self.enrich(proposal)
                validated, report = (out[0], dict(out[1])) if isinstance(out, tuple) else (out, None)
            except Exception as exc:  # enrich is optional: a failing one keeps the procedural words
                reason = f"enrich failed, kept the generated words: {exc}"
                report = {"fallback": True, "reason": reason, "calls": []}
            if validated is not proposal:
                from ouroboros.ai.queue import resummarize

                validated = resummarize(proposal, validated)  # the summary names the new words
            if report is not None and report.get("fallback") and not reason:
                reason = f"enrich kept the generated words because {report.get('reason')}"
        violations = check(validated, guardrails, history=history, content=self.content())
        if violations and validated is not proposal and not check(proposal, guardrails, history=history):
            # the new words broke a guardrail the generated ones keep: keep those, say why
            refused = "; ".join(f"{v.code} at {v.path}" for v in violations)
            reason = f"the enriched words were refused ({refused}); kept the generated words"
            report = {
                **(report or {}),
                "kept_generated": True,
                "note": reason,
                "refused": [v.as_dict() for v in violations],
            }
            validated, violations = proposal, []
        state = "failed" if violations else "queued" if queue else "submitting"
        if violations:
            reason = "; ".join(f"{v.code} at {v.path}: {v.message}" for v in violations)
        pid = proposal.proposal_id
        known = self.store.proposal(pid)
        if known is not None:
            return known
        twin = None if violations else self._twin_of(validated)
        if twin is not None:  # e.g. the director re-asking after a restore took the world back
            why = {"proposal_id": pid, "twin": twin["proposal_id"], "twin_state": twin["state"]}
            self.store.record_decision(
                job.tick if job else -1, "council", "duplicate", why, job.job_id if job else None, str(type)
            )
            return twin
        job_record = job.as_dict() if job else {"actor": actor, "context": dict(context or {})}
        if narrative is not None:
            job_record["narrative"] = dict(narrative)
        with self.store.transaction():
            self.store.add_proposal(
                pid,
                str(proposal.type),
                proposal.seed,
                state,
                generated,
                validated=validated.model_dump(mode="json"),
                job=job_record,
                reason=reason,
                enrich=report,
                base=self._base_of(validated),
            )
            if report is not None:
                outcome = "fallback" if report.get("fallback") else "enriched"
                why = {
                    "proposal_id": pid,
                    **{k: report.get(k) for k in ("model", "fallback", "reason", "calls")},
                }
                if report.get("fallback"):
                    why["why"] = f"kept the generated words because {report.get('reason')}"
                self.store.record_decision(
                    job.tick if job else -1,
                    "enrich",
                    outcome,
                    why,
                    job.job_id if job else None,
                    str(proposal.type),
                )
        if state == "submitting":
            self.submit_record(pid, actor)
        record = self.store.proposal(pid)
        if record is None:
            raise OuroborosError(f"proposal {pid} vanished from {self.store.path}", code="ai_store")
        return record

    def _twin_of(self, proposal: Proposal) -> dict[str, Any] | None:
        """A proposal, queued, waiting or active, whose content equals ``proposal``'s."""
        from ouroboros.ai.queue import OPEN_STATES
        from ouroboros.patches import canonical_bytes

        mine = canonical_bytes(proposal.payload)
        for state in sorted(OPEN_STATES | {"active"}):
            for record in self.store.proposals(state):
                if record["proposal_id"] == proposal.proposal_id:
                    continue
                theirs = (record["validated"] or record["generated"])["payload"]
                if canonical_bytes(theirs) == mine:
                    return record
        return None

    def _enrich_context(self, proposal: Proposal) -> tuple[set[tuple[str, str]], list[str]]:
        return enrich_context(self.governor, proposal)

    def _base_of(self, proposal: Proposal) -> dict[str, Any]:
        """The existing objects ``proposal`` changes, as they are now (what a rebase merges from)."""
        from ouroboros.patches import effective_objects

        now = effective_objects(self.governor.world_name, self.governor.active_content())
        base: dict[str, Any] = {}
        for domain, object_id in proposal.object_ids():
            if object_id in now.get(domain, {}):
                base.setdefault(domain, {})[object_id] = now[domain][object_id]
        return base

    # -- the pipeline ----------------------------------------------------------------------------------
    def _key(self) -> Any:
        if (self.governor.keys_dir / f"{GENERATOR_KEY}.key").exists():
            return self.governor.local_key(GENERATOR_KEY)
        return self.governor.new_key(GENERATOR_KEY, GENERATOR_DOMAINS, "council")

    def submit_content(
        self,
        content: Mapping[str, Any],
        *,
        run_id: str,
        actor: str,
        migration: Mapping[str, Any] | None = None,
    ) -> Verdict:
        """Sign ``content`` with the generator key and run it through the pipeline (raises
        ``PatchError`` when the kill-switch is engaged); ``migration``: the envelope's hint (the
        words players read when it lands)."""
        return self.governor.submit(self._bundle(content, run_id=run_id, migration=migration), actor=actor)

    def _bundle(
        self, content: Mapping[str, Any], *, run_id: str, migration: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """``content`` as a bundle on the active version, signed with the generator key."""
        from ouroboros.patches import bundle_on_active

        gov = self.governor
        gov.killswitch.state()  # an unreadable switch raises before a key is made
        author = {"type": "generator", "model": None, "run_id": run_id}
        return dict(bundle_on_active(gov, content, self._key(), author=author, migration=migration))

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
        self.require_guardrails()
        proposal = Proposal.model_validate(record["validated"] or record["generated"])
        rebased, moved = self._rebase(proposal, record.get("base") or {})
        violations = check(rebased, self.guardrails(), history=self.rarity_history(), content=self.content())
        if violations:
            verdict = Verdict(
                None,
                REFUSED,
                [
                    Reason("guardrails", v.code, v.path, f"{v.message} (found {v.value}, limit {v.limit})")
                    for v in violations
                ],
            )
            self.record_verdict(proposal_id, verdict)
            return verdict.as_dict()
        if moved:
            self.store.update_proposal(proposal_id, validated=rebased.model_dump(mode="json"))
        if self.before_high_risk is not None and proposal.type in HIGH_RISK_TYPES:
            self.before_high_risk(f"{proposal.type.value} {proposal_id}")
        staging = self.staging_for(rebased, record)
        rollout: dict[str, Any] | None = None
        try:
            if staging is not None and staging.plan is not None:
                verdict, rollout = self._submit_staged(rebased, staging, actor)
            else:
                verdict = self.submit(rebased, actor)
        except (PatchError, LedgerError) as exc:
            stage = "policy" if isinstance(exc, PatchError) else "ledger"
            verdict = Verdict(None, REFUSED, [Reason(stage, exc.code, "", exc.message)])
        self.record_verdict(proposal_id, verdict, rollout=rollout)
        return {**verdict.as_dict(), **({"rollout": rollout} if rollout else {})}

    # -- staged rollouts -------------------------------------------------------------------------------
    def staging_policy(self) -> StagingPolicy | None:
        """The director's staging policy from the guardrails in force; ``None``: staging off. With
        no ``rollout_plans`` set, a world that advances rollouts (``staged_by_default``: it runs as
        shards) stages by the default plans; one that does not (one shard) stages nothing."""
        plans = self.guardrails().rollout_plans
        if plans is None and self.staged_by_default:
            plans = {}
        return StagingPolicy.from_settings(plans)

    def staging_for(self, proposal: Proposal, record: Mapping[str, Any] | None = None) -> Staging | None:
        """Whether ``proposal`` is staged and with which plan (``None``: staging off), written to
        the decision log with the plan."""
        from ouroboros.patches import effective_objects

        policy = self.staging_policy()
        if policy is None:
            return None
        gov = self.governor
        existing = effective_objects(gov.world_name, gov.active_content())
        staging = policy.decide(str(proposal.type), proposal.payload, existing)
        job = (record or {}).get("job") or {}
        why: dict[str, Any] = {"proposal_id": proposal.proposal_id, "plan": staging.why}
        if staging.plan is not None:
            why["stages_percent"] = list(staging.plan.percents)
        outcome = "staged" if staging.plan is not None else "global"
        self.store.record_decision(
            int(job.get("tick", -1)), "rollout", outcome, why, job.get("job_id"), str(proposal.type)
        )
        return staging

    def _submit_staged(
        self, proposal: Proposal, staging: Staging, actor: str
    ) -> tuple[Verdict, dict[str, Any] | None]:
        """Submit to be held at ``validated`` and staged with the plan; the verdict and what the
        proposal keeps of the rollout (its plan, its id when it started, why it did not)."""
        from ouroboros.rollout.service import RolloutService

        if self.director.stopped:
            raise PatchError(
                "the director is stopped (emergency stop): nothing is submitted", code="director_stopped"
            )
        plan = staging.plan
        if plan is None:
            raise PatchError("a global change has no plan to stage", code="internal_error")
        doc = self._bundle(proposal.payload, run_id=proposal.proposal_id or "manual")
        reason = f"proposal {proposal.proposal_id} ({proposal.type.value}): {staging.why}"
        verdict, started, why_not = RolloutService(self.governor).submit(doc, plan, actor, reason)
        if verdict.state != State.VALIDATED:
            return verdict, None
        out: dict[str, Any] = {"plan": plan_words(plan)}
        if started is not None:
            out["rollout_id"] = started.rollout_id
        else:
            out["not_started"] = why_not
        return verdict, out

    def start_rollout(self, proposal_id: str, actor: str, reason: str) -> dict[str, Any]:
        """A person approves an ``awaiting`` proposal that was to be staged: its rollout starts
        with the plan it was given (the kill-switch, a live rollout or a patch no longer
        validated is one clear error, nothing changed)."""
        from ouroboros.rollout.plan import parse_plan
        from ouroboros.rollout.service import RolloutService

        record = self.store.proposal(proposal_id)
        rollout = ((record or {}).get("verdict") or {}).get("rollout") or {}
        if (
            record is None
            or record["state"] != "awaiting"
            or not rollout.get("plan")
            or not record["patch_id"]
        ):
            raise PatchError(f"proposal {proposal_id} has no staged patch waiting", code="not_waiting")
        started = RolloutService(self.governor).start(
            record["patch_id"], parse_plan(rollout["plan"]), actor, reason
        )
        verdict = {**(record["verdict"] or {}), "rollout": {**rollout, "rollout_id": started.rollout_id}}
        verdict["rollout"].pop("not_started", None)
        self.store.update_proposal(
            proposal_id, state="staging", reason=f"staged {rollout['plan']}: rollout {started.rollout_id}",
            verdict=verdict,
        )  # fmt: skip
        return {"patch_id": record["patch_id"], "state": "staging", "rollout_id": started.rollout_id}

    def _rebase(self, proposal: Proposal, base: Mapping[str, Any]) -> tuple[Proposal, list[str]]:
        """``proposal`` laid over the active version (see ``rebase.rebase``)."""
        from ouroboros.patches import effective_objects

        gov = self.governor
        return rebase(proposal, base, effective_objects(gov.world_name, gov.active_content()))

    def record_verdict(
        self, proposal_id: str, verdict: Verdict, *, rollout: Mapping[str, Any] | None = None
    ) -> None:
        """``rollout``: the staged rollout the verdict's patch was given (its plan, and its id
        when it started: the proposal is then ``staging``)."""
        state = _queue_state(verdict)
        reason = "; ".join(f"[{r.stage}] {r.code}: {r.message}" for r in verdict.reasons)
        if state == "awaiting":
            reason = str(verdict.evidence.get("awaiting", "awaiting a person"))
        if state == "awaiting" and rollout is not None and rollout.get("rollout_id"):
            state, reason = "staging", f"staged {rollout['plan']}: rollout {rollout['rollout_id']}"
        elif state == "awaiting" and rollout is not None:
            reason = f"{rollout.get('not_started')}; approving it starts the rollout ({rollout['plan']})"
        record = self.store.proposal(proposal_id)
        stored: dict[str, Any] = {
            "state": str(verdict.state),
            "reasons": [r.as_dict() for r in verdict.reasons],
        }
        if rollout is not None:
            stored["rollout"] = dict(rollout)
        with self.store.transaction():
            self.store.update_proposal(
                proposal_id,
                state=state,
                reason=reason,
                patch_id=verdict.patch_id or (record or {}).get("patch_id"),
                verdict=stored,
            )
            if state == "active" and record is not None and record["undo_of"] is None:
                counts: dict[str, int] = {}
                for item in (record["validated"] or record["generated"])["payload"].get("items") or ():
                    rarity = str(item.get("rarity", "common"))
                    counts[rarity] = counts.get(rarity, 0) + 1
                self.store.record_rarity(proposal_id, counts)
        if state == "active" and record is not None and self.models is not None:
            calls = list((record.get("enrich") or {}).get("calls") or ())
            calls += list(((record.get("job") or {}).get("narrative") or {}).get("calls") or ())
            registry = self.models.current()
            for call in calls:
                if call.get("ok"):
                    registry.accept(str(call["role"]), str(call["model"]))


#: proposals that change much at once: an automatic snapshot is taken before each is submitted
HIGH_RISK_TYPES = frozenset({ProposalType.WORLD_EXPANSION, ProposalType.BUILDING, ProposalType.EVENT})


def _worker_proposal(doc: Mapping[str, Any]) -> Proposal:
    from pydantic import ValidationError

    try:
        return Proposal.model_validate(doc)
    except ValidationError as exc:
        raise BadInputError(f"a worker's proposal does not parse: {exc}", code="bad_proposal") from exc


def _queue_state(verdict: Verdict) -> str:
    if verdict.state == REFUSED:
        return "refused"
    if verdict.state == State.ACTIVE:
        return "active"
    if verdict.state == State.VALIDATED:
        return "awaiting"
    return "failed"
