"""The offline provider: deterministic, always valid against the request's schema, clean words."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ouroboros.ai.llm import LlmRequest, OfflineProvider, validate
from ouroboros.content.text_checks import find_banned_terms
from ouroboros.errors import LlmError


def _request(
    schema: dict[str, Any] | None, prompt: str = "name the bartender", role: str = "flavour"
) -> LlmRequest:
    return LlmRequest(role=role, system="You write for a neon city.", prompt=prompt, schema=schema, model="")


def _strings(label: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        lambda low, span: {"type": "string", "title": label, "minLength": low, "maxLength": low + span},
        st.integers(0, 5),
        st.integers(0, 90),
    )


leaf = st.one_of(
    _strings("npcs.name"),
    _strings("rooms.description"),
    _strings("dialogue.text"),
    _strings("quests.name"),
    st.builds(
        lambda a, b: {"type": "integer", "minimum": min(a, b), "maximum": max(a, b)},
        st.integers(-99, 99),
        st.integers(-99, 99),
    ),
    st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=5, unique=True).map(
        lambda o: {"type": "string", "enum": o}
    ),
    st.just({"type": "boolean"}),
)
schemas = st.recursive(
    leaf,
    lambda inner: st.one_of(
        st.builds(
            lambda item, low, span: {"type": "array", "items": item, "minItems": low, "maxItems": low + span},
            inner,
            st.integers(0, 2),
            st.integers(0, 3),
        ),
        st.dictionaries(st.from_regex(r"[a-z]{1,6}", fullmatch=True), inner, min_size=1, max_size=4).map(
            lambda props: {
                "type": "object",
                "properties": props,
                "required": sorted(props),
                "additionalProperties": False,
            }
        ),
    ),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None)
@given(schemas, st.text(max_size=30))
def test_every_answer_fits_its_schema(schema: dict[str, Any], prompt: str) -> None:
    response = OfflineProvider().complete(_request(schema, prompt))
    assert validate(response.data, schema) == []


def test_same_request_same_answer_and_another_request_may_differ() -> None:
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string", "title": "npcs.name", "maxLength": 80}},
    }
    first = OfflineProvider().complete(_request(schema, "a"))
    assert OfflineProvider().complete(_request(schema, "a")) == first
    answers = {OfflineProvider().complete(_request(schema, str(i))).data["name"] for i in range(20)}
    assert len(answers) > 5  # the grammar varies with the request


def test_narrative_decisions_choose_among_the_options() -> None:
    options = ["raid the depot", "hold the line", "call a truce"]
    schema = {
        "type": "object",
        "properties": {"choice": {"type": "string", "enum": options}},
        "required": ["choice"],
    }
    chosen = {
        OfflineProvider().complete(_request(schema, f"q{i}", role="narrative")).data["choice"]
        for i in range(30)
    }
    assert chosen <= set(options) and len(chosen) > 1


def test_words_are_clean() -> None:
    for i in range(200):
        for label in ("npcs.name", "items.name", "rooms.description", "dialogue.text", "quests.name"):
            schema = {
                "type": "object",
                "properties": {"t": {"type": "string", "title": label, "maxLength": 200}},
            }
            text = OfflineProvider().complete(_request(schema, str(i))).data["t"]
            assert text.strip() and not find_banned_terms(text)
            assert not any(c in text for c in "<>{}`\n\r\x00")


def test_free_text_and_bad_schema() -> None:
    response = OfflineProvider().complete(_request(None, role="dialogue"))
    assert response.data is None and response.text and response.provider == "offline"
    with pytest.raises(LlmError) as caught:
        OfflineProvider().complete(_request({"type": "string", "pattern": "x"}))
    assert caught.value.code == "bad_request"


def test_bad_requests_are_refused_at_construction() -> None:
    kwargs: dict[str, Any]
    for kwargs in ({"role": "poet"}, {"max_tokens": 0}, {"timeout_s": 0}, {"temperature": 3}):
        with pytest.raises(LlmError):
            base: dict[str, Any] = {
                "role": "flavour",
                "system": "",
                "prompt": "",
                "schema": None,
                "model": "",
            }
            LlmRequest(**{**base, **kwargs})
