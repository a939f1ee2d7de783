"""The famine experiment: does the evolution loop help a starving dish survive?

One scenario for both arms, fixed by ``famine_params``: a small dish with scarce food (a low
``resource_spawn_rate_fp`` and a small food cap) and ``min_population`` 0, so a dying dish is
never reseeded. With ``evolve`` the offline evolution loop (no governor, no LLM) runs on the live
dish and may only add or change *traits*: it never touches a world parameter. Survivors are the
molbots alive after ``ticks`` ticks. Deterministic for a seed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ouroboros.ai.evolution.cascade import CascadeConfig
from ouroboros.ai.evolution.loop import EvolutionConfig, EvolutionLoop
from ouroboros.errors import BadInputError

ONE = 1 << 16
DEFAULT_TICKS = 1500
DEFAULT_ENTITIES = 200


def famine_params() -> dict[str, int]:
    return {
        "width": 800,
        "height": 800,
        "resource_spawn_rate_fp": ONE // 8,
        "max_food": 200,
        "min_population": 0,
        "telemetry_every": 20,
    }


def famine_world(seed: int, entities: int = DEFAULT_ENTITIES) -> Any:
    from ouroboros.worlds import build_world

    return build_world("petri", seed, {"entities": entities, "params": famine_params()})


def survivors(world: Any) -> int:
    from ouroboros.worlds.petri.systems import molbots

    mb = molbots(world)
    return mb.count if mb is not None else 0


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
) -> list[int]:
    """Survivors per seed after ``ticks`` ticks of famine, with or without evolution."""
    if not seeds or any(not isinstance(s, int) or isinstance(s, bool) for s in seeds):
        raise BadInputError("seeds must be a non-empty list of integers")
    if not isinstance(ticks, int) or ticks < 1:
        raise BadInputError("ticks must be a positive integer")
    out = []
    for seed in seeds:
        world = famine_world(seed, entities)
        if evolve:
            loop = EvolutionLoop(
                world,
                cooldown_ticks=cooldown_ticks,
                coder=coder,
                feed=feed,
                config=config or EvolutionConfig(cascade=CascadeConfig(shadow_ticks=150)),
            )
            loop.run(ticks)
            loop.close()
        else:
            world.run(ticks)
        out.append(survivors(world))
    return out


__all__ = ["famine_experiment", "famine_params", "famine_world", "survivors"]
