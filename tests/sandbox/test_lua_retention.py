"""A Lua trait's state never keeps what one call read alive: the context of a call (and through
it the world it reads) can be collected as soon as the call is over, even while the Lua state
lives on and before Lua's own collector runs. Before the fix a world with a Lua trait could never
be collected (world → trait → Lua state → the call's reader → ctx → world), and every evolution
fork leaked with its Lua state."""

from __future__ import annotations

import gc
import weakref

import numpy as np

from ouroboros.sandbox import SEEK_FOOD_LUA, LuaTrait
from ouroboros.worlds import build_world, spec_of

N = 16


class Ctx:
    """A ``TraitContext`` look-alike holding one more reference: the trait that reads it."""

    def __init__(self, owner: object) -> None:
        zeros = np.zeros(N, dtype=np.int64)
        self.n, self.temperature, self.owner = N, 0, owner
        self.rng = type("Rng", (), {"key": 7})()
        self.ids = np.arange(N, dtype=np.int64)
        for name in ("x", "y", "vx", "vy", "energy", "max_energy", "thrust"):
            setattr(self, name, zeros + 1)
        for name in ("food_count", "food_dx", "food_dy", "crowd_count", "crowd_dx", "crowd_dy"):
            setattr(self, name, zeros + 1)
        self.thrust_x, self.thrust_y, self.energy_gain = (np.zeros(N, dtype=np.int64) for _ in range(3))


def test_the_context_of_a_call_dies_with_the_call_while_the_lua_state_lives() -> None:
    trait = LuaTrait("seek", "1", SEEK_FOOD_LUA, name="seek")
    ctx = Ctx(trait)  # a cycle through the trait, as a world that holds its traits makes
    trait.act(ctx)
    assert trait.faults == [] and trait.ticks_run == 1
    gone = weakref.ref(ctx)
    del ctx
    gc.collect()
    assert gone() is None, "the Lua state kept the call's context alive"
    trait.act(Ctx(None))  # the state lives on and runs again
    assert trait.ticks_run == 2 and trait.faults == []


def test_a_fork_that_ran_a_lua_trait_is_collected_and_its_lua_state_closed() -> None:
    import lupa.lua54 as lupa

    def lua_states() -> int:
        gc.collect()
        return sum(1 for o in gc.get_objects() if type(o) is lupa.LuaRuntime)

    world = build_world("petri", 4, {"entities": 40})
    world.run(2)
    before = lua_states()
    content = {
        "scripts": [{"id": "s", "version": "1", "language": "lua", "source": SEEK_FOOD_LUA, "entry": "act"}],
        "traits": [{"id": "t", "version": "1", "world": "petri", "kind": "lua", "script": "s"}],
    }
    fork = world.fork()
    spec_of(world).apply_content(fork, content)
    fork.run(3)
    assert lua_states() == before + 1
    gone = weakref.ref(fork)
    del fork
    gc.collect()
    assert gone() is None, "a fork that ran a Lua trait was kept alive"
    assert lua_states() == before
