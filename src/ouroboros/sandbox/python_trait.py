"""A gated Python trait as a petri ``Trait``: one ``PythonTraitWorker`` batch per tick over every
carrier, its intents clipped to the limits; a trait that faults ``max_consecutive_faults`` ticks
in a row is disabled (and its script unloaded). Faults are data (``faults``), never exceptions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ouroboros.sandbox.faults import Fault, FaultCode
from ouroboros.sandbox.python_worker import ENTITY_FIELDS, PythonTraitLimits, PythonTraitWorker

__all__ = ["PythonTrait"]


class PythonTrait:
    """A gated Python trait as a petri ``Trait``: one worker batch per tick over all carriers.

    ``worker``: share one worker between traits (each still loads its own script); by default
    the trait owns a worker of its own, closed by ``close()``."""

    def __init__(
        self,
        script_id: str,
        version: str,
        source: str,
        limits: PythonTraitLimits | None = None,
        *,
        worker: PythonTraitWorker | None = None,
        name: str | None = None,
    ) -> None:
        self.name = name or script_id
        self.script_id, self.version = script_id, version
        self._owns_worker = worker is None
        self.worker = worker if worker is not None else PythonTraitWorker(limits)
        self.limits = self.worker.limits
        self.faults: list[Fault] = []
        self.fault_count = 0  # every fault so far (``faults`` keeps only the latest hundred)
        self.disabled = False
        self._consecutive = 0
        fault = self.worker.load(script_id, version, source)
        if fault is not None:
            self._record(fault)
            self.disabled = True

    def _record(self, fault: Fault) -> None:
        self.fault_count += 1
        self.faults.append(fault)
        del self.faults[:-100]  # keep the latest hundred

    def act(self, ctx: Any) -> None:
        """Add this tick's intents to ``ctx`` (a petri ``TraitContext``); a fault adds nothing."""
        if self.disabled or ctx.n == 0:
            return
        arrays = {f: (ctx.ids if f == "id" else getattr(ctx, f)) for f in ENTITY_FIELDS}
        seed = int(ctx.rng.uint64(1)[0])
        out, fault = self.worker.run_batch(
            self.script_id, self.version, arrays, seed, scalars={"temperature": int(ctx.temperature)}
        )
        if out is None:
            self._record(fault or Fault(FaultCode.BAD_RESULT, "no result", self.script_id, self.version))
            self._consecutive += 1
            if self._consecutive >= self.limits.max_consecutive_faults:
                self.disabled = True
                self._record(
                    Fault(
                        FaultCode.DISABLED,
                        f"disabled after {self._consecutive} faulted ticks in a row",
                        self.script_id,
                        self.version,
                    )
                )
                self.worker.unload(self.script_id, self.version)
            return
        self._consecutive = 0
        bound = self.limits.max_intent_abs
        ctx.thrust_x += np.clip(out["thrust_x"], -bound, bound)
        ctx.thrust_y += np.clip(out["thrust_y"], -bound, bound)
        ctx.energy_gain += np.clip(out["energy_gain"], 0, bound)

    def close(self) -> None:
        """Unload the script (and stop the worker if this trait owns it)."""
        if self._owns_worker:
            self.worker.close()
        else:
            self.worker.unload(self.script_id, self.version)
