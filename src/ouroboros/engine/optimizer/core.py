"""``Optimizer``: the state machine that watches a world between ticks and swaps its variants.

Every ``check_every_ticks`` clean ticks it asks the rules (``Measurements.choose``) for
candidates and starts a guard (``Rewriter``); when the guard has run a candidate
``guard_ticks`` times (the first ``warmup_samples`` untimed) it is kept only if it beat the
current variant by ``min_gain_permille`` on the same inputs; the swap happens at a tick boundary.
An output mismatch (or an exception) drops the candidate — the live world never ran it, so there
is nothing to roll back — blacklists it for the session and hands a diagnostic report to the
``diagnostics`` hook.

Control: operators freeze rewriting and force variants. What the constructor is given (``frozen``,
``forced``) holds for the session: a control document (``apply_control``, or the ``control``
hook polled between ticks) may freeze but not unfreeze a world started frozen, may not change a
variant forced at start, and releases only what it forced itself. Every decision (what, why,
measured before and after, and the advisor's advice beside it) is appended to ``history`` and
handed to the ``journal`` hook, whose earlier entries are read back at start (each start is an
entry, so a reader knows which decisions still hold).

The optimizer does no I/O of its own: files are the caller's (``ouroboros.optimizer_files``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ouroboros.engine.errors import EngineError
from ouroboros.engine.optimizer.advice import AdviceRequest, Advisor, CandidateFigures, ProfileSummary, absent
from ouroboros.engine.optimizer.guard import Rewriter
from ouroboros.engine.optimizer.measure import Measurements
from ouroboros.engine.optimizer.model import LAYOUT, Candidate, Guard, OptimizerConfig, Run, Trial
from ouroboros.engine.world import TickReport, World

__all__ = ["Hooks", "Journal", "Optimizer"]

#: The decisions an advisor's word is logged beside.
DECISIONS = ("switch", "keep", "abort", "guard_failed")


class Journal(Protocol):
    """Where decisions outlive the process: earlier ones read at start, each new one appended.
    ``kept`` is the bounded in-memory history after the append (a journal may compact to it)."""

    def read(self) -> list[dict[str, Any]]: ...

    def append(self, entry: dict[str, Any], kept: Sequence[dict[str, Any]]) -> None: ...


@dataclass(frozen=True)
class Hooks:
    """The optimizer's ties to the outside, all optional: a journal of decisions; a control
    source polled between ticks (the control document when it changed since the last call, else
    ``None``); and a sink for a failed guard's diagnostic report (returns where it was kept)."""

    journal: Journal | None = None
    control: Callable[[], Mapping[str, Any] | None] | None = None
    diagnostics: Callable[[dict[str, Any]], str | None] | None = None


class Optimizer:
    """Drives one world's variants. Call ``after_tick(report)`` between ticks."""

    def __init__(
        self,
        world: World,
        config: OptimizerConfig | None = None,
        *,
        forced: Mapping[str, str] | None = None,
        frozen: bool = False,
        hooks: Hooks | None = None,
        advisor: Advisor | None = None,
    ) -> None:
        self.world = world
        self.config = config or OptimizerConfig()
        self.hooks = hooks or Hooks()
        self.advisor = advisor
        self.frozen = frozen
        self.frozen_at_start = frozen  # a control document may not unfreeze it
        self.forced: dict[str, str] = {}  # every forced system, whoever forced it
        self.forced_at_start: dict[str, str] = {}  # by the constructor: control documents keep off
        self.forced_by_control: dict[str, str] = {}  # by a control document: the only ones it releases
        self._control_asked: dict[str, str] = {}  # what the last control document asked for
        self.history: list[dict[str, Any]] = []
        self.m = Measurements(world, self.config)
        self.rewriter = Rewriter(self.m, self)
        self._advice: AdviceRequest | None = None  # the question about the guard now (or the last)
        self._advice_for: set[int] = set()  # ids of the trials the current question is about
        self._since_check = self.config.check_every_ticks - self.config.settle_ticks
        journal = self.hooks.journal
        if journal is not None:
            self.history = journal.read()
            del self.history[: max(0, len(self.history) - self.config.history_max_entries)]
            self._log(
                "start", None, None, None, "optimizer started", frozen=frozen, forced=dict(forced or {})
            )
        for system, variant in (forced or {}).items():
            self.force(system, variant, why="forced at start")
            self.forced_at_start[system] = variant
        self._poll_control()

    # -- what the parts hold, for readers --------------------------------------------------------
    @property
    def guard(self) -> Guard | None:
        return self.rewriter.guard

    @property
    def blacklist(self) -> set[tuple[str, str]]:
        return self.m.blacklist

    @property
    def measured(self) -> dict[Any, list[tuple[int, float]]]:
        return self.m.measured

    @property
    def ratios(self) -> dict[Any, list[tuple[int, float]]]:
        return self.m.ratios

    @property
    def converted(self) -> dict[str, tuple[int, float]]:
        return self.m.converted

    def choices(self) -> dict[str, list[str]]:
        return self.m.choices()

    def current(self, system: str) -> str:
        return self.m.current(system)

    def analyze(self) -> dict[str, Any]:
        return self.m.analyze()

    # -- control ---------------------------------------------------------------------------------
    def force(self, system: str, variant: str, why: str = "forced by an operator") -> None:
        variants = self.choices().get(system, [])
        if variant not in variants:
            raise EngineError(f"system {system!r} has no variant {variant!r} (has {sorted(variants)})")
        self.m.prepare(system, variant)
        if self.guard is not None:
            self.rewriter.end()
        before = self.m.apply(system, variant)
        self.m.clean = 0
        self.forced[system] = variant
        self._log("force", system, before, variant, why)

    def release(self, system: str, why: str = "no longer forced") -> None:
        self.forced_at_start.pop(system, None)
        self.forced_by_control.pop(system, None)
        if self.forced.pop(system, None) is not None:
            self._log("release", system, None, None, why)

    def freeze(self, frozen: bool = True, why: str = "by an operator") -> None:
        if frozen != self.frozen:
            self.frozen = frozen
            self.rewriter.end()
            self._log("freeze" if frozen else "unfreeze", None, None, None, why)

    def _poll_control(self) -> None:
        if self.hooks.control is not None:
            control = self.hooks.control()
            if control is not None:
                self.apply_control(control)

    def apply_control(self, control: Mapping[str, Any]) -> None:
        """Apply a control document, ``{"frozen": bool, "forced": {system: variant}}``."""
        # started frozen (--optimizer off): a document may freeze, never unfreeze
        self.freeze(bool(control.get("frozen")) or self.frozen_at_start, why="control file")
        wanted: dict[str, str] = dict(control.get("forced", {}))
        asked_before, self._control_asked = self._control_asked, wanted
        for system, variant in wanted.items():
            if system not in self.choices():
                continue
            if system in self.forced_at_start:
                if variant != self.forced_at_start[system] and asked_before.get(system) != variant:
                    self._log(
                        "refused",
                        system,
                        self.forced_at_start[system],
                        variant,
                        "forced at start; the control file cannot change it",
                    )
                continue
            if self.forced.get(system) != variant:
                try:
                    self.force(system, variant, why="control file")
                except EngineError as exc:
                    self._log("refused", system, None, variant, exc.message)
                    continue
            self.forced_by_control[system] = variant
        for system in [s for s in self.forced_by_control if s not in wanted]:
            self.release(system, why="released by the control file")

    # -- the loop --------------------------------------------------------------------------------
    def prepare_all(self) -> dict[str, float]:
        """Run every variant's ``prepare`` now (outside any tick); returns the cost in ms of each."""
        costs = {}
        for system, names in self.world.variants().items():
            for name in names:
                costs[f"{system}={name}"] = self.m.prepare(system, name)
        return costs

    def after_tick(self, report: TickReport) -> None:
        """Between two ticks: feed the guard, or look for a better variant every few ticks."""
        runs = self.rewriter.take_runs()
        if self.m.track(sum(r.extra_ms for r in runs), shadowed=bool(runs)):
            self._since_check = self.config.check_every_ticks - self.config.settle_ticks - 1
        self._poll_control()
        self._late_advice()
        if self.guard is not None:
            self.rewriter.advance(runs)
            return
        if self.frozen:
            return
        self._since_check += 1
        if self._since_check < self.config.check_every_ticks or self.m.clean < self.config.settle_ticks:
            return
        self._since_check = 0
        self.m.record_live()
        chosen, considered = self.m.choose(self.forced)
        if chosen:
            self._start_guard(chosen, considered)

    def _start_guard(self, chosen: list[Candidate], considered: list[Candidate]) -> None:
        trials = self.rewriter.start(chosen)
        self._ask_advisor(chosen, considered, trials)
        for c in chosen:
            self._log(
                "guard", c.system, self.m.current(c.system), c.variant, c.why, size=c.size, cost_ms=c.cost_ms
            )
        self.rewriter.plan()

    # -- advice ----------------------------------------------------------------------------------
    def summary(self, considered: list[Candidate], chosen: list[Candidate]) -> ProfileSummary:
        """What an advisor is told about these candidates."""
        ids = {c.id for c in chosen}
        past: dict[str, dict[str, int]] = {}
        for e in self.history:
            if e.get("kind") in DECISIONS and e.get("system") and e.get("to"):
                counts = past.setdefault(f"{e['system']}={e['to']}", {})
                counts[e["kind"]] = counts.get(e["kind"], 0) + 1
        figures = tuple(
            CandidateFigures(
                id=c.id,
                system=c.system,
                variant=c.variant,
                kind=self.m.kind(c.system, c.variant),
                size=c.size,
                current_ms=c.current_ms,
                expected_ms=c.expected_ms,
                cost_ms=c.cost_ms,
                spread=self.m.spread(c.system, c.variant, c.size),
                past=past.get(c.id, {}),
                why=c.why,
                chosen=c.id in ids,
            )
            for c in considered
        )
        systems = {s: self.m.system_ms(s) for s in self.choices()}
        return ProfileSummary(self.world.tick, self.m.tick_ms(), systems, figures)

    def _ask_advisor(self, chosen: list[Candidate], considered: list[Candidate], trials: list[Trial]) -> None:
        if self.advisor is None:
            return
        if self._advice is not None and not self._advice.done:
            self._advice_for = set()  # still busy with an earlier question: these go without
            return
        summary = self.summary(considered or chosen, chosen)
        self._advice = AdviceRequest(self.advisor, summary, self.world.clock, self.config.advisor_timeout_ms)
        self._advice_for = {id(t) for t in trials}

    def _advice_about(self, t: Trial) -> dict[str, Any]:
        if self.advisor is None:
            return absent("no advisor")
        if self._advice is None or id(t) not in self._advice_for:
            return absent("the advisor was still busy with an earlier question")
        return self._advice.about(f"{t.system}={t.candidate}")

    def wait_for_advice(self, timeout_s: float) -> bool:
        """Block up to ``timeout_s`` for the question in flight (for tools and tests; the tick
        never waits). True when there is none or it was answered."""
        return self._advice is None or self._advice.wait(timeout_s)

    def _late_advice(self) -> None:
        """An answer that came after its decisions were taken is logged once, when it comes."""
        a = self._advice
        if a is None or a.logged_late or not a.done or self._advice_for:
            return
        a.logged_late = True
        answer = a.answer()
        if answer is not None:
            if answer["status"] == "ok":
                answer["status"] = "late"
            self._log("advice", None, None, None, "the advisor answered after the decisions", advice=answer)

    def _settled(self, t: Trial) -> dict[str, Any]:
        """The advice on ``t`` at its decision; a question answered in time needs no later entry."""
        asked = id(t) in self._advice_for
        advice = self._advice_about(t)
        self._advice_for.discard(id(t))
        if asked and advice["status"] != "late" and self._advice is not None:
            self._advice.logged_late = True
        return advice

    # -- decisions (the rewriter's Judge) --------------------------------------------------------
    def abort(self, t: Trial, why: str) -> None:
        g = self.guard
        if g is None or t not in g.trials:
            return
        self.m.remember(t)
        self.m.tried[(t.system, t.candidate)] = (self.world.tick, t.size)
        self.rewriter.drop(t)
        self._log("abort", t.system, t.current, t.candidate, why, size=t.size, advice=self._settled(t))

    def decide(self, t: Trial, ticks: int) -> None:
        m = self.m
        m.remember(t)
        before, after = m.measure(t)
        amortised = m.amortised(m.switch_cost(t.system, t.candidate, t.size))
        faster = (
            before is not None
            and after is not None
            and after + amortised <= before * (1 - self.config.min_gain_permille / 1000)
        )
        advice = self._settled(t)
        if faster and not self.frozen and t.system not in self.forced:
            m.apply(t.system, t.candidate)
            m.clean = 0
            # the variant left is not guarded back at this size on the strength of a noisy sample
            m.tried[(t.system, t.current)] = (self.world.tick, t.size)
            self._log(
                "switch",
                t.system,
                t.current,
                t.candidate,
                f"outputs identical over {ticks} ticks and {before:.3f} → {after:.3f} ms",
                size=t.size,
                before_ms=before,
                after_ms=after,
                switch_cost_ms_per_tick=amortised or None,
                advice=advice,
            )
        else:
            m.tried[(t.system, t.candidate)] = (self.world.tick, t.size)
            self._log(
                "keep",
                t.system,
                t.current,
                t.candidate,
                "outputs identical but not faster enough" if before is not None else "no timing",
                size=t.size,
                before_ms=before,
                after_ms=after,
                advice=advice,
            )

    def failed(self, r: Run) -> None:
        t = r.trial
        g = self.guard
        if g is not None and t in g.trials:
            g.trials.remove(t)
        self.m.blacklist.add((t.system, t.candidate))
        what = f"raised {r.error}" if r.error else f"differs in {', '.join(r.differs)}"
        report = {
            "system": t.system,
            "variant": t.candidate,
            "current": t.current,
            "shadowed_system": r.part.system,
            "tick": self.world.tick,
            "guard_started_at": g.started_tick if g is not None else None,
            "differing_sections": r.differs,
            "error": r.error,
            "size": r.size,
        }
        where = self.hooks.diagnostics(report) if self.hooks.diagnostics is not None else None
        self._log(
            "guard_failed",
            t.system,
            t.current,
            t.candidate,
            f"the shadow of {r.part.system} at tick {self.world.tick} {what}; "
            "dropped (the live world never ran it) and blacklisted for this session",
            size=t.size,
            report=report,
            report_file=where,
            advice=self._settled(t),
        )

    # -- history ---------------------------------------------------------------------------------
    def _log(
        self, kind: str, system: str | None, before: str | None, after: str | None, why: str, **measures: Any
    ) -> None:
        entry = {
            "tick": self.world.tick,
            "kind": kind,
            "system": system,
            "from": before,
            "to": after,
            "why": why,
            **{k: v for k, v in measures.items() if v is not None},
        }
        self.history.append(entry)
        del self.history[: max(0, len(self.history) - self.config.history_max_entries)]
        if self.hooks.journal is not None:
            self.hooks.journal.append(entry, self.history)

    def status(self) -> dict[str, Any]:
        guard = self.guard
        return {
            "frozen": self.frozen,
            "forced": dict(self.forced),
            "variants": {**self.world.active_variants(), LAYOUT: self.world.default_layout},
            "guard": None
            if guard is None
            else {"candidates": {t.system: t.candidate for t in guard.trials}, "ticks": guard.ticks},
            "blacklist": sorted(f"{s}={v}" for s, v in self.blacklist),
            "decisions": len(self.history),
            "advisor": None if self.advisor is None else str(getattr(self.advisor, "name", "advisor")),
        }
