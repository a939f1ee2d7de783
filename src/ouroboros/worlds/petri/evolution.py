"""petri's evolution hook (``SPEC.evolution``): what the evolution loop (``ouroboros.ai.evolution``)
learns of a dish without importing it.

Everything here reads a world (the live dish or a fork of it) and never writes one:

- ``free_trait_slots``: trait bits a new scripted trait may still take;
- ``population`` / ``starvation_deaths``: molbots alive, starvation deaths so far;
- ``carriers``: the ids of the molbots carrying the live version of a scripted trait;
- ``lineage_value``: how a group of molbots (ids) and their children fare — the paired KPI the
  cascade's screen and shadow stages compare;
- ``probe_context``: a ``TraitContext`` look-alike over the dish's real molbot state with the senses
  zeroed, for the cascade's probe stage (one call of a candidate script in its own sandbox);
- ``param_candidates``: the parameter changes worth trying when the dish starves (more food);
- ``scenario``: the world config of a named experiment (``famine``: scarce food, no reseeding).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ouroboros.engine import World
from ouroboros.errors import BadInputError

ONE = 1 << 16
#: what one molbot alive is worth in the paired KPI, beside its energy (Q16)
ALIVE_VALUE_FP = 20 * ONE
#: the most molbots a candidate script is probed over
PROBE_CARRIERS = 256
#: the parameter the dish's food supply follows
FOOD_PARAM = "resource_spawn_rate_fp"


def famine_params() -> dict[str, int]:
    """A small dish with scarce food and ``min_population`` 0, so a dying dish is never reseeded."""
    return {
        "width": 800,
        "height": 800,
        "resource_spawn_rate_fp": ONE // 8,
        "max_food": 200,
        "min_population": 0,
        "telemetry_every": 20,
    }


def _molbots(world: World) -> Any:
    from ouroboros.worlds.petri.systems import molbots

    return molbots(world)


class ProbeContext:
    """A ``TraitContext`` look-alike over real molbot state with the senses zeroed."""

    def __init__(self, world: World) -> None:
        mb = _molbots(world)
        n = min(mb.count, PROBE_CARRIERS) if mb is not None else 0
        self.n = n
        self.temperature = int(world.resources["params"]["temperature"])
        self.rng = world.rng("evolution:probe")
        zeros = np.zeros(n, dtype=np.int64)
        get = (lambda k: mb[k][:n].astype(np.int64)) if mb is not None else (lambda k: zeros)
        self.ids = mb.ids[:n].astype(np.int64) if mb is not None else zeros
        self.x, self.y = get("Position.x"), get("Position.y")
        self.vx, self.vy = get("Velocity.x"), get("Velocity.y")
        self.energy, self.max_energy = get("Body.energy"), get("Body.max_energy")
        self.thrust = get("DNA.thrust")
        for name in ("food_count", "food_dx", "food_dy", "crowd_count", "crowd_dx", "crowd_dy"):
            setattr(self, name, zeros)
        self.thrust_x, self.thrust_y, self.energy_gain = (np.zeros(n, dtype=np.int64) for _ in range(3))


class PetriEvolution:
    """petri's ``EvolutionHook`` (see ``ouroboros.worlds.spec``)."""

    scenarios: tuple[str, ...] = ("famine",)

    def free_trait_slots(self, world: World) -> int:
        from ouroboros.worlds.petri.scripted import MASK_BITS, builtin_count

        used = len(world.resources.get("scripted_traits", ()))
        return MASK_BITS - builtin_count(world) - used

    def population(self, world: World) -> int:
        mb = _molbots(world)
        return int(mb.count) if mb is not None else 0

    def starvation_deaths(self, world: World) -> int:
        return int(world.resources["stats"]["deaths"]["starvation"])

    def carriers(self, world: World, trait_id: str) -> np.ndarray:
        mb = _molbots(world)
        bits = [e["bit"] for e in world.resources.get("scripted_traits", ()) if e["id"] == trait_id]
        if mb is None or not bits:
            return np.zeros(0, dtype=np.int64)
        mask = mb["Traits.mask"]
        held = np.zeros(mb.count, dtype=bool)
        for bit in bits:
            held |= (mask & np.uint8(1 << bit)) != 0
        return mb.ids[held].astype(np.int64)

    def lineage_value(self, world: World, group: np.ndarray) -> dict[str, int]:
        mb = _molbots(world)
        if mb is None or mb.count == 0 or group.size == 0:
            return {"alive": 0, "energy_fp": 0, "value_fp": 0, "mean_speed_fp": 0}
        ids = mb.ids.astype(np.int64)
        member = np.isin(ids, group) | np.isin(mb["Body.parent"].astype(np.int64), group)
        alive = int(member.sum())
        energy = int(mb["Body.energy"][member].sum())
        speed = np.abs(mb["Velocity.x"][member]) + np.abs(mb["Velocity.y"][member])
        return {
            "alive": alive,
            "energy_fp": energy,
            "value_fp": alive * ALIVE_VALUE_FP + energy,
            "mean_speed_fp": int(speed.sum() // max(alive, 1)),
        }

    def probe_context(self, world: World) -> ProbeContext:
        return ProbeContext(world)

    def param_candidates(self, world: World) -> list[dict[str, int]]:
        """More food: half again, twice and four times as much spawned per tick (within bounds)."""
        from ouroboros.worlds.petri.params import PARAMS

        now = int(world.resources["params"][FOOD_PARAM])
        high = PARAMS[FOOD_PARAM].high
        return [{FOOD_PARAM: v} for v in sorted({min(high, max(now + k, now * k // 2)) for k in (3, 4, 8)})]

    def scenario(self, name: str, entities: int) -> Mapping[str, Any]:
        if name not in self.scenarios:
            raise BadInputError(f"unknown scenario {name!r} (known: {', '.join(self.scenarios)})")
        return {"entities": entities, "params": famine_params()}


__all__ = ["ALIVE_VALUE_FP", "PROBE_CARRIERS", "PetriEvolution", "ProbeContext", "famine_params"]
