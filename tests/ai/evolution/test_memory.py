"""An evolution loop that runs for a long time keeps what it holds flat: twenty cycles on a small
dish end within 10 % of the Python objects, the traced memory, the worlds and the Lua states held
after the second cycle (each cycle forks the dish and loads Lua candidates into the forks; before
the fix every fork with a Lua trait lived forever, some 30 MB a cycle on a dish of 200)."""

from __future__ import annotations

import gc
import tracemalloc

import lupa.lua54 as lupa
import pytest

from ouroboros.ai.evolution import CascadeConfig, EvolutionConfig, EvolutionLoop, Headless
from ouroboros.engine import World
from ouroboros.worlds import build_world

# a history bound the first two cycles fill, so what is left to grow is what a cycle leaks
SMALL = EvolutionConfig(
    generations=1, cascade=CascadeConfig(replay_ticks=2, shadow_ticks=12), history_max_events=24
)


def _held() -> dict[str, int]:
    gc.collect()
    objects = gc.get_objects()
    return {
        "objects": len(objects),
        "worlds": sum(1 for o in objects if isinstance(o, World)),
        "lua_states": sum(1 for o in objects if type(o) is lupa.LuaRuntime),
        "traced_bytes": tracemalloc.get_traced_memory()[0],
    }


@pytest.mark.slow
def test_twenty_cycles_hold_no_more_than_two() -> None:
    before = _held()  # what earlier tests left in this process
    dish = build_world("petri", 3, {"entities": 60})
    feed: list[dict] = []
    loop = EvolutionLoop(dish, config=SMALL, feed=feed.append)
    headless = Headless(loop)  # the dish follows the loop's governor at its tick boundaries
    tracemalloc.start(1)
    try:
        levels = []
        forked_lua = 0
        for _ in range(20):
            headless.run(3, evolve=False)
            loop.trigger("soak")
            levels.append({**_held(), "live_traits": len(dish.resources.get("scripted_traits", ()))})
            forked = [e for e in feed if e["type"] == "evaluation"]
            forked_lua += sum(1 for e in forked if e["stage"] in ("replay", "screen", "shadow"))
            feed.clear()
    finally:
        tracemalloc.stop()
        headless.close()
    assert forked_lua > 0, "no candidate reached the forks: the test would prove nothing"
    second, last = levels[1], levels[-1]
    for key in ("objects", "traced_bytes"):
        assert last[key] <= second[key] * 1.10, (key, second[key], last[key], levels)
    # Only the live dish is left, with a Lua state for each trait it runs: no fork, no candidate.
    assert all(level["worlds"] - before["worlds"] == 1 for level in levels), levels
    assert all(level["lua_states"] - before["lua_states"] <= level["live_traits"] for level in levels), levels
