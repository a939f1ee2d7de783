"""World parameters of the petri dish: integer, with units in their names, bounded.

Fractions are Q16 fixed point (``*_fp``: 65536 is 1.0); lengths are world units; times are ticks.
They live in the world's ``resources["params"]`` (so they are digested and snapshotted): the world
config's parameters with every ``world_params`` object of the active gameplay version laid over
them, set when a version lands (``gameplay.activate``). An operator's change is such an object
(``hooks.PetriParams.governed_id``, the spec's params hook), so it is in the ledger and survives
later versions. The ``set_param`` input is kept for recorded logs and scripted runs; no operator
surface sends it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ouroboros.engine import World

from ouroboros.errors import WorldError

FP_SHIFT = 16
ONE = 1 << FP_SHIFT


@dataclass(frozen=True)
class Param:
    default: int
    low: int
    high: int
    doc: str
    #: Left out of a dish's parameters until set (read with ``param(params, name)``), so the
    #: digests of runs that never set it stay what they were before it existed.
    optional: bool = False


PARAMS: dict[str, Param] = {
    "width": Param(2000, 64, 24000, "dish width, world units"),
    "height": Param(2000, 64, 24000, "dish height, world units"),
    "gravity_fp": Param(0, -ONE, ONE, "added to vertical velocity each tick, Q16 units/tick²"),
    "friction_fp": Param(60000, 0, ONE, "velocity kept each tick, Q16 fraction"),
    "max_speed_fp": Param(4 * ONE, ONE // 16, 8 * ONE, "speed bound per axis, Q16 units/tick"),
    "resource_spawn_rate_fp": Param(12 * ONE, 0, 100_000 * ONE, "food items spawned per tick, Q16"),
    "food_energy_fp": Param(40 * ONE, ONE, 1000 * ONE, "energy in one food item, Q16"),
    "max_food": Param(3000, 0, 10_000_000, "most food items in the dish"),
    "temperature": Param(20, -50, 150, "dish temperature, °C: metabolism and sunlight follow it"),
    "max_entities": Param(20_000, 1, 4_000_000, "most molbots alive: births stop there"),
    "min_population": Param(20, 0, 1_000_000, "below this many molbots the dish is reseeded"),
    "max_age": Param(4000, 1, 1_000_000, "ticks a molbot may live"),
    "telemetry_every": Param(30, 1, 1_000_000, "ticks between telemetry snapshots"),
    "max_trait_energy_gain_fp": Param(
        ONE // 40,
        0,
        ONE,
        "most energy all scripted traits together may add to one molbot per tick, Q16 "
        "(default: the built-in absorb_energy's maximum)",
        optional=True,
    ),
}


def default_params() -> dict[str, int]:
    return {name: p.default for name, p in PARAMS.items() if not p.optional}


def param(params: Mapping[str, int], name: str) -> int:
    """``params[name]``, or the default of an optional parameter that was never set."""
    value = params.get(name)
    return PARAMS[name].default if value is None else int(value)


def check_param(name: Any, value: Any) -> tuple[str, int]:
    """``(name, value)`` if both are valid, else ``WorldError`` saying which bound is broken."""
    if not isinstance(name, str) or name not in PARAMS:
        raise WorldError(f"unknown petri parameter {name!r} (known: {', '.join(PARAMS)})", path=str(name))
    if not isinstance(value, int) or isinstance(value, bool):
        raise WorldError(f"parameter {name} must be an integer, got {value!r}", path=name)
    p = PARAMS[name]
    if not p.low <= value <= p.high:
        raise WorldError(f"parameter {name}={value} is outside [{p.low}, {p.high}] ({p.doc})", path=name)
    return name, value


def merge_params(overrides: Mapping[str, Any] | None) -> dict[str, int]:
    params = default_params()
    for name, value in (overrides or {}).items():
        n, v = check_param(name, value)
        params[n] = v
    return params


def rescale_positions(world: World, old: dict[str, int], new: dict[str, int]) -> None:
    """Keep every molbot and food item inside a dish whose width or height changed, by scaling
    positions in proportion (so density and layout are kept; clamping to the walls would pile
    everything onto the edge cells and make contact searches explode). Integer, deterministic."""
    import numpy as np

    if old["width"] == new["width"] and old["height"] == new["height"]:
        return
    for chunk in world.query("Position"):
        if chunk.count == 0:
            continue
        for axis, key in (("x", "width"), ("y", "height")):
            if old[key] != new[key]:
                pos = chunk[f"Position.{axis}"]
                pos[:] = pos * np.int64(new[key]) // np.int64(max(old[key], 1))
