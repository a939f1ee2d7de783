"""Shared checks for generated proposals, and a governed neon data folder (one per test module,
so the pipeline runs a few times per module, not per example)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from ouroboros.ai.generators import generate
from ouroboros.ai.generators._world import WorldView
from ouroboros.ai.proposals import Proposal
from ouroboros.content import lint_content, parse_content, semver_key
from ouroboros.patches import Governor, Verdict, lint_catalog
from ouroboros.worlds.neon.gameplay import check_content
from tests.patches.conftest import NEON_WORLD as NEON
from tests.patches.conftest import make_bundle


@pytest.fixture(scope="module")
def neon_gov(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Governor]:
    governor = Governor(tmp_path_factory.mktemp("neon") / "data", world_defaults=NEON, environ={})
    governor.new_key("op", ["*"])
    yield governor
    governor.close()


def submit(gov: Governor, proposal: Proposal) -> Verdict:
    doc = make_bundle(gov, json.loads(json.dumps(proposal.payload)), gov.local_key("op"))
    return gov.submit(doc)


def resolve(payload: Mapping[str, Any], pointer: str) -> Any:
    node: Any = payload
    for part in pointer.lstrip("/").split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def assert_sound(
    proposal: Proposal, content: Mapping[str, Any] | None = None, context: Mapping[str, Any] | None = None
) -> None:
    """What every generated proposal keeps, whatever its type and seed."""
    again = generate(proposal.type, proposal.seed, content=content, context=context)
    assert again.model_dump_json() == proposal.model_dump_json()  # byte-identical, id included
    assert proposal.proposal_id.startswith("prop-")
    parsed = parse_content(proposal.payload)
    assert check_content(proposal.payload) == []
    stored: Mapping[str, Any] | None = None
    if content is not None:
        stored = content if "objects" in content else {"objects": content, "retired": {}}
    catalog = lint_catalog("neon", stored)
    assert [r.as_dict() for r in lint_content(parsed, catalog)] == []
    view = WorldView("neon", content)
    for domain, object_id in proposal.object_ids():
        obj = next(o for o in proposal.payload[domain] if o["id"] == object_id)
        old = view.get(domain, object_id)
        if old is None:
            assert object_id.startswith("neon.gen."), object_id
            assert obj["version"] == "1.0.0"
            assert object_id not in proposal.dependencies
        else:  # a replacement: a greater version, listed as a dependency
            assert semver_key(obj["version"]) > semver_key(old["version"])
            assert object_id in proposal.dependencies
    for pointer, text in proposal.flavour.items():
        assert resolve(proposal.payload, pointer) == text
    assert proposal.flavour, "a proposal names its word fields"
