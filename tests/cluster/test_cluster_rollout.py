"""A staged rollout in a cluster, at the process level: ``cluster up --shards neon=2`` on a real
Redis starts the control, two shards and *one* gateway for the world. A rollout started through
the control's API at 50 % with scope cohort puts one shard on the patch; the gateway routes each
login by its cohort (a treatment player's ``look`` shows the patched plaza, a control player's the
stable one). Aborted through the API: the treated player is told once, stays connected, and their
next command is answered by the stable version; the control player is told nothing. Then a
session boundary moves the treated player to the other shard, which claims her record: she
arrives where she walked."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import signal
from pathlib import Path
from typing import Any

import httpx

from ouroboros.characters import RedisCharacters
from ouroboros.cluster.redis_server import RedisServer
from ouroboros.patches.governor import Governor
from ouroboros.rollout.cohorts import bucket
from tests.cluster.test_characters_across_shards import at_login, room_now, rooms_seen, wait_for
from tests.cluster.test_cluster_neon import PORTS, Proc, answered, login
from tests.cluster.test_control_process import CONTROL, NEW, SECRET
from tests.cluster.test_shard_versions import HELD_NEON, held_rooms_patch, wait_until

TOLD = "The city shifts around you: a change was rolled back."


def cohort_names(rollout_id: str) -> tuple[str, str]:
    """An account name in the treatment (50 %) and one in the control, for this rollout."""
    found: dict[bool, str] = {}
    for letters in itertools.product("abcdefgh", repeat=3):
        name = "runner" + "".join(letters)
        found.setdefault(bucket(rollout_id, name.capitalize()) < 5000, name)
        if len(found) == 2:
            break
    return found[True], found[False]


def test_one_gateway_routes_players_by_cohort_and_a_rollback_is_told_once(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    gov = Governor(tmp_path / "neon", world_defaults=HELD_NEON, environ={})
    try:
        patch = held_rooms_patch(gov, NEW)  # held for a person: a rollout may stage it
    finally:
        gov.close()
    up = Proc(["cluster", "up", "--redis", redis_server.url, "--workers", "0", "--shards", "neon=2",
               "--telnet-port", "0", "--api-port", "0", "--data", str(tmp_path)])  # fmt: skip
    try:
        telnet = json.loads(up.wait_for(PORTS).group(2))["telnet"]
        gateways = [line for line in up.lines if PORTS.search(line)]
        api = f"http://127.0.0.1:{json.loads(up.wait_for(CONTROL).group(1))['api']}"
        token = httpx.post(
            f"{api}/api/auth/login", json={"secret": up.wait_for(SECRET).group(1), "username": "admin"}
        ).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}

        def shards() -> dict[str, Any]:
            got = httpx.get(f"{api}/api/world/state", params={"world": "neon"}, headers=auth, timeout=30)
            assert got.status_code == 200, got.text
            return dict(got.json()["shards"])

        wait_until(lambda: set(shards()) == {"neon-0", "neon-1"}, timeout_s=120)
        started = httpx.post(
            f"{api}/api/rollouts",
            headers=auth,
            timeout=60,
            json={
                "world": "neon",
                "patch_id": patch,
                "plan": "50,100",
                "scope": "cohort",
                "min_exposures": 10**6,
                "reason": "koi for half the city",
            },
        )  # fmt: skip  (never enough exposures: it holds at 50 % until aborted)
        assert started.status_code == 200, started.text
        rollout_id = started.json()["rollout_id"]
        # the gateway says when it routes by the live rollout with one shard on the patch
        on_patch = re.escape(json.dumps(patch))
        live = re.compile(r'route (\{.*"phase": "running".*"running": \{[^}]*' + on_patch + r".*\})")
        route = json.loads(up.wait_for(live, timeout_s=120).group(1))
        treated_shard = next(s for s, v in route["running"].items() if v == patch)
        treated, control = cohort_names(rollout_id)

        async def play() -> dict[str, Any]:
            one, two = await login(telnet, treated), await login(telnet, control)
            await answered(one, "look")
            await answered(two, "look")
            aborted = await asyncio.to_thread(
                httpx.post, f"{api}/api/rollouts/abort", headers=auth, timeout=60,
                json={"world": "neon", "reason": "enough koi"},
            )  # fmt: skip
            assert aborted.status_code == 200, aborted.text
            await one.expect(TOLD, timeout_s=60)
            assert not one.eof and not two.eof  # nobody was disconnected
            after = len(one.lines)
            await answered(one, "look")  # the next command, once told: the stable version answers
            await answered(two, "look")
            # a session boundary: the treated player walks, leaves, and logs in on the other shard
            # (least loaded now that nothing is staged); the shard she lands on claims her record
            start = room_now(one)["id"]
            await answered(one, "n")
            await wait_for(lambda: room_now(one)["id"] != start)
            walked_to = room_now(one)["id"]
            for client, name in ((one, treated), (two, control)):
                client.send_line("quit")
                await client.until_closed(timeout_s=60)
                await wait_for(lambda name=name: store.holder(name.capitalize()) is None)
            filler = None
            if treated_shard == "neon-0":  # both empty: the tie goes to neon-0, so someone sits there
                filler = await login(telnet, "fillerfinn")
                await wait_for(lambda: store.holder("Fillerfinn") == "neon-0")
            again = await at_login(telnet)
            seen = rooms_seen(again)
            again.send_line(f"connect {treated} razorgirl9")
            await again.expect("Exits", timeout_s=60)
            await wait_for(lambda: rooms_seen(again) > seen)
            moved = {"holder": store.holder(treated.capitalize()), "room": room_now(again)["id"]}
            for client in (one, two, again, *([filler] if filler else [])):
                client.close()
            return {"one": one, "two": two, "after": after, "walked_to": walked_to, "moved": moved}

        store = RedisCharacters(redis_server.url)
        out = asyncio.run(asyncio.wait_for(play(), 240))
        store.close()
        one, two = out["one"], out["two"]
        before_abort = one.lines[: out["after"]]
        assert any(NEW in line for line in before_abort)  # the treatment cohort saw the patch
        assert not any(NEW in line for line in two.lines)  # the control cohort never did
        assert not any(NEW in line for line in one.lines[out["after"] :])  # the stable version answers
        assert sum(TOLD in line for line in one.lines) == 1 and not any(TOLD in x for x in two.lines)
        other_shard = next(s for s in ("neon-0", "neon-1") if s != treated_shard)
        assert out["moved"] == {"holder": other_shard, "room": out["walked_to"]}  # carried across
        # the shard itself went back (its reports reach the control in batches, about once a second)
        wait_until(lambda: shards()[treated_shard]["version"] is None, timeout_s=60)
        assert len(gateways) == 1 and '"world": "neon"' in gateways[0]  # one gateway for the world
        up.popen.send_signal(signal.SIGINT)
        assert up.popen.wait(60) == 0
    finally:
        up.stop()
