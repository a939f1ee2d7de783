"""The evolution loop for a world that evolves (its spec has an evolution hook): watch → plan →
code → evaluate → accept → hot-swap.

``EvolutionLoop(world, governor=None, coder=None, cooldown_ticks=..., feed=callable)``:

- ``step()`` is called between ticks. It shows the dish's newest telemetry snapshot to the
  ``Watcher``; when the watcher's window raises a trigger of at least ``min_severity`` and the
  cooldown is over, it runs one *cycle*; ``trigger()`` runs one now (an operator's request).
- A cycle: the ``Architect`` turns the trigger into a plan (a new trait while the dish has room
  for one and none of ours runs, else a new version of the trait we run; a parameter change only
  when ``allow_params``); the coder writes candidates, generation after generation; the
  ``Cascade`` evaluates each on forks, cheapest test first; failures feed back to the coder;
  every candidate that reached the shadow stage is offered to the MAP-Elites ``Archive``; the
  best candidate that beat the baseline is accepted and joins the ``Library``.
- Acceptance: the change leaves as a signed bundle (``scripts`` + ``traits``, ``migrate:
  replace``; or ``world_params``) through ``governor.submit`` — a real ``Governor`` (its pipeline
  runs its own static, replay, shadow and canary stages) or, when none is given, a
  ``MemoryGovernor`` of the loop's own (integrity, schema and static; see ``patches.memory``).
  That is all the loop does: it never writes the world and follows no pointer. Once the version
  is ``active`` the world's one follower — the server's runner, or ``Headless`` in a process
  without one — queues ``gameplay.activate`` at a tick boundary (see ADR 0016).
- A cycle has three parts, so a live dish need not stop while it is evaluated (a server runs
  them on different threads; ``step()`` and ``trigger()`` run all three in a row):
  ``prepare()`` / ``prepare_trigger()`` between ticks (the watcher, the plan, a fork of the dish
  and the loop's content: a ``Cycle``); ``evaluate(cycle)`` anywhere, without the dish (the
  cascade on that fork; it touches neither the live world nor the governor and stops early once
  ``cycle.cancel()`` is called); ``finish(cycle)`` submits the accepted change (on the
  governor's thread; it does not touch the world). Every touch of the live world holds
  ``world_lock`` when one is given.
- Every step is a feed event (``{"type", "tick", "cycle", ...}``) passed to ``feed`` and kept in
  ``history()``; a cycle's events up to its acceptance carry the tick it was planned at.
  Deterministic: draws come from ``SeededDraws(world.seed, cycle)``, evaluations run on a fork
  taken when the cycle was planned; the only clock read is the cycle's budget below.
- A cycle's cost is bounded and visible: its evaluation stops within one fork tick once it has
  run ``cycle_budget_ms`` (by the injected ``clock``, monotonic seconds) and the cycle is then
  rejected with ``code: "cycle_timed_out"``; every evaluated cycle ends with a ``cost`` event
  (``elapsed_ms``, ``fork_ticks``, ``candidates``, ``budget_ms``, ``timed_out``). Before each fork
  tick the evaluation calls ``pace`` (when given): a live runtime makes it wait there while the
  dish is ticking, so the evaluation only uses the dish's idle time and the dish keeps its pace.
- What a loop holds is bounded, each bound a setting of ``EvolutionConfig``: the feed history
  (``history_max_events``), the library (``library_max_programs``); the archive has one elite per
  behaviour cell (a fixed grid). A cycle's forks and their Lua states die with the cycle.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ouroboros.ai.evolution.archive import Archive, Elite, Library
from ouroboros.ai.evolution.cascade import (
    Cascade,
    CascadeConfig,
    Evaluation,
    carriers_of,
    evolution_hook,
    param_content,
    shadow_params,
    trait_content,
)
from ouroboros.ai.evolution.coder import Candidate, Feedback, OfflineCoder
from ouroboros.ai.evolution.watcher import Trigger, Watcher
from ouroboros.ai.proposals import SeededDraws
from ouroboros.engine import World
from ouroboros.errors import BadInputError, EvaluationStoppedError, OuroborosError
from ouroboros.patches import MemoryGovernor, State, world_content

if TYPE_CHECKING:
    from ouroboros.content.rules import Guardrails
    from ouroboros.patches import Governor, SigningKey
    from ouroboros.rollout.plan import RolloutPlan
    from ouroboros.rollout.policy import Staging

#: the domains the loop's own key may sign (a trait, its script; parameters when allowed)
KEY_DOMAINS = ("scripts", "traits")

HISTORY_LIMIT = 2_000  # the default of EvolutionConfig.history_max_events
CYCLE_BUDGET_MS = 120_000
TRAIT_PREFIX = "evo.trait"
MAX_OWN_TRAITS = 4
PARAMS_ID = "evo.params"


@dataclass(frozen=True)
class EvolutionConfig:
    generations: int = 3
    min_severity: int = 1
    max_new_traits: int = MAX_OWN_TRAITS
    allow_params: bool = False
    cascade: CascadeConfig = field(default_factory=CascadeConfig)
    history_max_events: int = HISTORY_LIMIT  # feed events kept for history(), newest last
    library_max_programs: int = 16  # proven traits kept as parents, newest last
    cycle_budget_ms: int = CYCLE_BUDGET_MS  # wall clock one cycle's evaluation may take; 0: no limit

    def __post_init__(self) -> None:
        for name in ("history_max_events", "library_max_programs", "cycle_budget_ms"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise BadInputError(f"{name} must be a non-negative integer")


class Architect:
    """Turns a trigger into a plan. Pure: the dish's state in, a plan (plain data) out."""

    def plan(
        self,
        trigger: Trigger,
        own_traits: list[str],
        free_bits: int,
        *,
        carrier_permille: int = 0,
        allow_params: bool,
        max_new_traits: int,
    ) -> dict[str, Any]:
        """With ``allow_params``, overpopulation (food ran out under a crowd) and a starvation
        with no room for a trait are parameter changes (more food). Otherwise a new trait while
        there is room and our traits reach under a quarter of the dish (a new trait enters
        through a fresh seed group, so more molbots get behaviour to be selected on), else a new
        version of the newest trait we run."""
        no_room = free_bits <= 0 or len(own_traits) >= max_new_traits
        if allow_params and (trigger.kind == "overpopulation" or (trigger.kind == "starvation" and no_room)):
            return {"kind": "param_change", "kpi": "starvation_deaths", "reason": trigger.reason}
        kpi = {"starvation": "carrier_survival", "low_diversity": "carrier_survival"}.get(
            trigger.kind, "carrier_survival"
        )
        if free_bits > 0 and len(own_traits) < max_new_traits and (not own_traits or carrier_permille < 250):
            trait_id = f"{TRAIT_PREFIX}.{len(own_traits) + 1}"
            return {"kind": "new_trait", "trait_id": trait_id, "kpi": kpi, "reason": trigger.reason}
        if own_traits:
            return {"kind": "modify_trait", "trait_id": own_traits[-1], "kpi": kpi, "reason": trigger.reason}
        return {"kind": "none", "kpi": kpi, "reason": "no room for a new trait"}


@dataclass
class Cycle:
    """One cycle under way: planned at ``tick`` with a fork of the dish then (``world``) and the
    loop's ``content``; ``change`` is the accepted patch content to deliver, ``outcome`` the
    cycle's last event once it is decided without a delivery."""

    number: int
    tick: int
    trigger: Trigger
    content: dict[str, Any]
    plan: dict[str, Any] = field(default_factory=dict)
    world: World | None = None
    target: str = ""
    version: str = ""
    change: dict[str, Any] | None = None
    outcome: dict[str, Any] | None = None
    cancelled: threading.Event = field(default_factory=threading.Event)
    deadline_s: float | None = None  # by the loop's clock, once the evaluation started
    fork_ticks: int = 0
    candidates: int = 0

    def cancel(self) -> None:
        """Ask the evaluation to stop before its next fork tick (the cycle is then rejected)."""
        self.cancelled.set()


class EvolutionLoop:
    """See the module docstring."""

    def __init__(
        self,
        world: World,
        *,
        governor: Governor | MemoryGovernor | None = None,
        coder: Any = None,
        cooldown_ticks: int = 300,
        feed: Callable[[dict[str, Any]], None] | None = None,
        config: EvolutionConfig | None = None,
        key: SigningKey | None = None,
        seed: int | None = None,
        world_lock: AbstractContextManager[Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
        pace: Callable[[], None] | None = None,
    ) -> None:
        self.hook = evolution_hook(world)  # BadInputError for a world that does not evolve
        if not isinstance(cooldown_ticks, int) or cooldown_ticks < 0:
            raise BadInputError("cooldown_ticks must be a non-negative integer")
        self.world = world
        self.governor: Governor | MemoryGovernor = governor or MemoryGovernor.for_world(world)
        self.coder = coder or OfflineCoder()
        self.cooldown_ticks = cooldown_ticks
        self.feed = feed
        self.config = config or EvolutionConfig()
        self.key = key
        self.seed = world.seed if seed is None else seed
        #: stage trait changes by the default plan when the guardrails set none (the runtime sets
        #: it for a world that runs as shards, where rollouts advance)
        self.staged_by_default = False
        self.watcher = Watcher()
        self.architect = Architect()
        self.archive = Archive()
        self.library = Library(self.config.library_max_programs)
        self.clock = clock
        self.pace = pace
        self.cycles = 0
        self.content: dict[str, Any] = {}
        self.versions: dict[str, int] = {}
        self._history: list[dict[str, Any]] = []
        self._cooldown_until = -1
        self._world_lock: AbstractContextManager[Any] = world_lock or contextlib.nullcontext()
        self._history_lock = threading.Lock()
        self._emitted = 0
        #: where a generation's candidates are evaluated when not here: ``evaluator(world, content,
        #: cascade_config, trait_id, version, sources, stopped)`` → one ``Evaluation`` per source, in
        #: order (``ai.offload.EvolveJobs``: ``evolve`` jobs for workers); it raises
        #: ``EvaluationStoppedError`` once ``stopped()`` says so. ``None``: the cascade runs here
        self.evaluator: Callable[..., list[Evaluation]] | None = None
        #: the once-check of a delivery (``cluster.effects.EffectLog``): a change already submitted
        #: on the same active version is not submitted again (a cluster's control process sets it)
        self.once: Any = None
        #: why no cycle can be planned now (``None``: it can): a cluster's control before its
        #: shard sent a first snapshot of the dish. An operator's trigger is then refused with it
        self.unready: Callable[[], str | None] | None = None

    # -- feed ------------------------------------------------------------------------------------
    def _emit(self, event_type: str, *, at: Cycle | None = None, **data: Any) -> dict[str, Any]:
        tick, cycle = (self.world.tick, self.cycles) if at is None else (at.tick, at.number)
        event = {"type": event_type, "tick": tick, "cycle": cycle, **data}
        with self._history_lock:
            self._history.append(event)
            del self._history[: max(0, len(self._history) - self.config.history_max_events)]
            self._emitted += 1
        if self.feed is not None:
            self.feed(event)
        return event

    def history(self, limit: int = 100) -> list[dict[str, Any]]:
        """The newest ``limit`` feed events, oldest first."""
        with self._history_lock:
            return list(self._history[-limit:]) if limit > 0 else []

    def _since(self, emitted: int) -> list[dict[str, Any]]:
        with self._history_lock:
            n = min(self._emitted - emitted, len(self._history))
            return list(self._history[-n:]) if n > 0 else []

    # -- driving ---------------------------------------------------------------------------------
    def step(self) -> list[dict[str, Any]]:
        """Call between ticks: a whole cycle when one is due. Returns the feed events of this call."""
        start = self._emitted
        cycle = self.prepare()
        if cycle is not None:
            self.evaluate(cycle)
            self.finish(cycle)
        return self._since(start)

    def trigger(self, reason: str | None = None, actor: str = "operator") -> dict[str, Any]:
        """Run one cycle now, whatever the cooldown; returns its outcome event."""
        cycle = self.prepare_trigger(reason, actor)
        self.evaluate(cycle)
        return self.finish(cycle)

    def prepare(self) -> Cycle | None:
        """Between ticks: show the watcher the newest telemetry and, when a trigger of at least
        ``min_severity`` is raised after the cooldown, plan a cycle (``None``: none is due)."""
        with self._world_lock:
            self.watcher.observe(self.world.resources.get("telemetry"))
            if self.world.tick < self._cooldown_until:
                return None
            params = self.world.resources["params"]
            found = [
                t
                for t in self.watcher.triggers(params.get("max_entities"))
                if t.severity >= self.config.min_severity
            ]
            return self._begin(found[0]) if found else None

    def prepare_trigger(self, reason: str | None = None, actor: str = "operator") -> Cycle:
        """Between ticks: plan a cycle now, whatever the cooldown (an operator's request)."""
        if reason is not None and not isinstance(reason, str):
            raise BadInputError("reason must be text")
        why = self.unready() if self.unready is not None else None
        if why:
            raise OuroborosError(why, code="no_dish")
        with self._world_lock:
            found = self.watcher.triggers(self.world.resources["params"].get("max_entities"))
            kind = found[0].kind if found else "starvation"
            trig = Trigger(kind, 3, self.world.tick, {}, reason or f"requested by {actor}")
            self._emit("trigger_requested", actor=actor, reason=trig.reason)
            return self._begin(trig)

    def evaluate(self, cycle: Cycle) -> None:
        """Off the tick path (any thread, no lock): try the plan's candidates on the cycle's fork
        and decide what to deliver. Touches neither the live world nor the governor."""
        if cycle.outcome is not None or cycle.world is None:
            return
        started = self.clock()
        budget_ms = self.config.cycle_budget_ms
        cycle.deadline_s = started + budget_ms / 1000 if budget_ms else None
        try:
            if cycle.plan["kind"] == "param_change":
                self._evaluate_params(cycle)
            else:
                self._evaluate_trait(cycle)
        except EvaluationStoppedError:
            self._stopped(cycle)
        finally:
            cycle.world = None  # the fork and every fork of it go with the cycle
        timed_out = bool(cycle.outcome and cycle.outcome.get("code") == "cycle_timed_out")
        self._emit(
            "cost",
            at=cycle,
            elapsed_ms=int((self.clock() - started) * 1000),
            budget_ms=budget_ms,
            fork_ticks=cycle.fork_ticks,
            candidates=cycle.candidates,
            timed_out=timed_out,
        )

    def _before_fork_tick(self, cycle: Cycle) -> Callable[[], None]:
        """The hook the cascade calls before every fork tick: stop when cancelled or out of
        budget, else wait for the dish's idle time (``pace``) and count the tick."""

        def before_tick() -> None:
            if self._out_of_time(cycle) or cycle.cancelled.is_set():
                raise EvaluationStoppedError("the cycle was stopped")
            if self.pace is not None:
                self.pace()
            cycle.fork_ticks += 1

        return before_tick

    def _out_of_time(self, cycle: Cycle) -> bool:
        return cycle.deadline_s is not None and self.clock() >= cycle.deadline_s

    def finish(self, cycle: Cycle) -> dict[str, Any]:
        """Submit the cycle's accepted change (where the governor lives); returns its outcome
        event. Once active, the world's follower brings it in at a tick boundary."""
        if cycle.outcome is None:
            if cycle.change is None:
                cycle.outcome = self._emit("rejected", at=cycle, reason="the cycle was not evaluated")
            elif self.once is None:
                cycle.outcome = self._deliver(cycle, cycle.target, cycle.version, cycle.change)
            else:
                cycle.outcome = self._deliver_once(cycle, cycle.change)
        return cycle.outcome

    def delivery_key(self, change: Mapping[str, Any]) -> str:
        """The once-key of submitting ``change`` now: the world, the active version it builds on
        and the change itself (a restarted process that reaches the same change submits nothing)."""
        import hashlib
        import json

        doc = {"world": self._world_name, "base": self.governor.active(), "change": change}
        text = json.dumps(doc, sort_keys=True, separators=(",", ":"))
        return "evolution:" + hashlib.sha256(text.encode()).hexdigest()[:32]

    def _deliver_once(self, cycle: Cycle, change: Mapping[str, Any]) -> dict[str, Any]:
        """``_deliver`` under the once-check: its key recorded with the submission, or the delivery
        skipped (``already_submitted``) when the key was recorded before."""
        done: list[dict[str, Any]] = []
        key = self.delivery_key(change)

        def deliver() -> None:
            done.append(self._deliver(cycle, cycle.target, cycle.version, change))

        if self.once.apply_once(key, deliver):
            return done[0]
        return self._emit(
            "rejected",
            at=cycle,
            trait_id=cycle.target,
            code="already_submitted",
            key=key,
            reason="this change was submitted on this version before",
        )

    # -- one cycle -------------------------------------------------------------------------------
    @property
    def _world_name(self) -> str:
        return str(self.world.meta["world"])

    def own_traits(self) -> list[str]:
        running = {e["id"] for e in self.world.resources.get("scripted_traits", ()) if not e["retiring"]}
        return sorted(t for t in running if t.startswith(TRAIT_PREFIX + "."))

    def _free_bits(self) -> int:
        return self.hook.free_trait_slots(self.world)

    def _carrier_permille(self) -> int:
        alive = self.hook.population(self.world)
        if alive == 0:
            return 0
        held: set[int] = set()
        for tid in self.own_traits():
            held.update(int(i) for i in carriers_of(self.world, tid))
        return len(held) * 1000 // alive

    def _begin(self, trig: Trigger) -> Cycle:
        """With the world held: count the cycle, plan it, and fork the dish for its evaluation."""
        self.cycles += 1
        self._cooldown_until = self.world.tick + self.cooldown_ticks
        self.watcher.clear()
        self.content = world_content(self.governor.active_content())  # what the forks build on
        cycle = Cycle(self.cycles, self.world.tick, trig, dict(self.content))
        self._emit("trigger", at=cycle, **trig.as_dict())
        if self.governor.killswitch.engaged():
            reason = "the kill-switch is engaged: no new AI change is made"
            cycle.outcome = self._emit(
                "rejected", at=cycle, by="killswitch", code="killswitch_engaged", reason=reason
            )
            return cycle
        cycle.plan = self.architect.plan(
            trig,
            self.own_traits(),
            self._free_bits(),
            carrier_permille=self._carrier_permille(),
            allow_params=self.config.allow_params,
            max_new_traits=self.config.max_new_traits,
        )
        self._emit("plan", at=cycle, plan=cycle.plan)
        kind = cycle.plan["kind"]
        if kind == "param_change":
            cycle.target = PARAMS_ID
        elif kind in ("new_trait", "modify_trait"):
            cycle.target = cycle.plan["trait_id"]
        else:
            cycle.outcome = self._emit("rejected", at=cycle, reason=f"no plan: {cycle.plan['reason']}")
            return cycle
        cycle.version = f"1.{self.versions.get(cycle.target, 0) + 1}.0"
        cycle.world = self.world.fork()
        cycle.world.digest_every_tick = False  # the cascade forks it again, compared by final digests
        return cycle

    def _stopped(self, cycle: Cycle) -> bool:
        if cycle.outcome is None and self._out_of_time(cycle):
            budget = self.config.cycle_budget_ms
            cycle.outcome = self._emit(
                "rejected",
                at=cycle,
                code="cycle_timed_out",
                timed_out=True,
                budget_ms=budget,
                reason=f"the cycle ran out of its budget of {budget} ms before it was decided",
            )
        if cycle.cancelled.is_set() and cycle.outcome is None:
            cycle.outcome = self._emit("rejected", at=cycle, reason="stopped before it was decided")
        return cycle.outcome is not None

    def _evaluate_trait(self, cycle: Cycle) -> None:
        if cycle.world is None:
            return
        trait_id, version, plan = cycle.target, cycle.version, cycle.plan
        draws = SeededDraws(self.seed, f"evolution:{cycle.number}")
        cascade = Cascade(cycle.world, cycle.content, self.config.cascade, self._before_fork_tick(cycle))
        feedback: list[Feedback] = []
        best: tuple[Candidate, Evaluation] | None = None
        for gen in range(self.config.generations):
            parents = self.library.programs() + [e.program for e in self.archive.elites()[:6]]
            if best is not None and best[0].program is not None:
                parents.append(best[0].program)
            candidates = self.coder.propose(
                draws.fork(f"gen:{gen}"), parents=parents, feedback=feedback, plan=plan
            )
            feedback = []
            remote = self._evaluate_elsewhere(cycle, trait_id, version, candidates)
            for i, cand in enumerate(candidates):
                if self._stopped(cycle):
                    return
                cycle.candidates += 1
                ev = remote[i] if remote is not None else cascade.evaluate(trait_id, version, cand.source)
                self._emit("candidate", at=cycle, generation=gen, origin=cand.origin, source=cand.source)
                self._emit("evaluation", at=cycle, generation=gen, origin=cand.origin, **ev.as_dict())
                if ev.stage == "shadow" and cand.program is not None:
                    self.archive.offer(Elite(cand.program, ev.fitness, ev.cell, cand.source, ev.numbers))
                if ev.ok and (best is None or ev.fitness > best[1].fitness):
                    best = (cand, ev)
                if not ev.ok:
                    feedback.append(Feedback.of(ev))
        if best is None:
            codes = sorted({c for f in feedback for c in f.codes})
            cycle.outcome = self._emit(
                "rejected", at=cycle, trait_id=trait_id, reason="no candidate beat the baseline", codes=codes
            )
            return
        cand, ev = best
        if cand.program is not None:
            self.library.add(Elite(cand.program, ev.fitness, ev.cell, cand.source, ev.numbers))
        self._emit(
            "accepted",
            at=cycle,
            trait_id=trait_id,
            version=version,
            fitness=ev.fitness,
            numbers=ev.numbers,
            origin=cand.origin,
            source=cand.source,
        )
        cycle.change = trait_content(
            trait_id,
            version,
            cand.source,
            world=self._world_name,
            instructions_per_call=self.config.cascade.instructions_per_call,
        )

    def _evaluate_elsewhere(
        self, cycle: Cycle, trait_id: str, version: str, candidates: list[Candidate]
    ) -> list[Evaluation] | None:
        """A generation's evaluations by ``evaluator`` (all at once, so workers share them), or
        ``None`` when the cascade runs here."""
        if self.evaluator is None or not candidates or cycle.world is None:
            return None
        if self._stopped(cycle):
            raise EvaluationStoppedError("the cycle was stopped")
        sources = [c.source for c in candidates]
        got = self.evaluator(
            cycle.world,
            cycle.content,
            self.config.cascade,
            trait_id,
            version,
            sources,
            lambda: self._out_of_time(cycle) or cycle.cancelled.is_set(),
        )
        if len(got) != len(sources):
            raise BadInputError(f"the evaluator answered {len(got)} evaluations of {len(sources)} candidates")
        return list(got)

    def _evaluate_params(self, cycle: Cycle) -> None:
        """Try the hook's parameter changes (for petri: more food) on forks; accept the change with
        the fewest starvation deaths over the shadow run, if fewer than the baseline's and the
        population keeps at least nine tenths of the baseline's."""
        if cycle.world is None:
            return
        world, content, ticks = cycle.world, cycle.content, self.config.cascade.shadow_ticks
        before_tick = self._before_fork_tick(cycle)
        base = shadow_params(world, content, None, ticks, before_tick)
        best: tuple[dict[str, int], dict[str, int]] | None = None
        for change in self.hook.param_candidates(world):
            if self._stopped(cycle):
                return
            cycle.candidates += 1
            numbers = shadow_params(world, content, change, ticks, before_tick)
            ok = numbers["starved"] < base["starved"] and numbers["population"] * 10 >= base["population"] * 9
            self._emit("evaluation", at=cycle, params=change, ok=ok, numbers=numbers, baseline=base)
            if ok and (best is None or numbers["starved"] < best[1]["starved"]):
                best = (change, numbers)
        if best is None:
            cycle.outcome = self._emit(
                "rejected", at=cycle, reason="no parameter change beat the baseline", baseline=base
            )
            return
        self._emit(
            "accepted", at=cycle, params=best[0], version=cycle.version, numbers=best[1], baseline=base
        )
        cycle.change = param_content(PARAMS_ID, cycle.version, best[0], world=self._world_name)

    # -- delivery --------------------------------------------------------------------------------
    def _deliver(
        self, cycle: Cycle, trait_id: str, version: str, change: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Submit ``change`` as a bundle; the outcome event says what the governor made of it."""
        started, why_not = None, None
        try:
            staging = self._staging(cycle, trait_id, change)
            if staging is not None and staging.plan is not None:
                staged = self._submit_staged(change, cycle.number, staging.plan, staging.why)
                verdict, started, why_not = staged
            else:
                verdict = self._submit(change, cycle.number)
        except OuroborosError as exc:  # e.g. the kill-switch: refused, and the world runs on
            return self._emit(
                "rejected",
                cycle=cycle.number,
                trait_id=trait_id,
                by="governor",
                code=exc.code,
                reason=exc.message,
            )
        if not verdict.ok:
            reasons = [r.as_dict() for r in verdict.reasons]
            return self._emit(
                "rejected",
                cycle=cycle.number,
                trait_id=trait_id,
                by="governor",
                state=str(verdict.state),
                reasons=reasons,
            )
        self.versions[trait_id] = self.versions.get(trait_id, 0) + 1
        self._emit(
            "governed",
            cycle=cycle.number,
            trait_id=trait_id,
            patch_id=verdict.patch_id,
            state=str(verdict.state),
        )
        if started is not None:  # the rollout's last stage makes it active; the follower then swaps
            return self._emit(
                "staged",
                cycle=cycle.number,
                trait_id=trait_id,
                patch_id=verdict.patch_id,
                rollout_id=started.rollout_id,
                plan=",".join(f"{p:g}" for p in started.plan.percents),
            )
        if verdict.state != State.ACTIVE:  # held for a person, say, or a rollout that did not start
            return self._emit(
                "waiting",
                cycle=cycle.number,
                trait_id=trait_id,
                patch_id=verdict.patch_id,
                state=str(verdict.state),
                **({"reason": why_not} if why_not else {}),
            )
        self.content = world_content(self.governor.active_content())
        # active: the world's follower takes it in at its next tick boundary
        return self._emit(
            "swapped",
            cycle=cycle.number,
            trait_id=trait_id,
            version=version,
            via="governor",
            patch_id=verdict.patch_id,
        )

    def _submit(self, change: Mapping[str, Any], cycle: int) -> Any:
        from ouroboros.patches import bundle_on_active

        gov = self.governor
        author = {"type": "generator", "model": self.coder.name, "run_id": f"evolution:{cycle}"}
        now = gov.clock() if gov.clock is not None else None
        doc = bundle_on_active(gov, change, self._key(), author=author, now=now)
        return gov.submit(doc, actor="evolution")

    def _staging(self, cycle: Cycle, trait_id: str, change: Mapping[str, Any]) -> Staging | None:
        """The staging policy's word on a trait change to a real governor (``None``: not asked)."""
        from ouroboros.patches import Governor, effective_objects
        from ouroboros.rollout.policy import TICK_CHECKS, StagingPolicy

        gov = self.governor
        if not isinstance(gov, Governor) or "traits" not in change:
            return None
        plans = _guardrails_in(gov.data).rollout_plans
        if plans is None and self.staged_by_default:
            plans = {}
        policy = StagingPolicy.from_settings(plans)
        if policy is None:
            return None
        existing = effective_objects(gov.world_name, gov.active_content())
        staging = policy.decide("TRAIT", change, existing, checks=TICK_CHECKS)
        self._emit("staging", at=cycle, trait_id=trait_id, plan=staging.why)
        return staging

    def _submit_staged(self, change: Mapping[str, Any], cycle: int, plan: RolloutPlan, why: str) -> Any:
        """Submit to be held at ``validated`` and start a rollout with ``plan``; the verdict, the
        rollout (``None`` when none started) and why none did."""
        from ouroboros.patches import Governor, bundle_on_active
        from ouroboros.rollout.service import RolloutService

        gov = self.governor
        if not isinstance(gov, Governor):
            raise BadInputError("only a governed data folder stages a change")
        author = {"type": "generator", "model": self.coder.name, "run_id": f"evolution:{cycle}"}
        now = gov.clock() if gov.clock is not None else None
        doc = bundle_on_active(gov, change, self._key(), author=author, now=now)
        return RolloutService(gov).submit(doc, plan, "evolution", f"evolution cycle {cycle}: {why}")

    def _key(self) -> SigningKey:
        if self.key is None:
            try:
                self.key = self.governor.local_key("evolution")
            except OuroborosError:  # first use: a key of its own, for the domains its patches touch
                domains = [*KEY_DOMAINS, "world_params"] if self.config.allow_params else list(KEY_DOMAINS)
                self.key = self.governor.new_key("evolution", domains, actor="evolution")
        return self.key

    def close(self) -> None:
        """Nothing to release: the loop holds no follower and no file (kept for its callers)."""
        return None


def _guardrails_in(data: Path) -> Guardrails:
    """The guardrails of the data folder ``data`` (the council's file; defaults when it has none);
    ``BadInputError`` for one that does not parse (the change is then refused, as the pipeline's
    numbers gate would)."""
    import json

    from ouroboros.ai.guardrails import GUARDRAILS_FILE, Guardrails, parse_guardrails

    path = data / GUARDRAILS_FILE
    if not path.is_file():
        return Guardrails()
    try:
        return parse_guardrails(json.loads(path.read_bytes().decode("utf-8")))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadInputError(f"{path}: {exc}", code="bad_guardrails") from None


__all__ = ["Architect", "Cycle", "EvolutionConfig", "EvolutionLoop"]
