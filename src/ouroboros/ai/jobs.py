"""The council's and the evolution loop's work as worker jobs (``ouroboros worker gen|llm|evolve``):
plain JSON in, JSON out, the same answer wherever it ran.

- ``gen``: ``{"type", "seed", "world", "context"?, "content"?, "guardrails"?, "job"?}`` →
  ``{"proposal": {...}, "job"?}``, the same proposal ``generate`` makes in-process (so a result
  is the same bytes wherever it ran); ``job`` (the submitter's record) comes back as it went.
- ``llm``: one model call, the request the council makes through its model registry
  (``{"role", "prompt", "system"?, "schema"?, "model"?, "temperature"?, "max_tokens"?,
  "timeout_s"?}``, see ``llm_payload``) → ``{"ok": true, "text", "data", "provider", "model",
  "tokens_in", "tokens_out", "latency_ms"}``. A worker with no model configured, or a request the
  model cannot answer validly (a refusal, a schema mismatch, a bad request), answers
  ``{"ok": false, "error": {"code", "message"}}`` — a result, not a crash; a passing fault
  (timeout, transport, unparsable JSON) gives the job back to be tried again.
- ``evolve``: one cascade evaluation of one candidate trait (``ai.evolution.cascade``) against the
  world a snapshot holds (``evolve_payload`` makes the payload from a live world) →
  ``{"evaluation": {...}, "tick", "digest"}``. The world is rebuilt from its name, seed, config
  and snapshot, so the evaluation is a function of the payload alone: delivered twice, it gives
  the same result.
"""

from __future__ import annotations

import base64
import zlib
from collections.abc import Callable, Mapping
from typing import Any

from ouroboros.errors import BadInputError, LlmError

Handler = Callable[[dict[str, Any]], Mapping[str, Any]]

GEN_KEYS = frozenset({"type", "seed", "world", "context", "content", "guardrails", "job"})
LLM_KEYS = frozenset(
    {"role", "prompt", "system", "schema", "model", "temperature", "max_tokens", "timeout_s"}
)
EVOLVE_KEYS = frozenset({"world", "seed", "config", "snapshot", "content", "candidate", "cascade"})
CANDIDATE_KEYS = frozenset({"trait_id", "version", "source"})
#: what a worker answers an ``llm`` job with when it was started without a model
NO_MODEL = "this worker has no model: start it with --llm-url URL --llm-model NAME"


def gen_job(payload: dict[str, Any]) -> dict[str, Any]:
    from ouroboros.ai.generators import generate

    unknown = set(payload) - GEN_KEYS
    if unknown or not {"type", "seed", "world"} <= set(payload):
        raise BadInputError(f"a gen job takes {sorted(GEN_KEYS)} (type, seed, world required)")
    guardrails = None
    if payload.get("guardrails") is not None:
        from pydantic import ValidationError

        from ouroboros.content.rules import Guardrails

        try:
            guardrails = Guardrails.model_validate(payload["guardrails"])
        except ValidationError as exc:
            raise BadInputError(f"a gen job's guardrails: {exc}", path="guardrails") from exc
    proposal = generate(
        payload["type"],
        payload["seed"],
        world=payload["world"],
        content=payload.get("content"),
        guardrails=guardrails,
        context=payload.get("context"),
    )
    out: dict[str, Any] = {"proposal": proposal.model_dump(mode="json")}
    if "job" in payload:
        out["job"] = payload["job"]  # the submitter's own record, handed back with the result
    return out


# -- llm ----------------------------------------------------------------------------------------------
def llm_payload(request: Any) -> dict[str, Any]:
    """The ``llm`` job payload of an ``LlmRequest`` (what the council would ask in-process)."""
    out: dict[str, Any] = {
        "role": request.role,
        "system": request.system,
        "prompt": request.prompt,
        "temperature": request.temperature,
        "max_tokens": request.max_tokens,
        "timeout_s": request.timeout_s,
    }
    if request.schema is not None:
        out["schema"] = request.schema
    if request.model:
        out["model"] = request.model
    return out


def _llm_request(payload: Mapping[str, Any]) -> Any:
    from ouroboros.ai.llm.base import LlmRequest

    unknown = set(payload) - LLM_KEYS
    if unknown or not {"role", "prompt"} <= set(payload):
        raise BadInputError(f"an llm job takes {sorted(LLM_KEYS)} (role, prompt required)")
    for name in ("role", "prompt", "system", "model"):
        if name in payload and not isinstance(payload[name], str):
            raise BadInputError(f"an llm job's {name} must be text", path=name)
    schema = payload.get("schema")
    if schema is not None and not isinstance(schema, dict):
        raise BadInputError("an llm job's schema must be a JSON Schema object or absent", path="schema")
    return LlmRequest(
        role=payload["role"],
        system=payload.get("system", ""),
        prompt=payload["prompt"],
        schema=schema,
        model=payload.get("model", ""),
        temperature=payload.get("temperature", 0),
        max_tokens=payload.get("max_tokens", 512),
        timeout_s=payload.get("timeout_s", 10.0),
    )


def _failed(code: str, message: str) -> dict[str, Any]:
    return {"ok": False, "error": {"code": code, "message": message}}


def llm_handler(provider: Any | None) -> Handler:
    """The ``llm`` handler of a worker whose model is ``provider`` (None: no model configured)."""

    def llm_job(payload: dict[str, Any]) -> dict[str, Any]:
        try:
            request = _llm_request(payload)
        except LlmError as exc:  # the request's own values are out of bounds: never answerable
            return _failed(exc.code, exc.message)
        if provider is None:
            return _failed("no_model", NO_MODEL)
        try:
            response = provider.complete(request)
        except LlmError as exc:
            if exc.retryable:
                raise  # a passing fault: the job is delivered again (dead after the last attempt)
            return _failed(exc.code, exc.message)
        return {
            "ok": True,
            "text": response.text,
            "data": response.data,
            "provider": response.provider,
            "model": response.model,
            "tokens_in": response.tokens_in,
            "tokens_out": response.tokens_out,
            "latency_ms": response.latency_ms,
        }

    return llm_job


def model_provider(provider: str, base_url: str, model: str, api_key: str | None = None) -> Any:
    """A worker's model: ``ollama`` or ``openai`` (an OpenAI-compatible server) at ``base_url``."""
    from ouroboros.ai.llm.providers import OllamaProvider, OpenAICompatProvider

    if provider not in ("ollama", "openai"):
        raise BadInputError(f"--llm-provider {provider!r}: ollama or openai")
    if not base_url.startswith(("http://", "https://")):
        raise BadInputError(f"--llm-url {base_url!r}: write http://HOST:PORT")
    if not model:
        raise BadInputError("--llm-model is required with --llm-url")
    if provider == "ollama":
        return OllamaProvider(base_url, model, api_key=api_key)
    return OpenAICompatProvider(base_url, model, api_key)


# -- evolve -------------------------------------------------------------------------------------------
def evolve_payload(
    world: Any,
    content: Mapping[str, Any],
    trait_id: str,
    version: str,
    source: str,
    config: Any = None,
) -> dict[str, Any]:
    """The ``evolve`` job of one candidate against ``world`` as it is now (its snapshot) with the
    active ``content`` (the cascade's base); ``config`` a ``CascadeConfig`` (default: its own)."""
    import dataclasses

    from ouroboros.ai.evolution.cascade import CascadeConfig

    snapshot = base64.b64encode(zlib.compress(world.snapshot(), 6)).decode()
    return {
        "world": str(world.meta["world"]),
        "seed": int(world.seed),
        "config": dict(world.meta.get("config") or {}),
        "snapshot": snapshot,
        "content": dict(content),
        "candidate": {"trait_id": trait_id, "version": version, "source": source},
        "cascade": dataclasses.asdict(config or CascadeConfig()),
    }


def evolve_job(payload: dict[str, Any]) -> dict[str, Any]:
    from ouroboros.ai.evolution.cascade import Cascade, CascadeConfig
    from ouroboros.worlds import build_world, spec_of

    unknown = set(payload) - EVOLVE_KEYS
    if unknown or not {"world", "seed", "candidate"} <= set(payload):
        raise BadInputError(f"an evolve job takes {sorted(EVOLVE_KEYS)} (world, seed, candidate required)")
    candidate = payload["candidate"]
    if not isinstance(candidate, dict) or set(candidate) != CANDIDATE_KEYS:
        raise BadInputError(f"an evolve job's candidate is {sorted(CANDIDATE_KEYS)}", path="candidate")
    if not all(isinstance(v, str) for v in candidate.values()):
        raise BadInputError("an evolve job's candidate holds text", path="candidate")
    seed = payload["seed"]
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise BadInputError("an evolve job's seed must be an integer", path="seed")
    content = payload.get("content") or {}
    if not isinstance(content, dict):
        raise BadInputError("an evolve job's content must be an object", path="content")
    try:
        config = CascadeConfig(**(payload.get("cascade") or {}))
    except TypeError as exc:
        raise BadInputError(f"an evolve job's cascade: {exc}", path="cascade") from exc
    world = build_world(str(payload["world"]), seed, payload.get("config") or {})
    if payload.get("snapshot"):
        try:
            data = zlib.decompress(base64.b64decode(payload["snapshot"], validate=True))
        except (ValueError, zlib.error) as exc:
            raise BadInputError(
                f"an evolve job's snapshot is not base64 zlib: {exc}", path="snapshot"
            ) from exc
        world.restore(data)  # SnapshotError: not this world's
    if content:
        spec_of(world).apply_content(world, content)
    evaluation = Cascade(world, content, config).evaluate(
        candidate["trait_id"], candidate["version"], candidate["source"]
    )
    return {"evaluation": evaluation.as_dict(), "tick": world.tick, "digest": world.digest().hex}


#: job kind → handler, for ``ouroboros worker KIND`` (``llm`` here has no model: see ``handlers``)
HANDLERS: Mapping[str, Handler] = {"gen": gen_job, "llm": llm_handler(None), "evolve": evolve_job}


def handlers(kinds: list[str] | tuple[str, ...], llm: Any | None = None) -> dict[str, Handler]:
    """The handlers of ``kinds``, ``llm`` jobs answered by the model ``llm`` (None: none)."""
    return {k: (llm_handler(llm) if k == "llm" else HANDLERS[k]) for k in kinds}


__all__ = [
    "HANDLERS",
    "NO_MODEL",
    "evolve_job",
    "evolve_payload",
    "gen_job",
    "handlers",
    "llm_handler",
    "llm_payload",
    "model_provider",
]
