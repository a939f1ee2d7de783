from __future__ import annotations

import pytest

from ouroboros.engine import Component, World

from .toy import POS, VEL, build_world

MARK = Component("Mark", v="u1")


@pytest.fixture
def bare() -> World:
    """A world with Pos, Vel and Mark registered and no systems: for direct storage tests."""
    world = World(11)
    for comp in (POS, VEL, MARK):
        world.register_component(comp)
    return world


@pytest.fixture
def toy() -> World:
    return build_world()
