"""The evolution loop for the worlds that evolve (their spec has an evolution hook): a watcher over
telemetry, an architect, coders (genetic programming over Lua trait programs; an optional LLM
hook), a cascade of evaluations on forks, a MAP-Elites archive and a library of proven traits,
and the famine experiment."""

from __future__ import annotations

from ouroboros.ai.evolution.archive import Archive, Elite, Library, descriptor
from ouroboros.ai.evolution.cascade import Cascade, CascadeConfig, Evaluation, trait_content
from ouroboros.ai.evolution.coder import Candidate, Feedback, LlmCoder, OfflineCoder
from ouroboros.ai.evolution.experiment import evolving_worlds, famine_experiment, famine_world
from ouroboros.ai.evolution.genome import Program, from_data, mutate, random_program, render, to_data
from ouroboros.ai.evolution.headless import Headless
from ouroboros.ai.evolution.loop import Architect, EvolutionConfig, EvolutionLoop
from ouroboros.ai.evolution.model_coder import RegistryCoder, model_hook
from ouroboros.ai.evolution.watcher import Trigger, Watcher, assess

__all__ = [
    "Architect",
    "Archive",
    "Candidate",
    "Cascade",
    "CascadeConfig",
    "Elite",
    "Evaluation",
    "EvolutionConfig",
    "EvolutionLoop",
    "Feedback",
    "Headless",
    "Library",
    "LlmCoder",
    "OfflineCoder",
    "Program",
    "RegistryCoder",
    "Trigger",
    "Watcher",
    "assess",
    "descriptor",
    "evolving_worlds",
    "famine_experiment",
    "famine_world",
    "from_data",
    "model_hook",
    "mutate",
    "random_program",
    "render",
    "to_data",
    "trait_content",
]
