"""A shard follows the version the router gives it: the treatment's content comes from the ledger
(kept there when the rollout started), applied at the next tick boundary, and a rollback returns
the shard to the stable version as a rollback migration."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from ouroboros.engine import World
from ouroboros.patches.governor import Governor
from ouroboros.rollout.plan import parse_plan
from ouroboros.rollout.service import RolloutService
from ouroboros.rollout.shards import ShardFollower
from ouroboros.worlds import build_world


def shard() -> World:
    return build_world("petri", 7, {"entities": 60})  # the folder's world (STAGED_WORLD)


def test_two_shards_run_two_versions_and_the_treatment_one_goes_back(
    gov: Governor, validated: Callable[..., str]
) -> None:
    patch = validated(33)
    RolloutService(gov).start(patch, parse_plan("50,100"), "alice", "stage it")
    treated, control = shard(), shard()
    follower = ShardFollower(gov.ledger)
    assert follower.sync(treated, patch) == patch
    assert follower.sync(control, None) is False
    for world in (treated, control):
        world.step()
    assert treated.resources["gameplay_version"] == patch
    assert treated.resources["params"]["temperature"] == 33
    assert control.resources.get("gameplay_version") is None
    assert control.resources["params"]["temperature"] == 20
    assert follower.sync(treated, patch) is False
    # the rollback: the shard goes back at the next tick boundary, as a rollback migration
    assert follower.sync(treated, None) is None
    treated.step()
    assert treated.resources.get("gameplay_version") is None
    assert treated.resources["params"]["temperature"] == 20


def test_content_that_does_not_match_the_ledger_is_never_applied(
    gov: Governor, validated: Callable[..., str]
) -> None:
    patch = validated(34)
    RolloutService(gov).start(patch, parse_plan("50,100"), "alice", "stage it")
    with sqlite3.connect(gov.ledger.path) as db:
        db.execute("UPDATE versions SET content = replace(content, '34', '99') WHERE patch_id = ?", (patch,))
    world = shard()
    follower = ShardFollower(gov.ledger)
    assert follower.sync(world, patch) is False
    assert follower.refusal is not None and "does not match" in follower.refusal
    world.step()
    assert world.resources.get("gameplay_version") is None
    assert follower.sync(world, "p-never-kept") is False
    assert "not kept" in (follower.refusal or "")
