"""A world evolved in this process with no server (``ouroboros evolve``, the experiments, tests).

``Headless(loop)`` plays the runner's part for one ``EvolutionLoop``: at every tick boundary its
one follower brings the world to the governor's active version (a ``gameplay.activate`` input,
taken at that boundary: the only writer of gameplay state), then the world ticks, then the loop
steps. The loop itself only submits bundles. With the loop's default ``MemoryGovernor`` the
follower is the governor's own; with a real ``Governor`` it is a ``PointerFollower`` on its folder.
"""

from __future__ import annotations

from typing import Any

from ouroboros.ai.evolution.loop import EvolutionLoop
from ouroboros.engine import World
from ouroboros.patches import MemoryGovernor


def follower_of(governor: Any) -> Any:
    """The pointer follower for ``governor`` (in memory, or on a data folder)."""
    if isinstance(governor, MemoryGovernor):
        return governor.follower()
    from ouroboros.patches import PointerFollower

    return PointerFollower(governor.data)


class Headless:
    """See the module docstring."""

    def __init__(self, loop: EvolutionLoop) -> None:
        self.loop = loop
        self.world: World = loop.world
        self.follower = follower_of(loop.governor)

    def tick(self) -> None:
        """One tick of the world, the governor's active version followed at its boundary."""
        self.follower.sync(self.world)
        self.world.step()
        self.follower.record(self.world)

    def run(self, ticks: int, *, evolve: bool = True) -> list[dict[str, Any]]:
        """``ticks`` ticks, the loop stepping after each (``evolve``); returns the loop's events."""
        events: list[dict[str, Any]] = []
        for _ in range(ticks):
            self.tick()
            if evolve:
                events.extend(self.loop.step())
        return events

    def close(self) -> None:
        self.follower.close()
        self.loop.close()


__all__ = ["Headless", "follower_of"]
