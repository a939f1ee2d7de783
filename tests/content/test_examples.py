"""The example patches: one per domain, each parses and lints clean on an empty catalog by itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ouroboros.content import DOMAINS, Catalog, lint_content, parse_content

from .conftest import EXAMPLES

FILES = sorted(EXAMPLES.glob("*.json"))


def test_there_is_an_example_for_every_domain() -> None:
    assert {f"{d}.json" for d in DOMAINS} <= {p.name for p in FILES}


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_example_parses_and_lints_clean(path: Path) -> None:
    content = parse_content(json.loads(path.read_text(encoding="utf-8")))
    assert content.objects(path.stem), f"{path.name} carries no {path.stem}"
    assert lint_content(content, Catalog.empty()) == []
    assert len(Catalog.from_content(content)) == sum(len(content.objects(d)) for d in DOMAINS)


def test_petri_examples_use_petri_shapes() -> None:
    params = parse_content(json.loads((EXAMPLES / "world_params.json").read_text())).world_params[0]
    assert params.world == "petri" and params.params["temperature"] == 25
    scripts = parse_content(json.loads((EXAMPLES / "scripts.json").read_text()))
    assert scripts.traits[0].kind == scripts.scripts[0].language == "lua"
