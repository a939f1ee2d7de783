"""Running a world's live rollout from its control thread: the piece a runtime calls between
ticks (a cluster's control process calls it, ``cluster.control``; ``go`` does not yet: ADR 0017).

``RolloutDriver.poll()`` finds the live rollout in the ledger, keeps a ``Controller`` for it and
judges the windows its tick clock has completed. It promises:

- **Another process may steer.** A pause, resume, promotion or abort made elsewhere (the CLI, the
  API) is in the ledger; each poll compares the recorded state with the controller's and, when
  they differ, rebuilds the controller from the ledger (keeping the window's anchor while the
  stage is the same). A transition that lost a race to another writer is refused by the store and
  retried from the ledger at the next poll.
- **The router follows.** ``router()`` gives the ``Router`` for now: the live rollout, or the one
  that just ended (so that the next ``Router.step`` moves every session off a rolled-back patch),
  over the active version.
- **Hard guards act at once** (``guard``), between windows too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from ouroboros.errors import PatchError
from ouroboros.rollout.controller import Controller, KpiSource, RolloutState
from ouroboros.rollout.router import Router
from ouroboros.rollout.service import ROLLOUT_ACTOR, RolloutService
from ouroboros.rollout.store import same_state


class RolloutDriver:
    def __init__(
        self, service: RolloutService, kpis: KpiSource, clock: Callable[[], int], actor: str = ROLLOUT_ACTOR
    ) -> None:
        self.service = service
        self.kpis = kpis
        self.clock = clock
        self.actor = actor
        self._ctl: Controller | None = None
        self.last: RolloutState | None = None  # the rollout the router follows (live, or just ended)

    def _sync(self) -> Controller | None:
        live = self.service.store.live()
        ctl = self._ctl
        if live is None:
            if ctl is not None:  # it ended: elsewhere, or by our own hand
                ended = self.service.store.try_load(ctl.state.rollout_id)
                self.last = ended or ctl.state
            self._ctl = None
            return None
        if ctl is not None and ctl.state.rollout_id == live.rollout_id and same_state(ctl.state, live):
            return ctl
        anchor = -1
        if ctl is not None and ctl.state.rollout_id == live.rollout_id and ctl.state.stage == live.stage:
            anchor = ctl.state.window_start
        fresh = self.service.controller(self.kpis, self.clock, self.actor)
        fresh.state = replace(live, window_start=anchor if anchor >= 0 else live.window_start)
        self._ctl = fresh
        return fresh

    def poll(self) -> RolloutState | None:
        """Judge the windows the clock has completed; the state the router should follow."""
        ctl = self._sync()
        if ctl is None:
            return self.last
        try:
            ctl.poll()
        except PatchError as exc:
            if exc.code != "rollout_inconsistent":
                raise
            self._ctl = None  # another writer moved it: start again from the ledger next time
        self.last = ctl.state
        return self.last

    def guard(self, name: str) -> RolloutState | None:
        """A hard guard fired: roll the live rollout back now."""
        ctl = self._sync()
        if ctl is None:
            return self.last
        self.last = ctl.guard(name)
        return self.last

    def router(self) -> Router:
        return Router(self.service.gov.ledger.pointer().active, self.last)


__all__ = ["RolloutDriver"]
