"""Coders: what writes candidate trait programs for a plan.

``OfflineCoder`` (the default) is genetic programming over ``genome.Program``: a generation is
made from the library of proven traits and the archive's elites (recombined), mutants of the
best so far, and a few fresh random programs. The errors and numbers of the previous
generation's failures bias the next mutations (Voyager's and OpenEvolve's feedback loop):

- a candidate stopped by a budget or a fault -> ``shrink`` (drop rules, smaller programs);
- one whose carriers burned their energy moving (mean speed above the baseline's) -> ``add_brake``;
- one whose carriers ended with less energy than the baseline -> ``add_gain``;
- one no better than the baseline (or worse already at the screen) -> more ``add`` and
  ``replace`` (explore).

``LlmCoder`` wraps an optional callable ``(plan, feedback) -> Lua source`` (e.g. backed by an
LLM provider); it is used only when configured, and what it writes goes through the same cascade.
Everything is deterministic for a seed: draws come from ``SeededDraws``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ouroboros.ai.evolution.genome import Program, crossover, mutate, random_program, render
from ouroboros.ai.proposals import SeededDraws


@dataclass(frozen=True)
class Candidate:
    source: str
    program: Program | None  # None: written by hand or by an LLM, not a GP tree
    origin: str  # "random" | "mutant" | "crossover" | "library" | "llm"


@dataclass(frozen=True)
class Feedback:
    """What went wrong with one evaluated candidate: the cascade's reasons and numbers."""

    stage: str
    codes: tuple[str, ...]
    numbers: Mapping[str, int]
    messages: tuple[str, ...] = ()

    @classmethod
    def of(cls, evaluation: Any) -> Feedback:
        return cls(
            evaluation.stage,
            tuple(r["code"] for r in evaluation.reasons),
            dict(evaluation.numbers),
            tuple(r["message"] for r in evaluation.reasons),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "codes": list(self.codes),
            "numbers": dict(self.numbers),
            "messages": list(self.messages),
        }


def bias_from(feedback: Sequence[Feedback]) -> dict[str, int]:
    """Mutation weights from the failures of the last generation (see the module docstring)."""
    bias: dict[str, int] = {}

    def bump(op: str, by: int) -> None:
        bias[op] = bias.get(op, 0) + by

    for fb in feedback:
        n = fb.numbers
        if fb.stage in ("static", "probe", "replay") or "script_faults" in fb.codes:
            bump("shrink", 2)
            continue
        if n.get("mean_speed_fp", 0) > n.get("baseline_mean_speed_fp", 0):
            bump("add_brake", 1)
        if n.get("energy_fp", 0) < n.get("baseline_energy_fp", 0):
            bump("add_gain", 1)
        if "kpi_not_better" in fb.codes or "kpi_worse" in fb.codes:
            bump("add", 1)
            bump("replace", 1)
    return {op: min(w, 6) for op, w in bias.items()}


class OfflineCoder:
    """Genetic programming over typed trait programs (no network, no model)."""

    name = "offline-gp"

    def __init__(self, population: int = 6, fresh: int = 1) -> None:
        self.population = population
        self.fresh = fresh

    def propose(
        self,
        draws: SeededDraws,
        *,
        parents: Sequence[Program],
        feedback: Sequence[Feedback],
        plan: Mapping[str, Any],
    ) -> list[Candidate]:
        """One generation of ``population`` candidates (distinct sources)."""
        bias = bias_from(feedback)
        out: list[Candidate] = []
        seen: set[str] = set()

        def add(program: Program, origin: str) -> None:
            source = render(program)
            if source not in seen:
                seen.add(source)
                out.append(Candidate(source, program, origin))

        pool = list(parents)
        for _ in range(self.population * 4):
            if len(out) >= self.population:
                break
            roll = draws.below(10)
            if not pool or (len(out) < self.fresh and not parents) or (roll < 2 and len(out) < self.fresh):
                add(random_program(draws), "random")
            elif roll < 5 and len(pool) >= 2:
                a, b = draws.choice(pool), draws.choice(pool)
                add(mutate(crossover(a, b, draws), draws, bias), "crossover")
            else:
                child = draws.choice(pool)
                for _ in range(draws.between(1, 2)):
                    child = mutate(child, draws, bias)
                add(child, "mutant")
        while len(out) < self.population:
            add(random_program(draws), "random")
        return out


LlmHook = Callable[[Mapping[str, Any], Sequence[Mapping[str, Any]]], str]


class LlmCoder:
    """An optional coder backed by ``hook(plan, feedback_dicts) -> Lua source``: it writes one
    candidate per generation; the offline coder fills the rest of the generation."""

    name = "llm"

    def __init__(self, hook: LlmHook, offline: OfflineCoder | None = None) -> None:
        self.hook = hook
        self.offline = offline or OfflineCoder()

    def propose(
        self,
        draws: SeededDraws,
        *,
        parents: Sequence[Program],
        feedback: Sequence[Feedback],
        plan: Mapping[str, Any],
    ) -> list[Candidate]:
        out: list[Candidate] = []
        try:
            source = self.hook(plan, [f.as_dict() for f in feedback])
        except Exception as exc:  # a failing model costs its candidate, never the cycle
            source = f"-- the coder hook failed: {type(exc).__name__}\n"
        if isinstance(source, str):
            out.append(Candidate(source, None, "llm"))
        rest = self.offline.propose(draws, parents=parents, feedback=feedback, plan=plan)
        return out + rest[: max(0, self.offline.population - len(out))]


__all__ = ["Candidate", "Feedback", "LlmCoder", "OfflineCoder", "bias_from"]
