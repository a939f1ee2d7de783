"""What every provider that talks HTTP shares: the call, its limits, retries, cache and accounting.

A subclass says how to build the request body (``_body``) and how to read the answer out of the
response envelope (``_read``); this base does the rest, in this order:

1. the cache (by ``request_key``): a hit is returned at once, marked ``cached``;
2. ``POST`` with a timeout per attempt that never goes past the request's overall ``timeout_s``;
   the body is read in chunks and refused past ``max_response_bytes`` (``too_large``), so a
   hostile server cannot make us hold a huge answer; a trickling server hits the deadline;
3. the envelope and the answer are parsed as strict JSON (``load_json``: no duplicate keys, no
   NaN) and the answer is validated against the request's schema by ``schema.validate``;
4. ``timeout``, 5xx / transport failures and ``bad_json`` are retried with exponential backoff
   (``sleep`` is injectable), up to ``max_attempts``; other failures are final;
5. every attempt is counted in ``accounting``; a valid answer goes into the cache.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from ouroboros.ai.llm.accounting import Accounting
from ouroboros.ai.llm.base import LlmRequest, LlmResponse, request_key
from ouroboros.ai.llm.cache import ResponseCache
from ouroboros.ai.llm.keys import redact
from ouroboros.ai.llm.schema import check_schema, validate
from ouroboros.errors import BadInputError, LlmError, SchemaError
from ouroboros.patches import load_json

__all__ = ["DEFAULT_MAX_RESPONSE_BYTES", "HttpProvider", "expect", "parse_answer"]

DEFAULT_MAX_RESPONSE_BYTES = 256 * 1024


def parse_answer(text: str, schema: dict[str, Any] | None) -> Any:
    """The answer ``text`` as JSON checked against ``schema`` (``None``: free text, no JSON)."""
    if schema is None:
        return None
    try:
        data = load_json(text.strip(), "model answer")
    except BadInputError as exc:
        raise LlmError(f"the answer is not JSON: {exc.message}", code="bad_json") from exc
    problems = validate(data, schema)
    if problems:
        shown = "; ".join(f"{path or '/'}: {message}" for path, message in problems[:5])
        raise LlmError(f"the answer does not fit the schema: {shown}", code="schema_mismatch")
    return data


class HttpProvider:
    """Base of the HTTP providers (see the module doc). Not used directly."""

    name = "http"

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        max_attempts: int = 3,
        backoff_s: float = 0.25,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        cache: ResponseCache | None = None,
        accounting: Accounting | None = None,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
        headers: dict[str, str] | None = None,
        api_key: str | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise LlmError(
                f"base_url must start with http:// or https://, not {base_url!r}", code="bad_request"
            )
        if not 1 <= max_attempts <= 10:
            raise LlmError("max_attempts must be from 1 to 10", code="bad_request")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.max_response_bytes = max_response_bytes
        self.cache = cache
        self.accounting = accounting if accounting is not None else Accounting()
        self._sleep = sleep
        self._secrets = [api_key] if api_key else []  # redacted from every error we raise
        auth = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(
            transport=transport, headers={**(headers or {}), **auth}, follow_redirects=False
        )

    def __repr__(self) -> str:  # never the key
        return f"{type(self).__name__}({self.base_url!r}, {self.model!r})"

    def close(self) -> None:
        self._client.close()

    # -- subclass hooks ---------------------------------------------------------------------------
    def _path(self) -> str:
        raise NotImplementedError

    def _body(self, request: LlmRequest, model: str) -> dict[str, Any]:
        raise NotImplementedError

    def _read(self, envelope: Any) -> tuple[str, int, int]:
        """(answer text, tokens in, tokens out) from the decoded response envelope."""
        raise NotImplementedError

    # -- the call ---------------------------------------------------------------------------------
    def complete(self, request: LlmRequest) -> LlmResponse:
        model = request.model or self.model
        if request.schema is not None:
            try:
                check_schema(request.schema)
            except SchemaError as exc:
                raise LlmError(
                    f"unsupported schema: {exc.message}", code="bad_request", path=exc.path
                ) from exc
        key = request_key(request, self.name, model)
        if self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None:
                self.accounting.record(request.role, self.name, model, cached=True)
                return hit
        deadline = time.monotonic() + request.timeout_s
        last: LlmError | None = None
        for attempt in range(self.max_attempts):
            started = time.monotonic()
            try:
                response = self._attempt(request, model, deadline)
            except LlmError as exc:
                elapsed = int((time.monotonic() - started) * 1000)
                self.accounting.record(request.role, self.name, model, latency_ms=elapsed, ok=False)
                last = exc
                pause = self.backoff_s * (2**attempt)
                if (
                    not exc.retryable
                    or attempt + 1 >= self.max_attempts
                    or time.monotonic() + pause >= deadline
                ):
                    break
                self._sleep(pause)
                continue
            self.accounting.record(
                request.role,
                self.name,
                model,
                tokens_in=response.tokens_in,
                tokens_out=response.tokens_out,
                latency_ms=response.latency_ms,
            )
            if self.cache is not None:
                self.cache.put(key, response)
            return response
        if last is None:  # unreachable: the loop runs at least once and returns or sets it
            raise LlmError("no attempt was made", code="bad_request")
        if self._secrets and redact(last.message, self._secrets) != last.message:
            raise LlmError(
                redact(last.message, self._secrets),
                code=last.code,
                status=last.status,
                retryable=last.retryable,
            )
        raise last

    def _attempt(self, request: LlmRequest, model: str, deadline: float) -> LlmResponse:
        started = time.monotonic()
        left = deadline - started
        if left <= 0:
            raise LlmError("no time left for another attempt", code="timeout")
        raw, status = self._post(self._body(request, model), left, deadline)
        if status >= 500:
            raise LlmError(f"the server answered {status}", code="http_error", status=status, retryable=True)
        if status >= 300:
            raise LlmError(
                f"the server answered {status}: {raw[:200].decode('utf-8', 'replace')}",
                code="http_error",
                status=status,
                retryable=status == 429,
            )
        try:
            envelope = load_json(raw, "response")
        except BadInputError as exc:
            raise LlmError(
                f"the response is not JSON: {exc.message}", code="bad_json", status=status
            ) from exc
        text, tokens_in, tokens_out = self._read(envelope)
        data = parse_answer(text, request.schema)
        latency = int((time.monotonic() - started) * 1000)
        return LlmResponse(text, data, self.name, model, tokens_in, tokens_out, latency, cached=False)

    def _post(self, body: dict[str, Any], left_s: float, deadline: float) -> tuple[bytes, int]:
        timeout = httpx.Timeout(left_s)
        chunks: list[bytes] = []
        size = 0
        try:
            with self._client.stream(
                "POST", self.base_url + self._path(), json=body, timeout=timeout
            ) as response:
                declared = response.headers.get("content-length")
                if declared is not None and declared.isdigit() and int(declared) > self.max_response_bytes:
                    raise LlmError(
                        f"the response is {declared} bytes, more than the {self.max_response_bytes} accepted",
                        code="too_large",
                        status=response.status_code,
                    )
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > self.max_response_bytes:
                        raise LlmError(
                            f"the response is more than the {self.max_response_bytes} bytes accepted",
                            code="too_large",
                            status=response.status_code,
                        )
                    if time.monotonic() > deadline:
                        raise LlmError("the response did not finish in time", code="timeout")
                    chunks.append(chunk)
                return b"".join(chunks), response.status_code
        except httpx.TimeoutException as exc:
            raise LlmError(f"no answer in time ({type(exc).__name__})", code="timeout") from exc
        except httpx.HTTPError as exc:
            raise LlmError(f"transport failure: {type(exc).__name__}: {exc}", code="http_error") from exc


def expect(value: Any, kind: type, what: str) -> Any:
    """``value`` if it is a ``kind`` (bool is never an int), else ``bad_json`` naming ``what``."""
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise LlmError(f"the response has no {what}", code="bad_json")
    return value
