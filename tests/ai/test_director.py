"""The director: each rule fires on its trigger and not otherwise; sliders, toggles, throttles,
pause and emergency stop change what it decides; every decision (and suppression) is stored with
its why and survives a reopen; replays decide the same."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ouroboros.ai.director import Director, Job, growth_threshold
from ouroboros.ai.proposals import ProposalType
from ouroboros.ai.store import AiStore
from ouroboros.errors import BadInputError, PatchError
from ouroboros.worlds import build_world

EDGE = {"kind": "player_at_edge", "player": "alice", "growth_point": "neon.room.st_00_00", "tags": []}
GLITCH = {**EDGE, "growth_point": "neon.room.st_00_09", "tags": ["glitch_door"]}
BOSS = {"kind": "boss_killed", "boss": "neon.npc.boss_drain_king", "faction": "neon.faction.drain_rats"}
QUESTS = {"kind": "quests_exhausted", "district": "neon.district.kabuki", "done": 3, "total": 3}
CROWD = {"kind": "crowded_sector", "sector": "neon.zone.night_market", "players": 9}
HQ = {"kind": "faction_without_hq", "faction": "neon.faction.chrome_jackals", "members": 4}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[AiStore]:
    s = AiStore(tmp_path / "ai.sqlite3")
    yield s
    s.close()


def quiet(store: AiStore, **settings_: Any) -> Director:
    """A director with chaos off (so only the rule under test speaks)."""
    d = Director(store, world_seed=11, tick_hz=50)
    d.set("chaos", 0, "test")
    for name, value in settings_.items():
        d.set(name, value, "test")
    return d


def one(jobs: list[Job]) -> Job:
    assert len(jobs) == 1, jobs
    return jobs[0]


# -- each rule fires on its trigger ---------------------------------------------------------------
def test_a_player_at_a_growth_point_grows_the_world_there(store: AiStore) -> None:
    d = quiet(store, expansion=100)
    job = one(d.observe(None, [EDGE], {}, 10))
    assert job.type == ProposalType.WORLD_EXPANSION
    assert job.context["growth_point"] == "neon.room.st_00_00"
    assert job.rule == "edge"


def test_a_boss_kill_makes_a_power_vacuum_event(store: AiStore) -> None:
    job = one(quiet(store).observe(None, [BOSS], {}, 10))
    assert (job.type, job.context["event"], job.context["boss"]) == (
        ProposalType.EVENT,
        "power_vacuum",
        "neon.npc.boss_drain_king",
    )


def test_inflation_over_five_percent_brings_a_money_sink_merchant(store: AiStore) -> None:
    d = quiet(store)
    assert d.observe(None, [], {"inflation_permille": 50}, 10) == []  # exactly 5 %: not over
    job = one(d.observe(None, [], {"inflation_permille": 51}, 11))
    assert (job.type, job.context["event"]) == (ProposalType.EVENT, "money_sink")


def test_exhausted_quests_make_a_dungeon_or_a_quest(store: AiStore) -> None:
    d = quiet(store, expansion=60)
    job = one(d.observe(None, [QUESTS], {}, 10))
    assert job.type == ProposalType.WORLD_EXPANSION and "dungeon" in job.context["tags"]
    # one expansion is under way now: the next exhausted district gets a quest instead
    job = one(d.observe(None, [{**QUESTS, "district": "neon.district.harbor"}], {}, 11))
    assert job.type == ProposalType.QUEST and job.context["district"] == "neon.district.harbor"


def test_low_expansion_makes_quests_not_dungeons(store: AiStore) -> None:
    job = one(quiet(store, expansion=30).observe(None, [QUESTS], {}, 10))
    assert job.type == ProposalType.QUEST


def test_a_crowded_sector_gets_housing_and_a_faction_gets_a_headquarters(store: AiStore) -> None:
    jobs = quiet(store).observe(None, [CROWD, HQ], {}, 10)
    assert [(j.type, j.context["purpose"]) for j in jobs] == [
        (ProposalType.BUILDING, "residential"),
        (ProposalType.BUILDING, "hq"),
    ]
    assert jobs[1].context["faction"] == "neon.faction.chrome_jackals"


def test_nothing_happens_without_a_trigger(store: AiStore) -> None:
    d = quiet(store)
    assert d.observe(None, [], {"inflation_permille": 10, "online_players": 3}, 10) == []
    assert d.observe(None, [{"kind": "something_else"}], {}, 11) == []
    assert d.decisions(10) == []


# -- sliders and toggles --------------------------------------------------------------------------
def test_the_expansion_slider_scales_the_growth_threshold(store: AiStore) -> None:
    assert growth_threshold(100) == 1 and growth_threshold(50) == 3 and growth_threshold(1) == 5
    d = quiet(store, expansion=50)
    assert d.observe(None, [EDGE], {}, 1) == []
    assert d.observe(None, [EDGE], {}, 2) == []
    assert one(d.observe(None, [EDGE], {}, 3)).type == ProposalType.WORLD_EXPANSION
    why = d.decisions(3)[1]["why"]
    assert why["suppressed_by"] == "growth threshold: 2 of 3 visits"


def test_expansion_zero_never_expands(store: AiStore) -> None:
    d = quiet(store, expansion=0)
    assert all(d.observe(None, [EDGE], {}, t) == [] for t in range(10))
    assert d.decisions(1)[0]["why"]["suppressed_by"] == "expansion slider at 0"


def test_glitch_doors_only_expands_only_at_glitch_doors(store: AiStore) -> None:
    d = quiet(store, expansion=100, glitch_doors_only=True)
    assert d.observe(None, [EDGE], {}, 1) == []
    assert "glitch_doors_only" in d.decisions(1)[0]["why"]["suppressed_by"]
    assert one(d.observe(None, [GLITCH], {}, 2)).context["growth_point"] == "neon.room.st_00_09"


def test_low_aggression_keeps_the_peace_after_a_boss_dies(store: AiStore) -> None:
    d = quiet(store, aggression=10)
    assert d.observe(None, [BOSS], {}, 1) == []
    assert d.decisions(1)[0]["why"]["suppressed_by"] == "aggression 10 below 20"
    d.set("aggression", 90, "test")
    assert one(d.observe(None, [BOSS], {}, 2)).context["intensity"] == 90


def test_human_in_the_loop_marks_jobs_for_the_queue(store: AiStore) -> None:
    d = quiet(store, human_in_the_loop=True)
    assert one(d.observe(None, [HQ], {}, 1)).queue is True
    d.set("human_in_the_loop", False, "test")
    assert one(d.observe(None, [CROWD], {}, 2)).queue is False


def test_chaos_strikes_only_where_a_premise_holds_never_twice_alike_and_replays(tmp_path: Path) -> None:
    facts = {
        "bosses_down": ["neon.npc.boss_a", "neon.npc.boss_b"],
        "inflation_permille": 80,
        "money_supply": 9,
    }

    def run(name: str, chaos: int, kpis: dict[str, Any]) -> list[tuple[int, int, str, str | None]]:
        with AiStore(tmp_path / name) as s:
            d = Director(s, world_seed=5)
            d.set("chaos", chaos, "test")
            d.set("jobs_per_minute", 600, "test")
            return [
                (j.tick, j.seed, j.context["event"], j.context.get("boss"))
                for t in range(300)
                for j in d.observe(None, [], kpis, t)
            ]

    loud = run("a.sqlite3", 100, facts)
    # each premise that holds, once: two vacuums (one a boss) and a money sink, then nothing alike
    assert sorted((e, b) for _, _, e, b in loud) == [
        ("money_sink", None), ("power_vacuum", "neon.npc.boss_a"), ("power_vacuum", "neon.npc.boss_b")
    ]  # fmt: skip
    assert loud == run("b.sqlite3", 100, facts)  # a replay decides the same
    assert [e for _, _, e, _ in run("c.sqlite3", 0, facts)] == ["money_sink"]  # the inflation rule, once
    # nobody down, prices steady: chaos finds no premise and says so
    with AiStore(tmp_path / "d.sqlite3") as s:
        d = Director(s, world_seed=5)
        d.set("chaos", 100, "test")
        calm = {"bosses_down": [], "inflation_permille": 10, "money_supply": 9}
        assert [j for t in range(100) for j in d.observe(None, [], calm, t)] == []
        why = [x["why"] for x in d.decisions(50) if x["rule"] == "chaos"]
        assert why and why[0]["suppressed_by"].startswith("premise: no event's premise holds")


def test_a_money_sink_needs_money_and_a_vacuum_needs_a_boss_who_is_down(store: AiStore) -> None:
    d = quiet(store)
    assert d.observe(None, [], {"inflation_permille": 80, "money_supply": 0}, 10) == []
    (row,) = [x for x in d.decisions(5) if x["rule"] == "inflation"]
    assert row["why"]["suppressed_by"] == "premise: no money in circulation to sink"
    assert d.observe(None, [], {"bosses_down": []}, 11) == []  # nobody down: no vacuum from chaos
    job = one(d.observe(None, [BOSS], {}, 13))  # reported killed: a vacuum, with the facts it rests on
    assert job.context["boss"] == BOSS["boss"]
    (row,) = [x for x in d.decisions(5) if x["rule"] == "boss"]
    assert row["why"]["facts"]["bosses_down"] == [BOSS["boss"]]
    # killed again soon after: the same vacuum is not proposed twice
    assert d.observe(None, [BOSS], {}, 14) == []
    assert d.decisions(1)[0]["why"]["suppressed_by"].startswith("varied: a power_vacuum for ")


def test_seeds_depend_on_the_world_seed_and_tick(tmp_path: Path) -> None:
    seeds = []
    for i, world_seed in enumerate((1, 1, 2)):
        with AiStore(tmp_path / f"{i}.sqlite3") as s:
            d = Director(s, world_seed=world_seed)
            d.set("chaos", 0, "t")
            seeds.append(one(d.observe(None, [HQ], {}, 7)).seed)
    assert seeds[0] == seeds[1] != seeds[2]
    assert all(0 <= s < 2**53 for s in seeds)  # canonical JSON carries them exactly


# -- throttles, pause, stop -----------------------------------------------------------------------
def test_jobs_per_minute_counts_ticks(store: AiStore) -> None:
    d = quiet(store, jobs_per_minute=2)
    events = [{**HQ, "faction": f"neon.faction.f{i}"} for i in range(4)]
    assert len(d.observe(None, events, {}, 100)) == 2
    assert "throttle: 2 jobs" in d.decisions(1)[0]["why"]["suppressed_by"]
    assert d.observe(None, events[2:], {}, 100 + 60 * 50 - 1) == []  # still inside the minute
    assert len(d.observe(None, events[2:], {}, 100 + 60 * 50)) == 2  # a minute later


def test_one_expansion_at_a_time(store: AiStore) -> None:
    d = quiet(store, expansion=100)
    first = one(d.observe(None, [EDGE], {}, 1))
    assert d.observe(None, [GLITCH], {}, 2) == []
    assert "one expansion at a time" in d.decisions(1)[0]["why"]["suppressed_by"]
    d.job_done(first.job_id)
    assert one(d.observe(None, [GLITCH], {}, 3)).type == ProposalType.WORLD_EXPANSION


def test_pause_suppresses_with_a_why_and_resume_restores(store: AiStore) -> None:
    d = quiet(store)
    d.pause("alice", "maintenance")
    assert d.observe(None, [HQ], {}, 1) == []
    row = d.decisions(1)[0]
    assert (row["outcome"], row["why"]["suppressed_by"], row["rule"]) == ("suppressed", "paused", "hq")
    d.resume("alice", "done")
    assert one(d.observe(None, [HQ], {}, 2)).rule == "hq"


def test_emergency_stop_emits_nothing_until_an_operator_resumes(store: AiStore) -> None:
    d = quiet(store, chaos=100)
    d.emergency_stop("bob", "runaway growth")
    assert all(d.observe(None, [HQ, CROWD, BOSS], {"inflation_permille": 500}, t) == [] for t in range(50))
    with pytest.raises(PatchError, match="only resume"):  # a refusal, not bad input
        d.pause("bob", "pause is not a way out")
    with pytest.raises(BadInputError):
        d.resume("", "no actor")
    assert d.status()["mode"] == "stopped"
    d.resume("bob", "fixed")
    assert d.observe(None, [HQ], {}, 60)
    actions = [a["action"] for a in store.audit_log(10)]
    assert actions[:3] == ["director.resume", "director.stop", "director.set"]


# -- persistence ----------------------------------------------------------------------------------
def test_settings_and_decisions_survive_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "ai.sqlite3"
    with AiStore(path) as s:
        d = quiet(s, expansion=100, aggression=77)
        d.pause("carol", "lunch")
        d.observe(None, [BOSS], {}, 5)
        d.resume("carol", "back")
        job = one(d.observe(None, [EDGE], {}, 6))
    with AiStore(path) as s:
        d = Director(s, world_seed=11)
        status = d.status()
        assert status["sliders"] == {"chaos": 0, "aggression": 77, "expansion": 100}
        assert status["mode"] == "running" and status["open_expansions"] == 1
        rows = d.decisions(10)
        assert (
            rows[0]["job_id"] == job.job_id
            and rows[0]["why"]["event"]["growth_point"] == EDGE["growth_point"]
        )
        assert rows[1]["why"]["suppressed_by"] == "paused" and rows[1]["why"]["aggression"] == 77
        d.emergency_stop("carol", "stop")
    with AiStore(path) as s:
        assert Director(s).observe(None, [HQ], {}, 7) == []


def test_set_rejects_unknown_names_and_wrong_kinds(store: AiStore) -> None:
    d = quiet(store)
    for name, value in [("chaos", True), ("chaos", "5"), ("loudness", 5), ("human_in_the_loop", 1)]:
        with pytest.raises(BadInputError):
            d.set(name, value, "test")
    with pytest.raises(BadInputError):
        d.set("chaos", 5, "  ")


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(name=st.sampled_from(["chaos", "aggression", "expansion"]), value=st.integers())
def test_set_accepts_exactly_zero_to_a_hundred(tmp_path: Path, name: str, value: int) -> None:
    with AiStore(tmp_path / "h.sqlite3") as s:
        d = Director(s)
        before = d.get(name)
        if 0 <= value <= 100:
            assert d.set(name, value, "prop")["sliders"][name] == value
        else:
            with pytest.raises(BadInputError):
                d.set(name, value, "prop")
            assert d.get(name) == before


EVENTS = st.sampled_from([EDGE, GLITCH, BOSS, QUESTS, CROWD, HQ, {"kind": "noise"}])


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(
    limit=st.integers(0, 5),
    chaos=st.integers(0, 100),
    steps=st.lists(
        st.tuples(st.integers(1, 1500), st.lists(EVENTS, max_size=4), st.integers(0, 200)), max_size=25
    ),
)
def test_no_sequence_of_observations_beats_the_throttle(
    tmp_path: Path, limit: int, chaos: int, steps: list[tuple[int, list[dict[str, Any]], int]]
) -> None:
    path = tmp_path / "t.sqlite3"
    path.unlink(missing_ok=True)
    with AiStore(path) as s:
        d = Director(s, world_seed=3, tick_hz=50)
        d.set("jobs_per_minute", limit, "prop")
        d.set("chaos", chaos, "prop")
        d.set("expansion", 100, "prop")
        tick, emitted, expansions = 0, [], 0
        for gap, events, inflation in steps:
            tick += gap
            for job in d.observe(None, events, {"inflation_permille": inflation}, tick):
                emitted.append(job.tick)
                expansions += job.type == ProposalType.WORLD_EXPANSION
        window = 60 * 50
        for t in emitted:
            assert sum(1 for u in emitted if t - window < u <= t) <= limit
        assert expansions <= 1  # none finished, so never a second one


# -- the store ------------------------------------------------------------------------------------
def test_the_store_refuses_a_newer_schema_and_rolls_back_failed_writes(tmp_path: Path) -> None:
    import sqlite3

    from ouroboros.ai.store import SCHEMA_VERSION
    from ouroboros.errors import AiStoreError

    path = tmp_path / "ai.sqlite3"
    with AiStore(path) as s:
        with pytest.raises(RuntimeError), s.transaction():
            s.record_decision(1, "hq", "job", {"n": 1}, "job-1", "BUILDING")
            raise RuntimeError("crash mid-write")
        assert s.decisions(5) == []  # all or nothing
        s.record_decision(2, "hq", "job", {"n": 2}, "job-2", "BUILDING")
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(AiStoreError):
        AiStore(path)
    with pytest.raises(BadInputError):
        AiStore(tmp_path / "missing" / "ai.sqlite3")


def test_a_stop_from_another_process_reaches_a_running_director(tmp_path: Path) -> None:
    path = tmp_path / "ai.sqlite3"
    with AiStore(path) as server_store, AiStore(path) as cli_store:
        running = Director(server_store, world_seed=1)
        running.set("chaos", 0, "t")
        assert running.observe(None, [HQ], {}, 1)
        Director(cli_store).emergency_stop("ops", "from the command line")
        assert running.observe(None, [CROWD], {}, 2) == [] and running.stopped
        Director(cli_store).resume("ops", "ok")
        Director(cli_store).set("aggression", 5, "ops")
        assert running.observe(None, [BOSS], {}, 3) == []  # the new aggression holds here too
        assert running.status()["sliders"]["aggression"] == 5


def test_a_version_1_store_is_migrated_and_keeps_its_rows(tmp_path: Path) -> None:
    """A file from before the enrich report and rebase base were stored opens, gains both columns
    and keeps what it held."""
    import sqlite3

    from ouroboros.ai.store import _SCHEMA, SCHEMA_VERSION

    path = tmp_path / "ai.sqlite3"
    db = sqlite3.connect(path)
    v1 = _SCHEMA.replace(",\n    enrich TEXT,\n    base TEXT\n", "\n")
    assert "enrich" not in v1
    db.executescript(v1)
    db.execute(
        "INSERT INTO proposals (proposal_id, type, seed, state, generated, created_seq)"
        " VALUES ('prop-old', 'ITEM', 1, 'queued', '{\"payload\": {}}', 1)"
    )
    db.execute("PRAGMA user_version=1")
    db.commit()
    db.close()
    with AiStore(path) as s:
        old = s.proposal("prop-old")
        assert old is not None and old["state"] == "queued" and old["enrich"] is None
        s.update_proposal("prop-old", enrich={"fallback": True, "reason": "timeout"})
        assert (s.proposal("prop-old") or {})["enrich"] == {"fallback": True, "reason": "timeout"}
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
    db.close()


def test_the_difficulty_adjuster_proposes_an_easier_job_or_a_tougher_npc(store: AiStore) -> None:
    from ouroboros.ai.generators import generate
    from ouroboros.worlds.neon import tables as tb

    d = quiet(store)
    district = "neon.district.kabuki"
    struggling = {"kind": "player_struggling", "player": "Alice", "district": district, "level": 2}
    job = one(d.observe(None, [struggling], {}, 10))
    assert job.type == ProposalType.QUEST and job.context["max_level"] == 3
    npcs = tb.tables(build_world("neon", 0)).npcs
    for seed in range(8):  # whatever the draw, no kill target is above the cap
        quest = generate(ProposalType.QUEST, seed, context={"district": district, "max_level": 3})
        for q in quest.payload["quests"]:
            for o in q["objectives"]:
                if o["kind"] == "kill":
                    assert int(npcs.get(o["target"], {"level": 0})["level"]) <= 3
    cruising = {"kind": "player_cruising", "player": "Bob", "district": district, "level": 7}
    job = one(d.observe(None, [cruising], {}, 11))
    assert job.type == ProposalType.NPC and job.context == {**job.context, "archetype": "ganger", "level": 9}
    npc = generate(
        ProposalType.NPC, job.seed, context={"archetype": "ganger", "district": district, "level": 9}
    )
    assert [n["level"] for n in npc.payload["npcs"]] == [9]


def test_feedback_is_noted_in_the_decision_log_and_makes_no_job(store: AiStore) -> None:
    d = quiet(store)
    note = {"kind": "feedback", "player": "Alice", "category": "balance", "sentiment": -50, "district": None}
    assert d.observe(None, [note], {}, 5) == []
    (decision,) = [x for x in d.decisions(10) if x["rule"] == "feedback"]
    assert decision["outcome"] == "noted" and decision["why"]["event"]["category"] == "balance"
