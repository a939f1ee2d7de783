"""Advisors for the engine's optimizer: decision support only.

An advisor ranks the rule-based candidates of a guard from a profile summary and predicts, for
each, the risk (0..1) that it regresses or fails its parity guard, with a one-line reason. It
never writes code and never decides: the optimizer's rules do, and log the advice beside each
decision (``ouroboros.engine.optimizer.advice``).

- ``OfflineAdvisor`` (the default): deterministic. Measured candidates first, by their measured
  speed-up discounted by the spread of their times; the others by the current time they could
  save. Risk from that spread, from the candidate's earlier failed or aborted guards, and from
  being unmeasured at this size.
- ``ModelAdvisor``: asks the model serving a council role (``narrative`` by default: choices
  among given options) through the registry (``RoleRouter``: timed, recorded, and answered from
  the shared response cache when asked the same), with a JSON Schema; the answer is then checked
  strictly here: an unknown or repeated candidate id, or a risk outside 0..100 percent, is
  dropped with its reason in ``Advice.ignored``. While the role is served offline (no model
  configured), it answers as the ``OfflineAdvisor``.
"""

from __future__ import annotations

import json
from typing import Any

from ouroboros.engine.optimizer import Advice, CandidateFigures, ProfileSummary, Risk

__all__ = ["ADVICE_SCHEMA", "ModelAdvisor", "OfflineAdvisor", "live_advisor", "parse_advice"]

#: What a model answers: ids best first, and a risk in whole percent with a reason per id. The
#: schema holds structure only: what an id or a risk may be is checked by ``parse_advice``, one
#: item at a time, so one bad item costs that item, not the whole answer.
ADVICE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["ranking", "risks"],
    "properties": {
        "ranking": {"type": "array", "maxItems": 32, "items": {"type": "string", "maxLength": 120}},
        "risks": {
            "type": "array",
            "maxItems": 32,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id", "risk_percent", "reason"],
                "properties": {
                    "id": {"type": "string", "maxLength": 120},
                    "risk_percent": {"type": "integer"},
                    "reason": {"type": "string", "maxLength": 200},
                },
            },
        },
    },
}

SYSTEM_PROMPT = (
    "You advise a game engine's optimizer. It will guard candidate implementations of its systems "
    "by running them beside the live one and keeping one only if its outputs are identical and it "
    "is faster. You only rank the candidates, best first, and give each a risk in whole percent "
    "(0 to 100) that it fails the check or turns out slower, with a one-line reason. Use only the "
    "candidate ids given. Answer JSON only."
)


class OfflineAdvisor:
    """Deterministic advice from the measured figures alone."""

    name = "offline"

    def __call__(self, summary: ProfileSummary) -> Advice:
        ranked = sorted(summary.candidates, key=_score, reverse=True)
        return Advice(self.name, tuple(c.id for c in ranked), {c.id: _risk(c) for c in summary.candidates})


def _score(c: CandidateFigures) -> tuple[int, float, str]:
    spread = min(c.spread or 0.0, 1.0)
    if c.expected_ms is not None and c.expected_ms > 0:
        return (1, c.current_ms / c.expected_ms * (1 - spread / 2), c.id)
    return (0, c.current_ms, c.id)


def _risk(c: CandidateFigures) -> Risk:
    failed = c.past.get("guard_failed", 0)
    aborted = c.past.get("abort", 0)
    tried = sum(c.past.values())
    risk, why = 0.05, []
    if c.spread is not None and c.spread > 0.05:
        risk += min(0.4, c.spread)
        why.append(f"its times spread {c.spread:.0%}")
    if failed:
        risk += 0.5
        why.append(f"failed parity {failed} times")
    if aborted and tried:
        risk += 0.2 * aborted / tried
        why.append(f"aborted {aborted} of {tried} guards")
    if c.expected_ms is None:
        risk += 0.15
        why.append(f"unmeasured at {c.size} entities")
    elif c.expected_ms > 0:
        why.insert(0, f"measured {c.current_ms / c.expected_ms:.3g} times as fast")
    return Risk(round(min(risk, 1.0), 3), ("; ".join(why) or "measured, steady, never failed")[:200])


def parse_advice(data: Any, summary: ProfileSummary, advisor: str) -> Advice:
    """A model's answer (already of ``ADVICE_SCHEMA``'s shape) as ``Advice``: unknown or repeated
    ids and risks outside 0..100 percent are dropped, each with its reason in ``ignored``."""
    known = set(summary.ids)
    ignored: list[str] = []
    ranking: list[str] = []
    if not isinstance(data, dict):
        return Advice(advisor, (), {}, ("the answer is not a JSON object",))
    for cid in data.get("ranking") or []:
        if not isinstance(cid, str) or cid not in known:
            ignored.append(f"ranking: unknown candidate {str(cid)[:60]!r}")
        elif cid in ranking:
            ignored.append(f"ranking: {cid} named twice")
        else:
            ranking.append(cid)
    risks: dict[str, Risk] = {}
    for item in data.get("risks") or []:
        if not isinstance(item, dict):
            ignored.append("risks: an item that is not an object")
            continue
        cid, pct, reason = item.get("id"), item.get("risk_percent"), item.get("reason")
        if not isinstance(cid, str) or cid not in known:
            ignored.append(f"risk: unknown candidate {str(cid)[:60]!r}")
        elif cid in risks:
            ignored.append(f"risk: {cid} named twice")
        elif not isinstance(pct, int) or isinstance(pct, bool) or not 0 <= pct <= 100:
            ignored.append(f"risk of {cid}: {pct!r} percent is outside 0..100")
        else:
            line = " ".join(str(reason or "").split())[:200] or "no reason given"
            risks[cid] = Risk(pct / 100, line)
    return Advice(advisor, tuple(ranking), risks, tuple(ignored))


def _sig(value: float | None) -> float | None:
    """Two significant figures: what a model can use of a time, and equal questions for the cache
    when the figures only jitter."""
    return None if value is None else float(f"{value:.2g}")


def _prompt(summary: ProfileSummary) -> str:
    candidates = [
        {
            "id": c.id,
            "kind": c.kind,
            "entities": c.size,
            "current_ms": _sig(c.current_ms),
            "expected_ms": _sig(c.expected_ms),
            "spread": _sig(c.spread),
            "earlier_outcomes": dict(c.past),
        }
        for c in summary.candidates
    ]
    profile = {
        "tick_ms": _sig(summary.tick_ms),
        "system_ms": {k: _sig(v) for k, v in sorted(summary.systems.items())},
        "candidates": candidates,
    }
    ids = ", ".join(summary.ids)
    return f"Profile:\n{json.dumps(profile, sort_keys=True)}\nRank these candidate ids: {ids}"


class ModelAdvisor:
    """Advice from the model serving ``role`` in the registry; offline advice while none does.

    ``models`` is a ``LiveRegistry`` (its ``latest()``: the registry the control thread last
    built, since the advisor runs on its own thread) or a ``ModelRegistry``."""

    def __init__(
        self,
        models: Any,
        *,
        role: str = "narrative",
        timeout_s: float = 30.0,
        max_tokens: int = 400,
        offline: OfflineAdvisor | None = None,
    ) -> None:
        self.models = models
        self.role = role
        self.timeout_s = timeout_s
        self.max_tokens = max_tokens
        self.offline = offline or OfflineAdvisor()
        self.name = f"model:{role}"

    def _registry(self) -> Any:
        latest = getattr(self.models, "latest", None)
        return latest() if callable(latest) else self.models

    def __call__(self, summary: ProfileSummary) -> Advice:
        from ouroboros.ai.llm.base import LlmRequest
        from ouroboros.ai.llm.routing import RoleRouter

        registry = self._registry()
        assignment = None if registry is None else registry.assignment(self.role)
        if registry is None or assignment is None or assignment.provider == "offline":
            return self.offline(summary)
        request = LlmRequest(
            role=self.role,
            system=SYSTEM_PROMPT,
            prompt=_prompt(summary),
            schema=ADVICE_SCHEMA,
            model="",
            temperature=0,
            max_tokens=self.max_tokens,
            timeout_s=self.timeout_s,
        )
        response = RoleRouter(registry).complete(request)  # LlmError: the optimizer logs it as failed
        return parse_advice(response.data, summary, f"{assignment.provider}/{assignment.model}")


def live_advisor(models: Any = None) -> OfflineAdvisor | ModelAdvisor:
    """The advisor of a live world: the model serving ``narrative`` once a ``models set`` names
    one (read at each question), offline advice until then; offline without a registry."""
    return OfflineAdvisor() if models is None else ModelAdvisor(models)
