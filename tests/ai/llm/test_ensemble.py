"""Ensemble: weighted votes over several models, abstentions, ties, the offline fallback and the
audit record of every decision; one voter is a real local Ollama server."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ouroboros.ai.llm import Ensemble, LlmRequest, LlmResponse, OfflineProvider, OllamaProvider
from ouroboros.errors import LlmError

from .conftest import Reply, Scripted, ollama_envelope

OPTIONS = ["raid the depot", "hold the line", "call a truce"]


class _Says:
    def __init__(self, name: str, data: Any = None, raises: Exception | None = None) -> None:
        self.name, self.data, self.raises = name, data, raises
        self.requests: list[LlmRequest] = []

    def complete(self, request: LlmRequest) -> LlmResponse:
        self.requests.append(request)
        if self.raises is not None:
            raise self.raises
        return LlmResponse(json.dumps(self.data), self.data, self.name, f"{self.name}-m", 3, 2, 1)


def test_weighted_majority_wins_and_is_audited() -> None:
    audit: list[dict[str, Any]] = []
    ensemble = Ensemble(
        [(_Says("a", {"choice": "hold the line"}), 3), (_Says("b", {"choice": "call a truce"}), 2),
         (_Says("c", {"choice": "call a truce"}), 2)],
        audit.append,
    )  # fmt: skip
    decision = ensemble.decide("The Drain Rats are massing. What now?", OPTIONS)
    assert decision.choice == "call a truce"
    assert decision.votes == {"raid the depot": 0, "hold the line": 3, "call a truce": 4}
    assert decision.weights == {"a": 3, "b": 2, "c": 2} and not decision.fallback
    assert decision.answers["a"] == {"choice": "hold the line", "model": "a-m"}
    assert audit == [{"event": "ensemble_decision", **decision.as_dict()}]


def test_the_question_goes_out_with_the_options_as_an_enum() -> None:
    voter = _Says("a", {"choice": "raid the depot"})
    Ensemble([(voter, 1)]).decide("What now?", OPTIONS, context="Night 3.")
    request = voter.requests[0]
    assert request.role == "narrative" and request.schema is not None
    assert request.schema["properties"]["choice"]["enum"] == OPTIONS
    assert "Night 3." in request.prompt and all(o in request.prompt for o in OPTIONS)


def test_failures_and_answers_outside_the_options_abstain() -> None:
    voters = [
        (_Says("broken", raises=LlmError("down", code="http_error")), 10),
        (_Says("crashing", raises=ValueError("bug")), 10),
        (_Says("liar", {"choice": "nuke the city"}), 10),
        (_Says("odd", ["hold the line"]), 10),
        (_Says("honest", {"choice": "raid the depot"}), 1),
    ]
    decision = Ensemble(voters).decide("What now?", OPTIONS)
    assert decision.choice == "raid the depot" and decision.votes["raid the depot"] == 1
    assert {k for k, v in decision.answers.items() if "abstained" in v} == {
        "broken",
        "crashing",
        "liar",
        "odd",
    }
    assert "http_error" in decision.answers["broken"]["abstained"]


def test_ties_go_to_the_first_option_and_everyone_abstaining_falls_back() -> None:
    tie = Ensemble(
        [(_Says("a", {"choice": "call a truce"}), 2), (_Says("b", {"choice": "hold the line"}), 2)]
    )
    assert tie.decide("?", OPTIONS).choice == "hold the line"
    silent = Ensemble([(_Says("a", raises=LlmError("x", code="timeout")), 1)])
    decision = silent.decide("What now?", OPTIONS)
    assert decision.fallback and decision.choice in OPTIONS
    assert decision.choice == silent.decide("What now?", OPTIONS).choice  # deterministic


def test_same_names_are_told_apart_and_bad_setups_refused() -> None:
    e = Ensemble([(OfflineProvider(), 1), (OfflineProvider("grammar@2"), 1)])
    assert set(e.decide("?", OPTIONS).weights) == {"offline", "offline#2"}
    with pytest.raises(LlmError):
        Ensemble([])
    with pytest.raises(LlmError):
        Ensemble([(OfflineProvider(), 0)])
    with pytest.raises(LlmError):
        e.decide("?", ["a", "a"])


def test_a_real_server_votes(server: tuple[str, Scripted]) -> None:
    base, script = server
    script.default = Reply(ollama_envelope(json.dumps({"choice": "call a truce"})))
    ollama = OllamaProvider(base, "llama3.2")
    decision = Ensemble([(ollama, 5), (_Says("a", {"choice": "hold the line"}), 3)]).decide("?", OPTIONS)
    assert decision.choice == "call a truce" and decision.answers["ollama"]["model"] == "llama3.2"
    assert script.requests[0][1]["format"]["properties"]["choice"]["enum"] == OPTIONS
    script.default = Reply(ollama_envelope(json.dumps({"choice": "launch the missiles"})))
    decision = Ensemble(
        [(OllamaProvider(base, "llama3.2", max_attempts=1), 5), (_Says("a", {"choice": "hold the line"}), 3)]
    ).decide("!", OPTIONS)
    assert decision.choice == "hold the line" and "schema_mismatch" in decision.answers["ollama"]["abstained"]
