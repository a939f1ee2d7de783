"""WORLD_EXPANSION and BUILDING: the city grows like a city and only ever gains. Over many seeds
(and over a city already grown by earlier expansions) every old exit and room stays, new rooms
sit on free ground with two-way exits and can be walked to from the spawn; a real pipeline takes
them to ``active``."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ouroboros.ai.generators import MAX_SEED, generate
from ouroboros.ai.generators._world import WorldView, reachable
from ouroboros.ai.generators.expansion import GROWTH_INVARIANTS, growth_points, map_problems
from ouroboros.ai.guardrails import Guardrails, check
from ouroboros.errors import BadInputError
from ouroboros.patches import Governor, State
from tests.ai.generators.conftest import assert_sound, submit

SEEDS = st.integers(min_value=0, max_value=MAX_SEED)
BASE = WorldView("neon", None)


def _grow(
    content: dict[str, list[dict[str, Any]]], payload: dict[str, Any]
) -> dict[str, list[dict[str, Any]]]:
    """``content`` with ``payload``'s objects laid over it (what activation does)."""
    out = {d: list(v) for d, v in content.items()}
    for domain, objects in payload.items():
        merged = {o["id"]: o for o in out.get(domain, [])}
        merged.update({o["id"]: o for o in objects})
        out[domain] = [merged[k] for k in sorted(merged)]
    return out


def _assert_only_gains(before: WorldView, proposal_payload: dict[str, Any]) -> None:
    after = {**before.by_id["rooms"], **{r["id"]: r for r in proposal_payload.get("rooms", [])}}
    for rid, room in before.by_id["rooms"].items():
        assert rid in after
        for direction, target in room.get("exits", {}).items():
            assert after[rid]["exits"][direction] == target
    assert "remove" not in proposal_payload
    spawn = before.spawn_room()
    assert spawn is not None
    assert reachable(after, spawn) >= reachable(before.by_id["rooms"], spawn) | {
        r["id"] for r in proposal_payload.get("rooms", [])
    }


@settings(max_examples=25, deadline=None)
@given(st.lists(SEEDS, min_size=1, max_size=3))
def test_expansions_never_remove_an_exit_even_on_a_grown_city(seeds: list[int]) -> None:
    content: dict[str, list[dict[str, Any]]] = {}
    for seed in seeds:
        view = WorldView("neon", content)
        proposal = generate("WORLD_EXPANSION", seed, content=content)
        assert proposal.invariants == GROWTH_INVARIANTS
        assert map_problems(view, proposal) == []
        _assert_only_gains(view, proposal.payload)
        assert_sound(proposal, content or None)
        new = [r for r in proposal.payload["rooms"] if view.get("rooms", r["id"]) is None]
        replaced = [r for r in proposal.payload["rooms"] if view.get("rooms", r["id"]) is not None]
        assert len(replaced) == 1 and replaced[0]["id"] in growth_points(view)
        assert 1 <= len(new) <= Guardrails().max_rooms_per_expansion == proposal.budget["rooms_allowed"]
        cells = {(r["coords"]["x"], r["coords"]["y"], r["coords"]["level"]) for r in view.rooms()}
        assert all((r["coords"]["x"], r["coords"]["y"], r["coords"]["level"]) not in cells for r in new)
        content = _grow(content, proposal.payload)


def test_a_named_growth_point_is_grown_from_and_a_bad_one_refused() -> None:
    proposal = generate("WORLD_EXPANSION", 3, context={"growth_point": "neon.room.st_00_05"})
    [old] = [r for r in proposal.payload["rooms"] if r["id"] == "neon.room.st_00_05"]
    assert old["exits"]["w"].startswith("neon.gen.room.")  # the city's west edge grows west
    assert old["version"] == "1.0.1"
    with pytest.raises(BadInputError):
        generate("WORLD_EXPANSION", 3, context={"growth_point": "neon.room.st_10_10"})  # no free side
    with pytest.raises(BadInputError):
        generate("WORLD_EXPANSION", 3, context={"growth_point": "neon.room.nowhere"})


def test_the_room_throttle_bounds_an_expansion() -> None:
    for seed in range(20):
        proposal = generate("WORLD_EXPANSION", seed, guardrails=Guardrails(max_rooms_per_expansion=2))
        assert proposal.budget["rooms"] <= 2
        assert check(proposal, Guardrails(max_rooms_per_expansion=2)) == []


@settings(max_examples=25, deadline=None)
@given(
    SEEDS,
    st.sampled_from([{}, {"faction": "neon.faction.chrome_jackals"}, {"district": "neon.district.spire"}]),
)
def test_a_building_is_entered_from_a_street_and_keeps_the_map(seed: int, context: dict[str, str]) -> None:
    proposal = generate("BUILDING", seed, context=context)
    assert map_problems(BASE, proposal) == []
    _assert_only_gains(BASE, proposal.payload)
    rooms = proposal.payload["rooms"]
    [street] = [r for r in rooms if BASE.get("rooms", r["id"]) is not None]
    entrance = next(r for r in rooms if r["id"] == street["exits"]["in"])
    assert entrance["exits"]["out"] == street["id"]
    if "faction" in context:
        assert proposal.tags == ["building", "hq"]
        assert {n["faction"] for n in proposal.payload["npcs"]} == {context["faction"]}
        assert entrance["extensions"]["neon.hq"] == context["faction"]  # the signals read this
    if "district" in context:
        assert street["district"] == context["district"]
    assert_sound(proposal, None, context)


def test_growth_and_buildings_go_active(neon_gov: Governor) -> None:
    for kind, context in (("WORLD_EXPANSION", {}), ("BUILDING", {"faction": "neon.faction.fixers"})):
        proposal = generate(kind, 21, content=neon_gov.active_content(), context=context)
        verdict = submit(neon_gov, proposal)
        assert verdict.state == State.ACTIVE, [r.as_dict() for r in verdict.reasons]
    # the next expansion grows from the city as it now is
    grown = generate("WORLD_EXPANSION", 21, content=neon_gov.active_content())
    assert map_problems(WorldView("neon", neon_gov.active_content()), grown) == []
    assert submit(neon_gov, grown).state == State.ACTIVE
    rooms = {r["id"] for r in neon_gov.reference_world().meta["neon_content"]["rooms"]}
    assert {r["id"] for r in grown.payload["rooms"]} <= rooms
