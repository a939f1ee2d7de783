"""Language-model providers for the council: words only for content, code only inside the sandbox.

``Provider`` is the one interface (``complete(LlmRequest) -> LlmResponse``); ``OfflineProvider``
(the default, no network), ``OllamaProvider`` and ``OpenAICompatProvider`` implement it. Every
answer is validated against the request's JSON Schema by us; failures are ``LlmError`` with a code.
"""

from ouroboros.ai.llm.accounting import Accounting, Usage
from ouroboros.ai.llm.base import (
    ERROR_CODES,
    ROLES,
    LlmError,
    LlmRequest,
    LlmResponse,
    Provider,
    request_key,
)
from ouroboros.ai.llm.cache import ResponseCache
from ouroboros.ai.llm.offline import OfflineProvider
from ouroboros.ai.llm.providers import OllamaProvider, OpenAICompatProvider
from ouroboros.ai.llm.schema import SchemaError, check_schema, validate

__all__ = [
    "ERROR_CODES",
    "ROLES",
    "Accounting",
    "LlmError",
    "LlmRequest",
    "LlmResponse",
    "OfflineProvider",
    "OllamaProvider",
    "OpenAICompatProvider",
    "Provider",
    "ResponseCache",
    "SchemaError",
    "Usage",
    "check_schema",
    "request_key",
    "validate",
]
