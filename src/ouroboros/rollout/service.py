"""The rollout operations a person (CLI, API) or a running world asks for, over one governed
data folder: the shell around the pure controller. Every write goes through ``RolloutStore``.

- ``start`` refuses while the kill-switch is engaged (a rollout exposes players to a patch), and
  keeps the version the patch makes in the ledger for the treatment's shards.
- The last stage is the patch active for everyone: reaching it approves the patch through the
  governor (integrity re-checked, canary, activation) *before* the completion is recorded; if the
  governor refuses, the promotion does not happen and the refusal is the answer.
- ``controller`` wires a ``Controller`` for a running world: the kill-switch freezes it, the
  store's ``consistent`` fails it safe, every transition is recorded by ``actor``.
- ``submit`` is how a machine (the council, the evolution loop) sends a bundle with a plan: the
  governor validates it and holds it at ``validated`` (``hold``), then the rollout starts there.
  A patch the governor holds for a person instead (an economy change) is not staged: the
  person's approval starts it. Under the kill-switch nothing is ingested; while a rollout is live
  nothing else is (``rollout_live``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ouroboros.errors import OuroborosError, PatchError
from ouroboros.patches import Governor, State, Verdict
from ouroboros.rollout import controller as machine
from ouroboros.rollout.controller import Controller, Event, KpiSource, Phase, RolloutState
from ouroboros.rollout.plan import RolloutPlan
from ouroboros.rollout.store import KINDS, RolloutStore

ROLLOUT_ACTOR = "rollout"


class RolloutService:
    def __init__(self, governor: Governor) -> None:
        self.gov = governor
        self.store = RolloutStore(governor.data, governor.ledger)

    def _frozen(self) -> bool:
        return self.gov.killswitch.engaged()

    def _current(self, rollout_id: str | None) -> RolloutState:
        if rollout_id is not None:
            return self.store.load(rollout_id)
        live = self.store.live()
        if live is None:
            raise PatchError("no rollout is under way", code="no_rollout")
        return live

    def sink(
        self, actor: str, reason: str | None = None
    ) -> Callable[[RolloutState, RolloutState, list[Event]], None]:
        def record(before: RolloutState, after: RolloutState, events: list[Event]) -> None:
            if after.phase is Phase.COMPLETE and before.phase is not Phase.COMPLETE:
                verdict = self.gov.approve(
                    after.patch_id, actor, f"rollout {after.rollout_id} complete", rollout_id=after.rollout_id
                )
                if verdict.state != State.ACTIVE:
                    why = "; ".join(r.message for r in verdict.reasons) or str(verdict.state)
                    raise PatchError(
                        f"the last stage could not make {after.patch_id} active: {why}",
                        code="rollout_activation_refused",
                    )
            self.store.record(before, after, events, actor, reason or after.reason or "rollout")

        return record

    # -- operations ----------------------------------------------------------------------------------
    def start(self, patch_id: str, plan: RolloutPlan, actor: str, reason: str) -> RolloutState:
        if self._frozen():
            state = self.gov.killswitch.state()
            raise PatchError(
                f"kill-switch engaged ({state.cause}): no rollout starts", code="killswitch_engaged"
            )
        self.store.check_startable(patch_id, actor, reason)
        return self.store.begin(patch_id, plan, actor, reason, self._treatment_content(patch_id))

    def submit(
        self, doc: Any, plan: RolloutPlan, actor: str, reason: str
    ) -> tuple[Verdict, RolloutState | None, str | None]:
        """Submit ``doc`` to be staged with ``plan``: the verdict, the rollout started (``None``
        when the patch did not stop at validated for it) and, when validated but not started, why
        (the patch stays validated: nothing is lost)."""
        hold = f"held for a staged rollout {','.join(f'{p:g}' for p in plan.percents)}"
        verdict = self.gov.submit(doc, actor=actor, hold=hold)
        if verdict.state != State.VALIDATED or verdict.patch_id is None:
            return verdict, None, None
        if verdict.evidence.get("awaiting") != hold:  # held for a person: their approval stages it
            return verdict, None, str(verdict.evidence.get("awaiting"))
        try:
            return verdict, self.start(verdict.patch_id, plan, actor, reason), None
        except OuroborosError as exc:  # e.g. the kill-switch engaged since the submission
            return verdict, None, f"the rollout did not start: {exc.message}"

    def _treatment_content(self, patch_id: str) -> dict[str, Any] | None:
        """The version a validated patch makes (folded onto its parent, as its canary would be);
        ``None`` for a patch the ledger does not know."""
        from ouroboros.content import parse_content
        from ouroboros.patches import fold_content

        if not self.gov.ledger.known(patch_id):
            return None
        doc = self.gov.ledger.bundle(patch_id) or {}
        parent = self.gov.ledger.parent_of(patch_id)
        after, reasons = fold_content(self.gov.content_of(parent), parse_content(doc.get("content")))
        if reasons:
            raise PatchError(
                f"patch {patch_id} no longer folds onto {parent or 'base'}: {reasons[0].message}"
            )
        return after

    def _apply(
        self, state: RolloutState, change: tuple[RolloutState, list[Event]], actor: str, reason: str
    ) -> RolloutState:
        after, events = change
        self.sink(actor, reason)(state, after, events)
        return after

    def pause(self, actor: str, reason: str, rollout_id: str | None = None) -> RolloutState:
        state = self._current(rollout_id)
        return self._apply(state, machine.pause(state, reason), actor, reason)

    def resume(self, actor: str, reason: str, rollout_id: str | None = None) -> RolloutState:
        state = self._current(rollout_id)
        return self._apply(state, machine.resume(state, reason), actor, reason)

    def abort(self, actor: str, reason: str, rollout_id: str | None = None) -> RolloutState:
        state = self._current(rollout_id)
        return self._apply(state, machine.abort(state, reason), actor, reason)

    def promote(
        self, actor: str, reason: str, *, force: bool = False, tick: int = -1, rollout_id: str | None = None
    ) -> RolloutState:
        """The next stage now: after a passing window, or ``force`` (an admin's) without one."""
        state = self._current(rollout_id)
        change = machine.promote(
            state, tick, force=force, frozen=self._frozen(), consistent=self.store.consistent(state)
        )
        return self._apply(state, change, actor, reason)

    def controller(self, kpis: KpiSource, clock: Callable[[], int], actor: str = ROLLOUT_ACTOR) -> Controller:
        """A controller for the live rollout, driven by a running world's ``clock`` (ticks)."""
        state = self._current(None)
        holder: list[Controller] = []
        ctl = Controller(
            state,
            kpis,
            clock,
            self.sink(actor),
            frozen=self._frozen,
            consistent=lambda: self.store.consistent(holder[0].state),
        )
        holder.append(ctl)
        return ctl

    def status(self, rollout_id: str | None = None) -> dict[str, Any]:
        """The rollout (the live one, else the newest), its version metadata, why it may not
        promote, and its history: every stage change and window verdict."""
        if rollout_id is None:
            everything = self.store.rollouts()
            state = self.store.live() or (everything[-1] if everything else None)
        else:
            state = self.store.load(rollout_id)
        if state is None:
            return {"rollout": None, "killswitch": self.gov.killswitch.state().as_dict()}
        frozen = self._frozen()
        disagreement = self.store.disagreement(state)
        history: list[dict[str, Any]] = [
            {
                "seq": e.seq,
                "at": e.at,
                "kind": e.kind,
                "before": e.before,
                "after": e.after,
                "reason": e.reason,
                "evidence": {k: v for k, v in e.evidence.items() if k != "state"},
            }
            for kind in KINDS
            for e in self.gov.ledger.entries(patch_id=state.patch_id, kind=kind)
            if e.evidence.get("rollout_id") == state.rollout_id
        ]
        history.sort(key=lambda h: h["seq"])
        return {
            "rollout": state.as_dict(),
            "version": self.store.version_meta(state.patch_id).as_dict(),
            "killswitch": self.gov.killswitch.state().as_dict(),
            "consistent": disagreement is None,
            "hold": machine.hold_reason(state, frozen=frozen, consistent=disagreement is None)
            if not state.terminal
            else None,
            "disagreement": disagreement,
            "history": history,
        }


__all__ = ["ROLLOUT_ACTOR", "RolloutService"]
