"""Hypothesis-mutated bundles: never a crash, always a reason, the ledger unchanged."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ouroboros.patches.governor import Governor
from ouroboros.patches.keys import SigningKey
from tests.patches.conftest import make_bundle, params_content

json_leaf = st.none() | st.booleans() | st.integers(-(2**60), 2**60) | st.text(max_size=12) | st.floats()
json_value = st.recursive(
    json_leaf,
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=6), c, max_size=3),
    max_leaves=8,
)


def _paths(doc: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, (*prefix, i))
    return out


def _mutate(doc: dict, data: st.DataObject) -> Any:
    doc = copy.deepcopy(doc)
    paths = [p for p in _paths(doc) if p]
    path = data.draw(st.sampled_from(paths))
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    action = data.draw(st.sampled_from(["replace", "delete", "add"]))
    if action == "replace":
        parent[path[-1]] = data.draw(json_value)
    elif action == "delete":
        del parent[path[-1]]
    elif isinstance(parent, dict):
        parent[data.draw(st.text(max_size=6))] = data.draw(json_value)
    else:
        parent.append(data.draw(json_value))
    return doc


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_bundles_are_refused_with_reasons_and_change_nothing(
    gov: Governor, op: SigningKey, data
) -> None:
    original = make_bundle(gov, params_content(30), op)
    head = gov.ledger.pointer()
    mutated = _mutate(original, data)
    if mutated == original:
        return
    verdict = gov.submit(mutated, dry_run=False)
    assert verdict.state == "rejected"
    assert verdict.reasons
    for reason in verdict.reasons:
        assert all(isinstance(getattr(reason, f), str) for f in ("stage", "code", "path", "message"))
    assert gov.ledger.pointer() == head


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(junk=json_value)
def test_any_json_value_is_refused_not_crashed(gov: Governor, junk: Any) -> None:
    head = gov.ledger.pointer()
    verdict = gov.submit(junk)
    assert verdict.state == "rejected" and verdict.reasons
    assert gov.ledger.pointer() == head
