"""The two HTTP providers: Ollama's native chat API and any OpenAI-compatible server.

- ``OllamaProvider``: ``POST {base_url}/api/chat`` with ``stream: false``, ``format`` set to the
  JSON Schema of the answer, the system and user messages, and ``options`` ``temperature`` and
  ``num_predict``; the answer is ``message.content``, the tokens ``prompt_eval_count`` and
  ``eval_count``.
- ``OpenAICompatProvider``: ``POST {base_url}/v1/chat/completions`` (``{base_url}/chat/completions``
  when the base URL has a path: ``https://api.openai.com/v1``, Gemini's ``…/v1beta/openai``),
  with ``Authorization: Bearer`` when given a key (never logged: see ``keys``), with the schema as
  ``response_format: {type: json_schema, json_schema: {name, schema, strict: true}}`` (OpenAI,
  llama.cpp, LM Studio) or, with ``structured="vllm"``, vLLM's ``structured_outputs: {json:
  schema}``; the answer is ``choices[0].message.content`` (a ``refusal`` is ``refused``), the
  tokens ``usage.prompt_tokens`` and ``usage.completion_tokens``.

Whatever the server promises, the answer is validated against the schema by us (see ``_http``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ouroboros.ai.llm._http import HttpProvider, expect
from ouroboros.ai.llm.base import LlmRequest
from ouroboros.errors import LlmError

__all__ = ["OllamaProvider", "OpenAICompatProvider"]


def _messages(request: LlmRequest) -> list[dict[str, str]]:
    messages = [{"role": "system", "content": request.system}] if request.system else []
    return [*messages, {"role": "user", "content": request.prompt}]


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


class OllamaProvider(HttpProvider):
    name = "ollama"

    def _path(self) -> str:
        return "/api/chat"

    def _body(self, request: LlmRequest, model: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": model,
            "messages": _messages(request),
            "stream": False,
            "options": {"temperature": request.temperature, "num_predict": request.max_tokens},
        }
        if request.schema is not None:
            body["format"] = request.schema
        return body

    def _read(self, envelope: Any) -> tuple[str, int, int]:
        expect(envelope, dict, "JSON object")
        if isinstance(envelope.get("error"), str):
            raise LlmError(f"ollama: {envelope['error'][:200]}", code="refused")
        message = expect(envelope.get("message"), dict, "message object")
        text = expect(message.get("content"), str, "message.content string")
        return text, _count(envelope.get("prompt_eval_count")), _count(envelope.get("eval_count"))


class OpenAICompatProvider(HttpProvider):
    name = "openai"

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        *,
        structured: str = "response_format",
        **options: Any,
    ) -> None:
        if structured not in ("response_format", "vllm"):
            raise LlmError("structured must be 'response_format' or 'vllm'", code="bad_request")
        super().__init__(base_url, model, api_key=api_key, **options)
        self.structured = structured

    def _path(self) -> str:
        # a bare server gets the usual /v1; a base URL with a path is the API root already
        # (https://api.openai.com/v1, https://generativelanguage.googleapis.com/v1beta/openai)
        return "/chat/completions" if urlsplit(self.base_url).path.strip("/") else "/v1/chat/completions"

    def _body(self, request: LlmRequest, model: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": model,
            "messages": _messages(request),
            "temperature": request.temperature,
            "max_tokens": request.max_tokens,
            "stream": False,
        }
        if request.schema is not None:
            if self.structured == "vllm":
                body["structured_outputs"] = {"json": request.schema}
            else:
                body["response_format"] = {
                    "type": "json_schema",
                    "json_schema": {
                        "name": f"ouroboros_{request.role}",
                        "schema": request.schema,
                        "strict": True,
                    },
                }
        return body

    def _read(self, envelope: Any) -> tuple[str, int, int]:
        expect(envelope, dict, "JSON object")
        choices = expect(envelope.get("choices"), list, "choices list")
        if not choices:
            raise LlmError("the response has no choices", code="bad_json")
        message = expect(expect(choices[0], dict, "choice object").get("message"), dict, "choices[0].message")
        refusal = message.get("refusal")
        if isinstance(refusal, str) and refusal:
            raise LlmError(f"the model refused: {refusal[:200]}", code="refused")
        text = expect(message.get("content"), str, "choices[0].message.content string")
        usage = envelope.get("usage") if isinstance(envelope.get("usage"), dict) else {}
        return text, _count(usage.get("prompt_tokens")), _count(usage.get("completion_tokens"))
