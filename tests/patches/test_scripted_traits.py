"""Behaviour code as patches: a Lua or Python trait arrives in a bundle, passes the static checks
and the replay, is hot-swapped in at a tick boundary, migrates as declared and rolls back."""

from __future__ import annotations

import gc
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ouroboros.patches.governor import Governor
from ouroboros.patches.keys import SigningKey
from ouroboros.patches.states import State
from ouroboros.worlds import world_kpis
from tests.patches.conftest import make_bundle

REPO = Path(__file__).resolve().parents[2]
SEEK = json.loads((REPO / "examples" / "patches" / "scripts.json").read_text())["scripts"][0]["source"]
NUDGE = "function act(ctx)\n  for i = 1, ctx.n do ctx.thrust_x[i] = ctx.thrust_x[i] + K end\nend\n"


def lua_trait(
    source: str, version: str = "1.0.0", migrate: str = "replace", tid: str = "t.lua"
) -> dict[str, Any]:
    return {
        "scripts": [
            {"id": "s." + tid, "version": version, "language": "lua", "source": source, "entry": "act"}
        ],
        "traits": [
            {
                "id": tid,
                "version": version,
                "world": "petri",
                "kind": "lua",
                "script": "s." + tid,
                "migrate": migrate,
            }
        ],
    }


def carriers(world, bit: int) -> int:
    mask = world.query("Traits")[0]["Traits.mask"]
    return int(np.count_nonzero(mask & np.uint8(1 << bit)))


def test_a_lua_trait_patch_runs_deterministically_and_spreads(gov: Governor, op: SigningKey) -> None:
    verdict = gov.submit(make_bundle(gov, lua_trait(SEEK), op))
    assert verdict.state == State.ACTIVE, verdict.reasons
    a, b = gov.reference_world(), gov.reference_world()
    a.run(40)
    b.run(40)
    assert a.digest().hex == b.digest().hex
    (entry,) = a.resources["scripted_traits"]
    assert entry["bit"] == 4 and carriers(a, 4) > 0  # newborns carry it
    assert world_kpis(a)["trait_counts"]["t.lua"] == carriers(a, 4)
    assert a.resources["script_faults"] == 0


def test_a_forbidden_script_is_refused_at_the_static_stage(gov: Governor, op: SigningKey) -> None:
    verdict = gov.submit(make_bundle(gov, lua_trait("function act(ctx) os.execute('rm -rf /') end\n"), op))
    assert verdict.state == State.REJECTED
    assert verdict.reasons[0].stage == "static"
    assert verdict.reasons[0].code == "script_forbidden_name"
    assert verdict.reasons[0].path == "/content/scripts/0/source"


def test_a_script_that_faults_at_run_time_is_refused_by_the_shadow_run(gov: Governor, op: SigningKey) -> None:
    looping = "function act(ctx)\n  local i = 0\n  while true do i = i + 1 end\nend\n"
    content = lua_trait(looping)
    content["scripts"][0]["budgets"] = {"instructions_per_call": 10000}
    verdict = gov.submit(make_bundle(gov, content, op))
    assert verdict.state == State.REJECTED
    assert [(r.stage, r.code) for r in verdict.reasons] == [("shadow", "faults_increase")]
    assert gov.active() is None


def test_hot_swap_replace_then_rollback(gov: Governor, op: SigningKey) -> None:
    from ouroboros.patches.activation import PointerFollower
    from ouroboros.worlds import build_world

    world = build_world("petri", 7, {"entities": 60})
    follower = PointerFollower(gov.data)
    gov.submit(make_bundle(gov, lua_trait(NUDGE.replace("K", "1")), op))
    follower.sync(world)
    world.run(30)
    (v1,) = world.resources["scripted_traits"]
    held = carriers(world, v1["bit"])
    assert held > 0
    gov.submit(make_bundle(gov, lua_trait(NUDGE.replace("K", "2"), "1.1.0", "replace"), op))
    follower.sync(world)
    world.step()
    (v2,) = world.resources["scripted_traits"]
    assert (v2["bit"], v2["version"]) == (v1["bit"], "1.1.0")  # same bit: every carrier moved
    assert carriers(world, v2["bit"]) >= held
    gov.rollback("alice", "v2 misbehaves")
    follower.sync(world)
    world.step()
    (back,) = world.resources["scripted_traits"]
    assert back["version"] == "1.0.0" and back["sha256"] == v1["sha256"]
    gov.rollback("alice", "no scripts at all", to_base=True)
    follower.sync(world)
    world.step()
    assert world.resources["scripted_traits"] == [] and carriers(world, v1["bit"]) == 0
    follower.close()


def test_keep_migration_leaves_old_carriers_on_the_old_version(gov: Governor, op: SigningKey) -> None:
    gov.submit(make_bundle(gov, lua_trait(NUDGE.replace("K", "1")), op))
    world = gov.reference_world()
    world.run(30)
    old_bit = world.resources["scripted_traits"][0]["bit"]
    old_carriers = carriers(world, old_bit)
    verdict = gov.submit(make_bundle(gov, lua_trait(NUDGE.replace("K", "3"), "2.0.0", "keep"), op))
    assert verdict.state == State.ACTIVE, verdict.reasons
    from ouroboros.worlds import ACTIVATE_INPUT

    world.submit(ACTIVATE_INPUT, {"patch_id": gov.active(), "content": gov.active_content()["objects"]})
    world.step()
    entries = {e["version"]: e for e in world.resources["scripted_traits"]}
    assert entries["1.0.0"]["retiring"] and not entries["2.0.0"]["retiring"]
    assert entries["1.0.0"]["bit"] == old_bit and entries["2.0.0"]["bit"] != old_bit
    assert 0 < carriers(world, old_bit) <= old_carriers  # old carriers stay on the old version
    from ouroboros.worlds.petri.scripted import newborn_bits

    assert newborn_bits(world) == 1 << entries["2.0.0"]["bit"]  # newborns get the new one only


def test_a_python_trait_patch_runs_in_the_worker(gov: Governor, op: SigningKey) -> None:
    source = "class Push(Trait):\n    async def execute(self, entity):\n        entity.thrust_x = 5\n"
    content = {
        "scripts": [
            {"id": "s.py", "version": "1.0.0", "language": "python", "source": source, "entry": "Push"}
        ],
        "traits": [{"id": "t.py", "version": "1.0.0", "world": "petri", "kind": "python", "script": "s.py"}],
    }
    verdict = gov.submit(make_bundle(gov, content, op))
    assert verdict.state == State.ACTIVE, verdict.reasons
    world = gov.reference_world()
    world.run(10)
    assert world.resources["script_faults"] == 0


def python_trait(value: int, tid: str = "t.py") -> dict[str, Any]:
    source = f"class Push(Trait):\n    async def execute(self, entity):\n        entity.thrust_x = {value}\n"
    version = f"1.0.{value}"
    return {
        "scripts": [
            {"id": "s." + tid, "version": version, "language": "python", "source": source, "entry": "Push"}
        ],
        "traits": [
            {
                "id": tid,
                "version": version,
                "world": "petri",
                "kind": "python",
                "script": "s." + tid,
                "migrate": "replace",
            }
        ],
    }


def live_children() -> int:
    """Child processes of this one that are still running (not zombies)."""
    count = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state, ppid, ...
        if int(fields[1]) == os.getpid() and fields[0] != "Z":
            count += 1
    return count


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def test_hot_swapping_python_traits_leaves_no_ghost_workers() -> None:
    from ouroboros.sandbox import PythonTrait
    from ouroboros.worlds import build_world
    from ouroboros.worlds.petri.scripted import apply_traits

    gc.collect()
    before = live_children()
    world = build_world("petri", 7, {"entities": 60})
    rss_after_warmup = 0
    for v in range(50):
        apply_traits(world, python_trait(v))
        world.step()
        # One Python trait in use: at most one worker of its own, whatever ran before.
        assert live_children() - before <= 1, f"swap {v}: worker processes pile up"
        if v == 9:
            gc.collect()
            rss_after_warmup = rss_bytes()
    (entry,) = world.resources["scripted_traits"]
    assert entry["version"] == "1.0.49" and world.resources["script_faults"] == 0
    gc.collect()
    assert sum(isinstance(o, PythonTrait) for o in gc.get_objects()) <= 1
    assert rss_bytes() < rss_after_warmup * 1.10  # forty more swaps leave memory where it was
    del world
    gc.collect()
    assert live_children() == before  # a collected world closes what it still ran


def test_a_world_keeps_the_last_three_versions_and_rolls_back_in_one_call() -> None:
    from ouroboros.errors import SandboxError
    from ouroboros.worlds import build_world
    from ouroboros.worlds.petri.scripted import apply_traits, rollback_trait, trait_versions

    world = build_world("petri", 7, {"entities": 60})
    world.step()  # a population to seed the trait into
    shas = {}
    for k in range(1, 5):
        apply_traits(world, lua_trait(NUDGE.replace("K", str(k)), f"1.{k}.0"))
        world.step()
        shas[f"1.{k}.0"] = world.resources["scripted_traits"][0]["sha256"]
    assert trait_versions(world, "t.lua") == ["1.2.0", "1.3.0", "1.4.0"]  # the last three
    (v4,) = world.resources["scripted_traits"]
    back = rollback_trait(world, "t.lua")  # one call, one step back
    assert (back["version"], back["bit"], back["sha256"]) == ("1.3.0", v4["bit"], shas["1.3.0"])
    world.run(3)
    (entry,) = world.resources["scripted_traits"]
    assert entry["version"] == "1.3.0" and world.resources["script_faults"] == 0
    assert carriers(world, entry["bit"]) > 0
    assert rollback_trait(world, "t.lua")["version"] == "1.2.0"
    with pytest.raises(SandboxError):
        rollback_trait(world, "t.lua")  # 1.1.0 is no longer kept
    # The record is plain data in the world: a fork carries it, and sources for every kept version.
    fork = world.fork()
    assert trait_versions(fork, "t.lua") == ["1.2.0", "1.3.0", "1.4.0"]
    assert set(shas.values()) - {shas["1.1.0"]} <= set(world.resources["scripted_sources"])
    # A new activation moves on from the rolled-back version as usual.
    apply_traits(world, lua_trait(NUDGE.replace("K", "5"), "1.5.0"))
    world.step()
    assert world.resources["scripted_traits"][0]["version"] == "1.5.0"
    assert rollback_trait(world, "t.lua")["version"] == "1.2.0"


def test_rolling_back_over_a_keep_migration_merges_the_retiring_copy() -> None:
    from ouroboros.worlds import build_world
    from ouroboros.worlds.petri.scripted import apply_traits, rollback_trait

    world = build_world("petri", 7, {"entities": 60})
    world.step()
    apply_traits(world, lua_trait(NUDGE.replace("K", "1"), "1.0.0"))
    world.run(5)
    apply_traits(world, lua_trait(NUDGE.replace("K", "2"), "2.0.0", "keep"))
    world.run(5)
    entries = {e["version"]: e for e in world.resources["scripted_traits"]}
    old_bit, new_bit = entries["1.0.0"]["bit"], entries["2.0.0"]["bit"]
    held = carriers(world, old_bit) + carriers(world, new_bit)
    assert carriers(world, old_bit) > 0
    back = rollback_trait(world, "t.lua")
    (entry,) = world.resources["scripted_traits"]  # one entry: the retiring copy merged in
    assert entry == back and (entry["version"], entry["bit"], entry["retiring"]) == ("1.0.0", new_bit, False)
    assert carriers(world, old_bit) == 0 and 0 < carriers(world, new_bit) <= held
    world.step()
    assert world.resources["script_faults"] == 0
