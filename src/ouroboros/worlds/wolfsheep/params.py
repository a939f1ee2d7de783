"""WolfSheep parameters: the spec's presets (``small``, ``large``, ``x10``, ``x100``), integers only.

Energy is Q16 fixed point (65536 is one unit of the spec's float energy). Halving floors to the Q16
grid, and floor commutes with halving and with adding whole units, so every stored energy is the
floor of the exact rational one and ``energy < 0`` decides exactly as exact arithmetic would: the
fixed point changes no birth or death, only the last bits of a reported mean.
Probabilities are parts per million (``400_000`` is 0.4): a draw ``u`` uniform in ``[0, 10**6)``
reproduces when ``u < ppm``, which is the spec's ``u <= p`` for ``u`` uniform in ``[0, 1)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ouroboros.errors import WorldError

FP_SHIFT = 16
ONE = 1 << FP_SHIFT
PPM = 1_000_000


@dataclass(frozen=True)
class Param:
    low: int
    high: int
    doc: str


PARAMS: dict[str, Param] = {
    "width": Param(2, 4096, "grid width, cells (not periodic)"),
    "height": Param(2, 4096, "grid height, cells (not periodic)"),
    "initial_sheep": Param(0, 4_000_000, "sheep at the start"),
    "initial_wolves": Param(0, 4_000_000, "wolves at the start"),
    "grass_regrowth_ticks": Param(1, 100_000, "R: an eaten cell regrows R + 1 grass phases later"),
    "sheep_reproduce_ppm": Param(0, PPM, "a sheep's chance to split each step, per million"),
    "wolf_reproduce_ppm": Param(0, PPM, "a wolf's chance to split each step, per million"),
    "sheep_gain": Param(0, 10_000, "delta_sheep: energy a sheep gains from grass, whole units"),
    "wolf_gain": Param(0, 10_000, "delta_wolf: energy a wolf gains from a sheep, whole units"),
}

_COMMON = {"sheep_gain": 5, "wolf_gain": 13}
#: The spec's sizes (SPEC.md 1.1 and 4): small and large as published, x10 and x100 at constant density.
PRESETS: dict[str, dict[str, int]] = {
    "small": {
        "width": 25,
        "height": 25,
        "initial_sheep": 60,
        "initial_wolves": 40,
        "grass_regrowth_ticks": 20,
        "sheep_reproduce_ppm": 200_000,
        "wolf_reproduce_ppm": 100_000,
        **_COMMON,
    },
    "large": {
        "width": 100,
        "height": 100,
        "initial_sheep": 1_000,
        "initial_wolves": 500,
        "grass_regrowth_ticks": 10,
        "sheep_reproduce_ppm": 400_000,
        "wolf_reproduce_ppm": 200_000,
        **_COMMON,
    },
}
PRESETS["x10"] = {
    **PRESETS["large"],
    "width": 316,
    "height": 316,
    "initial_sheep": 10_000,
    "initial_wolves": 5_000,
}
PRESETS["x100"] = {
    **PRESETS["large"],
    "width": 1000,
    "height": 1000,
    "initial_sheep": 100_000,
    "initial_wolves": 50_000,
}
DEFAULT_PRESET = "small"


def make_params(preset: Any = DEFAULT_PRESET, overrides: Mapping[str, Any] | None = None) -> dict[str, int]:
    """The preset's parameters with ``overrides``; ``WorldError`` names the first bad one."""
    if not isinstance(preset, str) or preset not in PRESETS:
        raise WorldError(
            f"unknown wolfsheep preset {preset!r} (presets: {', '.join(PRESETS)})", path="preset"
        )
    params = dict(PRESETS[preset])
    if overrides is not None and not isinstance(overrides, Mapping):
        raise WorldError("wolfsheep params must be an object")
    for name, value in (overrides or {}).items():
        if name not in PARAMS:
            raise WorldError(
                f"unknown wolfsheep parameter {name!r} (known: {', '.join(PARAMS)})", path=str(name)
            )
        if not isinstance(value, int) or isinstance(value, bool):
            raise WorldError(f"parameter {name} must be an integer, got {value!r}", path=name)
        p = PARAMS[name]
        if not p.low <= value <= p.high:
            raise WorldError(f"parameter {name}={value} is outside [{p.low}, {p.high}] ({p.doc})", path=name)
        params[name] = value
    return params
