"""The dish's invariants (``WorldSpec.invariants``): what holds between any two ticks whatever
the version — a sharded dish checks them after every tick of every shard, and one broken on a
rollout's treatment rolls it back. Any parameters an operator may set keep them; each rule names
what broke."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ouroboros.worlds import build_world, world_spec
from ouroboros.worlds.petri.hooks import petri_invariants
from ouroboros.worlds.petri.params import ONE, PARAMS
from ouroboros.worlds.petri.systems import molbots

#: what an operator may set mid-run, within each parameter's bounds (the dish's size included:
#: a smaller dish moves everyone inside it)
SETTABLE = ("width", "height", "gravity_fp", "friction_fp", "max_speed_fp", "food_energy_fp", "temperature",
            "resource_spawn_rate_fp", "max_entities", "max_age")  # fmt: skip
change = st.sampled_from(SETTABLE).flatmap(
    lambda name: st.tuples(
        st.just(name),  # a dish up to 4000 units a side keeps the run short
        st.integers(
            PARAMS[name].low,
            min(PARAMS[name].high, 4000) if name in ("width", "height") else PARAMS[name].high,
        ),
    )
)


def test_the_spec_carries_the_invariants() -> None:
    assert world_spec("petri").invariants is petri_invariants


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**16),
    changes=st.lists(st.tuples(st.integers(0, 59), change), max_size=6),
)
def test_any_parameters_keep_the_dish_s_invariants(
    seed: int, changes: list[tuple[int, tuple[str, int]]]
) -> None:
    world = build_world("petri", seed, {"entities": 200, "params": {"width": 600, "height": 500}})
    at: dict[int, list[tuple[str, int]]] = {}
    for tick, (name, value) in changes:
        at.setdefault(tick, []).append((name, value))
    for tick in range(60):
        for name, value in at.get(tick, []):
            world.submit("set_param", {"name": name, "value": value})
        world.step()
        assert petri_invariants(world) == [], (tick, at.get(tick))


def test_each_broken_rule_is_one_line_that_names_it() -> None:
    world = build_world("petri", 3, {"entities": 50, "params": {"width": 400, "height": 400}})
    world.run(2)
    mb = molbots(world)
    assert mb is not None and petri_invariants(world) == []
    mb["Position.x"][0] = 401 * ONE
    mb["Body.energy"][1] = mb["Body.max_energy"][1] + 1
    mb["DNA.mutation_permille"][2] = 999
    mb["Body.radius"][3] = 0
    assert petri_invariants(world) == [
        "1 molbots outside the dish",
        "1 molbots with more energy than their body holds",
        "a molbot radius outside 131072..262144",
        "a molbot gene mutation_permille outside 0..400",
    ]
