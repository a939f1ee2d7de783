"""The building blocks every content schema shares: the strict base model, ids, versions, text.

What it promises:

- ``StrictModel`` refuses unknown fields, refuses coercion ("5" is not 5, true is not 1, 5.0 is not
  5) and is frozen; sequences are tuples, so a parsed object cannot be changed in place.
- Every domain object has an ``id`` (``ID_PATTERN``) and a semantic ``version``.
- ``extensions`` (on items, rooms, npcs and quests) is the one explicit place for data the schema
  does not know; it holds JSON without floats, bounded in keys, depth, nodes and string length.
- Errors raised by validators here are ``PydanticCustomError``s whose type is a stable reason
  code; their context may carry ``at`` (a field below the failing object) and ``subpath`` (a
  pointer inside a free-form value), which ``parse`` appends to the reported path.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

from ouroboros.content.limits import LIMITS

__all__ = [
    "ID_PATTERN",
    "SEMVER_PATTERN",
    "Description",
    "DomainObject",
    "Extensible",
    "Extensions",
    "Id",
    "LocalName",
    "Name",
    "SemVer",
    "StrictModel",
    "Tag",
    "Tup",
    "content_error",
    "is_id",
    "is_semver",
    "multi_line_text",
    "semver_key",
    "single_line_text",
]

ID_PATTERN = r"^[a-z][a-z0-9_.:-]{0,63}$"
SEMVER_PATTERN = r"^(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})$"
TAG_PATTERN = r"^[a-z][a-z0-9_-]{0,31}$"
LOCAL_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"

T = TypeVar("T")


def content_error(code: str, message: str, *, at: str | None = None, subpath: str | None = None) -> Any:
    """A validation error whose type is the reason code ``code``.

    ``at`` names a field of the object being validated (for checks across fields), ``subpath`` a
    JSON pointer inside a free-form value; both end up in the reported path."""
    context: dict[str, Any] = {}
    if at is not None:
        context["at"] = at
    if subpath is not None:
        context["subpath"] = subpath
    return PydanticCustomError(code, message, context or None)


def _list_to_tuple(value: Any) -> Any:
    # JSON has arrays, not tuples; strict tuple validation then checks the items.
    return tuple(value) if isinstance(value, list) else value


Tup = Annotated[tuple[T, ...], BeforeValidator(_list_to_tuple)]
"""A JSON array held as an immutable tuple."""


# Bidirectional overrides make text display differently from what it says (a spoofing trick).
_BIDI_CONTROLS = frozenset(chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)])


def _no_control_chars(value: str, *, allow_newline: bool) -> str:
    for index, char in enumerate(value):
        control = ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0 or char in _BIDI_CONTROLS
        if control and not (allow_newline and char in "\n\t"):
            raise content_error("bad_value", f"control character U+{ord(char):04X} at offset {index}")
    if not value.strip():
        raise content_error("bad_value", "text must not be blank")
    return value


def single_line_text(value: str) -> str:
    return _no_control_chars(value, allow_newline=False)


def multi_line_text(value: str) -> str:
    return _no_control_chars(value, allow_newline=True)


Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
"""A stable identifier: lower case, starts with a letter, at most 64 characters."""

SemVer = Annotated[str, StringConstraints(pattern=SEMVER_PATTERN)]
"""MAJOR.MINOR.PATCH, digits only, no leading zeros."""

Tag = Annotated[str, StringConstraints(pattern=TAG_PATTERN)]

LocalName = Annotated[str, StringConstraints(pattern=LOCAL_NAME_PATTERN)]
"""A name local to one object: a behaviour state, a plan step, a dialogue line."""

Name = Annotated[
    str, StringConstraints(min_length=1, max_length=LIMITS.max_name_chars), AfterValidator(single_line_text)
]
Description = Annotated[
    str,
    StringConstraints(min_length=1, max_length=LIMITS.max_description_chars),
    AfterValidator(multi_line_text),
]


def is_id(value: object) -> bool:
    return isinstance(value, str) and re.fullmatch(ID_PATTERN[1:-1], value) is not None


def is_semver(value: object) -> bool:
    return isinstance(value, str) and re.fullmatch(SEMVER_PATTERN[1:-1], value) is not None


def semver_key(version: str) -> tuple[int, int, int]:
    """``"1.10.0"`` -> ``(1, 10, 0)``, the order in which versions compare."""
    major, minor, patch = version.split(".")
    return int(major), int(minor), int(patch)


def _check_json_value(value: Any, pointer: str, depth: int, budget: list[int]) -> None:
    budget[0] -= 1
    if budget[0] < 0:
        raise content_error(
            "out_of_bounds", f"extensions hold more than {LIMITS.max_extension_nodes} values", subpath=pointer
        )
    if depth > LIMITS.max_extension_depth:
        raise content_error(
            "out_of_bounds", f"extensions nest deeper than {LIMITS.max_extension_depth}", subpath=pointer
        )
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, int):
        if abs(value) > LIMITS.max_abs_json_int:
            raise content_error("out_of_bounds", "integer beyond ±(2^53-1)", subpath=pointer)
        return
    if isinstance(value, float):
        raise content_error(
            "wrong_type",
            "floats are not allowed in content: use an integer (permille or fixed point)",
            subpath=pointer,
        )
    if isinstance(value, str):
        if len(value) > LIMITS.max_extension_string_chars:
            raise content_error(
                "out_of_bounds",
                f"string longer than {LIMITS.max_extension_string_chars} characters",
                subpath=pointer,
            )
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            _check_json_value(item, f"{pointer}/{index}", depth + 1, budget)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise content_error("wrong_type", "object keys must be strings", subpath=pointer)
            escaped = key.replace("~", "~0").replace("/", "~1")
            _check_json_value(item, f"{pointer}/{escaped}", depth + 1, budget)
        return
    raise content_error("wrong_type", f"{type(value).__name__} is not a JSON value", subpath=pointer)


def _check_extensions(value: dict[str, Any]) -> dict[str, Any]:
    budget = [LIMITS.max_extension_nodes]
    for key, item in value.items():
        escaped = key.replace("~", "~0").replace("/", "~1")
        _check_json_value(item, f"/{escaped}", 1, budget)
    return value


Extensions = Annotated[
    dict[Annotated[str, StringConstraints(pattern=ID_PATTERN)], Any],
    Field(max_length=LIMITS.max_extension_keys, json_schema_extra={"additionalProperties": False}),
    AfterValidator(_check_extensions),
]


class StrictModel(BaseModel):
    """No coercion, no unknown fields, no mutation."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class DomainObject(StrictModel):
    """Something a patch carries and the catalog keeps by ``id``; a replacement has a greater
    ``version``."""

    id: Id = Field(description="Stable id, unique within its domain: lower case, at most 64 characters.")
    version: SemVer = Field(description="MAJOR.MINOR.PATCH; a replacement must be greater.")


class Extensible(DomainObject):
    """A domain object that keeps unknown data aside, under ``extensions``, never at top level."""

    extensions: Extensions = Field(
        default_factory=dict, description="Data the schema does not know: JSON without floats, bounded."
    )
