"""The council: the director, the generators, the LLM providers and the evolution loop.

Everything here proposes; nothing here writes world state. What it makes leaves as a signed patch
bundle through the governance pipeline (``ouroboros.patches``)."""

from __future__ import annotations

from ouroboros.ai.proposals import Proposal, ProposalType, SeededDraws

__all__ = ["Proposal", "ProposalType", "SeededDraws"]
