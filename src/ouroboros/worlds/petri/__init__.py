"""petri: an artificial-life dish of molbots (energy, food, reproduction, traits)."""

from ouroboros.worlds.petri.params import ONE, PARAMS, default_params
from ouroboros.worlds.petri.plugin import PetriPlugin
from ouroboros.worlds.petri.systems import compute_kpis
from ouroboros.worlds.petri.traits import BUILTIN_TRAITS, Trait, TraitContext

__all__ = [
    "BUILTIN_TRAITS",
    "ONE",
    "PARAMS",
    "PetriPlugin",
    "Trait",
    "TraitContext",
    "compute_kpis",
    "default_params",
]
