"""Turn pydantic's validation errors into ``Reason``s with stable codes and JSON-pointer paths.

Only the codes in ``SCHEMA_CODES`` ever come out, whatever pydantic's own error types become in a
later release; anything unrecognised is ``bad_value``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from ouroboros.content.limits import LIMITS
from ouroboros.errors import ContentError, Reason

__all__ = ["SCHEMA_CODES", "SCHEMA_STAGE", "guarded", "join_pointer", "reasons_from"]

SCHEMA_STAGE = "schema"
SCHEMA_CODES = frozenset(
    {
        "unknown_field",
        "missing_field",
        "wrong_type",
        "out_of_bounds",
        "bad_pattern",
        "bad_value",
        "too_many_reasons",
    }
)
_EXTENSIBLE_DOMAINS = frozenset({"items", "rooms", "npcs", "quests"})
_MAX_SEGMENT_CHARS = 200

_BY_TYPE = {
    "extra_forbidden": "unknown_field",
    "missing": "missing_field",
    "string_pattern_mismatch": "bad_pattern",
    "literal_error": "bad_value",
    "enum": "bad_value",
    "value_error": "bad_value",
    "assertion_error": "bad_value",
}
_BOUNDS = (
    "greater_than",
    "less_than",
    "too_short",
    "too_long",
    "string_too_short",
    "string_too_long",
    "multiple_of",
)

T = TypeVar("T")


def _escape(segment: Any) -> str:
    text = str(segment)
    if len(text) > _MAX_SEGMENT_CHARS:
        text = text[:_MAX_SEGMENT_CHARS] + "..."
    return text.replace("~", "~0").replace("/", "~1")


def join_pointer(prefix: str, *segments: Any) -> str:
    """``join_pointer("/content", "items", 0)`` -> ``"/content/items/0"``; the root is ``"/"``."""
    path = prefix + "".join("/" + _escape(s) for s in segments)
    return path or "/"


def _code(error_type: str) -> str:
    if error_type in SCHEMA_CODES:
        return error_type  # our own validators name their reason code directly
    if error_type in _BY_TYPE:
        return _BY_TYPE[error_type]
    if error_type.startswith(_BOUNDS):
        return "out_of_bounds"
    if error_type.endswith(("_type", "_parsing")) or error_type == "none_required":
        return "wrong_type"
    return "bad_value"


_EXPECTED = {
    "int_type": "an integer",
    "string_type": "a string",
    "bool_type": "a boolean",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "tuple_type": "an array",
    "list_type": "an array",
    "none_required": "null",
}


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _message(error: ErrorDetails, code: str, loc: tuple[Any, ...]) -> str:
    error_type = error["type"]
    value = error.get("input")
    if code == "wrong_type" and isinstance(value, float) and error_type in ("int_type", "int_from_float"):
        return "floats are not allowed in content: use an integer (permille or fixed point)"
    if error_type in _EXPECTED:
        return f"expected {_EXPECTED[error_type]}, got {_json_type(value)}"
    if error_type == "extra_forbidden" and loc:
        hint = ""
        if len(loc) >= 3 and loc[-3] in _EXTENSIBLE_DOMAINS and isinstance(loc[-2], int):
            hint = "; data the schema does not know goes under 'extensions'"
        return f"unknown field {_escape(loc[-1])!r}{hint}"
    if error_type == "missing" and loc:
        return f"missing field {_escape(loc[-1])!r}"
    return str(error.get("msg", "invalid value"))


def reasons_from(exc: ValidationError, prefix: str = "") -> list[Reason]:
    """One ``Reason`` per pydantic error, at most ``LIMITS.max_reasons_reported`` in all."""
    reasons: list[Reason] = []
    errors = exc.errors(include_url=False)
    for error in errors:
        loc = tuple(part for part in error["loc"] if part != "[key]")
        context = error.get("ctx") or {}
        segments: list[Any] = list(loc)
        if isinstance(context.get("at"), str):
            segments.append(context["at"])
        path = join_pointer(prefix, *segments)
        if isinstance(context.get("subpath"), str):
            path = path.rstrip("/") + context["subpath"]
        code = _code(str(error["type"]))
        reasons.append(Reason(SCHEMA_STAGE, code, path, _message(error, code, loc)))
    limit = LIMITS.max_reasons_reported
    if len(reasons) > limit:
        hidden = len(reasons) - (limit - 1)
        reasons = reasons[: limit - 1]
        reasons.append(
            Reason(
                SCHEMA_STAGE, "too_many_reasons", join_pointer(prefix), f"{hidden} more problems not listed"
            )
        )
    return reasons


def guarded(validate: Callable[[Any], T], data: Any, prefix: str = "") -> T:
    """``validate(data)``, raising ``ContentError`` and nothing else whatever ``data`` is."""
    try:
        return validate(data)
    except ValidationError as exc:
        reasons = reasons_from(exc, prefix)
    except Exception as exc:
        # pydantic reports what it understands; this is the backstop for inputs no JSON parser
        # produces (self-referencing containers, exotic objects) so callers see one error type.
        reasons = [
            Reason(
                SCHEMA_STAGE, "bad_value", join_pointer(prefix), f"unreadable document ({type(exc).__name__})"
            )
        ]
    if not reasons:
        reasons = [Reason(SCHEMA_STAGE, "bad_value", join_pointer(prefix), "invalid document")]
    raise ContentError(reasons)
