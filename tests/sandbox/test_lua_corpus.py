"""The hostile Lua corpus: every script is contained with the fault its first line names, quickly,
while the world it runs in keeps ticking and a well-behaved Lua trait beside it keeps acting."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from ouroboros.engine import World
from ouroboros.sandbox import SEEK_FOOD_LUA, FaultCode, LuaTrait, check_script
from ouroboros.worlds.petri import PetriPlugin
from ouroboros.worlds.petri.traits import AbsorbEnergy

CORPUS = sorted((Path(__file__).parent / "corpus" / "lua").glob("*.lua"))
HEADER = re.compile(r"^-- expect: (\w+)(?:\|(\w+))?")  # a|b: whichever budget runs out first
RUNTIME = re.compile(r"^-- runtime: (\w+)", re.M)
TICKS = 3
SECONDS_PER_SCRIPT = 5.0


def expectations(path: Path) -> tuple[FaultCode, FaultCode | None]:
    text = path.read_text()
    head = HEADER.match(text)
    assert head, f"{path.name} must start with '-- expect: <fault code>'"
    runtime = RUNTIME.search(text)
    return FaultCode(head.group(1)), FaultCode(runtime.group(1)) if runtime else None


def also_accepted(path: Path) -> FaultCode | None:
    """The second code of an ``-- expect: a|b`` header (a race between two budgets), if any."""
    head = HEADER.match(path.read_text())
    return FaultCode(head.group(2)) if head and head.group(2) else None


def run_beside_good_trait(source: str) -> tuple[LuaTrait, LuaTrait, World]:
    hostile = LuaTrait("hostile", "1", source, name="hostile")
    good = LuaTrait("good", "1", SEEK_FOOD_LUA, name="good")
    world = World(3, plugins=[PetriPlugin(40, traits=(hostile, good, AbsorbEnergy()))])
    world.start()
    world.run(TICKS)
    return hostile, good, world


def test_the_corpus_is_large_enough() -> None:
    assert len(CORPUS) >= 40
    codes = {expectations(p)[0] for p in CORPUS}
    for code in ("instructions", "memory", "wall_clock", "output", "objects", "recursion", "escape"):
        assert FaultCode(code) in codes


@pytest.mark.parametrize("path", CORPUS, ids=[p.stem for p in CORPUS])
def test_hostile_script_is_contained(path: Path) -> None:
    expected, runtime_expected = expectations(path)
    source = path.read_text()
    started = time.perf_counter()
    static = check_script("lua", source, script_id=path.stem, version="1")
    if static:
        assert static[0].code == expected, static
        if runtime_expected is None:
            return
        expected = runtime_expected  # the runtime must hold on its own, gate or no gate
    hostile, good, world = run_beside_good_trait(source)
    assert hostile.faults, f"{path.name} was not stopped"
    assert hostile.faults[0].code in (expected, also_accepted(path)), hostile.faults[0]
    assert hostile.faults[0].script_id == "hostile"
    # Measured, not slept: no call overran its wall clock by more than the budget itself.
    budget_ms = hostile.script.limits.max_wall_ms_per_call
    assert all(f.budget_used.get("wall_ms", 0) < 2 * budget_ms for f in hostile.faults), hostile.faults
    # The world kept ticking and the good trait kept acting, fault-free, every tick.
    assert world.tick == TICKS
    assert good.faults == [] and good.ticks_run == TICKS
    assert time.perf_counter() - started < SECONDS_PER_SCRIPT


def test_a_faulting_trait_is_disabled_after_repeated_faults() -> None:
    hostile, _, world = run_beside_good_trait("function act(ctx) error('always') end")
    assert [f.code for f in hostile.faults] == [FaultCode.RUNTIME] * 3
    assert hostile.disabled
    world.run(5)
    assert len(hostile.faults) == 3  # disabled: not run, not faulting again


def test_a_hostile_neighbour_does_not_change_what_the_good_trait_does() -> None:
    hostile_source = (Path(__file__).parent / "corpus" / "lua" / "mem_table_growth.lua").read_text()
    _, _, with_hostile = run_beside_good_trait(hostile_source)
    _, _, with_idle = run_beside_good_trait("function act(ctx) end")
    # The hostile trait adds no intents, like an idle one: the worlds are identical.
    assert with_hostile.digest() == with_idle.digest()
