"""Lua traits in a petri world: deterministic, equal to the built-in behaviour they copy, and a
hostile one faults while the world and the other traits carry on."""

from __future__ import annotations

from ouroboros.engine import World
from ouroboros.sandbox import SEEK_FOOD_LUA, FaultCode, LuaTrait
from ouroboros.worlds.petri import BUILTIN_TRAITS, PetriPlugin
from ouroboros.worlds.petri.traits import AbsorbEnergy, Flee, SeekFood, Wander

TICKS = 40

WANDER_LUA = """
function act(ctx)
  local ids, thrust, rng = ctx.ids, ctx.thrust, ctx.rng
  local tx, ty = ctx.thrust_x, ctx.thrust_y
  for i = 1, ctx.n do
    tx[i] = (rng.signed(ids[i], 1, 65536) * thrust[i]) // 131072
    ty[i] = (rng.signed(ids[i], 2, 65536) * thrust[i]) // 131072
  end
end
"""


def run(traits: tuple, seed: int = 11, ticks: int = TICKS) -> World:
    world = World(seed, plugins=[PetriPlugin(300, traits=traits)])
    world.start()
    world.run(ticks)
    return world


def test_a_world_with_a_lua_trait_gives_the_same_digest_twice() -> None:
    first = run((*BUILTIN_TRAITS, LuaTrait("seek", "1", SEEK_FOOD_LUA, name="lua_seek")))
    second = run((*BUILTIN_TRAITS, LuaTrait("seek", "1", SEEK_FOOD_LUA, name="lua_seek")))
    assert first.digest() == second.digest()


def test_lua_seek_food_and_wander_match_the_built_in_numpy_traits_exactly() -> None:
    builtin = run((SeekFood(), Wander(), Flee(), AbsorbEnergy()))
    seek = LuaTrait("seek", "1", SEEK_FOOD_LUA, name="seek_food")
    wander = LuaTrait("wander", "1", WANDER_LUA, name="wander")
    scripted = run((seek, wander, Flee(), AbsorbEnergy()))
    assert seek.faults == [] and wander.faults == []
    assert seek.ticks_run == wander.ticks_run == TICKS
    assert scripted.digest() == builtin.digest()


def test_a_hostile_trait_faults_while_the_world_ticks_and_the_others_act() -> None:
    hostile = LuaTrait("hog", "1", "function act(ctx) while true do end end", name="hog")
    world = run((*BUILTIN_TRAITS, hostile), ticks=10)
    assert world.tick == 10
    assert [f.code for f in hostile.faults] == [FaultCode.INSTRUCTIONS] * 3
    assert hostile.disabled
    # The built-in traits kept acting: the world moved exactly as it does without the hog.
    idle = LuaTrait("hog", "1", "function act(ctx) end", name="hog")
    assert world.digest() == run((*BUILTIN_TRAITS, idle), ticks=10).digest()


def test_a_trait_without_act_is_refused_at_load() -> None:
    trait = LuaTrait("none", "1", "function on_enter(e) end")
    assert [f.code for f in trait.faults] == [FaultCode.CONTRACT]
    assert trait.disabled


def test_only_the_arrays_a_script_reads_cross_the_boundary() -> None:
    asked: list[str] = []

    class Spy:
        name = "spy"

        def act(self, ctx: object) -> None:
            original = type(ctx).__getattr__

            def spying(self: object, name: str) -> object:
                asked.append(name)
                return original(self, name)  # type: ignore[arg-type]

            type(ctx).__getattr__ = spying  # type: ignore[method-assign]
            try:
                trait.act(ctx)
            finally:
                type(ctx).__getattr__ = original  # type: ignore[method-assign]

    trait = LuaTrait("e", "1", "function act(ctx) local e = ctx.energy ctx.energy_gain[1] = e[1] // 1000 end")
    run((Spy(),), ticks=1)
    assert asked == ["energy"]
    assert trait.faults == []


FRESH_INTENTS_LUA = """
local kept
function act(ctx)
  local n, tx = ctx.n, ctx.thrust_x
  local bad = 0
  if #tx ~= n or tx[n + 1] ~= nil then bad = bad + 1 end
  local count = 0
  for _, v in pairs(tx) do
    count = count + 1
    if v ~= 0 then bad = bad + 1 end
  end
  if count ~= n then bad = bad + 1 end
  if kept ~= nil and (rawequal(kept, tx) or kept[1] ~= 7) then bad = bad + 1 end
  tx[1] = 7
  kept = tx
  log("ticked " .. n .. " bad " .. bad)
end
"""


def test_intent_arrays_are_fresh_zeros_of_length_n_every_tick() -> None:
    # The first tick makes them from packed zeros, later ones ahead of the run: either way a
    # script sees n zeros and nothing past them, and a table it kept is its own.
    trait = LuaTrait("fresh", "1", FRESH_INTENTS_LUA, name="fresh")
    run((*BUILTIN_TRAITS, trait))
    assert trait.faults == [] and trait.ticks_run == TICKS
    sizes = {line.split()[1] for line in trait.log}
    assert len(trait.log) == TICKS and len(sizes) > 1  # the carriers changed over the run
    assert all(line.endswith(" bad 0") for line in trait.log), trait.log
