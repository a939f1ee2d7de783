"""The schema validator: what it accepts and refuses, and that it agrees with a direct reading of
the rules for any value (hypothesis)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ouroboros.ai.llm.schema import check_schema, is_valid, validate
from ouroboros.errors import SchemaError

NAME = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 10},
        "mood": {"type": "string", "enum": ["calm", "angry"]},
        "level": {"type": "integer", "minimum": 1, "maximum": 5},
        "lines": {"type": "array", "items": {"type": "string", "maxLength": 4}, "maxItems": 2},
    },
    "required": ["name", "mood"],
    "additionalProperties": False,
}


def test_a_fitting_value_has_no_problems() -> None:
    assert validate({"name": "Kade", "mood": "calm", "level": 3, "lines": ["hi"]}, NAME) == []


@pytest.mark.parametrize(
    ("value", "where", "what"),
    [
        ({"mood": "calm"}, "/name", "required"),
        ({"name": "x" * 11, "mood": "calm"}, "/name", "longer than 10"),
        ({"name": "", "mood": "calm"}, "/name", "shorter than 1"),
        ({"name": "K", "mood": "sad"}, "/mood", "one of"),
        ({"name": "K", "mood": "calm", "level": 6}, "/level", "above the maximum 5"),
        ({"name": "K", "mood": "calm", "level": 0}, "/level", "below the minimum 1"),
        ({"name": "K", "mood": "calm", "level": True}, "/level", "expected integer, got boolean"),
        ({"name": "K", "mood": "calm", "level": 2.0}, "/level", "expected integer"),
        ({"name": 5, "mood": "calm"}, "/name", "expected string, got integer"),
        ({"name": "K", "mood": "calm", "lines": ["a", "b", "c"]}, "/lines", "more than 2 items"),
        ({"name": "K", "mood": "calm", "lines": ["toolong"]}, "/lines/0", "longer than 4"),
        ({"name": "K", "mood": "calm", "price": 1}, "/price", "additionalProperties"),
        (["K"], "", "expected object, got array"),
    ],
)
def test_each_rule_names_the_offending_path(value: Any, where: str, what: str) -> None:
    problems = validate(value, NAME)
    assert any(path == where and what in message for path, message in problems), problems


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "string", "pattern": "^a$"},  # a keyword outside the subset
        {"type": "number"},
        {"type": "object", "properties": {"a": {"oneOf": []}}},
        {"type": "string", "maxLength": -1},
        {"enum": []},
        {"required": "name"},
        [],
    ],
)
def test_schemas_outside_the_subset_are_refused(schema: Any) -> None:
    with pytest.raises(SchemaError):
        check_schema(schema)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=12) | st.floats(allow_nan=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)


def _direct(value: Any) -> bool:
    """NAME's rules read directly, to compare the validator against."""
    if (
        not isinstance(value, dict)
        or not {"name", "mood"} <= set(value)
        or set(value) - {"name", "mood", "level", "lines"}
    ):
        return False
    name, mood = value["name"], value["mood"]
    if not isinstance(name, str) or not 1 <= len(name) <= 10 or mood not in ("calm", "angry"):
        return False
    if not isinstance(mood, str):
        return False
    level = value.get("level", 1)
    if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 5:
        return False
    lines = value.get("lines", [])
    return (
        isinstance(lines, list) and len(lines) <= 2 and all(isinstance(x, str) and len(x) <= 4 for x in lines)
    )


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        json_values,
        st.fixed_dictionaries(
            {"name": st.text(max_size=12), "mood": st.sampled_from(["calm", "angry", "sad", 1])},
            optional={
                "level": st.one_of(st.integers(-2, 8), st.booleans()),
                "lines": st.lists(st.text(max_size=6), max_size=3),
                "extra": json_values,
            },
        ),
    )
)
def test_validator_agrees_with_the_rules(value: Any) -> None:
    assert is_valid(value, NAME) == _direct(value)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_validator_is_total(value: Any) -> None:
    for schema in (NAME, {"type": ["string", "null"], "maxLength": 3}, {"items": {"const": 1}}, True, False):
        problems = validate(value, schema)
        assert all(isinstance(p, str) and isinstance(m, str) for p, m in problems)
