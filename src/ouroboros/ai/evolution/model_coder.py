"""A language model as a coder of petri traits, behind exactly the gates the genetic coder meets.

What it promises:

- ``model_hook(provider)`` is an ``LlmHook`` for ``LlmCoder``: it asks the model (role
  ``trait_code``) for one Lua trait, prompted with the host API (``function act(ctx)``, the
  readable fields, the intents it may add to, integers only in Q16 fixed point, what the sandbox
  forbids), an example trait the genetic coder wrote, the plan, and the errors and numbers of the
  previous generation's failed candidates. The answer is JSON ``{"lua": "..."}`` checked against
  its schema by the provider; the Lua itself is trusted for nothing: it is one ``Candidate`` that
  goes through the same cascade (static check, probe, replay, shadow) as every other, and the
  better candidate wins whoever wrote it.
- ``RegistryCoder`` follows the model registry of the active version (as the control thread
  last read it: ``LiveRegistry.latest``, since evaluation may run elsewhere): while ``trait_code`` is
  served by the offline provider it is the genetic coder alone; once a model serves it, each
  generation holds that model's candidate and the genetic coder's. Its ``name`` (recorded as the
  bundle's author model) says which.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ouroboros.ai.evolution.coder import Candidate, Feedback, LlmCoder, LlmHook, OfflineCoder
from ouroboros.ai.evolution.genome import FIELDS, INTENT_LIMIT, MAX_GAIN, ONE, random_program, render
from ouroboros.ai.llm.base import LlmRequest, Provider
from ouroboros.ai.proposals import SeededDraws
from ouroboros.errors import LlmError
from ouroboros.sandbox import FORBIDDEN_NAMES

__all__ = ["TRAIT_SCHEMA", "RegistryCoder", "model_hook", "trait_prompt"]

TRAIT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"lua": {"type": "string", "minLength": 20, "maxLength": 4000}},
    "required": ["lua"],
    "additionalProperties": False,
}
_SYSTEM = (
    "You write behaviour traits for molbots in an artificial-life dish, as Lua 5.4 run in a "
    'sandbox. Answer with JSON {"lua": "<the whole Lua source>"} and nothing else.'
)
_MAX_FEEDBACK = 4


def _host_api() -> str:
    return "\n".join(
        [
            "Host API: define `function act(ctx)`. It is called once a tick for all carriers of the trait.",
            "ctx.n is the number of carriers; loop `for i = 1, ctx.n do ... end`.",
            f"Read (arrays indexed by i, integers): {', '.join('ctx.' + f for f in FIELDS)}.",
            "Write by ADDING to the intents: ctx.thrust_x[i], ctx.thrust_y[i] (each within "
            f"-{INTENT_LIMIT}..{INTENT_LIMIT}) and ctx.energy_gain[i] (0..{MAX_GAIN}).",
            f"Numbers are integers in Q16 fixed point ({ONE} = 1.0): use // for division, never /.",
            f"Not available (the check refuses them): {', '.join(sorted(FORBIDDEN_NAMES))}. "
            "No global variables; keep it short.",
        ]
    )


def trait_prompt(plan: Mapping[str, Any], feedback: Sequence[Mapping[str, Any]], example: str) -> str:
    """The question for the model: host API, an example, the plan, the last failures."""
    lines = [_host_api(), "", "An example trait that passes every check:", example.strip(), ""]
    goal = plan.get("reason") or "help the molbots survive"
    lines.append(f"Goal of this trait: {goal} (improve {plan.get('kpi') or 'survival'}).")
    failures = [f for f in feedback if f.get("codes") or f.get("messages")][:_MAX_FEEDBACK]
    if failures:
        lines.append("Earlier candidates failed; avoid these errors:")
        for failure in failures:
            codes = ", ".join(map(str, failure.get("codes") or ())) or "worse than the baseline"
            message = "; ".join(map(str, failure.get("messages") or ()))[:200]
            lines.append(f"- at {failure.get('stage')}: {codes}{': ' + message if message else ''}")
    return "\n".join(lines)


def model_hook(provider: Provider, *, timeout_s: float = 60.0, max_tokens: int = 768) -> LlmHook:
    """An ``LlmCoder`` hook over ``provider`` (see the module doc); ``LlmError`` on no answer."""
    example = render(random_program(SeededDraws(7, "model-coder-example")))

    def hook(plan: Mapping[str, Any], feedback: Sequence[Mapping[str, Any]]) -> str:
        request = LlmRequest(
            "trait_code",
            _SYSTEM,
            trait_prompt(plan, feedback, example),
            TRAIT_SCHEMA,
            "",
            max_tokens=max_tokens,
            timeout_s=timeout_s,
        )
        data = provider.complete(request).data
        if not isinstance(data, dict) or not isinstance(data.get("lua"), str):
            raise LlmError("the answer holds no Lua source", code="schema_mismatch")
        return str(data["lua"])

    return hook


class RegistryCoder:
    """The genetic coder, joined by the model that serves ``trait_code`` when one does."""

    def __init__(self, live: Any, offline: OfflineCoder | None = None, *, timeout_s: float = 60.0) -> None:
        self.live = live  # a LiveRegistry (routing.py)
        self.offline = offline or OfflineCoder()
        self.timeout_s = timeout_s
        self.name = self.offline.name

    def propose(
        self,
        draws: SeededDraws,
        *,
        parents: Sequence[Any],
        feedback: Sequence[Feedback],
        plan: Mapping[str, Any],
    ) -> list[Candidate]:
        from ouroboros.ai.llm.routing import RoleRouter

        # the evaluation may run on a worker thread: read the registry the control thread last built
        latest = getattr(self.live, "latest", None)
        registry = latest() if callable(latest) else self.live.current()
        assignment = None if registry is None else registry.assignment("trait_code")
        if registry is None or assignment is None or assignment.provider == "offline":
            self.name = self.offline.name
            return self.offline.propose(draws, parents=parents, feedback=feedback, plan=plan)
        self.name = f"{self.offline.name}+{assignment.provider}/{assignment.model}"
        coder = LlmCoder(model_hook(RoleRouter(registry), timeout_s=self.timeout_s), self.offline)
        return coder.propose(draws, parents=parents, feedback=feedback, plan=plan)
