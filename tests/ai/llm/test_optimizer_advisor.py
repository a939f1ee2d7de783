"""The optimizer's advisors (decision support only): the offline one is deterministic and ranks
by measured speed-up and spread; the model one asks the role's model through the registry and
its response cache, and checks every item of the answer, dropping what it may not say."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ouroboros.ai.llm import LlmError, LlmRequest, LlmResponse, ModelRegistry, ResponseCache, RoleAssignment
from ouroboros.ai.optimizer_advisor import ADVICE_SCHEMA, ModelAdvisor, OfflineAdvisor, parse_advice
from ouroboros.engine.optimizer import CandidateFigures, ProfileSummary

from .conftest import Reply, Scripted, ollama_envelope


def _fig(
    cid: str,
    current: float = 4.0,
    expected: float | None = 1.0,
    spread: float | None = None,
    past: Mapping[str, int] | None = None,
) -> CandidateFigures:
    system, _, variant = cid.partition("=")
    return CandidateFigures(
        id=cid,
        system=system,
        variant=variant,
        kind="numpy",
        size=1_000,
        current_ms=current,
        expected_ms=expected,
        cost_ms=current,
        spread=spread,
        past=dict(past or {}),
        why="rule",
        chosen=True,
    )


def _summary(*figures: CandidateFigures) -> ProfileSummary:
    return ProfileSummary(tick=40, tick_ms=9.0, systems={"eat": 4.0, "collide": 3.0}, candidates=figures)


# -- the offline advisor ---------------------------------------------------------------------------
def test_offline_ranks_measured_speed_ups_first_discounted_by_their_spread() -> None:
    steady = _fig("eat=numpy", current=4.0, expected=2.0, spread=0.01)  # 2× and steady
    noisy = _fig("collide=numba", current=4.0, expected=1.6, spread=0.9)  # 2.5× but all over the place
    unmeasured = _fig("eat=numba", current=4.0, expected=None)
    advice = OfflineAdvisor()(_summary(unmeasured, noisy, steady))
    assert advice.ranking == ("eat=numpy", "collide=numba", "eat=numba")
    assert (
        advice.risks["eat=numpy"].risk < advice.risks["eat=numba"].risk < advice.risks["collide=numba"].risk
    )
    assert advice.risks["eat=numba"].reason == "unmeasured at 1000 entities"
    assert advice.advisor == "offline"


def test_offline_risk_grows_with_failed_parity_and_aborted_guards() -> None:
    clean = _fig("eat=numba")
    failed = _fig("collide=numba", past={"guard_failed": 1, "keep": 1})
    aborted = _fig("eat=python", past={"abort": 2, "keep": 2})
    risks = OfflineAdvisor()(_summary(clean, failed, aborted)).risks
    assert risks["eat=numba"].risk < risks["eat=python"].risk < risks["collide=numba"].risk
    assert "failed parity 1 times" in risks["collide=numba"].reason
    assert "aborted 2 of 4 guards" in risks["eat=python"].reason


figures = st.builds(
    _fig,
    st.sampled_from(["eat=numpy", "eat=numba", "collide=numba", "collide=python", "layout=aos"]),
    st.floats(0.001, 100),
    st.none() | st.floats(0.0, 100),
    st.none() | st.floats(0, 5),
    st.dictionaries(st.sampled_from(["switch", "keep", "abort", "guard_failed"]), st.integers(0, 50)),
)


@given(st.lists(figures, max_size=6, unique_by=lambda f: f.id))
def test_offline_advice_is_a_permutation_with_risks_in_range_and_deterministic(found: list[Any]) -> None:
    summary = _summary(*found)
    advice = OfflineAdvisor()(summary)
    assert sorted(advice.ranking) == sorted(summary.ids) and set(advice.risks) == set(summary.ids)
    assert all(0 <= r.risk <= 1 and r.reason and "\n" not in r.reason for r in advice.risks.values())
    assert advice == OfflineAdvisor()(summary) and advice.checked(summary.ids) == advice


# -- a model's answer, checked item by item --------------------------------------------------------
SUMMARY = _summary(_fig("eat=numpy"), _fig("collide=numba", expected=None))


def test_unknown_ids_and_risks_outside_the_range_are_ignored_with_the_reason() -> None:
    answer = {
        "ranking": ["collide=numba", "eat=warp", "collide=numba", "eat=numpy"],
        "risks": [
            {"id": "eat=numpy", "risk_percent": 150, "reason": "sure"},
            {"id": "collide=numba", "risk_percent": 30, "reason": "jit\n  warm-up"},
            {"id": "rm -rf", "risk_percent": 10, "reason": "x"},
            {"id": "collide=numba", "risk_percent": 5, "reason": "again"},
        ],
    }
    advice = parse_advice(answer, SUMMARY, "fake/m")
    assert advice.ranking == ("collide=numba", "eat=numpy")
    assert {k: (r.risk, r.reason) for k, r in advice.risks.items()} == {"collide=numba": (0.3, "jit warm-up")}
    assert advice.ignored == (
        "ranking: unknown candidate 'eat=warp'",
        "ranking: collide=numba named twice",
        "risk of eat=numpy: 150 percent is outside 0..100",
        "risk: unknown candidate 'rm -rf'",
        "risk: collide=numba named twice",
    )


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-1000, 1000) | st.floats(allow_nan=True) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
answers = st.fixed_dictionaries(
    {
        "ranking": st.lists(st.sampled_from([*SUMMARY.ids, "x=y", ""]) | json_values, max_size=6),
        "risks": st.lists(
            st.fixed_dictionaries(
                {
                    "id": st.sampled_from([*SUMMARY.ids, "nope"]) | json_values,
                    "risk_percent": st.integers(-50, 150) | json_values,
                    "reason": json_values,
                }
            )
            | json_values,
            max_size=6,
        ),
    }
)


@settings(max_examples=200)
@given(answers | json_values)
def test_any_answer_gives_advice_about_known_candidates_only_and_never_raises(data: Any) -> None:
    advice = parse_advice(data, SUMMARY, "fake/m")
    assert set(advice.ranking) <= set(SUMMARY.ids) and len(set(advice.ranking)) == len(advice.ranking)
    assert set(advice.risks) <= set(SUMMARY.ids) and all(0 <= r.risk <= 1 for r in advice.risks.values())
    if isinstance(data, dict) and isinstance(data.get("ranking"), list):
        kept_or_said = len(advice.ranking) + sum(i.startswith("ranking:") for i in advice.ignored)
        assert kept_or_said == len(data["ranking"])  # every id either kept or dropped with a reason


# -- the model advisor through the registry --------------------------------------------------------
class FakeProvider:
    """A ``Provider``: answers each request with the next scripted data, and records it."""

    name = "fake"

    def __init__(self, answers: list[Any]) -> None:
        self.answers = answers
        self.requests: list[LlmRequest] = []

    def complete(self, request: LlmRequest) -> LlmResponse:
        self.requests.append(request)
        data = self.answers.pop(0)
        return LlmResponse(json.dumps(data), data, self.name, request.model, 40, 20, 5)


def _registry(provider: FakeProvider) -> ModelRegistry:
    class WithFake(ModelRegistry):
        @staticmethod
        def _build(a: RoleAssignment, api_key: str | None, options: dict[str, Any]) -> Any:
            return provider

    return WithFake({"narrative": RoleAssignment("narrative", "ollama", "tiny", "http://127.0.0.1:9")})


def test_the_model_advisor_asks_the_role_with_the_schema_and_checks_the_answer() -> None:
    provider = FakeProvider(
        [
            {
                "ranking": ["eat=numpy", "eat=warp"],
                "risks": [{"id": "eat=numpy", "risk_percent": 20, "reason": "a numpy port"}],
            }
        ]
    )
    registry = _registry(provider)
    advice = ModelAdvisor(registry)(SUMMARY)
    (request,) = provider.requests
    assert request.role == "narrative" and request.schema == ADVICE_SCHEMA and request.model == "tiny"
    assert "eat=numpy, collide=numba" in request.prompt and '"tick_ms": 9.0' in request.prompt
    assert advice.advisor == "ollama/tiny" and advice.ranking == ("eat=numpy",)
    assert advice.risks["eat=numpy"].risk == 0.2 and advice.ignored == (
        "ranking: unknown candidate 'eat=warp'",
    )
    (stats,) = registry.stats()
    assert (stats["role"], stats["model"], stats["calls"], stats["failures"]) == ("narrative", "tiny", 1, 0)


def test_an_answer_outside_the_schema_is_an_error_the_optimizer_logs_as_failed() -> None:
    registry = _registry(FakeProvider([{"ranking": "eat=numpy"}]))
    with pytest.raises(LlmError) as caught:
        ModelAdvisor(registry)(SUMMARY)
    assert caught.value.code == "schema_mismatch"
    assert registry.stats()[0]["failures"] == 1


def test_while_no_model_serves_the_role_the_advice_is_offline() -> None:
    assert ModelAdvisor(ModelRegistry())(SUMMARY) == OfflineAdvisor()(SUMMARY)


def test_through_a_real_http_server_and_the_shared_cache_an_equal_question_is_asked_once(
    server: tuple[str, Scripted],
) -> None:
    url, script = server
    answer = {
        "ranking": ["collide=numba"],
        "risks": [{"id": "collide=numba", "risk_percent": 40, "reason": "jit"}],
    }
    script.default = Reply(ollama_envelope(json.dumps(answer)))
    registry = ModelRegistry(
        {"narrative": RoleAssignment("narrative", "ollama", "llama3.2", url)}, cache=ResponseCache()
    )
    advisor = ModelAdvisor(registry, timeout_s=30)
    jittered = _summary(_fig("eat=numpy", current=4.01, expected=1.004), _fig("collide=numba", 3.996, None))
    first, second = advisor(SUMMARY), advisor(jittered)  # figures that only jitter: the same question
    assert (
        first == second and first.ranking == ("collide=numba",) and first.risks["collide=numba"].risk == 0.4
    )
    assert len(script.requests) == 1  # the second answer came from the response cache
    path, body, _ = script.requests[0]
    assert path == "/api/chat" and body["format"] == ADVICE_SCHEMA
    registry.close()


@pytest.mark.slow
def test_the_real_local_model_advises_and_what_it_says_is_checked(local_llm: Any) -> None:
    from tests.conftest import LOCAL_MODEL_REQUEST_TIMEOUT_S

    registry = ModelRegistry(
        {"narrative": RoleAssignment("narrative", "ollama", local_llm.model_name, local_llm.base_url)}
    )
    try:
        advice = ModelAdvisor(registry, timeout_s=LOCAL_MODEL_REQUEST_TIMEOUT_S)(SUMMARY)
    except LlmError as exc:  # a 135M model may cut its JSON short: a clean refusal, logged as failed
        assert exc.code in ("bad_json", "schema_mismatch", "timeout")
    else:
        assert advice.advisor == f"ollama/{local_llm.model_name}"
        assert set(advice.ranking) <= set(SUMMARY.ids) and set(advice.risks) <= set(SUMMARY.ids)
        assert all(0 <= r.risk <= 1 for r in advice.risks.values())
    finally:
        registry.close()
