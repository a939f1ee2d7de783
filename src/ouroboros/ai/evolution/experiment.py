"""The famine experiment: does the evolution loop help a starving world survive?

One scenario for both arms, the world's ``famine`` scenario (its evolution hook: for petri a small
dish with scarce food and no reseeding). The world is the first registered one whose evolution
hook knows the scenario, unless one is named. With ``evolve`` the offline evolution loop (no LLM)
runs on the live world and may only add or change *traits*: it never touches a world parameter.
Like every change, a trait reaches the world as a bundle submitted to a governor (the loop's own
``MemoryGovernor``) and the active version followed at a tick boundary (``Headless``).
Survivors are the creatures alive after ``ticks`` ticks. Deterministic for a seed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ouroboros.ai.evolution.cascade import CascadeConfig, evolution_hook
from ouroboros.ai.evolution.headless import Headless
from ouroboros.ai.evolution.loop import EvolutionConfig, EvolutionLoop
from ouroboros.engine import World
from ouroboros.errors import BadInputError
from ouroboros.worlds import build_world, registry, world_spec

DEFAULT_TICKS = 1500
DEFAULT_ENTITIES = 200


SCENARIO = "famine"


def evolving_worlds(scenario: str | None = None) -> list[str]:
    """The registered worlds that evolve (and know ``scenario``, when one is named), by name."""
    return [
        name
        for name, spec in sorted(registry().items())
        if spec.evolution is not None and (scenario is None or scenario in spec.evolution.scenarios)
    ]


def scenario_world(scenario: str, seed: int, entities: int, world: str | None = None) -> World:
    """A fresh world set up for ``scenario`` (``world``: its name; ``None``: the first that knows it)."""
    known = evolving_worlds(scenario)
    name = world if world is not None else (known[0] if known else "")
    hook = world_spec(name).evolution if name in known else None
    if hook is None:
        raise BadInputError(f"no evolving world knows the scenario {scenario!r} (worlds: {', '.join(known)})")
    return build_world(name, seed, hook.scenario(scenario, entities))


def famine_world(seed: int, entities: int = DEFAULT_ENTITIES, world: str | None = None) -> World:
    return scenario_world(SCENARIO, seed, entities, world)


def survivors(world: World) -> int:
    return evolution_hook(world).population(world)


def famine_experiment(
    seeds: Sequence[int],
    *,
    ticks: int = DEFAULT_TICKS,
    evolve: bool,
    entities: int = DEFAULT_ENTITIES,
    config: EvolutionConfig | None = None,
    cooldown_ticks: int = 200,
    coder: Any = None,
    feed: Callable[[dict[str, Any]], None] | None = None,
    world: str | None = None,
) -> list[int]:
    """Survivors per seed after ``ticks`` ticks of famine, with or without evolution, in ``world``
    (``None``: the first evolving world that knows the famine scenario)."""
    if not seeds or any(not isinstance(s, int) or isinstance(s, bool) for s in seeds):
        raise BadInputError("seeds must be a non-empty list of integers")
    if not isinstance(ticks, int) or ticks < 1:
        raise BadInputError("ticks must be a positive integer")
    out = []
    for seed in seeds:
        dish = famine_world(seed, entities, world)
        if evolve:
            loop = EvolutionLoop(
                dish,
                cooldown_ticks=cooldown_ticks,
                coder=coder,
                feed=feed,
                config=config or EvolutionConfig(cascade=CascadeConfig(shadow_ticks=150)),
            )
            headless = Headless(loop)
            headless.run(ticks)
            headless.close()
        else:
            dish.run(ticks)
        out.append(survivors(dish))
    return out


__all__ = ["evolving_worlds", "famine_experiment", "famine_world", "scenario_world", "survivors"]
