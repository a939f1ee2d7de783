"""petri's hooks for the layers above (see ``ouroboros.worlds.spec``): its parameters and the
runtime's gauges."""

from __future__ import annotations

from typing import Any

from ouroboros.engine import World
from ouroboros.worlds.petri.params import check_param, default_params


class PetriParams:
    """petri's parameters: a change is a governed ``world_params`` patch of ``governed_id`` (laid
    over the world config's parameters and the version's other ``world_params``, in id order)."""

    governed_id = "petri.params.operator"

    def current(self, world: World) -> dict[str, int]:
        return {k: int(v) for k, v in world.resources.get("params", {}).items()}

    def defaults(self) -> dict[str, int]:
        return default_params()

    def check(self, name: Any, value: Any) -> tuple[str, int]:
        return check_param(name, value)


def petri_metrics(world: World) -> dict[str, int]:
    """The molbots alive, and the script faults so far (a staged rollout's fault count)."""
    return {
        "population": world.count("Body", "DNA", "Position", "Traits", "Velocity"),
        "script_faults": int(world.resources.get("script_faults", 0)),
    }


def petri_invariants(world: World) -> list[str]:
    """What holds between any two ticks of the dish, whatever its version: every molbot inside the
    dish, its energy within its body's store, its genes and radius within their bounds. Each broken
    rule is one line (empty: all hold). A sharded dish checks it after every tick of every shard."""
    from ouroboros.worlds.petri.components import GENE_BOUNDS, MOLBOT
    from ouroboros.worlds.petri.params import FP_SHIFT
    from ouroboros.worlds.petri.systems import RADIUS_BOUNDS_FP

    p = world.resources.get("params") or {}
    width, height = int(p.get("width", 0)) << FP_SHIFT, int(p.get("height", 0)) << FP_SHIFT
    broken: list[str] = []
    for chunk in world.query(*MOLBOT):
        if chunk.count == 0:
            continue
        x, y = chunk["Position.x"], chunk["Position.y"]
        outside = int(((x < 0) | (x > width) | (y < 0) | (y > height)).sum())
        if outside:
            broken.append(f"{outside} molbots outside the dish")
        energy, store = chunk["Body.energy"], chunk["Body.max_energy"]
        over = int((energy > store).sum())
        if over:
            broken.append(f"{over} molbots with more energy than their body holds")
        radius = chunk["Body.radius"]
        low, high = RADIUS_BOUNDS_FP
        if ((radius < low) | (radius > high)).any():
            broken.append(f"a molbot radius outside {low}..{high}")
        for gene, (low, high) in GENE_BOUNDS.items():
            values = chunk[f"DNA.{gene}"]
            if ((values < low) | (values > high)).any():
                broken.append(f"a molbot gene {gene} outside {low}..{high}")
    return broken


__all__ = ["PetriParams", "petri_invariants", "petri_metrics"]
