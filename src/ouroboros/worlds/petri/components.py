"""Components of the petri dish. Positions, velocities and energy are Q16 fixed point."""

from __future__ import annotations

from ouroboros.engine import Component

Position = Component("Position", x="i8", y="i8")
Velocity = Component("Velocity", x="i8", y="i8")
Body = Component(
    "Body",
    energy="i8",
    max_energy="i8",
    age="i4",
    generation="i4",
    parent="i8",
    colour="u4",
    radius="i4",
)
#: Heritable parameters, mutated at every birth.
DNA = Component("DNA", thrust="i4", metabolism="i4", repro_permille="i4", mutation_permille="i4")
#: The molbot's behaviour traits, one bit per registered trait.
Traits = Component("Traits", mask="u8")
Food = Component("Food", energy="i8")

ALL = (Position, Velocity, Body, DNA, Traits, Food)
MOLBOT = ("Body", "DNA", "Position", "Traits", "Velocity")
FOOD = ("Food", "Position")

#: Gene bounds (inclusive), in the gene's own units.
GENE_BOUNDS: dict[str, tuple[int, int]] = {
    "thrust": (1_000, 65_536),
    "metabolism": (1_000, 12_000),
    "repro_permille": (300, 950),
    "mutation_permille": (0, 400),
}
