"""``Ensemble``: a weighted vote of several models on a narrative decision, every vote audited.

What it promises:

- Each provider is asked the same question with the options as the schema's ``enum``; its answer
  counts with its integer weight. A provider that fails, or answers outside the options, abstains
  (its answer records why). The option with the most weight wins; a tie goes to the option listed
  first, so the outcome depends on the answers only.
- If every provider abstains, the offline provider decides (``fallback: True``), so a decision is
  always made.
- Every decision, with each model's answer and weight, is passed to ``audit`` (the caller
  persists it) before ``decide`` returns.
- ``Prompted`` lets one model vote more than once, each time with its own system prompt (its own
  voice); ``storyteller_voters`` is the storyteller's panel: the narrative model as a steady and
  as a dramatic voice, and the offline storyteller, with weights the operator configures
  (``STORYTELLER_WEIGHTS`` by default; a weight of 0 leaves a voter out).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from ouroboros.ai.llm.base import LlmRequest, LlmResponse, Provider
from ouroboros.ai.llm.offline import OfflineProvider
from ouroboros.errors import LlmError

__all__ = [
    "STORYTELLER_PROMPTS",
    "STORYTELLER_WEIGHTS",
    "Decision",
    "Ensemble",
    "Prompted",
    "storyteller_voters",
]

_SYSTEM = (
    "You help direct a living game world. Choose exactly one of the options given and answer "
    'with JSON: {"choice": "<option>"}.'
)


#: the two voices the narrative model votes with
STORYTELLER_PROMPTS: dict[str, str] = {
    "steady": (
        "You are a careful storyteller for a living game world: prefer what keeps the city "
        'believable and the players safe. Choose exactly one option; answer {"choice": "<option>"}.'
    ),
    "dramatic": (
        "You are a bold storyteller for a living game world: prefer what makes the best story "
        'tonight. Choose exactly one option; answer {"choice": "<option>"}.'
    ),
}
#: voter -> weight: the model's two voices and the offline storyteller
STORYTELLER_WEIGHTS: dict[str, int] = {"steady": 2, "dramatic": 2, "offline": 1}


class Prompted:
    """``provider`` asked with its own system prompt, under its own name (a voice of a model)."""

    def __init__(self, provider: Provider, system: str, name: str) -> None:
        self.provider = provider
        self.system = system
        self.name = name

    def complete(self, request: LlmRequest) -> LlmResponse:
        return self.provider.complete(dataclasses.replace(request, system=self.system))


def storyteller_voters(
    model: Provider, weights: Mapping[str, int] | None = None
) -> list[tuple[Provider, int]]:
    """The storyteller's panel over ``model`` (see the module doc). ``LlmError`` for an unknown
    voter or a weight outside 0-1000, or when every weight is 0."""
    chosen = dict(STORYTELLER_WEIGHTS if weights is None else weights)
    unknown = sorted(set(chosen) - set(STORYTELLER_WEIGHTS))
    if unknown:
        raise LlmError(
            f"unknown storyteller voter(s) {', '.join(unknown)} (voters: {', '.join(STORYTELLER_WEIGHTS)})",
            code="bad_request",
        )
    for voter, weight in chosen.items():
        if not isinstance(weight, int) or isinstance(weight, bool) or not 0 <= weight <= 1000:
            raise LlmError(f"the weight of {voter} must be an integer from 0 to 1000", code="bad_request")
    voters: list[tuple[Provider, int]] = [
        (Prompted(model, STORYTELLER_PROMPTS[voice], f"{model.name}:{voice}"), chosen.get(voice, 0))
        for voice in STORYTELLER_PROMPTS
    ]
    voters.append((OfflineProvider(), chosen.get("offline", 0)))
    kept = [(voter, weight) for voter, weight in voters if weight > 0]
    if not kept:
        raise LlmError("every storyteller weight is 0: at least one voter must vote", code="bad_request")
    return kept


@dataclass(frozen=True)
class Decision:
    question: str
    options: list[str]
    choice: str
    votes: dict[str, int]  # option -> weight it received
    weights: dict[str, int]  # voter -> weight
    answers: dict[str, dict[str, Any]]  # voter -> {"choice": ..., "model": ...} or {"abstained": reason}
    fallback: bool = False
    tokens: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Ensemble:
    def __init__(
        self,
        providers_with_weights: Sequence[tuple[Provider, int]],
        audit: Callable[[dict[str, Any]], None] | None = None,
        *,
        timeout_s: float = 10.0,
    ) -> None:
        if not providers_with_weights:
            raise LlmError("an ensemble needs at least one provider", code="bad_request")
        self._voters: list[tuple[str, Provider, int]] = []
        seen: dict[str, int] = {}
        for provider, weight in providers_with_weights:
            if not isinstance(weight, int) or isinstance(weight, bool) or not 1 <= weight <= 1000:
                raise LlmError("a weight is an integer from 1 to 1000", code="bad_request")
            seen[provider.name] = seen.get(provider.name, 0) + 1
            label = provider.name if seen[provider.name] == 1 else f"{provider.name}#{seen[provider.name]}"
            self._voters.append((label, provider, weight))
        self._audit = audit
        self._timeout_s = timeout_s

    def decide(self, question: str, options: Sequence[str], *, context: str = "") -> Decision:
        """The weighted choice among ``options`` (distinct, non-empty strings)."""
        listed = list(options)
        if not listed or len(set(listed)) != len(listed) or not all(isinstance(o, str) and o for o in listed):
            raise LlmError("options must be distinct non-empty strings, at least one", code="bad_request")
        schema = {
            "type": "object",
            "properties": {"choice": {"type": "string", "enum": listed}},
            "required": ["choice"],
            "additionalProperties": False,
        }
        prompt = "\n".join([context, question, "Options:", *(f"- {o}" for o in listed)]).strip()
        request = LlmRequest(
            "narrative", _SYSTEM, prompt, schema, "", max_tokens=64, timeout_s=self._timeout_s
        )
        votes = dict.fromkeys(listed, 0)
        answers: dict[str, dict[str, Any]] = {}
        tokens = {"in": 0, "out": 0}
        for label, provider, weight in self._voters:
            try:
                response = provider.complete(request)
            except LlmError as exc:
                answers[label] = {"abstained": f"{exc.code}: {exc.message}"[:300]}
                continue
            except Exception as exc:  # a provider is outside code: it abstains, the vote goes on
                answers[label] = {"abstained": f"error: {type(exc).__name__}: {exc}"[:300]}
                continue
            tokens["in"] += response.tokens_in
            tokens["out"] += response.tokens_out
            data = response.data
            choice = data.get("choice") if isinstance(data, dict) else None
            if not isinstance(choice, str) or choice not in votes:
                answers[label] = {"abstained": f"answered outside the options: {str(data)[:200]}"}
                continue
            votes[choice] += weight
            answers[label] = {"choice": choice, "model": response.model}
        fallback = not any(votes.values())
        if fallback:
            winner = OfflineProvider().complete(request).data["choice"]
        else:
            winner = max(listed, key=lambda o: (votes[o], -listed.index(o)))
        decision = Decision(
            question=question,
            options=listed,
            choice=winner,
            votes=votes,
            weights={label: weight for label, _, weight in self._voters},
            answers=answers,
            fallback=fallback,
            tokens=tokens,
        )
        if self._audit is not None:
            self._audit({"event": "ensemble_decision", **decision.as_dict()})
        return decision
