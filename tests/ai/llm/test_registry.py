"""ModelRegistry: the role -> model assignment is governed content (a patch that reaches active
through the real pipeline and rolls back), and per-model stats persist in SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ouroboros.ai.llm import (
    ModelRegistry,
    OfflineProvider,
    OllamaProvider,
    OpenAICompatProvider,
    registry_patch,
)
from ouroboros.errors import ContentError
from ouroboros.patches import Governor, State
from tests.patches.conftest import SMALL_WORLD, make_bundle


@pytest.fixture
def gov(tmp_path: Path) -> Iterator[Governor]:
    governor = Governor(tmp_path / "data", world_defaults=SMALL_WORLD, environ={})
    governor.new_key("op", ["*"])
    yield governor
    governor.close()


def test_a_model_change_goes_active_through_the_pipeline_and_rolls_back(gov: Governor) -> None:
    op = gov.local_key("op")
    assert ModelRegistry.from_content(gov.active_content()).assignment("flavour").provider == "offline"

    first = registry_patch("flavour", "ollama", "llama3.2:3b", base_url="http://127.0.0.1:11434")
    assert first["model_roles"][0]["version"] == "1.0.0"
    verdict = gov.submit(make_bundle(gov, first, op))
    assert verdict.state == State.ACTIVE, [r.as_dict() for r in verdict.reasons]
    registry = ModelRegistry.from_content(gov.active_content())
    flavour = registry.assignment("flavour")
    assert (flavour.provider, flavour.model, flavour.version) == ("ollama", "llama3.2:3b", "1.0.0")
    assert isinstance(registry.provider("flavour"), OllamaProvider)
    assert registry.assignment("dialogue").provider == "offline"  # untouched roles stay offline

    second = registry_patch(
        "flavour", "openai", "qwen2.5-7b", base_url="http://10.0.0.2:8000", structured="vllm",
        current=gov.active_content(),
    )  # fmt: skip
    assert second["model_roles"][0]["version"] == "1.0.1"
    assert gov.submit(make_bundle(gov, second, op)).state == State.ACTIVE
    newer = ModelRegistry.from_content(gov.active_content())
    assert newer.assignment("flavour").model == "qwen2.5-7b" and newer.version != registry.version
    provider = newer.provider("flavour", api_key="k")
    assert isinstance(provider, OpenAICompatProvider) and provider.structured == "vllm"

    gov.rollback("alice", "the new model writes purple prose")
    back = ModelRegistry.from_content(gov.active_content())
    assert back.assignment("flavour").model == "llama3.2:3b" and back.version == registry.version
    gov.rollback("alice", "back to offline")
    assert ModelRegistry.from_content(gov.active_content()).assignment("flavour").provider == "offline"


def test_a_stale_version_is_refused_by_the_pipeline(gov: Governor) -> None:
    op = gov.local_key("op")
    content = registry_patch("narrative", "offline", "grammar@1")
    assert gov.submit(make_bundle(gov, content, op)).state == State.ACTIVE
    again = gov.submit(make_bundle(gov, content, op))  # same version again: not a change
    assert again.state == State.REJECTED
    assert [(r.stage, r.code) for r in again.reasons] == [("static", "version_not_increasing")]


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        (("poetry", "offline", "grammar@1"), {}),  # unknown role
        (("flavour", "bard", "m"), {}),  # unknown provider
        (("flavour", "ollama", "m"), {}),  # needs a base_url
        (("flavour", "offline", "m"), {"base_url": "http://x"}),  # offline takes none
        (("flavour", "ollama", "bad model name!"), {"base_url": "http://x"}),
        (("flavour", "ollama", "m"), {"base_url": "file:///etc/passwd"}),
        (("flavour", "ollama", "m"), {"base_url": "http://x/\x00"}),
    ],
)
def test_bad_model_roles_are_refused_as_content(args: tuple[str, str, str], kwargs: dict[str, Any]) -> None:
    with pytest.raises(ContentError):
        registry_patch(*args, **kwargs)


def test_from_content_reads_every_shape() -> None:
    content = registry_patch("dialogue", "ollama", "m", base_url="http://h:1")
    assert ModelRegistry.from_content(content).assignment("dialogue").model == "m"
    stored = {"objects": content, "retired": {}}
    assert ModelRegistry.from_content(stored).assignment("dialogue").model == "m"
    assert isinstance(ModelRegistry.from_content(None).provider("trait_code"), OfflineProvider)
    with pytest.raises(ContentError):
        ModelRegistry.from_content({"model_roles": [{"id": "model_role.flavour", "version": "1"}]})


def test_stats_per_role_and_model_persist(tmp_path: Path) -> None:
    db = tmp_path / "ai.sqlite3"
    registry = ModelRegistry(db_path=db)
    registry.record("flavour", "llama3.2", 120, ok=True, accepted=True)
    registry.record("flavour", "llama3.2", 80, ok=True, accepted=False)
    registry.record("flavour", "llama3.2", 5000, ok=False, accepted=False)
    registry.record("narrative", "grammar@1", 0, ok=True, accepted=True)
    registry.close()
    stats = ModelRegistry(db_path=db).stats()
    assert stats == [
        {
            "role": "flavour",
            "model": "llama3.2",
            "calls": 3,
            "failures": 1,
            "accepted": 1,
            "latency_ms_mean": 1733,
            "latency_ms_max": 5000,
            "failure_permille": 333,
            "acceptance_permille": 500,
            "tokens_in": 0,
            "tokens_out": 0,
        },
        {
            "role": "narrative",
            "model": "grammar@1",
            "calls": 1,
            "failures": 0,
            "accepted": 1,
            "latency_ms_mean": 0,
            "latency_ms_max": 0,
            "failure_permille": 0,
            "acceptance_permille": 1000,
            "tokens_in": 0,
            "tokens_out": 0,
        },
    ]


def test_defaults_serve_unassigned_roles_and_a_governed_assignment_wins() -> None:
    """``go --llm local``: the word roles go to the local model unless ``models set`` chose one."""
    from ouroboros.ai.llm import RoleAssignment
    from ouroboros.cli.go import local_model_roles

    defaults = local_model_roles("SmolLM2-135M-Instruct.Q4_1", "http://127.0.0.1:5")
    bare = ModelRegistry.from_content(None, defaults=defaults)
    assert {r: a.provider for r, a in bare.assignments().items()} == {
        "flavour": "ollama",
        "dialogue": "ollama",
        "narrative": "ollama",
        "trait_code": "offline",
    }
    assert bare.assignment("flavour") == RoleAssignment(
        "flavour", "ollama", "SmolLM2-135M-Instruct.Q4_1", "http://127.0.0.1:5"
    )
    governed = ModelRegistry.from_content(
        registry_patch("flavour", "openai", "big-model", base_url="http://10.0.0.1:8000"), defaults=defaults
    )
    assert governed.assignment("flavour").model == "big-model"
    assert governed.assignment("dialogue").base_url == "http://127.0.0.1:5"
    bare.close()
    governed.close()
