"""Proved, not hoped: random sequences of approve, undo, rollback, snapshot restore, expansions,
player moves and quest accepts over generated proposals, on a real governed folder (SQLite ledger,
AI store) and a city following its pointer. After every step:

- every player stands in a room of the content with at least one usable exit;
- no player state refers to a missing object (active jobs, items held or worn, floor items);
- every npc stands in a room of the content and its definition exists;
- the world runs the ledger's active version, the ledger's chain holds, and the queue agrees with
  the ledger (a proposal shown ``active`` is on the active lineage; one whose patch was rolled
  back shows ``rolled_back``).
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from neon_harness import City
from tests.budgets import SLOW_MACHINE_TICK_MS

from ouroboros.ai.council import Council
from ouroboros.ai.proposals import ProposalType
from ouroboros.errors import OuroborosError
from ouroboros.patches import Governor, PointerFollower, State
from ouroboros.worlds.neon import actions
from ouroboros.worlds.neon.city import slots, state
from ouroboros.worlds.neon.tables import tables

NEON = {
    "world": "neon",
    "seed": 5,
    "config": {},
    "budgets": {
        "warmup_ticks": 2,
        "determinism_ticks": 2,
        "shadow_ticks": 6,
        "canary_ticks": 3,
        "tick_budget_ms": SLOW_MACHINE_TICK_MS,
    },
}
PLAYERS = ("Alice", "Bob", "Cyd")
KINDS = (ProposalType.WORLD_EXPANSION, ProposalType.BUILDING, ProposalType.QUEST, ProposalType.NPC)
DIRECTIONS = ("n", "s", "e", "w", "u", "d", "in", "out")


class VersionChanges(RuleBasedStateMachine):
    @initialize(seed=st.integers(0, 10_000))
    def open_city(self, seed: int) -> None:
        """A city with one approved expansion, Alice standing at the end of its new road."""
        self.tmp = Path(tempfile.mkdtemp(prefix="neon-stateful-"))
        self.gov = Governor(self.tmp / "neon", world_defaults=NEON, environ={})
        self.gov.new_key("op", ["*"])
        self.council = Council(self.gov.data, self.gov, world="neon")
        self.council.director.set("human_in_the_loop", True, "test")
        self.follower = PointerFollower(self.gov.data)
        self.city = City(seed=5)
        self.city.enter(*PLAYERS)
        self.snapshots: list[bytes] = [self.city.world.snapshot()]
        self.approve(ProposalType.WORLD_EXPANSION, seed)
        new = sorted(r for r in tables(self.city.world).rooms if ".gen." in r)
        if new:
            room = slots(self.city.world).slot("room", new[-1])
            self.city.world.set(self.city.player("Alice"), "Place", room=room)

    def teardown(self) -> None:
        if hasattr(self, "gov"):
            self.follower.close()
            self.council.close()
            self.gov.close()
            shutil.rmtree(self.tmp, ignore_errors=True)

    def _follow(self) -> None:
        self.follower.sync(self.city.world, force=True)
        self.city.game.step()
        self.follower.record(self.city.world, actor="test")

    # -- the operator and the council -------------------------------------------------------------------
    @rule(kind=st.sampled_from(KINDS), seed=st.integers(0, 10_000))
    def approve(self, kind: ProposalType, seed: int) -> None:
        record = self.council.propose(kind, seed)
        if record.get("state") == "queued":
            self.council.queue.approve(record["proposal_id"], "op", "looks fine")
        self._follow()

    @rule(data=st.data())
    def undo(self, data: st.DataObject) -> None:
        active = [r["proposal_id"] for r in self.council.queue.list("active")]
        if active:
            with contextlib.suppress(OuroborosError):  # nothing left to remove: refused, unchanged
                self.council.queue.undo(data.draw(st.sampled_from(active)), "op", "take it back")
        self._follow()

    @precondition(lambda self: self.gov.active() is not None)
    @rule(to_base=st.booleans())
    def rollback(self, to_base: bool) -> None:
        with contextlib.suppress(OuroborosError):  # no known-good version to go to: refused
            self.gov.rollback("op", "roll it back", to_base=to_base)
        self._follow()

    @rule()
    def snapshot(self) -> None:
        self.snapshots.append(self.city.world.snapshot())

    @precondition(lambda self: bool(self.snapshots))
    @rule(data=st.data())
    def restore(self, data: st.DataObject) -> None:
        """As ``go`` restores: the world from the snapshot, then back onto the active version."""
        world = self.city.world
        world.restore(data.draw(st.sampled_from(self.snapshots)))
        for chunk in world.query("Player"):
            chunk["Player.online"][:] = 0
        present = sorted(self.city.game._present)
        self.city.game._present.clear()
        for name in present:
            self.city.game.enter(name)
        self._follow()

    # -- the players ------------------------------------------------------------------------------------
    @rule(name=st.sampled_from(PLAYERS), direction=st.sampled_from(DIRECTIONS))
    def walk(self, name: str, direction: str) -> None:
        self.city.do(name, direction)

    @rule(name=st.sampled_from(PLAYERS), data=st.data())
    def wander_into_new_ground(self, name: str, data: st.DataObject) -> None:
        """Stand in a generated room (as if walked there: the road can be long)."""
        new = sorted(r for r in tables(self.city.world).rooms if ".gen." in r)
        if new:
            room = data.draw(st.sampled_from(new))
            self.city.world.set(
                self.city.player(name), "Place", room=slots(self.city.world).slot("room", room)
            )
        self.city.game.step()

    @rule(name=st.sampled_from(PLAYERS), data=st.data())
    def accept_a_job(self, name: str, data: st.DataObject) -> None:
        t = tables(self.city.world)
        offered = sorted(q for q, quest in t.quests.items() if not quest.get("prerequisites"))
        if offered:
            quest = t.quests[data.draw(st.sampled_from(offered))]
            giver = t.npcs.get(quest["giver"])
            if giver is not None and giver["spawn_room"] in t.rooms:
                room = slots(self.city.world).slot("room", giver["spawn_room"])
                self.city.world.set(self.city.player(name), "Place", room=room)
                self.city.do(name, f"quest accept {quest['name']}")
        self.city.game.step()

    # -- what must always hold --------------------------------------------------------------------------
    @invariant()
    def players_stand_somewhere_real_with_a_way_out(self) -> None:
        if not hasattr(self, "city"):
            return
        world, t = self.city.world, tables(self.city.world)
        neon = state(world)
        for name in PLAYERS:
            room = world.get(self.city.player(name), "Place")["room"]
            assert neon["room_ids"][room] in t.rooms, (name, neon["room_ids"][room])
            assert actions.exits_of(world, room), (name, neon["room_ids"][room])

    @invariant()
    def no_player_state_refers_to_a_missing_object(self) -> None:
        if not hasattr(self, "city"):
            return
        world, t = self.city.world, tables(self.city.world)
        neon = state(world)
        for name, journal in neon["quests"].items():
            for quest_id, entry in journal.items():
                assert entry["state"] != "active" or quest_id in t.quests, (name, quest_id)
        for chunk in world.query("Item"):
            for proto, holder, room in zip(
                chunk["Item.proto"].tolist(), chunk["Item.holder"].tolist(), chunk["Item.room"].tolist(),
                strict=True,
            ):  # fmt: skip
                item_id = neon["item_ids"][proto]
                if holder:
                    assert world.is_alive(holder)
                    assert item_id in t.items or item_id in neon["retired_items"], item_id
                else:
                    assert item_id in t.items, item_id
                    assert neon["room_ids"][room] in t.rooms, neon["room_ids"][room]
        for chunk in world.query("Npc", "Place"):
            for proto, room in zip(chunk["Npc.proto"].tolist(), chunk["Place.room"].tolist(), strict=True):
                assert neon["npc_ids"][proto] in t.npcs
                assert neon["room_ids"][room] in t.rooms

    @invariant()
    def ledger_queue_and_world_agree(self) -> None:
        if not hasattr(self, "city"):
            return
        assert self.city.world.resources["gameplay_version"] == self.gov.active()
        self.gov.ledger.verify()
        lineage: set[str] = set()
        node = self.gov.active()
        while node is not None:
            lineage.add(node)
            node = self.gov.ledger.parent_of(node)
        for record in self.council.queue.list():
            patch_id = record["patch_id"]
            if record["state"] == "active":
                assert patch_id in lineage, record
            if patch_id and self.gov.ledger.state_of(patch_id) == State.ROLLED_BACK:
                assert record["state"] == "rolled_back", record


VersionChanges.TestCase.settings = settings(
    max_examples=15,
    stateful_step_count=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_version_changes_never_break_a_session = VersionChanges.TestCase
