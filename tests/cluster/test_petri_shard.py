"""petri in the cluster: ``ouroboros shard petri`` ticks a dish with no players, follows the version
the control publishes and reports its ticks (no players; entity ids as exposures), hands the
control a snapshot of its dish, and saves the dish for its next life. With ``ouroboros control``
and ``ouroboros worker evolve`` an evolution cycle's candidates are evaluated by the worker (their
jobs went through the queue), the accepted trait is submitted once and reaches the shard."""

from __future__ import annotations

import json
import re
import signal
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ouroboros.ai.evolution import CascadeConfig, EvolutionLoop
from ouroboros.ai.offload import EvolveJobs
from ouroboros.cluster import keys
from ouroboros.cluster.control import EFFECTS_FILE, WorldControl
from ouroboros.cluster.dish import decode_snapshot, encode_snapshot
from ouroboros.cluster.effects import EffectLog
from ouroboros.cluster.memory import MemoryJobQueue
from ouroboros.cluster.redis_queue import RedisJobQueue
from ouroboros.cluster.redis_server import RedisServer
from ouroboros.errors import OuroborosError
from ouroboros.patches.governor import Governor
from ouroboros.patches.states import State
from ouroboros.worlds import build_world
from tests.cluster.test_cluster_neon import Proc
from tests.cluster.test_shard_versions import wait_until
from tests.patches.conftest import make_bundle, params_content
from tests.rollout.conftest import FAST_BUDGETS

ONE = 65536
PETRI = {"world": "petri", "seed": 7, "config": {"entities": 60}, "budgets": FAST_BUDGETS}
CONTROL = re.compile(r"control: (\{.*\})")
SECRET = re.compile(r"one-time secret (\S+)")


def _petri_gov(data: Path, **world: Any) -> Governor:
    gov = Governor(data / "petri", world_defaults={**PETRI, **world}, environ={})
    gov.new_key("op", ["*"])
    return gov


def test_a_petri_shard_follows_the_controls_activation_reports_its_ticks_and_saves_its_dish(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    gov = _petri_gov(data)
    control = WorldControl(redis_server.url, "petri", gov)
    shard = Proc(["shard", "petri", "--redis", redis_server.url, "--data", str(data), "--tick-hz", "30"])
    try:
        shard.wait_for(re.compile(r"shard petri-0: boot \w+, 30 ticks/s, .*no players, a snapshot every"))
        wait_until(lambda: control.latest.get("petri-0", {}).get("tick", 0) > 0, 90, every=control.poll)
        seen = control.latest["petri-0"]
        assert seen["version"] is None and seen["players"] == 0  # a dish: no players online
        doc = make_bundle(gov, params_content(33, "1.0.1"), gov.local_key("op"))
        assert gov.submit(doc).state == State.ACTIVE
        patch = doc["patch_id"]
        wait_until(lambda: control.latest["petri-0"]["version"] == patch, 60, every=control.poll)
        ticked = control.latest["petri-0"]["tick"]
        wait_until(lambda: control.latest["petri-0"]["tick"] > ticked + 10, 30, every=control.poll)
        # the dish the evolution loop would look at: a petri snapshot on the version it runs now
        got = wait_until(
            lambda: (
                (d := decode_snapshot(control.r.get(keys.shard_snapshot("petri-0")))) and d[1] == patch and d
            )
        )
        mirror = build_world("petri", 7, {"entities": 60})
        mirror.restore(got[2])
        assert mirror.tick == got[0] > 0 and mirror.resources["params"]["temperature"] == 33
        assert control.r.get(keys.shard_alive("petri-0"))  # its lease, as a played shard keeps it
        shard.popen.send_signal(signal.SIGTERM)
        assert shard.popen.wait(60) == 0
        saved = build_world("petri", 7, {"entities": 60})
        saved.restore((data / "shards" / "petri-0" / "petri.snapshot").read_bytes())
        assert saved.tick >= got[0] and saved.resources["gameplay_version"] == patch
        # its next life goes on from the dish it saved
        again = Proc(["shard", "petri", "--redis", redis_server.url, "--data", str(data), "--tick-hz", "30"])
        try:
            wait_until(lambda: control.latest["petri-0"]["tick"] > saved.tick, 60, every=control.poll)
            assert control.latest["petri-0"]["version"] == patch
        finally:
            again.stop()
    finally:
        shard.stop()
        control.close()
        gov.close()


def test_a_cycle_evaluated_through_evolve_jobs_equals_the_in_process_cycle_and_delivers_once(
    tmp_path: Path,
) -> None:
    """The loop's evaluator over the job queue (a worker's handler answering in between) decides
    what the in-process cascade decides; the same change on the same version is submitted once."""
    import dataclasses

    from ouroboros.ai.evolution import EvolutionConfig
    from ouroboros.ai.jobs import evolve_job

    settings = EvolutionConfig(generations=2, cascade=CascadeConfig(replay_ticks=3, shadow_ticks=40))

    def dish() -> Any:
        world = build_world("petri", 7, {"entities": 60})
        world.run(10)
        return world

    here = EvolutionLoop(dish(), config=settings)
    local = here.trigger("compare")
    queue = MemoryJobQueue()
    evaluator = EvolveJobs(queue, "petri", poll_s=0.0)

    def serve(_: float) -> None:  # a worker's turn between two looks of the evaluator
        while (job := queue.claim("w")) is not None:
            queue.complete(job, evolve_job(dict(job.payload)))

    evaluator.wait = serve
    held = {"budgets": {**FAST_BUDGETS, "human_domains": ["scripts", "traits"]}}
    gov = _petri_gov(tmp_path, **held)
    there = EvolutionLoop(dish(), governor=gov, config=settings)
    there.evaluator = evaluator
    there.once = EffectLog(tmp_path / EFFECTS_FILE)
    try:
        there.unready = lambda: "no snapshot yet"
        with pytest.raises(OuroborosError) as refused:
            there.prepare_trigger("too early")
        assert refused.value.code == "no_dish" and there.cycles == 0
        there.unready = None
        cycle = there.prepare_trigger("compare")
        there.evaluate(cycle)
        again = dataclasses.replace(cycle)  # a restarted control finishing the same cycle
        remote = there.finish(cycle)
        assert local["type"] == "swapped" and remote["type"] == "waiting"  # held for a person here

        def evaluations(loop: EvolutionLoop) -> list[dict[str, Any]]:
            return [
                {k: v for k, v in e.items() if k != "tick"}
                for e in loop.history()
                if e["type"] == "evaluation"
            ]

        assert evaluations(here) == evaluations(there) != []
        assert len(evaluator.submitted) == len(evaluations(there)) == queue.stats().results
        second = there.finish(again)
        assert second["type"] == "rejected" and second["code"] == "already_submitted"
        assert there.once.applied(second["key"])
        assert [p["patch_id"] for p in gov.ledger.patches()] == [remote["patch_id"]]  # one submission
    finally:
        there.once.close()
        gov.close()


@pytest.mark.slow  # five processes; the cycle runs 3 generations on the worker
def test_cluster_up_with_neon_and_petri_evolves_on_the_evolve_worker_and_the_trait_reaches_the_shard(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    _petri_gov(data).close()  # the governed folder: a small dish, fast pipeline budgets
    up = Proc(["cluster", "up", "--redis", redis_server.url, "--workers", "1", "--shards", "neon=1,petri=1",
               "--api-port", "0", "--telnet-port", "0", "--data", str(data)])  # fmt: skip
    queue = RedisJobQueue(redis_server.url, ("evolve",))
    try:
        api = f"http://127.0.0.1:{json.loads(up.wait_for(CONTROL, 120).group(1))['api']}"
        secret = up.wait_for(SECRET).group(1)
        login = httpx.post(f"{api}/api/auth/login", json={"secret": secret, "username": "admin"}, timeout=30)
        auth = {"Authorization": f"Bearer {login.json()['token']}"}
        from ouroboros.cluster.status import status_doc

        names = {p["name"] for p in status_doc(redis_server.url)["processes"]}
        assert names == {"worker-1", "neon-0", "gateway-neon", "petri-0", "control"}  # a dish: no gateway

        def state() -> dict[str, Any]:
            got = httpx.get(f"{api}/api/world/state", params={"world": "petri"}, headers=auth, timeout=30)
            assert got.status_code == 200, got.text
            return dict(got.json())

        wait_until(lambda: "dish" in state() and state()["shards"]["petri-0"]["tick"] > 0, 120)
        assert state()["shards"]["petri-0"]["players"] == 0
        asked = httpx.post(f"{api}/api/evolution/trigger", json={"reason": "grow"}, headers=auth, timeout=30)
        assert asked.status_code == 202, asked.text

        def history() -> list[dict[str, Any]]:
            got = httpx.get(f"{api}/api/evolution/history", params={"limit": 500}, headers=auth, timeout=30)
            return list(got.json())

        ends = ("swapped", "rejected", "waiting", "staged")
        outcome = wait_until(lambda: next((e for e in history() if e["type"] in ends), None), 240)
        assert outcome["type"] == "swapped", history()[:5]
        patch = outcome["patch_id"]
        # every candidate was evaluated by the worker: its evolve jobs went through the queue
        evaluated = [e for e in history() if e["type"] == "evaluation"]
        _, results = queue.results_since("0", 1000)
        done = [key for key, _ in results if key.startswith("evolve:petri:")]
        sources = {e["source"] for e in history() if e["type"] == "candidate"}
        assert evaluated and len(done) == len(sources)  # one job per distinct candidate (the key)
        assert all(
            "evaluation" in r and "digest" in r for k, r in results if k in done
        )  # evolve_job's answers
        # submitted once: one key in the world's once-log, one patch from the loop in the ledger
        effects = EffectLog(data / "petri" / EFFECTS_FILE)
        try:
            keys_applied = [
                r[0] for r in effects._db.execute("SELECT key FROM applied WHERE key LIKE 'evolution:%'")
            ]
        finally:
            effects.close()
        governed = [e for e in history() if e["type"] == "governed"]
        assert len(keys_applied) == len(governed) >= 1 and patch in {e["patch_id"] for e in governed}
        # the trait reaches the shard as the version the control publishes
        wait_until(lambda: state()["shards"]["petri-0"]["version"] == patch, 90)
        up.popen.send_signal(signal.SIGINT)
        assert up.popen.wait(60) == 0
    finally:
        queue.close()
        up.stop()


@settings(max_examples=60, deadline=None)
@given(tick=st.integers(0, 2**40), version=st.none() | st.text(max_size=20), data=st.binary(max_size=2000))
def test_a_snapshot_document_round_trips(tick: int, version: str | None, data: bytes) -> None:
    assert decode_snapshot(encode_snapshot(tick, version, data)) == (tick, version, data)


@settings(max_examples=100, deadline=None)
@given(
    raw=st.none()
    | st.text(max_size=200)
    | st.builds(
        json.dumps, st.dictionaries(st.sampled_from("tvzx"), st.integers() | st.text(max_size=8) | st.none())
    )
)
def test_a_document_that_is_not_ours_is_none_never_an_error(raw: str | None) -> None:
    got = decode_snapshot(raw)
    assert got is None or (isinstance(got[0], int) and isinstance(got[2], bytes))


class _Runner:
    """The part of a runner ``DishMirror`` touches: its name, world, lock and evolution."""

    def __init__(self, world: Any) -> None:
        import threading

        self.name, self.world, self.lock = "petri", world, threading.Lock()
        self.started = 0
        self.evolution = self

    def maybe_start(self) -> None:
        self.started += 1


def test_the_control_mirrors_the_newest_dish_refuses_another_worlds_and_rides_out_redis_away(
    redis_server: RedisServer,
) -> None:
    from ouroboros.cluster.evolution import DishMirror

    runner = _Runner(build_world("petri", 7, {"entities": 60}))
    mirror = DishMirror(redis_server.url, runner)
    try:
        assert mirror.step() is False and runner.started == 0  # nothing published: no cycle starts
        assert "no shard of petri has sent a snapshot" in (mirror.unready() or "")
        dish = build_world("petri", 7, {"entities": 60})
        dish.run(12)
        mirror.r.sadd(keys.world_shards("petri"), "petri-0")
        mirror.r.set(keys.shard_snapshot("petri-0"), encode_snapshot(dish.tick, None, dish.snapshot()))
        assert mirror.step() is True and runner.world.tick == 12 and runner.started == 1
        assert mirror.unready() is None
        assert runner.world.digest() == dish.digest()
        assert mirror.step() is False and runner.started == 2  # the same snapshot: looked at, not restored
        other = build_world("flocking", 1, {})
        other.run(20)
        mirror.r.set(keys.shard_snapshot("petri-0"), encode_snapshot(20, None, other.snapshot()))
        assert mirror.step() is False and runner.world.tick == 12  # not this world's: the last one kept
        redis_server.kill()
        assert mirror.step() is False and runner.started == 4 and mirror.status() == {
            "shard": "petri-0", "tick": 12, "version": None, "mirrored": 1,
        }  # fmt: skip
    finally:
        mirror.close()


def test_a_dish_shard_keeps_its_pace_while_redis_is_stalled_and_hands_over_its_snapshot_after(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    """No tick waits on Redis: the dish's snapshot and reports wait on the link thread."""
    import threading

    from ouroboros.cluster.dish import open_dish
    from ouroboros.cluster.follow import ShardLink
    from ouroboros.cluster.shard import ShardHost, run_shard
    from tests.cluster.test_shard_no_wait import stalled

    hz = 50.0
    dish = open_dish("petri", tmp_path / "petri-0", 7, {"entities": 60}, hz)
    host = ShardHost(dish, redis_server.url, "petri-0")
    link = ShardLink(redis_server.url, "petri", "petri-0", tmp_path / "petri", refresh_s=0.1)
    stop = threading.Event()
    threads = [
        threading.Thread(target=link.run, args=(stop,)),
        threading.Thread(
            target=run_shard, args=(dish, host, stop, hz), kwargs={"on_tick": link.on_dish_tick(dish, 0.2)}
        ),
    ]
    for thread in threads:
        thread.start()
    try:
        wait_until(lambda: link.snapshots_sent >= 1, 30)
        with stalled(redis_server):
            start = dish.world.tick
            wait_until(
                lambda: dish.world.tick >= start + 100, 2 * 100 / hz + 2.0
            )  # a 2 s socket timeout could not
            sent = link.snapshots_sent
        wait_until(lambda: link.snapshots_sent > sent, 30)
        got = decode_snapshot(link.r.get(keys.shard_snapshot("petri-0")))
        assert got is not None and got[0] > start
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
        link.close()
    assert (tmp_path / "petri-0" / "petri.snapshot").exists()  # saved on the way out
