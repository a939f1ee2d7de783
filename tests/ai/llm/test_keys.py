"""API keys for hosted providers: from the environment or a 0600 key file, sent as a bearer
token, and never seen again — not in an error, a repr, a report, the AI store or the ledger. A
price table the operator sets turns each role's tokens into a cost."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ouroboros.ai.llm import LlmRequest, ModelRegistry, OpenAICompatProvider, registry_patch
from ouroboros.ai.llm.keys import KEY_FILE, KeyRing, PriceTable, redact, write_key
from ouroboros.ai.llm.routing import RoleRouter
from ouroboros.ai.proposals import ProposalType
from ouroboros.errors import KeyFileError, LlmError
from ouroboros.patches import Governor

from .conftest import Reply, Scripted, openai_envelope

KEY = "sk-test-0123456789abcdef"
SCHEMA = {
    "type": "object",
    "properties": {"t0": {"type": "string"}},
    "required": ["t0"],
    "additionalProperties": False,
}


def _request() -> LlmRequest:
    return LlmRequest("flavour", "s", "p", SCHEMA, "", timeout_s=5)


def test_keys_come_from_the_environment_then_the_key_file(tmp_path: Path) -> None:
    key_file = tmp_path / KEY_FILE
    write_key(key_file, "role-key-12345", role="flavour")
    write_key(key_file, "server-key-12345", server="https://api.example.com/v1/")
    assert os.stat(key_file).st_mode & 0o777 == 0o600
    ring = KeyRing(key_file, env={})
    assert ring.key_for("flavour", "https://other") == "role-key-12345"
    assert ring.key_for("dialogue", "https://api.example.com/v1") == "server-key-12345"
    assert ring.key_for("dialogue", "http://127.0.0.1:11434") is None
    env = {"OUROBOROS_LLM_API_KEY": "any-key-123456", "OUROBOROS_LLM_KEY_FLAVOUR": "env-flavour-1234"}
    ring = KeyRing(key_file, env=env)
    assert ring.key_for("flavour", None) == "env-flavour-1234"
    assert ring.key_for("dialogue", None) == "any-key-123456"
    assert "12345" not in repr(ring) and "1234" not in repr(ring)


def test_a_key_file_others_can_read_is_refused_without_showing_a_key(tmp_path: Path) -> None:
    key_file = tmp_path / KEY_FILE
    key_file.write_text(json.dumps({"roles": {"flavour": KEY}}))
    key_file.chmod(0o644)
    with pytest.raises(KeyFileError) as caught:
        KeyRing(key_file, env={})
    assert f"chmod 600 {key_file}" in caught.value.message and KEY not in caught.value.message
    key_file.chmod(0o600)
    key_file.write_text('{"roles": {"flavour": ' + json.dumps(KEY))  # cut short
    with pytest.raises(KeyFileError) as caught:
        KeyRing(key_file, env={})
    assert "not readable JSON" in caught.value.message and KEY not in caught.value.message


@given(secret=st.text(min_size=8, max_size=30), around=st.text(max_size=30))
def test_redact_leaves_no_key_behind(secret: str, around: str) -> None:
    assert secret not in redact(around + secret + around + secret, [secret])


def test_the_key_is_sent_as_a_bearer_token_and_redacted_from_errors(server: tuple[str, Scripted]) -> None:
    base, script = server
    script.replies.append(Reply(openai_envelope('{"t0": "ok"}')))
    script.replies.append(Reply(json.dumps({"error": f"invalid key {KEY}"}).encode(), status=401))
    provider = OpenAICompatProvider(base + "/v1beta/openai", "gemini-2.0-flash", KEY, max_attempts=1)
    assert provider.complete(_request()).data == {"t0": "ok"}
    path, _body, headers = script.requests[0]
    assert path == "/v1beta/openai/chat/completions"  # a base URL with a path is the API root
    assert headers["Authorization"] == f"Bearer {KEY}"
    with pytest.raises(LlmError) as caught:
        provider.complete(LlmRequest("flavour", "s", "p2", SCHEMA, "", timeout_s=5))
    assert (
        caught.value.status == 401
        and KEY not in caught.value.message
        and "[redacted]" in caught.value.message
    )
    assert KEY not in repr(provider)


@pytest.fixture
def gov(tmp_path: Path) -> Iterator[Governor]:
    from tests.ai.test_queue import NEON

    governor = Governor(tmp_path / "data", world_defaults=NEON, environ={})
    governor.new_key("op", ["*"])
    yield governor
    governor.close()


def test_a_council_on_a_hosted_model_keeps_the_key_out_of_every_file_but_the_key_file(
    gov: Governor, server: tuple[str, Scripted]
) -> None:
    from ouroboros.ai.council import build_council
    from tests.ai.test_council import _push

    base, script = server
    script.default = Reply(
        lambda body: openai_envelope(
            json.dumps(
                {k: "Neon " + k for k in body["response_format"]["json_schema"]["schema"]["properties"]}
            ),
            tokens_in=100,
            tokens_out=40,
        )
    )
    write_key(gov.data / KEY_FILE, KEY, role="flavour")
    _push(gov, registry_patch("flavour", "openai", "hosted-1", base_url=base + "/v1"))
    with build_council(gov.data, gov, world="neon") as council:
        council.director.set("chaos", 0, "test")
        record = council.propose(ProposalType.ITEM, 21, queue=True)
        assert record["enrich"]["calls"][0]["ok"] is True
        assert all(headers["Authorization"] == f"Bearer {KEY}" for _p, _b, headers in script.requests)
        (stats,) = council.models.current().stats()
        assert (stats["tokens_in"], stats["tokens_out"]) == (100, 40)
    for path in gov.data.rglob("*"):
        if path.is_file() and path.name != KEY_FILE:
            assert KEY.encode() not in path.read_bytes(), path


def test_the_price_table_prices_tokens_per_model(tmp_path: Path) -> None:
    prices = tmp_path / "llm-prices.json"
    prices.write_text(
        json.dumps({"models": {"hosted-1": {"input_per_million": 0.5, "output_per_million": 2}}})
    )
    table = PriceTable.load(prices)
    assert table.cost("hosted-1", 100_000, 10_000) == (0.07, True)
    assert table.cost("unknown", 100_000, 10_000) == (0.0, False)
    prices.write_text(
        json.dumps({"models": {"hosted-1": {"input_per_million": -1, "output_per_million": 2}}})
    )
    with pytest.raises(KeyFileError, match="numbers of 0 or more"):
        PriceTable.load(prices)


def test_the_router_records_tokens_per_role(server: tuple[str, Scripted]) -> None:
    base, script = server
    script.default = Reply(openai_envelope('{"t0": "ok"}', tokens_in=7, tokens_out=3))
    registry = ModelRegistry.from_content(registry_patch("flavour", "openai", "m1", base_url=base))
    router = RoleRouter(registry)
    router.complete(_request())
    router.complete(LlmRequest("flavour", "s", "other", SCHEMA, "", timeout_s=5))
    (row,) = registry.stats()
    assert (row["calls"], row["tokens_in"], row["tokens_out"]) == (2, 14, 6)
    registry.close()
