"""The engine that rewrites itself: analyzer, rules and rewriter over system variants.

A world's hot systems may have several implementations (``Variant``), bit-identical by contract,
and its storage two layouts. ``Optimizer`` watches the world between ticks and swaps them as the
workload changes. One concept a module:

- ``model``: the configuration, what a guard holds, what the rules propose.
- ``measure``: the analyzer and the rules (what each variant is expected to cost here, from
  measurement only; which candidates are worth a guard within the tick budget).
- ``shadow`` and ``guard``: the rewriter, which runs candidates on shadows inside live ticks and
  compares their outputs bit for bit.
- ``core``: the state machine between ticks, control (freeze, force), decisions and history.
- ``advice``: decision support from an injected advisor, off the tick thread, logged beside
  each decision and never deciding.

The optimizer never changes world state: candidates run on shadows, the live world only ever runs
a variant it ran before or one a guard proved, and all its own work happens between ticks or
beside the guarded system. It does no I/O (its files are the caller's: ``Hooks``) and imports
nothing else of ours.
"""

from ouroboros.engine.optimizer.advice import (
    Advice,
    AdviceRequest,
    Advisor,
    CandidateFigures,
    ProfileSummary,
    Risk,
)
from ouroboros.engine.optimizer.core import Hooks, Journal, Optimizer
from ouroboros.engine.optimizer.model import LAYOUT, LAYOUTS, Candidate, OptimizerConfig

__all__ = [
    "LAYOUT",
    "LAYOUTS",
    "Advice",
    "AdviceRequest",
    "Advisor",
    "Candidate",
    "CandidateFigures",
    "Hooks",
    "Journal",
    "Optimizer",
    "OptimizerConfig",
    "ProfileSummary",
    "Risk",
]
