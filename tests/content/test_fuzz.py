"""Property tests: whatever goes into parse_content / parse_envelope, only ContentError comes out,
with well-formed reasons; whatever parses also lints and round-trips."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ouroboros.content import DOMAINS, Catalog, lint_content, parse_content, parse_envelope
from ouroboros.errors import ContentError

from .conftest import envelope, leaf_paths, load_example, world

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | st.sampled_from(
        ["1.0.0", "it.knife", "rm.a", "*", "lua", "builtin", "kill", "{player.name}", "p-" + "a" * 32]
    )
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=25,
)
domain_shaped = st.fixed_dictionaries(
    {}, optional={d: st.lists(json_values, max_size=3) for d in [*DOMAINS, "remove"]}
)


def _assert_good_error(error: ContentError) -> None:
    assert error.reasons
    for reason in error.reasons:
        assert isinstance(reason.stage, str) and reason.stage == "schema"
        assert isinstance(reason.code, str) and reason.code
        assert isinstance(reason.path, str) and reason.path.startswith("/")
        assert isinstance(reason.message, str) and reason.message


def _check(parse: Any, data: Any) -> Any:
    try:
        return parse(data)
    except ContentError as error:
        _assert_good_error(error)
        return None


@FAST
@given(json_values)
def test_arbitrary_json_into_parse_content(data: Any) -> None:
    _check(parse_content, data)


@FAST
@given(json_values)
def test_arbitrary_json_into_parse_envelope(data: Any) -> None:
    _check(parse_envelope, data)


@FAST
@given(domain_shaped)
def test_domain_shaped_junk(data: Any) -> None:
    _check(parse_content, data)


def _all_paths(doc: Any) -> list[list[Any]]:
    paths: list[list[Any]] = [[]]

    def walk(value: Any, path: list[Any]) -> None:
        items = (
            value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
        )
        for key, item in items:
            paths.append([*path, key])
            walk(item, [*path, key])

    walk(doc, [])
    return paths


@st.composite
def mutated(draw: st.DrawFn, base: Any) -> Any:
    doc = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        paths = _all_paths(doc)
        path = draw(st.sampled_from(paths))
        op = draw(st.sampled_from(["replace", "delete", "add", "wrap"]))
        if not path:
            doc = draw(json_values) if op == "replace" else doc
            continue
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        key = path[-1]
        if op == "replace":
            parent[key] = draw(json_values)
        elif op == "delete":
            del parent[key]
        elif op == "add" and isinstance(parent[key], dict):
            parent[key][draw(st.text(max_size=8))] = draw(json_values)
        elif op == "add" and isinstance(parent[key], list):
            parent[key].append(draw(json_values))
        else:
            parent[key] = [parent[key]]
    return doc


def _bases() -> list[Any]:
    return [world(), load_example("quests.json"), load_example("scripts.json"), load_example("npcs.json")]


@FAST
@given(st.sampled_from(_bases()).flatmap(mutated))
def test_mutated_content_documents(data: Any) -> None:
    content = _check(parse_content, data)
    if content is not None:
        for reason in lint_content(content, Catalog.empty()):
            assert reason.stage == "static" and reason.code and reason.path.startswith("/")
        assert parse_content(content.to_json()) == content


@FAST
@given(mutated(envelope()))
def test_mutated_envelopes(data: Any) -> None:
    env = _check(parse_envelope, data)
    if env is not None:
        assert parse_envelope(env.to_json()) == env


@FAST
@given(st.sampled_from([p for p, v in leaf_paths(world())]), json_values)
def test_replacing_any_leaf(pointer: str, value: Any) -> None:
    doc = world()
    *parents, last = [int(p) if p.isdigit() else p for p in pointer.strip("/").split("/")]
    target: Any = doc
    for part in parents:
        target = target[part]
    target[last] = value
    _check(parse_content, doc)


def test_pathological_inputs() -> None:
    loop: list[Any] = []
    loop.append(loop)
    deep: Any = 1
    for _ in range(100_000):
        deep = [deep]
    for data in (
        loop,
        deep,
        {"items": loop},
        {"items": [{"extensions": {"a": deep}}]},
        object(),
        b"{}",
        {1: 2},
        {"items": [{"id": "it.x", "extensions": {"k": {1: 2}}}]},
    ):
        _check(parse_content, data)
        _check(parse_envelope, data)
