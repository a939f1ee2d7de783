"""The HTTP providers against a real local server speaking the Ollama and OpenAI protocols:
what goes on the wire, what is read back, and every way a server can fail or lie."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ouroboros.ai.llm import (
    Accounting,
    LlmError,
    LlmRequest,
    OllamaProvider,
    OpenAICompatProvider,
    ResponseCache,
)
from ouroboros.ai.llm._http import HttpProvider

from .conftest import Reply, Scripted, envelope_for, ollama_envelope, openai_envelope

SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 20},
        "mood": {"type": "string", "enum": ["calm", "angry"]},
    },
    "required": ["name", "mood"],
    "additionalProperties": False,
}
GOOD = json.dumps({"name": "Kade", "mood": "calm"})


def _request(timeout_s: float = 2.0, prompt: str = "name the bartender") -> LlmRequest:
    return LlmRequest("flavour", "You name things.", prompt, SCHEMA, "", max_tokens=64, timeout_s=timeout_s)


class _Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def _providers(base: str, sleeps: _Sleeps, **options: Any) -> list[HttpProvider]:
    return [
        OllamaProvider(base, "llama3.2", sleep=sleeps, backoff_s=0.01, **options),
        OpenAICompatProvider(base, "qwen2.5", api_key="sk-test", sleep=sleeps, backoff_s=0.01, **options),
    ]


def test_ollama_wire_format_and_answer(server: tuple[str, Scripted]) -> None:
    base, script = server
    script.replies.append(Reply(ollama_envelope(GOOD, 21, 9)))
    response = OllamaProvider(base, "llama3.2").complete(_request())
    assert response.data == {"name": "Kade", "mood": "calm"}
    assert (response.provider, response.model, response.tokens_in, response.tokens_out) == (
        "ollama",
        "llama3.2",
        21,
        9,
    )
    assert response.cached is False and response.latency_ms >= 0
    path, body, _ = script.requests[0]
    assert path == "/api/chat"
    assert body["stream"] is False and body["model"] == "llama3.2" and body["format"] == SCHEMA
    assert body["messages"] == [
        {"role": "system", "content": "You name things."},
        {"role": "user", "content": "name the bartender"},
    ]
    assert body["options"] == {"temperature": 0, "num_predict": 64}


def test_openai_wire_format_and_answer(server: tuple[str, Scripted]) -> None:
    base, script = server
    script.replies.append(Reply(openai_envelope(GOOD, 30, 4)))
    response = OpenAICompatProvider(base, "qwen2.5", api_key="sk-test").complete(_request())
    assert response.data == {"name": "Kade", "mood": "calm"} and (
        response.tokens_in,
        response.tokens_out,
    ) == (30, 4)
    path, body, headers = script.requests[0]
    assert path == "/v1/chat/completions" and headers["Authorization"] == "Bearer sk-test"
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "ouroboros_flavour", "schema": SCHEMA, "strict": True},
    }
    assert body["max_tokens"] == 64 and body["temperature"] == 0 and "structured_outputs" not in body


def test_vllm_structured_outputs(server: tuple[str, Scripted]) -> None:
    base, script = server
    script.replies.append(Reply(openai_envelope(GOOD)))
    OpenAICompatProvider(base, "qwen2.5", structured="vllm").complete(_request())
    _, body, headers = script.requests[0]
    assert body["structured_outputs"] == {"json": SCHEMA} and "response_format" not in body
    assert "Authorization" not in headers


@pytest.mark.parametrize(
    ("reply", "code"),
    [
        (
            Reply(b"<html><body>502 Bad Gateway</body></html>", status=502, content_type="text/html"),
            "http_error",
        ),
        (Reply(b"<html>oops</html>", content_type="text/html"), "bad_json"),
        (Reply(b'{"message": {"content": "{\\"name\\": \\"Ka'), "bad_json"),  # truncated envelope
        (Reply(b'{"a": 1}', declared_length=5000), "http_error"),  # connection closes early
    ],
    ids=["500-html", "html-200", "truncated-json", "short-body"],
)
def test_broken_answers_are_retried_then_fail_with_their_code(
    server: tuple[str, Scripted], reply: Reply, code: str
) -> None:
    base, script = server
    sleeps = _Sleeps()
    for provider in _providers(base, sleeps, max_attempts=3):
        script.requests.clear()
        script.default = reply
        with pytest.raises(LlmError) as caught:
            provider.complete(_request())
        assert caught.value.code == code
        assert len(script.requests) == 3  # every attempt reached the server
    assert sleeps == [0.01, 0.02] * 2  # exponential backoff, through the injected sleep


def test_a_retry_recovers_after_a_500(server: tuple[str, Scripted]) -> None:
    base, script = server
    sleeps = _Sleeps()
    for provider in _providers(base, sleeps):
        script.replies.extend(
            [
                Reply(b"down", status=503),
                Reply(lambda b: b"{not json"),
                Reply(lambda b: envelope_for("/api/chat" if "format" in b else "/v1", GOOD)),
            ]
        )
        assert provider.complete(_request()).data == {"name": "Kade", "mood": "calm"}
        usage = provider.accounting.usage("flavour", provider.name, provider.model)
        assert (usage.calls, usage.failures) == (3, 2)


def test_a_slow_server_times_out(server: tuple[str, Scripted]) -> None:
    base, script = server
    script.default = Reply(ollama_envelope(GOOD), delay_s=1.0)
    provider = OllamaProvider(base, "m", max_attempts=2, backoff_s=0.01, sleep=_Sleeps())
    with pytest.raises(LlmError) as caught:
        provider.complete(_request(timeout_s=0.3))
    assert caught.value.code == "timeout"


def test_a_trickling_server_hits_the_deadline(server: tuple[str, Scripted]) -> None:
    base, script = server
    padded = json.dumps({"message": {"content": GOOD}, "pad": "x" * 8000}).encode()
    script.default = Reply(padded, trickle_s=0.1)
    provider = OllamaProvider(base, "m", max_attempts=1)
    with pytest.raises(LlmError) as caught:
        provider.complete(_request(timeout_s=0.35))
    assert caught.value.code == "timeout"


@pytest.mark.parametrize("no_length", [False, True], ids=["declared", "until-close"])
def test_a_huge_body_is_refused_without_reading_it_all(server: tuple[str, Scripted], no_length: bool) -> None:
    base, script = server
    script.default = Reply(b'{"pad": "' + b"x" * 2_000_000 + b'"}', no_length=no_length)
    sleeps = _Sleeps()
    for provider in _providers(base, sleeps, max_response_bytes=64 * 1024):
        script.requests.clear()
        with pytest.raises(LlmError) as caught:
            provider.complete(_request())
        assert caught.value.code == "too_large" and len(script.requests) == 1  # not retried
    assert sleeps == []


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        ('{"name": 42, "mood": "calm"}', "schema_mismatch"),  # a number where a string goes
        ('{"name": "Kade", "mood": "calm", "price": 0}', "schema_mismatch"),  # an extra field
        ('{"name": "' + "K" * 21 + '", "mood": "calm"}', "schema_mismatch"),
        ('{"mood": "sad"}', "schema_mismatch"),  # wrong schema
        ("Sure! Here is the name: Kade", "bad_json"),
        ('{"name": "a", "name": "b", "mood": "calm"}', "bad_json"),  # duplicate keys
        ('{"name": "Kade", "mood": "calm"} trailing', "bad_json"),
    ],
)
def test_answers_that_break_the_schema_are_refused(
    server: tuple[str, Scripted], answer: str, code: str
) -> None:
    base, script = server
    for provider in _providers(base, _Sleeps(), max_attempts=1):
        script.default = Reply(lambda body: envelope_for("/api/chat" if "format" in body else "/v1", answer))
        with pytest.raises(LlmError) as caught:
            provider.complete(_request())
        assert caught.value.code == code, caught.value.message


def test_refusals_and_client_errors_are_final(server: tuple[str, Scripted]) -> None:
    base, script = server
    script.replies.append(Reply(openai_envelope(None, refusal="I can't help with that")))
    provider = OpenAICompatProvider(base, "m", sleep=_Sleeps(), backoff_s=0.01)
    with pytest.raises(LlmError) as caught:
        provider.complete(_request())
    assert caught.value.code == "refused"
    script.replies.append(Reply(b'{"error": "model not found"}', status=404))
    with pytest.raises(LlmError) as caught:
        provider.complete(_request(prompt="other"))
    assert (caught.value.code, caught.value.status, len(script.requests)) == ("http_error", 404, 2)


def test_unreachable_server_is_an_http_error() -> None:
    provider = OllamaProvider("http://127.0.0.1:9", "m", max_attempts=2, sleep=_Sleeps(), backoff_s=0.01)
    with pytest.raises(LlmError) as caught:
        provider.complete(_request())
    assert caught.value.code == "http_error"


def test_cache_answers_the_same_request_once_across_restarts(
    server: tuple[str, Scripted], tmp_path: Path
) -> None:
    base, script = server
    script.default = Reply(ollama_envelope(GOOD))
    accounting = Accounting()
    cache = ResponseCache(tmp_path / "cache.sqlite3")
    provider = OllamaProvider(base, "m", cache=cache, accounting=accounting)
    first = provider.complete(_request())
    second = provider.complete(_request())
    assert (first.cached, second.cached, second.data) == (False, True, first.data)
    assert len(script.requests) == 1
    provider.complete(_request(prompt="another"))
    assert len(script.requests) == 2
    cache.close()
    reopened = OllamaProvider(base, "m", cache=ResponseCache(tmp_path / "cache.sqlite3"))
    assert reopened.complete(_request()).cached is True and len(script.requests) == 2
    usage = accounting.usage("flavour", "ollama", "m")
    assert (usage.calls, usage.cached, usage.tokens_in, usage.tokens_out) == (3, 1, 22, 14)


def test_bad_configuration_is_refused() -> None:
    with pytest.raises(LlmError):
        OllamaProvider("ftp://x", "m")
    with pytest.raises(LlmError):
        OpenAICompatProvider("http://x", "m", structured="guided")
    with pytest.raises(LlmError):
        OllamaProvider("http://x", "m", max_attempts=0)


def test_a_redirect_is_not_followed(server: tuple[str, Scripted]) -> None:
    base, script = server
    script.default = Reply(b"", status=302)
    with pytest.raises(LlmError) as caught:
        OllamaProvider(base, "m", sleep=_Sleeps()).complete(_request())
    assert (caught.value.code, caught.value.status, len(script.requests)) == ("http_error", 302, 1)
