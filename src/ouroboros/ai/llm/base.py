"""The one interface every language-model provider implements, and the data it passes.

What it promises:

- ``LlmRequest`` and ``LlmResponse`` are frozen data. ``request_key`` is the sha256 of the
  request's canonical JSON (RFC 8785), so two equal requests share one cache entry.
- A provider answers ``complete(request)`` with an ``LlmResponse`` whose ``data`` validates
  against ``request.schema`` (checked by us, never trusted to the model), or raises ``LlmError``
  with one of ``ERROR_CODES``. Nothing else escapes a provider.
- ``request.model`` may be ``""``: the provider's own model.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Any, Protocol, runtime_checkable

from ouroboros.errors import LLM_ERROR_CODES, LLM_RETRYABLE_CODES, LlmError
from ouroboros.patches import canonical_bytes

__all__ = [
    "ERROR_CODES",
    "RETRYABLE_CODES",
    "ROLES",
    "LlmRequest",
    "LlmResponse",
    "Provider",
    "request_key",
]

#: What a model is asked to do: names and descriptions, barks and dialogue, behaviour code for
#: the sandbox, and choices among given options.
ROLES: tuple[str, ...] = ("flavour", "dialogue", "trait_code", "narrative")

#: ``LlmError`` codes (see ``ouroboros.errors``), and those worth another try.
ERROR_CODES = LLM_ERROR_CODES
RETRYABLE_CODES = LLM_RETRYABLE_CODES


@dataclass(frozen=True)
class LlmRequest:
    """One question to a model. ``schema`` is the JSON Schema the answer must follow (``None``:
    free text). ``max_tokens`` bounds the answer, ``timeout_s`` the whole call (all retries)."""

    role: str
    system: str
    prompt: str
    schema: dict[str, Any] | None
    model: str
    temperature: float = 0
    max_tokens: int = 512
    timeout_s: float = 10.0

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise LlmError(f"unknown role {self.role!r} (roles: {', '.join(ROLES)})", code="bad_request")
        if not isinstance(self.max_tokens, int) or not 1 <= self.max_tokens <= 32_768:
            raise LlmError("max_tokens must be an integer from 1 to 32768", code="bad_request")
        if not 0 < self.timeout_s <= 600:
            raise LlmError("timeout_s must be above 0 and at most 600", code="bad_request")
        if not 0 <= self.temperature <= 2:
            raise LlmError("temperature must be from 0 to 2", code="bad_request")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class LlmResponse:
    """A model's answer: ``text`` as it came, ``data`` the parsed JSON (``None`` for free text)."""

    text: str
    data: Any
    provider: str
    model: str
    tokens_in: int
    tokens_out: int
    latency_ms: int
    cached: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@runtime_checkable
class Provider(Protocol):
    """Anything that answers ``LlmRequest``s: offline grammars, Ollama, an OpenAI-compatible server."""

    name: str

    def complete(self, request: LlmRequest) -> LlmResponse: ...


def _canonical_request(request: LlmRequest, provider: str, model: str) -> bytes:
    body = request.as_dict()
    # floats are not canonical-JSON friendly across versions; temperature in permille is exact
    body["temperature"] = round(request.temperature * 1000)
    body["timeout_s"] = None  # how long we wait does not change the answer
    body["model"] = model
    body["provider"] = provider
    return canonical_bytes(body)


def request_key(request: LlmRequest, provider: str = "", model: str = "") -> str:
    """sha256 (hex) of the canonical request, as answered by ``provider``/``model``."""
    return hashlib.sha256(_canonical_request(request, provider, model or request.model)).hexdigest()
