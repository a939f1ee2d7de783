"""The staging policy: a world expansion is always staged, a typo fix goes global; the operator's
map in the guardrails file is checked as the rollout checks a plan, and decides every type."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ouroboros.ai.proposals import ProposalType
from ouroboros.content.rules import (
    GLOBAL_PLAN,
    MAX_PLAN_STAGES,
    PROPOSAL_TYPES,
    Guardrails,
    parse_guardrails,
    plan_problem,
)
from ouroboros.errors import BadInputError
from ouroboros.rollout.plan import MAX_STAGES, parse_plan, parse_stages
from ouroboros.rollout.policy import DEFAULT_STAGED, StagingPolicy, plan_words, rewords_only

NPC = {
    "id": "npc.vex",
    "version": "1.0.0",
    "name": "Vex",
    "description": "A fixer.",
    "level": 3,
    "lines": [{"text": "Hey chum.", "next": []}],
}
EXISTING = {"npcs": {"npc.vex": NPC}}


def npc(**changes: Any) -> dict[str, Any]:
    return {**NPC, "version": "1.0.1", **changes}


def test_a_world_expansion_is_always_staged() -> None:
    plan = StagingPolicy().plan_for("WORLD_EXPANSION", {"rooms": [{"id": "room.new", "name": "Dock"}]}, {})
    assert plan is not None and plan.stages_bp == (100, 1000, 5000, 10_000)


def test_a_typo_fix_goes_global() -> None:
    fix = {"npcs": [npc(description="A fixer from the docks.", lines=[{"text": "Hey, chum.", "next": []}])]}
    assert rewords_only(fix, EXISTING)
    assert StagingPolicy().plan_for("NPC", fix, EXISTING) is None


def test_a_changed_number_a_new_field_or_a_new_object_is_staged() -> None:
    policy = StagingPolicy()
    for content in (
        {"npcs": [npc(level=4)]},
        {"npcs": [npc(lines=[{"text": "Hey chum.", "next": ["x"]}])]},
        {"npcs": [{**npc(), "faction": "docks"}]},
        {"npcs": [{**npc(), "id": "npc.new"}]},
    ):
        assert not rewords_only(content, EXISTING)
        plan = policy.plan_for("NPC", content, EXISTING, window_ticks=300)
        assert plan is not None and plan.window_ticks == 300


def test_an_unlisted_type_goes_global() -> None:
    assert StagingPolicy(staged={}).plan_for("WORLD_EXPANSION", {"npcs": [npc(level=9)]}, EXISTING) is None


@given(st.integers(0, 1000), st.text(max_size=20))
def test_any_change_to_a_number_is_staged_whatever_the_text(level: int, description: str) -> None:
    content = {"npcs": [npc(level=level, description=description)]}
    assert rewords_only(content, EXISTING) == (level == NPC["level"])


# -- the operator's map (the guardrails' ``rollout_plans``) ------------------------------------------

STAGE = st.one_of(
    st.integers(-5, 120).map(str),
    st.floats(-1, 101).map(repr),
    st.decimals(0, 100, places=2).map(str),
    st.decimals(0, 100, places=3).map(str),
    st.sampled_from(["", "nan", "inf", "1e1", "one", "100%", " 50 "]),
)
VALID_PLAN = st.lists(st.integers(1, 9_999), max_size=MAX_STAGES - 1, unique=True).map(
    lambda bps: ",".join(f"{bp / 100:g}" for bp in [*sorted(bps), 10_000])
)
PLAN_TEXT = st.one_of(
    st.lists(STAGE, min_size=1, max_size=22).map(",".join), st.text(max_size=12), VALID_PLAN
)


def accepts(text: str) -> bool:
    try:
        parse_plan(text)
    except BadInputError:
        return False
    return True


@settings(max_examples=400)
@given(PLAN_TEXT)
def test_the_guardrails_and_the_rollout_accept_the_same_plans(text: str) -> None:
    """``content.rules.plan_problem`` (which checks a guardrails file) and ``rollout.plan`` (which
    makes the plan) agree on every text: a plan the file accepts always parses."""
    if text.strip() == GLOBAL_PLAN:
        return
    assert (plan_problem(text) is None) == accepts(text), text


def test_the_guardrails_know_the_proposal_types_and_the_plan_limits() -> None:
    assert set(PROPOSAL_TYPES) == {str(t) for t in ProposalType} == set(DEFAULT_STAGED)
    assert MAX_PLAN_STAGES == MAX_STAGES


MAP = st.dictionaries(st.sampled_from(PROPOSAL_TYPES), st.one_of(VALID_PLAN, st.just(GLOBAL_PLAN)))


@settings(max_examples=60)
@given(MAP, st.sampled_from(PROPOSAL_TYPES), st.integers(0, 1000))
def test_any_map_the_guardrails_accept_decides_every_type_by_it(
    plans: dict[str, str], kind: str, level: int
) -> None:
    assert parse_guardrails({"rollout_plans": plans}).rollout_plans == plans
    policy = StagingPolicy.from_settings(plans)
    assert policy is not None
    text = {**DEFAULT_STAGED, **plans}[kind]
    change = {"npcs": [npc(level=level)]}
    staging = policy.decide(kind, change, EXISTING)
    if text == GLOBAL_PLAN:
        assert staging.plan is None and staging.why == f"global: {kind} is not staged"
    elif level == NPC["level"]:  # the same number: a rewording
        assert staging.plan is None and staging.why == "global: text only"
    else:
        assert staging.plan is not None and staging.plan.stages_bp == parse_stages(text)
        assert staging.why == f"staged {plan_words(staging.plan)}" and parse_stages(plan_words(staging.plan))
    # a text-only change is global whatever the map
    assert policy.decide(kind, {"npcs": [npc(name="Vex the Fixer")]}, EXISTING).plan is None


@given(st.dictionaries(st.text(max_size=16), PLAN_TEXT, max_size=3))
def test_a_map_the_guardrails_refuse_the_policy_refuses_too(plans: dict[str, str]) -> None:
    try:
        parse_guardrails({"rollout_plans": plans})
    except BadInputError as exc:
        assert exc.code == "bad_guardrails" and exc.message.startswith("guardrails: rollout_plans")
        with pytest.raises(BadInputError):
            StagingPolicy.from_settings(plans)
    else:
        assert StagingPolicy.from_settings(plans) is not None


def test_without_the_setting_staging_is_off() -> None:
    assert StagingPolicy.from_settings(None) is None
    assert Guardrails().rollout_plans is None
    assert StagingPolicy.from_settings({}) == StagingPolicy()
