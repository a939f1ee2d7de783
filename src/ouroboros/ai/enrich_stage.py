"""The council's enrich stage: a model rewrites a proposal's words, with what it must respect.

- ``provider_enrich`` is an ``Enrich`` over one provider; ``RegistryEnrich`` the product's,
  through the model registry of the active version (``RoleRouter``: timed, recorded), returning
  the report (which model, whether the generator's words were kept and why).
- ``enrich_context`` says what a proposal's enrichment must respect in the active version: the
  proposal's objects that exist already (their words are never rewritten) and the names of the
  existing objects it refers to (a quest's instructions must keep naming them).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ouroboros.ai.proposals import Proposal
from ouroboros.content.rules import Guardrails

__all__ = ["LLM_CACHE_DB", "Enrich", "RegistryEnrich", "enrich_context", "provider_enrich"]

#: what enrich is: a proposal in, a proposal out whose words may differ (the LLM helper's closure),
#: optionally with its report (a mapping: provider, model, fallback, reason, calls)
Enrich = Callable[[Proposal], "Proposal | tuple[Proposal, Mapping[str, Any]]"]

#: the response cache of every provider the council's registry builds (``ResponseCache``)
LLM_CACHE_DB = "llm-cache.sqlite3"


def provider_enrich(
    provider: Any,
    guardrails: Callable[[], Guardrails],
    *,
    log: Callable[[dict[str, Any]], None] | None = None,
    model: str = "",
) -> Enrich:
    """An ``enrich`` stage over an LLM ``provider`` (``ouroboros.ai.llm.enrich``: words only,
    with the guardrails in force when it runs)."""

    def run(proposal: Proposal) -> Proposal:
        from ouroboros.ai.llm import enrich

        enriched, _report = enrich(proposal, provider, guardrails=guardrails(), log=log, model=model)
        return enriched

    return run


class RegistryEnrich:
    """The enrich stage of the product: each role's words from the model the registry of the
    active version names (``RoleRouter``: timed, recorded), keeping the generator's words where
    the model fails or breaks a check, with the reason. Returns the enriched proposal and its
    report."""

    def __init__(
        self,
        models: Any,
        guardrails: Callable[[], Guardrails],
        *,
        timeout_s: float = 10.0,
        context: Callable[[Proposal], tuple[set[tuple[str, str]], list[str]]] | None = None,
    ) -> None:
        self.models = models  # a LiveRegistry
        self.guardrails = guardrails
        self.timeout_s = timeout_s
        self.context = context  # (existing objects, names they go by) of a proposal

    def __call__(self, proposal: Proposal) -> tuple[Proposal, dict[str, Any]]:
        from ouroboros.ai.llm import enrich
        from ouroboros.ai.llm.routing import RoleRouter

        existing, names = self.context(proposal) if self.context is not None else (set(), [])
        router = RoleRouter(self.models.current())
        enriched, report = enrich(
            proposal,
            router,
            guardrails=self.guardrails(),
            timeout_s=self.timeout_s,
            existing=existing,
            known_names=names,
        )
        return enriched, {
            "provider": report.provider,
            "model": report.model,
            "fallback": report.fallback,
            "reason": report.reason,
            "rejected": report.rejected,
            "calls": router.calls,
            "latency_ms": sum(int(c.get("latency_ms", 0)) for c in router.calls),
        }


def enrich_context(governor: Any, proposal: Proposal) -> tuple[set[tuple[str, str]], list[str]]:
    """What enrich must respect: the (domain, id) of the proposal's objects that exist already
    (their words are kept) and the names of existing objects the payload refers to (a quest's
    instructions must keep mentioning them)."""
    from ouroboros.patches import effective_objects

    now = effective_objects(governor.world_name, governor.active_content())
    existing = {(d, i) for d, i in proposal.object_ids() if i in now.get(d, {})}
    by_id = {i: o.get("name") for objects in now.values() for i, o in objects.items()}
    referred: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str) and isinstance(by_id.get(value), str):
            referred.add(by_id[value])

    walk(proposal.payload)
    return existing, sorted(referred)
