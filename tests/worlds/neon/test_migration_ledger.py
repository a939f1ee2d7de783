"""A governed city following its ledger: an approved expansion carries its announcement to the
players, a rollback moves the people standing in it out, and the ledger keeps a ``migration`` entry
of each change saying what moved."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path

import pytest
from neon_harness import City
from tests.patches.conftest import NEON_WORLD as NEON
from tests.patches.conftest import make_bundle

from ouroboros.ai.generators import generate
from ouroboros.patches import Governor, State
from ouroboros.patches.activation import MIGRATION_ENTRY, PointerFollower
from ouroboros.worlds.neon.city import slots

EXPANSION = generate("WORLD_EXPANSION", 3).payload
FAR_ROOM = "neon.gen.room.36251d2a14"


@pytest.fixture
def neon(tmp_path: Path) -> Iterator[Governor]:
    governor = Governor(tmp_path / "data", world_defaults=NEON, environ={})
    governor.new_key("op", ["*"])
    yield governor
    governor.close()


def _follow(city: City, follower: PointerFollower) -> None:
    follower.sync(city.world, force=True)
    city.game.step()
    follower.record(city.world, actor="test")


def test_an_announced_expansion_and_its_rollback_are_migrated_and_recorded(neon: Governor) -> None:
    city = City(seed=5)
    city.enter("Alice")
    follower = PointerFollower(neon.data)
    doc = make_bundle(
        neon,
        copy.deepcopy(EXPANSION),
        neon.local_key("op"),
        migration={"announcement": "A new road opens north of the Rustbelt."},
    )
    assert neon.submit(doc).state == State.ACTIVE
    seen = len(city.seen["Alice"])
    _follow(city, follower)
    assert "A new road opens north of the Rustbelt." in city.text("Alice", seen)
    city.world.set(city.player("Alice"), "Place", room=slots(city.world).slot("room", FAR_ROOM))

    neon.rollback("alice", "the road is unsafe")
    seen = len(city.seen["Alice"])
    _follow(city, follower)
    assert "is gone (the city was rolled back)" in city.text("Alice", seen)
    assert city.room_id("Alice") == "neon.room.st_18_19"
    entries = neon.ledger.entries(kind=MIGRATION_ENTRY)
    assert [(e.before, e.after) for e in entries] == [(None, doc["patch_id"]), (doc["patch_id"], None)]
    assert entries[0].evidence["opened"] and entries[0].evidence["counts"]["moved"] == 0
    assert entries[1].evidence["moved"] == [
        {"who": "Alice", "kind": "player", "from": FAR_ROOM, "to": "neon.room.st_18_19"}
    ]
    assert neon.ledger.verify() > 0  # the chain still holds
    follower.close()


def test_a_hint_naming_an_unknown_field_is_refused_at_the_door(neon: Governor) -> None:
    doc = make_bundle(neon, copy.deepcopy(EXPANSION), neon.local_key("op"), migration={"rooms": {"a": "b"}})
    verdict = neon.submit(doc)
    assert verdict.state not in (State.ACTIVE, State.VALIDATED)
    assert any(r.path.startswith("/migration") for r in verdict.reasons), verdict.reasons
    assert neon.active() is None
