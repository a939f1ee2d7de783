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


__all__ = ["PetriParams", "petri_metrics"]
