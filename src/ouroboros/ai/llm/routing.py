"""Routing a council role to the model the registry names for it, timed and recorded.

What it promises:

- ``LiveRegistry`` is the ``ModelRegistry`` of a governor's *active* version: it is rebuilt when
  the active patch changes (a ``models set`` or a rollback), so a running council follows the
  governed assignment. Stats live in one SQLite file across rebuilds.
- ``RoleRouter`` is a ``Provider`` that sends each request to the provider serving the request's
  role, with the role's model. Every call is timed and recorded per role and model
  (``ModelRegistry.record``): an answer that is late (past the request's ``timeout_s``) or outside
  the schema counts as a failure and raises ``LlmError``, so the caller falls back. ``calls``
  lists what was asked (role, provider, model, latency, ok, error) so acceptance can be recorded
  later, when the proposal the words went into is accepted.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ouroboros import tracing
from ouroboros.ai.llm.base import LlmRequest, LlmResponse
from ouroboros.ai.llm.registry import ModelRegistry
from ouroboros.ai.llm.schema import validate
from ouroboros.errors import LlmError

__all__ = ["LiveRegistry", "RoleRouter"]


class LiveRegistry:
    """The model registry of ``governor``'s active version (rebuilt when that changes)."""

    def __init__(
        self,
        governor: Any,
        db_path: Path | str | None,
        *,
        defaults: Mapping[str, Any] | None = None,
        keys: Any = None,
        cache: Any = None,
    ) -> None:
        self.governor = governor
        self.keys = keys  # a KeyRing: hosted providers' API keys
        self.cache = cache  # a ResponseCache every provider shares (closed with this)
        self.db_path = db_path
        self.defaults = dict(defaults or {})  # role -> RoleAssignment where the content names none
        self._registry: ModelRegistry | None = None
        self._version: object = object()  # never equal to an active patch id
        self.remote: Any = None  # ``ModelRegistry.remote``, for every registry built from now on

    def serve_through(self, remote: Any) -> None:
        """Serve the roles assigned a model through ``remote`` (``ModelRegistry.remote``; None:
        call the models here again), from the next ``current()`` on."""
        self.remote = remote
        self._version = object()

    def current(self) -> ModelRegistry:
        active = self.governor.active()
        if self._registry is None or active != self._version:
            fresh = ModelRegistry.from_content(
                self.governor.active_content(),
                db_path=self.db_path,
                defaults=self.defaults,
                keys=self.keys,
                cache=self.cache,
                remote=self.remote,
            )
            if self._registry is not None:
                self._registry.close()
            self._registry, self._version = fresh, active
        return self._registry

    def latest(self) -> ModelRegistry | None:
        """The registry last built by ``current()``, without asking the governor: for another
        thread (the governor's SQLite belongs to the control thread). ``None`` before the first."""
        return self._registry

    def close(self) -> None:
        if self._registry is not None:
            self._registry.close()
            self._registry = None
        if self.cache is not None:
            self.cache.close()


class RoleRouter:
    """A ``Provider`` over a registry: each request goes to its role's provider and model."""

    name = "registry"

    def __init__(self, registry: ModelRegistry) -> None:
        self.registry = registry
        self.calls: list[dict[str, Any]] = []

    def complete(self, request: LlmRequest) -> LlmResponse:
        assignment = self.registry.assignment(request.role)
        routed = dataclasses.replace(request, model=assignment.model)
        call: dict[str, Any] = {
            "role": request.role,
            "provider": assignment.provider,
            "model": assignment.model,
            "ok": False,
        }
        started = time.monotonic()
        tokens = (0, 0)
        response: LlmResponse | None = None
        try:
            response = self.registry.provider(request.role).complete(routed)
            tokens = (0, 0) if response.cached else (response.tokens_in, response.tokens_out)
            elapsed = time.monotonic() - started
            if elapsed > request.timeout_s:
                raise LlmError(
                    f"answered in {elapsed:.1f} s, more than {request.timeout_s:.1f} s", code="timeout"
                )
            problems = validate(response.data, request.schema) if request.schema is not None else []
            if problems:
                raise LlmError(f"{problems[0][0] or '/'} {problems[0][1]}", code="schema_mismatch")
        except LlmError as exc:
            call["error"] = f"{exc.code}: {exc.message}"[:300]
            raise
        except Exception as exc:  # a provider is outside code: record it, the caller falls back
            call["error"] = f"error: {type(exc).__name__}: {exc}"[:300]
            raise LlmError(call["error"], code="http_error") from exc
        else:
            call["ok"] = True
            return response
        finally:
            call["latency_ms"] = int((time.monotonic() - started) * 1000)
            self.calls.append(call)
            tracing.record(
                "model.call",
                time.monotonic() - started,
                role=request.role,
                provider=assignment.provider,
                model=assignment.model,
                tokens_in=tokens[0],
                tokens_out=tokens[1],
                latency_ms=call["latency_ms"],
                cache_hit=response is not None and response.cached,
                ok=call["ok"],
                error=call.get("error"),
            )
            self.registry.record(
                request.role,
                assignment.model,
                call["latency_ms"],
                call["ok"],
                False,
                tokens_in=tokens[0],
                tokens_out=tokens[1],
            )
