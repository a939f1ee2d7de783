"""Model roles: which language-model provider and model serve which council role.

A ``ModelRole`` travels as patch content like any other domain object, so changing the model
behind a role is signed, validated, recorded in the ledger and undone in one rollback. It is
world-agnostic: worlds ignore the domain (``ouroboros.worlds``), and the council reads it from the
active version (``ouroboros.ai.llm.ModelRegistry.from_content``).

Rules: the id is ``model_role.<role>`` (so there is one assignment per role, and changing it needs
a greater version); ``offline`` takes no ``base_url``, ``ollama`` and ``openai`` need one. Secrets
(API keys) never travel in content.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, StringConstraints, model_validator

from ouroboros.content._base import DomainObject, content_error

__all__ = ["MODEL_ROLE_ID_PREFIX", "ModelProviderKind", "ModelRole", "ModelRoleName"]

MODEL_ROLE_ID_PREFIX = "model_role."

ModelRoleName = Literal["flavour", "dialogue", "trait_code", "narrative"]
ModelProviderKind = Literal["offline", "ollama", "openai"]
ModelName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,127}$")]
BaseUrl = Annotated[
    str,
    StringConstraints(pattern=r"^https?://[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]{0,200})?$"),
]


class ModelRole(DomainObject):
    """``role`` is answered by ``provider``'s ``model`` at ``base_url``."""

    role: ModelRoleName
    provider: ModelProviderKind
    model: ModelName = Field(description="The model's name as its server knows it, e.g. llama3.2:3b.")
    base_url: BaseUrl | None = Field(default=None, description="http(s)://host[:port][/path] of the server.")
    structured: Literal["response_format", "vllm"] = Field(
        default="response_format",
        description="How an OpenAI-compatible server is asked for JSON (vllm: structured_outputs).",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.id != MODEL_ROLE_ID_PREFIX + self.role:
            raise content_error(
                "bad_value", f"a model role's id is {MODEL_ROLE_ID_PREFIX}{self.role}", at="id"
            )
        if self.provider == "offline" and self.base_url is not None:
            raise content_error("bad_value", "the offline provider takes no base_url", at="base_url")
        if self.provider != "offline" and self.base_url is None:
            raise content_error(
                "missing_field", f"the {self.provider} provider needs a base_url", at="base_url"
            )
        return self
