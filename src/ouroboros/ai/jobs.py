"""The council's work as worker jobs (``ouroboros worker gen``): plain JSON in, JSON out.

``gen``: ``{"type", "seed", "world", "context"?, "content"?}`` → ``{"proposal": {...}}``, the
same proposal ``generate`` makes in-process (so a result is the same bytes wherever it ran).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ouroboros.errors import BadInputError

GEN_KEYS = frozenset({"type", "seed", "world", "context", "content"})


def gen_job(payload: dict[str, Any]) -> dict[str, Any]:
    from ouroboros.ai.generators import generate

    unknown = set(payload) - GEN_KEYS
    if unknown or not {"type", "seed", "world"} <= set(payload):
        raise BadInputError(f"a gen job takes {sorted(GEN_KEYS)} (type, seed, world required)")
    proposal = generate(
        payload["type"],
        payload["seed"],
        world=payload["world"],
        content=payload.get("content"),
        context=payload.get("context"),
    )
    return {"proposal": proposal.model_dump(mode="json")}


#: job kind → handler, for ``ouroboros worker KIND``
HANDLERS: Mapping[str, Callable[[dict[str, Any]], Mapping[str, Any]]] = {"gen": gen_job}

__all__ = ["HANDLERS", "gen_job"]
