"""flocking: boids in a periodic square, updated one at a time (ABMFrameworksComparison's Flocking)."""

from ouroboros.worlds.flocking.params import PARAMS, PRESETS, Model, make_params
from ouroboros.worlds.flocking.plugin import FlockingPlugin
from ouroboros.worlds.flocking.systems import compute_kpis, state_arrays

__all__ = ["PARAMS", "PRESETS", "FlockingPlugin", "Model", "compute_kpis", "make_params", "state_arrays"]
