"""Sync-test mode, after GGPO's SyncTestSession.

Every tick the world is saved; after the live step, the snapshot taken ``rollback`` ticks earlier
is restored into a shadow world, the recorded inputs are fed again, and every re-simulated tick's
digest must equal the live one. A system that reads the wall clock, the global ``random``, dict or
set order of something unordered, or any state that a snapshot does not carry, shows up here as a
``SyncTestError`` naming the tick and the sections that differ, usually on the first ticks run.
It also exercises the snapshot codec every tick.
"""

from __future__ import annotations

from collections import deque

from ouroboros.engine.digest import Digest
from ouroboros.engine.errors import SyncTestError
from ouroboros.engine.world import Input, TickReport, World


class SyncTest:
    """Drive ``world`` tick by tick, re-simulating the last ``rollback`` ticks after each."""

    def __init__(self, world: World, rollback: int = 3) -> None:
        if rollback < 1:
            raise ValueError("rollback must be at least one tick")
        world.digest_every_tick = True
        world.start()
        self.world = world
        self.rollback = rollback
        self.checked_ticks = 0
        self._saved: deque[tuple[int, bytes]] = deque(maxlen=rollback)
        self._history: dict[int, tuple[tuple[Input, ...], Digest]] = {}

    def step(self) -> TickReport:
        world = self.world
        self._saved.append((world.tick, world.snapshot()))
        report = world.step()
        assert report.digest is not None
        self._history[report.tick] = (report.inputs, report.digest)
        self._history.pop(report.tick - self.rollback - 1, None)
        start_tick, snap = self._saved[0]
        shadow = world.fork()
        shadow.restore(snap)
        for t in range(start_tick + 1, report.tick + 1):
            inputs, expected = self._history[t]
            for inp in inputs:
                shadow.submit(inp.kind, inp.payload)
            got = shadow.step().digest
            assert got is not None
            if got.combined != expected.combined:
                differing = expected.differing_sections(got)
                raise SyncTestError(
                    f"sync test: re-simulating tick {t} from tick {start_tick} gave another state "
                    f"({', '.join(differing) or 'tick'} differ): hidden nondeterminism",
                    tick=t,
                    sections=differing,
                )
            self.checked_ticks += 1
        return report

    def run(self, ticks: int) -> TickReport | None:
        report = None
        for _ in range(ticks):
            report = self.step()
        return report
