"""Components of WolfSheep. Two agent kinds in two archetypes (the declaration wants distinct
types), and the grass as one entity per cell, spawned in cell order (row ``y * width + x``)."""

from __future__ import annotations

from ouroboros.engine import Component

Position = Component("Position", x="i4", y="i4")
#: Q16 fixed point (see ``params``)
Energy = Component("Energy", q16="i8")
Sheep = Component("Sheep", born_tick="i4")
Wolf = Component("Wolf", born_tick="i4")
Grass = Component("Grass", grown="b1", countdown="i4")

ALL = (Position, Energy, Sheep, Wolf, Grass)
SHEEP = ("Energy", "Position", "Sheep")
WOLF = ("Energy", "Position", "Wolf")
GRASS = ("Grass",)
