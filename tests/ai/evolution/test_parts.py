"""The evolution loop's parts on their own: watcher, genome, cascade, archive, coder feedback."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ouroboros.ai.evolution import (
    Archive,
    Cascade,
    CascadeConfig,
    Elite,
    Feedback,
    OfflineCoder,
    Watcher,
    from_data,
    mutate,
    random_program,
    render,
    to_data,
)
from ouroboros.ai.evolution.coder import bias_from
from ouroboros.ai.evolution.genome import crossover
from ouroboros.ai.proposals import SeededDraws
from ouroboros.errors import BadInputError
from ouroboros.sandbox import LuaTrait
from ouroboros.sandbox.checks import check_script
from ouroboros.worlds import build_world
from ouroboros.worlds.petri.params import ONE


def snap(
    tick: int,
    pop: int,
    *,
    starved: int = 0,
    births: int = 0,
    energy: int = 50 * ONE,
    food: int = 100,
    diversity: int = 8,
    counts: dict[str, int] | None = None,
) -> dict[str, Any]:
    return {
        "tick": tick,
        "entity_count": pop,
        "food_count": food,
        "avg_energy_fp": energy,
        "births": births,
        "deaths": {"starvation": starved, "age": 0, "collision": 0},
        "trait_diversity": diversity,
        "trait_counts": counts or {"seek_food": pop // 2, "wander": pop // 2},
    }


def test_the_watcher_raises_starvation_with_a_severity_from_the_last_five_snapshots() -> None:
    w = Watcher()
    for i, pop in enumerate([200, 180, 150, 120, 90]):
        assert w.triggers() == []  # not before the window is full
        w.observe(snap(30 * (i + 1), pop, starved=25, energy=(60 - 5 * i) * ONE))
    (t,) = [t for t in w.triggers(max_entities=20_000) if t.kind == "starvation"]
    assert t.severity == 3 and t.numbers["population_start"] == 200 and t.numbers["population_end"] == 90
    assert t.numbers["starved"] == 100 and t.tick == 150
    assert not w.observe(snap(150, 90))  # an old snapshot is not taken twice


def test_a_steady_dish_raises_nothing_and_a_crowded_one_overpopulation() -> None:
    w = Watcher()
    for i in range(5):
        w.observe(snap(30 * (i + 1), 500, births=3))
    assert w.triggers(max_entities=20_000) == []
    w.clear()
    for i in range(5):
        w.observe(snap(30 * (i + 1), 900 + 15 * i, food=100 - 25 * i))
    kinds = {t.kind: t.severity for t in w.triggers(max_entities=1000)}
    assert kinds == {"overpopulation": 2}  # 960 of 1000, and the food ran out while it grew


def test_low_diversity_when_one_trait_set_holds_the_dish() -> None:
    w = Watcher()
    for i in range(5):
        w.observe(snap(30 * (i + 1), 300, diversity=1, counts={"seek_food": 300, "wander": 0}))
    (t,) = w.triggers(max_entities=20_000)
    assert (t.kind, t.severity, t.numbers["top_share_permille"]) == ("low_diversity", 3, 1000)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32), st.integers(0, 6))
def test_every_program_the_coder_makes_passes_the_static_checks(seed: int, mutations: int) -> None:
    draws = SeededDraws(seed, "prop")
    program = random_program(draws)
    other = random_program(draws)
    for _ in range(mutations):
        program = mutate(crossover(program, other, draws) if draws.below(3) == 0 else program, draws)
    source = render(program)
    assert check_script("lua", source) == []
    assert from_data(to_data(program)) == program  # a program round-trips through plain data


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32))
def test_a_rendered_program_runs_without_fault_and_keeps_intents_bounded(seed: int) -> None:
    from ouroboros.worlds.petri.evolution import ProbeContext

    world = build_world("petri", 3, {"entities": 40})
    world.run(2)
    ctx = ProbeContext(world)
    rng = np.random.default_rng(seed)  # extreme senses, so every branch and clamp is exercised
    for name in ("food_dx", "food_dy", "crowd_dx", "crowd_dy", "vx", "vy"):
        setattr(ctx, name, rng.integers(-(1 << 45), 1 << 45, ctx.n))
    trait = LuaTrait("p", "1", render(random_program(SeededDraws(seed, "run"))))
    trait.act(ctx)
    trait.close()
    assert trait.faults == []
    assert np.all(np.abs(ctx.thrust_x) <= 16 * ONE) and np.all(
        (ctx.energy_gain >= 0) & (ctx.energy_gain <= ONE // 40)
    )


def test_the_same_seed_gives_the_same_generation() -> None:
    coder = OfflineCoder(population=5)
    a = coder.propose(SeededDraws(9, "g"), parents=[], feedback=[], plan={})
    b = coder.propose(SeededDraws(9, "g"), parents=[], feedback=[], plan={})
    assert [c.source for c in a] == [c.source for c in b] and len({c.source for c in a}) == 5


def test_from_data_refuses_what_is_not_a_program() -> None:
    for bad in (
        [],
        [{"if": "true"}],
        [{"if": "maybe", "then": {"kind": "gain", "amount": 1}}],
        [{"if": "true", "then": {"kind": "steer", "target": "moon", "strength": 1}}],
    ):
        with pytest.raises(BadInputError):
            from_data(bad)


@pytest.fixture(scope="module")
def cascade() -> Cascade:
    world = build_world("petri", 5, {"entities": 80, "params": {"resource_spawn_rate_fp": ONE // 4}})
    world.run(20)
    return Cascade(world, {}, CascadeConfig(replay_ticks=3, shadow_ticks=40, instructions_per_call=200_000))


def test_the_cascade_stops_broken_hostile_and_slow_candidates_early_with_reasons(cascade: Cascade) -> None:
    tick = cascade.world.tick
    broken = cascade.evaluate("evo.trait.1", "1.0.0", "function act(ctx)\n  for i = 1, ctx.n do\nend\n")
    assert (broken.ok, broken.stage) == (False, "static") and broken.reasons[0]["code"] == "script_syntax"
    hostile = cascade.evaluate("evo.trait.1", "1.0.0", "function act(ctx) os.execute('rm -rf /') end\n")
    assert (hostile.stage, hostile.reasons[0]["code"]) == ("static", "script_forbidden_name")
    slow = cascade.evaluate("evo.trait.1", "1.0.0", "function act(ctx)\n  while true do end\nend\n")
    assert (slow.ok, slow.stage) == (False, "probe") and "instruction" in slow.reasons[0]["message"]
    assert cascade._baseline is None  # none of them cost a shadow run
    assert cascade.world.tick == tick  # and the world itself never moved
    fb = [Feedback.of(e) for e in (broken, hostile, slow)]
    assert bias_from(fb)["shrink"] == 6  # their failures push the next generation to shrink


def test_the_cascade_compares_carriers_with_the_baseline(cascade: Cascade) -> None:
    still = "function act(ctx)\n  for i = 1, ctx.n do ctx.energy_gain[i] = 1638 end\nend\n"
    good = cascade.evaluate("evo.trait.1", "1.0.0", still)
    assert good.ok and good.stage == "shadow", good.reasons
    assert good.numbers["carriers"] > 0 and good.numbers["energy_fp"] > good.numbers["baseline_energy_fp"]
    burn = (  # shake back and forth at full thrust: fast, costly, and going nowhere
        "function act(ctx)\n  for i = 1, ctx.n do\n"
        "    if ctx.vx[i] > 0 then ctx.thrust_x[i] = -8 * 65536 else ctx.thrust_x[i] = 8 * 65536 end\n"
        "  end\nend\n"
    )
    bad = cascade.evaluate("evo.trait.1", "1.0.0", burn)
    assert not bad.ok and bad.reasons[0]["code"] == "kpi_not_better"
    assert bad.numbers["energy_fp"] < bad.numbers["baseline_energy_fp"]
    bias = bias_from([Feedback.of(bad)])  # fed back: look for energy, and explore
    assert bias["add_gain"] >= 1 and bias["add"] >= 1 and "shrink" not in bias


def test_printing_energy_is_bounded_by_the_dish_param(cascade: Cascade) -> None:
    greedy = "function act(ctx)\n  for i = 1, ctx.n do ctx.energy_gain[i] = 1000 * 65536 end\nend\n"
    fair = "function act(ctx)\n  for i = 1, ctx.n do ctx.energy_gain[i] = 1638 end\nend\n"
    g = cascade.evaluate("evo.trait.1", "1.0.0", greedy)
    f = cascade.evaluate("evo.trait.1", "1.0.0", fair)
    assert g.numbers["energy_fp"] == f.numbers["energy_fp"]  # asking for more gives no more


def test_the_archive_keeps_the_best_per_cell() -> None:
    archive = Archive()
    p1, p2, p3 = (random_program(SeededDraws(i, "a")) for i in range(3))
    assert archive.offer(Elite(p1, 10, (1, 1), "", {}))
    assert not archive.offer(Elite(p2, 5, (1, 1), "", {}))  # worse: the cell keeps p1
    assert archive.offer(Elite(p2, 5, (2, 0), "", {}))  # another behaviour: its own cell
    assert archive.offer(Elite(p3, 11, (1, 1), "", {}))  # better: replaces p1
    assert len(archive) == 2 and archive.cells[(1, 1)].program == p3
    assert [e.fitness for e in archive.elites()] == [11, 5] and archive.best() is not None
