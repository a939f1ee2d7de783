"""Rooms: the places of the neon city, linked by exits, placed on an integer grid."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ouroboros.content._base import Description, Extensible, Id, Name, StrictModel
from ouroboros.content.limits import LIMITS

__all__ = ["DIRECTIONS", "Coords", "Direction", "Room"]

Direction = Literal["n", "s", "e", "w", "u", "d", "ne", "nw", "se", "sw", "in", "out"]
DIRECTIONS: tuple[str, ...] = Direction.__args__  # type: ignore[attr-defined]


class Coords(StrictModel):
    """Grid position in world units; ``level`` counts floors (negative: underground)."""

    x: int = Field(ge=-LIMITS.max_abs_coord_units, le=LIMITS.max_abs_coord_units)
    y: int = Field(ge=-LIMITS.max_abs_coord_units, le=LIMITS.max_abs_coord_units)
    level: int = Field(default=0, ge=LIMITS.min_room_level, le=LIMITS.max_room_level)


class Room(Extensible):
    """A room. ``exits`` maps a direction to the id of the room it leads to; a ``growth_point`` is
    where generators may attach new blocks."""

    name: Name
    description: Description
    zone: Id
    district: Id
    corp: Id | None = None
    threat_level: int = Field(default=0, ge=0, le=LIMITS.max_threat_level)
    coords: Coords
    exits: Annotated[dict[Direction, Id], Field(max_length=len(DIRECTIONS))] = Field(default_factory=dict)
    growth_point: bool = False
