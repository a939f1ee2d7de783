"""A real model in the loop: ``ouroboros llm serve`` (SmolLM2-135M on node-llama-cpp, one thread)
answers through both protocols the project speaks, and everything it writes still goes through
our checks. The model is weak and its text varies: these tests assert structure and validation,
never prose. The session fixture ``local_llm`` (tests/conftest.py) starts the server once."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ouroboros.ai.llm import LlmRequest, OllamaProvider, OpenAICompatProvider, validate
from ouroboros.ai.llm.enrich import enrich, text_problem
from ouroboros.ai.llm.ensemble import Ensemble, storyteller_voters
from ouroboros.content import parse_content
from ouroboros.errors import LlmError
from tests.conftest import LOCAL_MODEL_REQUEST_TIMEOUT_S

from .test_enrich import _leaves, _proposal

pytestmark = pytest.mark.slow

PROTOCOLS = [OllamaProvider, OpenAICompatProvider]


def _provider(cls: type, server: Any) -> Any:
    return cls(server.base_url, server.model_name, max_attempts=1)


def test_the_server_is_healthy_on_one_thread_and_lists_its_model(local_llm: Any) -> None:
    health = local_llm.health()
    assert health["status"] == "ok" and health["threads"] == 1
    assert health["model"] == "SmolLM2-135M-Instruct.Q4_1"
    tags = httpx.get(local_llm.base_url + "/api/tags", timeout=10).json()
    models = httpx.get(local_llm.base_url + "/v1/models", timeout=10).json()
    assert [m["name"] for m in tags["models"]] == [health["model"]]
    assert [m["id"] for m in models["data"]] == [health["model"]]


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/api/chat", b"{not json", 400),
        ("/api/chat", b'{"messages": []}', 400),
        ("/v1/chat/completions", b'{"messages": [{"role": "user", "content": 3}]}', 400),
        ("/v1/chat/completions", b'{"messages": [{"role": "user", "content": "hi"}], "stream": true}', 400),
        (
            "/v1/chat/completions",
            b'{"messages": [{"role": "user", "content": "hi"}], "response_format": {"type": "xml"}}',
            400,
        ),
        (
            "/api/chat",
            b'{"messages": [{"role": "user", "content": "hi"}], "options": {"num_predict": -1}}',
            400,
        ),
        ("/api/generate", b"{}", 404),
        ("/api/chat", b'{"messages": "' + b"x" * (1024 * 1024 + 10) + b'"}', 413),
    ],
)
def test_bad_requests_are_4xx_with_one_error_never_a_crash(
    local_llm: Any, path: str, body: bytes, status: int
) -> None:
    try:
        response = httpx.post(local_llm.base_url + path, content=body, timeout=30)
    except httpx.TransportError:  # a body past the limit may be cut off before the answer is read
        assert status == 413
    else:
        assert response.status_code == status
        assert isinstance(response.json()["error"], str)
    assert local_llm.health()["status"] == "ok"


@pytest.mark.parametrize("protocol", PROTOCOLS, ids=["ollama", "openai"])
def test_both_protocols_answer_json_that_fits_the_schema(local_llm: Any, protocol: type) -> None:
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 3, "maxLength": 40},
            "kind": {"type": "string", "enum": ["weapon", "armor", "implant"]},
        },
        "required": ["kind", "name"],
        "additionalProperties": False,
    }
    request = LlmRequest(
        "flavour",
        "You name things in a rainy cyberpunk city. Answer with JSON.",
        "Name a neon carbine and say what kind of thing it is.",
        schema,
        "",
        max_tokens=96,
        timeout_s=LOCAL_MODEL_REQUEST_TIMEOUT_S,
    )
    provider = _provider(protocol, local_llm)
    response = provider.complete(request)
    assert validate(response.data, schema) == []
    assert response.data["kind"] in ("weapon", "armor", "implant")
    assert response.tokens_out > 0 and response.tokens_in > 0
    assert provider.accounting.usage("flavour", provider.name, local_llm.model_name).calls == 1


@pytest.mark.parametrize("protocol", PROTOCOLS, ids=["ollama", "openai"])
def test_enrichment_writes_checked_words_or_falls_back_with_its_reason(
    local_llm: Any, protocol: type
) -> None:
    proposal = _proposal()
    provider = _provider(protocol, local_llm)
    enriched, report = enrich(proposal, provider, timeout_s=LOCAL_MODEL_REQUEST_TIMEOUT_S)
    parse_content(enriched.payload)  # still valid content
    before, after = _leaves(proposal.payload), _leaves(enriched.payload)
    assert {p: v for p, v in after.items() if p not in proposal.flavour} == {
        p: v for p, v in before.items() if p not in proposal.flavour
    }
    sources = {t["source"] for t in report.texts.values()}
    if report.fallback:
        assert report.reason  # it says why
    else:
        assert report.reason is None and provider.name in sources
    assert sources <= {provider.name, "original"}  # a model's words or the generator's, never filler
    for pointer, text in report.texts.items():
        assert text_problem(text["after"], pointer.rsplit("/", 1)[-1]) is None
    assert report.tokens_out > 0 or report.fallback


def test_a_number_out_of_range_from_the_model_is_refused_by_our_validator(local_llm: Any) -> None:
    """The runtime's grammar ignores integer bounds (measured): our validator is the gate."""
    schema = {
        "type": "object",
        "properties": {"damage": {"type": "integer", "minimum": 1, "maximum": 5}},
        "required": ["damage"],
        "additionalProperties": False,
    }
    refused = 0
    for asked in (1000000, 99999, 777):
        request = LlmRequest(
            "flavour",
            "You answer with JSON only.",
            f"The weapon's damage is {asked}. Write the damage exactly: {asked}.",
            schema,
            "",
            max_tokens=24,
            timeout_s=LOCAL_MODEL_REQUEST_TIMEOUT_S,
        )
        raw = httpx.post(
            local_llm.base_url + "/api/chat",
            json={
                "messages": [
                    {"role": "system", "content": request.system},
                    {"role": "user", "content": request.prompt},
                ],
                "format": schema,
                "stream": False,
                "options": {"temperature": 0, "num_predict": 24},
            },
            timeout=LOCAL_MODEL_REQUEST_TIMEOUT_S,
        ).json()
        damage = json.loads(raw["message"]["content"])["damage"]
        if 1 <= damage <= 5:
            continue
        with pytest.raises(LlmError) as caught:  # the same question through the provider
            _provider(OllamaProvider, local_llm).complete(request)
        assert caught.value.code == "schema_mismatch" and "/damage" in caught.value.message
        refused += 1
    assert refused >= 1, "the model kept every number in range: nothing showed the validator at work"


def test_the_storyteller_panel_of_three_voters_logs_every_vote(local_llm: Any) -> None:
    audit: list[dict[str, Any]] = []
    weights = {"steady": 3, "dramatic": 2, "offline": 1}
    model = _provider(OllamaProvider, local_llm)
    ensemble = Ensemble(
        storyteller_voters(model, weights), audit=audit.append, timeout_s=LOCAL_MODEL_REQUEST_TIMEOUT_S
    )
    options = ["blackout", "riot", "money_sink"]
    decision = ensemble.decide("Chaos stirs the city. Which event happens now?", options)
    assert decision.choice in options
    (logged,) = audit
    voters = {"ollama:steady": 3, "ollama:dramatic": 2, "offline": 1}
    assert logged["weights"] == voters and set(logged["answers"]) == set(voters)
    for answer in logged["answers"].values():
        assert answer.get("choice") in options or answer.get("abstained")
    counted = sum(voters[v] for v, a in logged["answers"].items() if "choice" in a)
    assert sum(logged["votes"].values()) == counted


def test_a_trait_the_model_writes_meets_the_cascade_like_any_other(local_llm: Any) -> None:
    """The coder asks the real model for one candidate a generation and the genetic coder fills the
    rest; whatever the model answers — a trait, or (often, for a 135M model) JSON cut short, a clean
    ``LlmError`` — the generation is whole and every candidate meets the same cascade."""
    from ouroboros.ai.evolution import Cascade, CascadeConfig, LlmCoder, famine_world, model_hook
    from ouroboros.ai.proposals import SeededDraws

    hook = model_hook(
        _provider(OllamaProvider, local_llm), timeout_s=LOCAL_MODEL_REQUEST_TIMEOUT_S, max_tokens=256
    )
    plan = {"reason": "molbots are starving", "kpi": "starvation_deaths"}
    try:
        answer: str | None = hook(plan, [])
    except LlmError as exc:  # a refusal as data; anything else (a traceback) fails the test
        answer, why = None, exc.message
    assert answer is not None or why
    coder = LlmCoder(hook)
    candidates = coder.propose(SeededDraws(1, "test:generation"), parents=[], feedback=[], plan=plan)
    assert [c.origin for c in candidates].count("llm") == 1 and len(candidates) == coder.offline.population
    world = famine_world(1, 60)
    world.run(10)
    cascade = Cascade(world, {}, CascadeConfig(replay_ticks=3, shadow_ticks=20))
    for n, candidate in enumerate(c for c in candidates if c.origin in ("llm", "random")):
        evaluation = cascade.evaluate(f"evo.trait.t{n}", "1.0.0", candidate.source)
        assert evaluation.stage in ("static", "probe", "replay", "shadow")
        assert evaluation.ok or evaluation.reasons  # refused with reasons, or it passed every stage


_roles = st.sampled_from(["system", "user", "assistant", "tool", 3, None])
_contents = st.one_of(st.text(max_size=40), st.integers(), st.none())
_messages = st.one_of(
    st.lists(st.fixed_dictionaries({"role": _roles, "content": _contents}), max_size=3),
    st.text(max_size=10),
    st.none(),
)
_schemas = st.one_of(
    st.none(),
    st.just("json"),
    st.integers(),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["object", "string", "integer", "array", "nonsense"])},
        optional={
            "enum": st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=3),
            "maxLength": st.integers(-2, 20),
            "properties": st.just({"a": {"type": "string", "maxLength": 5}}),
        },
    ),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    messages=_messages,
    schema=_schemas,
    stream=st.booleans(),
    openai=st.booleans(),
    temperature=st.one_of(st.none(), st.floats(-1, 3, allow_nan=False), st.text(max_size=3)),
)
def test_any_request_body_is_answered_or_refused_with_a_4xx_never_a_crash(
    local_llm: Any, messages: Any, schema: Any, stream: bool, openai: bool, temperature: Any
) -> None:
    if openai:
        path = "/v1/chat/completions"
        body: dict[str, Any] = {
            "messages": messages,
            "stream": stream,
            "max_tokens": 2,
            "temperature": temperature,
        }
        if schema is not None:
            body["response_format"] = {"type": "json_schema", "json_schema": {"name": "x", "schema": schema}}
    else:
        path = "/api/chat"
        body = {"messages": messages, "stream": stream, "format": schema}
        body["options"] = {"num_predict": 2, "temperature": temperature}
    response = httpx.post(local_llm.base_url + path, json=body, timeout=LOCAL_MODEL_REQUEST_TIMEOUT_S)
    assert response.status_code in (200, 400), response.text
    answer = response.json()
    if response.status_code == 400:
        assert isinstance(answer["error"], str) and answer["error"]
    else:
        text = answer["choices"][0]["message"]["content"] if openai else answer["message"]["content"]
        assert isinstance(text, str)


def test_a_client_that_hangs_up_frees_the_model_for_the_next_request(local_llm: Any) -> None:
    """A caller's timeout must not leave the one generation slot busy with an answer nobody reads."""
    import time

    schema = {
        "type": "object",
        "properties": {  # at least 30 x 100 characters (one long string is too big a grammar)
            "story": {
                "type": "array",
                "items": {"type": "string", "minLength": 100, "maxLength": 110},
                "minItems": 30,
                "maxItems": 30,
            }
        },
        "required": ["story"],
        "additionalProperties": False,
    }
    body = {
        "messages": [{"role": "user", "content": "Tell a very long story."}],
        "format": schema,
        "stream": False,
        "options": {"num_predict": 4000},
    }
    with pytest.raises(httpx.TimeoutException):  # ~750+ tokens: many seconds even on an idle machine
        httpx.post(local_llm.base_url + "/api/chat", json=body, timeout=2)
    deadline = time.monotonic() + 8  # a full answer would take longer than this at 88 tokens/s
    while local_llm.health()["busy"]:
        assert time.monotonic() < deadline, "the server went on generating for a client that left"
        time.sleep(0.1)
    assert local_llm.health()["status"] == "ok"
