"""Language-model providers for the council: words only for content, code only inside the sandbox.

``Provider`` is the one interface (``complete(LlmRequest) -> LlmResponse``); ``OfflineProvider``
(the default, no network), ``OllamaProvider`` and ``OpenAICompatProvider`` implement it. Every
answer is validated against the request's JSON Schema by us; failures are ``LlmError`` with a code.
``enrich`` lets a model rewrite a proposal's words (never its numbers), ``ModelRegistry`` says
which model serves which role (as governed content), ``Ensemble`` votes on narrative decisions.
"""

from ouroboros.ai.llm.accounting import Accounting, Usage
from ouroboros.ai.llm.base import (
    ERROR_CODES,
    ROLES,
    LlmRequest,
    LlmResponse,
    Provider,
    request_key,
)
from ouroboros.ai.llm.cache import ResponseCache
from ouroboros.ai.llm.enrich import EnrichReport, enrich, text_problem
from ouroboros.ai.llm.ensemble import Decision, Ensemble
from ouroboros.ai.llm.offline import OfflineProvider
from ouroboros.ai.llm.providers import OllamaProvider, OpenAICompatProvider
from ouroboros.ai.llm.registry import ModelRegistry, RoleAssignment, registry_patch
from ouroboros.ai.llm.schema import check_schema, validate
from ouroboros.errors import LlmError, SchemaError

__all__ = [
    "ERROR_CODES",
    "ROLES",
    "Accounting",
    "Decision",
    "EnrichReport",
    "Ensemble",
    "LlmError",
    "LlmRequest",
    "LlmResponse",
    "ModelRegistry",
    "OfflineProvider",
    "OllamaProvider",
    "OpenAICompatProvider",
    "Provider",
    "ResponseCache",
    "RoleAssignment",
    "SchemaError",
    "Usage",
    "check_schema",
    "enrich",
    "registry_patch",
    "request_key",
    "text_problem",
    "validate",
]
