"""wolfsheep: predator and prey on a grid with regrowing grass (ABMFrameworksComparison's WolfSheep)."""

from ouroboros.worlds.wolfsheep.params import PARAMS, PRESETS, make_params
from ouroboros.worlds.wolfsheep.plugin import WolfSheepPlugin
from ouroboros.worlds.wolfsheep.systems import compute_kpis, counts

__all__ = ["PARAMS", "PRESETS", "WolfSheepPlugin", "compute_kpis", "counts", "make_params"]
