"""Economy tuning: integer multipliers applied to prices, rewards, drop rates and credit sinks.

Multipliers are **permille**: 1000 is 1.0x, and the bounds 250..4000 are the 0.25x..4.0x of the
original design, written without floats so every machine computes the same prices.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ouroboros.content._base import DomainObject, StrictModel
from ouroboros.content.limits import LIMITS

__all__ = ["EconomyScope", "EconomyTuning", "Multipliers"]

EconomyScope = Literal["*", "weapon", "armour", "implant", "consumable", "junk"]
"""An item kind (``items.ITEM_KINDS``) or ``"*"`` for all of them."""

_LOW = LIMITS.min_multiplier_permille
_HIGH = LIMITS.max_multiplier_permille


class Multipliers(StrictModel):
    """Permille multipliers (1000 = 1.0x, 250..4000 = 0.25x..4.0x)."""

    price: int = Field(default=1000, ge=_LOW, le=_HIGH)
    reward: int = Field(default=1000, ge=_LOW, le=_HIGH)
    drop_rate: int = Field(default=1000, ge=_LOW, le=_HIGH)
    sink: int = Field(default=1000, ge=_LOW, le=_HIGH)


class EconomyTuning(DomainObject):
    """Multipliers for one item kind, or for every kind with scope ``"*"``."""

    scope: EconomyScope
    multipliers: Multipliers = Field(default_factory=Multipliers)
