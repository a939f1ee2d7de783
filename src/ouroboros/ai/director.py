"""The world director: a rules engine and scheduler (not a model) that watches a world's events and
KPIs and decides what should be generated next.

What it promises:

- **Rules, each with a trigger.** ``observe(world, events, kpis, tick)`` turns what happened into
  ``Job``s (a proposal type, a seed and a context for a generator):

  ===========================  ================================================================
  trigger                      job
  ===========================  ================================================================
  ``player_at_edge`` event     WORLD_EXPANSION at that growth point, after ``growth_threshold``
                               visits (the expansion slider scales it; 0 turns expansion off)
  ``boss_killed`` event        EVENT ``power_vacuum`` (aggression below 20 keeps the peace)
  KPI ``inflation_permille``   EVENT ``money_sink`` (a merchant) when over 50 (5 %), once a minute
  ``quests_exhausted`` event   WORLD_EXPANSION tagged ``dungeon`` (expansion >= 50 and no
                               expansion under way) else a QUEST for that district
  ``crowded_sector`` event     BUILDING (purpose ``residential``) in that sector's district
  ``faction_without_hq``       BUILDING (purpose ``hq``) for that faction
  ``player_struggling``        QUEST in the runner's district, no kill above their level + 1
  ``player_cruising``          NPC (a ganger) in the runner's district, two levels above them
  ``feedback``                 no job: noted in the decision log with its category and sentiment
  chaos                        an EVENT whose premise holds now, with chance ``2 * chaos`` per
                               mille per observe (none holds: nothing, and the log says so)
  ===========================  ================================================================

- **Events are grounded and varied.** An event's premise must hold when it is proposed: a power
  vacuum needs a boss who is down (``bosses_down`` in the KPIs), a money sink needs inflation over
  5 % with money in circulation (``money_supply`` not 0). The facts a job relied on are in its
  context and its decision. No two event jobs share a template and a target (the boss; the
  economy) within ``EVENT_VARIETY_MINUTES``.

- **Determinism.** Seeds and chaos draws come from ``SeededDraws`` keyed by (world seed, rule,
  tick, subject), never the global ``random`` nor the clock; throttles count ticks (``tick_hz``),
  so a replay makes the same decisions.
- **Throttles.** At most ``jobs_per_minute`` jobs in any window of ``60 * tick_hz`` ticks; at most
  ``max_concurrent_expansions`` expansions under way (each the operator's setting, capped by the
  guardrails' value of the same name when ``caps`` is given). Paused: rules are considered and noted,
  nothing is emitted. Emergency stop: nothing at all until an operator resumes.
- **Every decision has its why.** Each job, and each job a rule wanted but a throttle, slider,
  toggle or pause suppressed, is written to the store with the event, the rule and the numbers.
  (A suppression that repeats the previous one of the same rule and subject is not written again.)
- **Settings survive restarts.** Sliders, toggles, mode and counters live in the store; sliders,
  toggles and mode are reread on every ``observe``/``status``, so a CLI in another process steers
  a running director (an emergency stop takes effect at the next observation).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ouroboros.ai.proposals import ProposalType, SeededDraws
from ouroboros.ai.store import AiStore
from ouroboros.errors import BadInputError, PatchError

__all__ = ["SETTINGS", "SLIDERS", "TOGGLES", "Director", "Job", "growth_threshold"]

SLIDERS = ("chaos", "aggression", "expansion")
TOGGLES = ("glitch_doors_only", "human_in_the_loop")
#: throttles an operator may set, with their bounds
LIMITS: dict[str, tuple[int, int]] = {"jobs_per_minute": (0, 600), "max_concurrent_expansions": (0, 16)}
SETTINGS = (*SLIDERS, *TOGGLES, *LIMITS)
DEFAULTS: dict[str, Any] = {
    "chaos": 10,
    "aggression": 50,
    "expansion": 50,
    "glitch_doors_only": False,
    "human_in_the_loop": True,
    "jobs_per_minute": 6,
    "max_concurrent_expansions": 1,
}
RUNNING, PAUSED, STOPPED = "running", "paused", "stopped"
INFLATION_LIMIT_PERMILLE = 50
MAX_INFLATION_PERMILLE = 100_000  # what a generator's context accepts
AGGRESSION_FOR_VACUUM = 20
EVENT_VARIETY_MINUTES = 10  # no second event job of one template and target within this
GLITCH_TAG = "glitch_door"
#: seeds stay inside canonical JSON's exact integers (RFC 8785: below 2**53)
MAX_SEED = 2**53


@dataclass(frozen=True)
class Job:
    """Something to generate: the director's output, a generator's input."""

    job_id: str
    type: ProposalType
    seed: int
    rule: str
    tick: int
    context: dict[str, Any] = field(default_factory=dict)
    queue: bool = True  # human in the loop: goes to the approval queue
    #: chaos only: every event whose premise holds now -> the context it needs (the storyteller
    #: may choose among them; ``context`` holds the director's own pick)
    options: dict[str, dict[str, Any]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "type": str(self.type),
            "seed": self.seed,
            "rule": self.rule,
            "tick": self.tick,
            "context": dict(self.context),
            "queue": self.queue,
        }


@dataclass
class _Want:
    """A job a rule wants, before throttles decide."""

    rule: str
    subject: str
    type: ProposalType
    context: dict[str, Any]
    why: dict[str, Any]
    options: dict[str, dict[str, Any]] = field(default_factory=dict)


def growth_threshold(expansion: int) -> int:
    """Edge visits at one growth point before it grows: 1 at expansion 100, 6 at expansion 1."""
    return (100 - expansion) // 20 + 1


class Director:
    """The director of one world. See the module docstring."""

    def __init__(
        self,
        store: AiStore,
        *,
        world_seed: int = 0,
        tick_hz: int = 50,
        open_expansions: Callable[[], int] | None = None,
        caps: Callable[[], Mapping[str, int]] | None = None,
        guardrails_error: Callable[[], str | None] | None = None,
    ) -> None:
        if tick_hz <= 0:
            raise BadInputError("tick_hz must be positive")
        self.store = store
        self.world_seed = world_seed
        self.tick_hz = tick_hz
        self._open_expansions = open_expansions
        self._caps = caps
        self._guardrails_error = guardrails_error
        saved = store.settings()
        self._settings: dict[str, Any] = {k: saved.get(k, v) for k, v in DEFAULTS.items()}
        self._mode: str = saved.get("mode", RUNNING)
        self._state: dict[str, Any] = saved.get(
            "state", {"visits": {}, "emitted": [], "cooldowns": {}, "open": [], "count": 0}
        )
        self._last_suppressed: dict[str, str] = {}
        self._expansions_this_call = 0  # emitted by the observe() under way, not yet counted outside

    # -- settings ------------------------------------------------------------------------------------
    def reload(self) -> None:
        """Pick up settings and mode another process wrote (``ouroboros director stop`` while a
        server runs): observe() and status() call this first."""
        saved = self.store.settings()
        self._settings = {k: saved.get(k, v) for k, v in DEFAULTS.items()}
        self._mode = saved.get("mode", RUNNING)

    @property
    def window_ticks(self) -> int:
        return 60 * self.tick_hz

    def limit(self, name: str) -> int:
        """A throttle in force: the operator's setting, capped by the guardrails (``caps``)."""
        value = int(self._settings[name])
        cap = self._caps().get(name) if self._caps is not None else None
        return value if cap is None else min(value, int(cap))

    def get(self, name: str) -> Any:
        if name not in self._settings:
            raise BadInputError(f"unknown director setting {name!r} (one of {', '.join(SETTINGS)})")
        return self._settings[name]

    def set(self, name: str, value: Any, actor: str, reason: str = "") -> dict[str, Any]:
        """Change one slider, toggle or throttle. Out of bounds or of the wrong kind: BadInputError."""
        _attribution(actor)
        self.reload()
        if name in SLIDERS or name in LIMITS:
            low, high = LIMITS.get(name, (0, 100))
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise BadInputError(f"{name} must be a whole number from {low} to {high}, not {value!r}")
        elif name in TOGGLES:
            if not isinstance(value, bool):
                raise BadInputError(f"{name} must be true or false, not {value!r}")
        else:
            raise BadInputError(f"unknown director setting {name!r} (one of {', '.join(SETTINGS)})")
        before = self._settings[name]
        with self.store.transaction():
            self._settings[name] = value
            self.store.put_settings({name: value})
            self.store.audit(
                actor, "director.set", name, reason or f"{name} = {value}", {"before": before, "after": value}
            )
        return self.status()

    def pause(self, actor: str, reason: str) -> dict[str, Any]:
        return self._set_mode(PAUSED, actor, reason, "director.pause")

    def resume(self, actor: str, reason: str) -> dict[str, Any]:
        """Run again; the only way out of an emergency stop."""
        return self._set_mode(RUNNING, actor, reason, "director.resume")

    def emergency_stop(self, actor: str, reason: str) -> dict[str, Any]:
        return self._set_mode(STOPPED, actor, reason, "director.stop")

    def _set_mode(self, mode: str, actor: str, reason: str, action: str) -> dict[str, Any]:
        _attribution(actor, reason)
        self.reload()
        if mode == PAUSED and self._mode == STOPPED:
            raise PatchError(
                "the director is stopped; only resume lifts an emergency stop", code="director_stopped"
            )
        before = self._mode
        with self.store.transaction():
            self._mode = mode
            self.store.put_settings({"mode": mode})
            self.store.audit(actor, action, "director", reason, {"before": before, "after": mode})
        return self.status()

    @property
    def mode(self) -> str:
        return self._mode

    @property
    def stopped(self) -> bool:
        self.reload()
        return self._mode == STOPPED

    def status(self) -> dict[str, Any]:
        self.reload()
        return {
            "mode": self._mode,
            "sliders": {k: self._settings[k] for k in SLIDERS},
            "toggles": {k: self._settings[k] for k in TOGGLES},
            "throttles": {k: self._settings[k] for k in LIMITS},
            "throttles_in_force": {k: self.limit(k) for k in LIMITS},
            "growth_threshold": growth_threshold(self._settings["expansion"]),
            "window_ticks": self.window_ticks,
            "jobs_in_window": len(self._state["emitted"]),
            "open_expansions": self.open_expansions(),
            "jobs_emitted": self._state["count"],
            # why the guardrails file is not in force (it exists but does not parse), or None
            "guardrails_error": self._guardrails_error() if self._guardrails_error is not None else None,
        }

    def decisions(self, limit: int = 50) -> list[dict[str, Any]]:
        return self.store.decisions(limit)

    # -- expansions under way ------------------------------------------------------------------------
    def open_expansions(self) -> int:
        if self._open_expansions is not None:
            return self._open_expansions() + self._expansions_this_call
        return len(self._state["open"])

    def job_done(self, job_id: str) -> None:
        """An expansion job is finished (activated, rejected or failed): another may start."""
        if job_id in self._state["open"]:
            self._state["open"].remove(job_id)
            self.store.put_settings({"state": self._state})

    # -- the rules -----------------------------------------------------------------------------------
    def observe(
        self, world: Any, events: Sequence[Mapping[str, Any]], kpis: Mapping[str, Any], tick: int
    ) -> list[Job]:
        """The jobs this tick's events and KPIs call for (``world`` is read by no rule yet; it is
        the hook for rules that need to look around)."""
        del world
        self.reload()
        if self._mode == STOPPED:
            return []
        notes = [e for e in events if e.get("kind") == "feedback"]
        self._note_facts(kpis, events)
        wants = [w for event in events for w in self._rules_for(event, tick)]
        wants += self._kpi_rules(kpis, tick)
        wants += self._chaos(tick)
        jobs: list[Job] = []
        self._expansions_this_call = 0
        with self.store.transaction():
            horizon = tick - self.window_ticks
            self._state["emitted"] = [t for t in self._state["emitted"] if t > horizon]
            variety = tick - EVENT_VARIETY_MINUTES * self.window_ticks
            self._state["events"] = [e for e in self._state.get("events", []) if e[0] > variety]
            for note in notes:
                why = {"event": dict(note), "rule": "feedback"}
                self.store.record_decision(tick, "feedback", "noted", why, None, None)
            for want in wants:
                job = self._decide(want, tick)
                if job is not None:
                    jobs.append(job)
            self.store.put_settings({"state": self._state})
        self._expansions_this_call = 0
        return jobs

    def _decide(self, want: _Want, tick: int) -> Job | None:
        blocked = self._blocked(want, tick)
        key = f"{want.rule}:{want.subject}"
        if blocked is not None:
            if self._last_suppressed.get(key) != blocked:
                self._last_suppressed[key] = blocked
                self.store.record_decision(
                    tick,
                    want.rule,
                    "suppressed",
                    {**want.why, "suppressed_by": blocked},
                    None,
                    str(want.type),
                )
            return None
        self._last_suppressed.pop(key, None)
        draws = SeededDraws(self.world_seed, f"director:{want.rule}:{want.subject}:{tick}")
        self._state["count"] += 1
        job = Job(
            job_id=f"job-{tick}-{self._state['count']}",
            type=want.type,
            seed=draws.below(MAX_SEED),
            rule=want.rule,
            tick=tick,
            context={**want.context, "sliders": {k: self._settings[k] for k in SLIDERS}},
            queue=bool(self._settings["human_in_the_loop"]),
            options=dict(want.options),
        )
        if job.type == ProposalType.EVENT:
            self._state.setdefault("events", []).append([tick, *_event_key(want.context)])
        self._state["emitted"].append(tick)
        if job.type == ProposalType.WORLD_EXPANSION:
            if self._open_expansions is None:
                self._state["open"].append(job.job_id)
            else:
                self._expansions_this_call += 1
        if want.rule == "inflation":
            self._state["cooldowns"]["inflation"] = tick + self.window_ticks
        if want.rule == "edge":
            self._state["visits"].pop(want.subject, None)
        self.store.record_decision(
            tick, want.rule, "job", {**want.why, "job": job.as_dict()}, job.job_id, str(job.type)
        )
        return job

    def _blocked(self, want: _Want, tick: int) -> str | None:
        """Why ``want`` may not become a job now, or None."""
        if self._mode == PAUSED:
            return "paused"
        if want.why.get("suppressed_by"):
            return str(want.why["suppressed_by"])
        limit = self.limit("jobs_per_minute")
        recent = len(self._state["emitted"])
        if recent >= limit:
            return f"throttle: {recent} jobs in the last {self.window_ticks} ticks (limit {limit})"
        if want.type == ProposalType.EVENT:
            seen = self._recent_event(*_event_key(want.context))
            if seen is not None:
                return f"varied: {seen}"
        if want.type == ProposalType.WORLD_EXPANSION:
            open_now, most = self.open_expansions(), self.limit("max_concurrent_expansions")
            if open_now >= most:
                return f"one expansion at a time: {open_now} under way (limit {most})"
        return None

    def _rules_for(self, event: Mapping[str, Any], tick: int) -> list[_Want]:
        kind = event.get("kind")
        s = self._settings
        if kind == "player_at_edge":
            point = str(event.get("growth_point") or event.get("room") or "")
            if not point:
                return []
            why: dict[str, Any] = {"event": dict(event), "rule": "edge", "expansion": s["expansion"]}
            tags = list(event.get("tags", ()))
            if s["expansion"] == 0:
                why["suppressed_by"] = "expansion slider at 0"
            elif s["glitch_doors_only"] and GLITCH_TAG not in tags:
                why["suppressed_by"] = f"glitch_doors_only: {point} is not tagged {GLITCH_TAG}"
            else:
                visits = self._state["visits"].get(point, 0) + 1
                self._state["visits"][point] = visits
                threshold = growth_threshold(s["expansion"])
                why.update(visits=visits, threshold=threshold)
                if visits < threshold:
                    why["suppressed_by"] = f"growth threshold: {visits} of {threshold} visits"
            return [
                _Want("edge", point, ProposalType.WORLD_EXPANSION, {"growth_point": point, "tags": tags}, why)
            ]
        if kind == "boss_killed":
            boss = str(event.get("boss", ""))
            why = {
                "event": dict(event),
                "rule": "boss",
                "aggression": s["aggression"],
                "facts": self._facts(),
            }
            down = self._facts().get("bosses_down")
            if s["aggression"] < AGGRESSION_FOR_VACUUM:
                why["suppressed_by"] = f"aggression {s['aggression']} below {AGGRESSION_FOR_VACUUM}"
            elif isinstance(down, list) and boss not in down:
                why["suppressed_by"] = f"premise: {boss} is up again, no vacuum to fill"
            context = {
                "event": "power_vacuum",
                "boss": boss,
                "faction": event.get("faction"),
                "room": event.get("room"),
                "intensity": s["aggression"],
            }
            return [_Want("boss", boss, ProposalType.EVENT, context, why)]
        if kind == "quests_exhausted":
            district = str(event.get("district", ""))
            why = {"event": dict(event), "rule": "quests", "expansion": s["expansion"]}
            busy = self.open_expansions() >= self.limit("max_concurrent_expansions")
            if s["expansion"] >= 50 and not busy:
                context = {
                    "district": district,
                    "tags": ["dungeon"],
                    "growth_point": event.get("growth_point"),
                }
                return [_Want("quests", district, ProposalType.WORLD_EXPANSION, context, why)]
            why["quest_instead"] = "expansion under way" if busy else f"expansion {s['expansion']} below 50"
            return [_Want("quests", district, ProposalType.QUEST, {"district": district}, why)]
        if kind == "crowded_sector":
            sector = str(event.get("sector", ""))
            why = {"event": dict(event), "rule": "crowded"}
            context = {"purpose": "residential", "sector": sector, "district": event.get("district") or None}
            return [_Want("crowded", sector, ProposalType.BUILDING, context, why)]
        if kind in ("player_struggling", "player_cruising"):
            # the difficulty adjuster: the challenge a runner meets changes through proposals that
            # go through the pipeline and the guardrails' budgets, never a raw stat edit
            player, level = str(event.get("player", "")), event.get("level")
            where: str | None = event.get("district") or None
            if not player or not isinstance(level, int) or isinstance(level, bool):
                return []
            why = {"event": dict(event), "rule": "challenge"}
            if kind == "player_struggling":
                context = {"district": where, "max_level": max(1, min(level + 1, 99))}
                return [_Want("challenge", player, ProposalType.QUEST, context, why)]
            context = {"archetype": "ganger", "district": where, "level": max(1, min(level + 2, 99))}
            return [_Want("challenge", player, ProposalType.NPC, context, why)]
        if kind == "faction_without_hq":
            faction = str(event.get("faction", ""))
            why = {"event": dict(event), "rule": "hq"}
            context = {"purpose": "hq", "faction": faction}
            return [_Want("hq", faction, ProposalType.BUILDING, context, why)]
        return []

    def _kpi_rules(self, kpis: Mapping[str, Any], tick: int) -> list[_Want]:
        inflation = kpis.get("inflation_permille")
        if (
            not isinstance(inflation, int)
            or isinstance(inflation, bool)
            or inflation <= INFLATION_LIMIT_PERMILLE
        ):
            return []
        why: dict[str, Any] = {
            "rule": "inflation",
            "kpi": {"inflation_permille": inflation},
            "limit_permille": INFLATION_LIMIT_PERMILLE,
            "facts": self._facts(),
        }
        until = self._state["cooldowns"].get("inflation", 0)
        if tick < until:
            why["suppressed_by"] = f"cooldown: one money sink a minute (next at tick {until})"
        elif self._facts().get("money_supply") == 0:
            why["suppressed_by"] = "premise: no money in circulation to sink"
        context = {"event": "money_sink", "inflation_permille": min(inflation, MAX_INFLATION_PERMILLE)}
        return [_Want("inflation", "economy", ProposalType.EVENT, context, why)]

    def _chaos(self, tick: int) -> list[_Want]:
        chaos = self._settings["chaos"]
        if chaos == 0 or self._mode != RUNNING:
            return []
        draws = SeededDraws(self.world_seed, f"director:chaos:{tick}")
        roll, chance = draws.permille(), 2 * chaos
        if roll >= chance:
            return []
        facts = self._facts()
        why = {
            "rule": "chaos",
            "chaos": chaos,
            "roll_permille": roll,
            "chance_permille": chance,
            "facts": facts,
        }
        options = {
            event: ctx for event, ctx in self._premises().items()
            if self._recent_event(*_event_key({"event": event, **ctx})) is None
        }  # fmt: skip
        if not options:
            why["suppressed_by"] = "premise: no event's premise holds now (or each was just proposed)"
            return [_Want("chaos", "premise", ProposalType.EVENT, {"chaos": chaos}, why)]
        pick = draws.choice(sorted(options))
        context = {"chaos": chaos, "event": pick, **options[pick]}
        return [_Want("chaos", f"{tick}", ProposalType.EVENT, context, why, options)]

    # -- facts and premises --------------------------------------------------------------------------
    def _note_facts(self, kpis: Mapping[str, Any], events: Sequence[Mapping[str, Any]]) -> None:
        """Remember the latest of what an event's premise rests on (each only when reported)."""
        facts = self._state.setdefault("facts", {})
        for key in ("inflation_permille", "money_supply"):
            value = kpis.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                facts[key] = value
        down = kpis.get("bosses_down")
        if isinstance(down, list | tuple) and all(isinstance(b, str) for b in down):
            facts["bosses_down"] = sorted(down)
        for event in events:  # a boss reported killed is down, whatever the last KPI said
            known, boss = facts.get("bosses_down"), event.get("boss")
            if event.get("kind") == "boss_killed" and isinstance(boss, str) and isinstance(known, list):
                facts["bosses_down"] = sorted({*known, boss})

    def _facts(self) -> dict[str, Any]:
        return dict(self._state.get("facts", {}))

    def _premises(self) -> dict[str, dict[str, Any]]:
        """Every event whose premise holds on the facts known now -> the context it needs."""
        facts, out = self._facts(), {}
        down = [b for b in facts.get("bosses_down") or () if self._recent_event("power_vacuum", b) is None]
        if down:
            out["power_vacuum"] = {"boss": down[0]}
        inflation = facts.get("inflation_permille")
        if (
            isinstance(inflation, int)
            and inflation > INFLATION_LIMIT_PERMILLE
            and facts.get("money_supply") != 0
        ):
            out["money_sink"] = {"inflation_permille": min(inflation, MAX_INFLATION_PERMILLE)}
        return out

    def _recent_event(self, event: str, target: str) -> str | None:
        """When an event job of this template and target went out within the variety window."""
        for tick, e, t in self._state.get("events", []):
            if (e, t) == (event, target):
                return f"a {event} for {target} was proposed at tick {tick}"
        return None


def _event_key(context: Mapping[str, Any]) -> tuple[str, str]:
    """(template, target) of an event job: a power vacuum's boss; the economy for a money sink."""
    event = str(context.get("event") or "")
    return event, str(context.get("boss") or "economy") if event == "power_vacuum" else "economy"


def _attribution(actor: str, reason: str | None = None) -> None:
    if not isinstance(actor, str) or not actor.strip():
        raise BadInputError("an actor is required")
    if reason is not None and not reason.strip():
        raise BadInputError("a reason is required")
