"""Flocking parameters: the spec's presets (``small``, ``large``, ``x10``, ``x100``), integers only.

Every real parameter is stored as an integer number of millionths (``_e6``). A kernel turns it into
a float64 by one division, ``value / 1e6``, which IEEE 754 rounds correctly: the result is exactly
the double a float literal would give (``30_000 / 1e6 == 0.03``), so the model runs with the spec's
numbers bit for bit while the world's resources stay integer (ADR 0014).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ouroboros.errors import WorldError

E6 = 1_000_000


@dataclass(frozen=True)
class Param:
    low: int
    high: int
    doc: str


PARAMS: dict[str, Param] = {
    "birds": Param(0, 4_000_000, "birds at the start (an --init file sets its own)"),
    "width_e6": Param(E6, 10**6 * E6, "extent along x, millionths; periodic"),
    "height_e6": Param(E6, 10**6 * E6, "extent along y, millionths; periodic"),
    "visual_distance_e6": Param(1, 10**6 * E6, "neighbours are birds at most this far, millionths"),
    "speed_e6": Param(0, 10**3 * E6, "distance flown per step, millionths"),
    "cohere_factor_e6": Param(0, E6, "pull towards the neighbours, millionths"),
    "separation_e6": Param(0, 10**6 * E6, "closer neighbours push away, millionths"),
    "separate_factor_e6": Param(0, E6, "strength of the push, millionths"),
    "match_factor_e6": Param(0, E6, "pull towards the neighbours' heading, millionths"),
}

_COMMON = {
    "speed_e6": E6,
    "cohere_factor_e6": 30_000,
    "separation_e6": E6,
    "separate_factor_e6": 15_000,
    "match_factor_e6": 50_000,
}


def _preset(birds: int, extent: int, visual: int) -> dict[str, int]:
    return {
        "birds": birds,
        "width_e6": extent * E6,
        "height_e6": extent * E6,
        "visual_distance_e6": visual * E6,
        **_COMMON,
    }


#: SPEC.md 2.1 and 4: small and large as published, x10 and x100 at (about) constant density.
PRESETS: dict[str, dict[str, int]] = {
    "small": _preset(200, 100, 5),
    "large": _preset(400, 150, 15),
    "x10": _preset(4_000, 475, 15),
    "x100": _preset(40_000, 1_500, 15),
}
DEFAULT_PRESET = "small"


def make_params(preset: Any = DEFAULT_PRESET, overrides: Mapping[str, Any] | None = None) -> dict[str, int]:
    if not isinstance(preset, str) or preset not in PRESETS:
        raise WorldError(f"unknown flocking preset {preset!r} (presets: {', '.join(PRESETS)})", path="preset")
    params = dict(PRESETS[preset])
    if overrides is not None and not isinstance(overrides, Mapping):
        raise WorldError("flocking params must be an object")
    for name, value in (overrides or {}).items():
        if name not in PARAMS:
            raise WorldError(
                f"unknown flocking parameter {name!r} (known: {', '.join(PARAMS)})", path=str(name)
            )
        if not isinstance(value, int) or isinstance(value, bool):
            raise WorldError(f"parameter {name} must be an integer, got {value!r}", path=name)
        p = PARAMS[name]
        if not p.low <= value <= p.high:
            raise WorldError(f"parameter {name}={value} is outside [{p.low}, {p.high}] ({p.doc})", path=name)
        params[name] = value
    return params


@dataclass(frozen=True)
class Model:
    """The parameters as the float64 values the rule uses (each ``value_e6 / 1e6``)."""

    width: float
    height: float
    visual_distance: float
    speed: float
    cohere_factor: float
    separation: float
    separate_factor: float
    match_factor: float

    @classmethod
    def of(cls, params: Mapping[str, int]) -> Model:
        return cls(
            *(
                params[f"{name}_e6"] / 1e6
                for name in (
                    "width",
                    "height",
                    "visual_distance",
                    "speed",
                    "cohere_factor",
                    "separation",
                    "separate_factor",
                    "match_factor",
                )
            )
        )
