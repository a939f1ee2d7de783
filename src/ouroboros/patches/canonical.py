"""Canonical JSON (RFC 8785, the JSON Canonicalization Scheme) and the hashes taken over it.

Every hash and signature in ouroboros is over these bytes, so two parties that agree on a JSON
value agree on its hash whatever whitespace, key order or escaping their files used.

What it promises:

- ``load_json`` reads strict JSON only: UTF-8, no duplicate keys (a classic way to make two
  parsers see two different documents under one signature), no ``NaN``/``Infinity``, nesting and
  size bounded. Any violation is a ``BadInputError`` with one clear message.
- ``canonical_bytes`` is the RFC 8785 form; values it cannot represent exactly (integers beyond
  ±2^53, non-finite floats) are refused, never rounded.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import rfc8785

from ouroboros.errors import BadInputError

MAX_JSON_BYTES = 16 * 1024 * 1024
MAX_JSON_DEPTH = 64


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise BadInputError(f"duplicate key {key!r} in JSON object", code="duplicate_key")
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise BadInputError(f"{name} is not JSON", code="not_json")


def _depth(value: Any) -> int:
    """Nesting depth, iteratively (a deep document must not blow the Python stack here)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > MAX_JSON_DEPTH:
            return depth
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return deepest


def load_json(data: bytes | str, what: str = "document") -> Any:
    """Parse strict JSON (see the module docstring) or raise ``BadInputError``."""
    if isinstance(data, bytes):
        if len(data) > MAX_JSON_BYTES:
            raise BadInputError(f"{what} is larger than {MAX_JSON_BYTES} bytes", code="too_large")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadInputError(f"{what} is not UTF-8 (byte {exc.start})", code="not_utf8") from exc
    else:
        text = data
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constant)
    except BadInputError as exc:
        raise BadInputError(f"{what}: {exc.message}", code=exc.code) from exc
    except RecursionError as exc:
        raise BadInputError(f"{what} is nested too deeply", code="too_deep") from exc
    except ValueError as exc:
        raise BadInputError(f"{what} is not valid JSON: {exc}", code="not_json") from exc
    if _depth(value) > MAX_JSON_DEPTH:
        raise BadInputError(f"{what} is nested deeper than {MAX_JSON_DEPTH}", code="too_deep")
    return value


def canonical_bytes(value: Any) -> bytes:
    """The RFC 8785 canonical form of a JSON value."""
    try:
        return rfc8785.dumps(value)
    except rfc8785.IntegerDomainError as exc:
        raise BadInputError(
            f"integer out of the exact JSON range (±2^53): {exc}", code="not_canonical"
        ) from exc
    except rfc8785.FloatDomainError as exc:
        raise BadInputError(f"number cannot be canonicalised: {exc}", code="not_canonical") from exc
    except (rfc8785.CanonicalizationError, TypeError, ValueError, RecursionError) as exc:
        raise BadInputError(f"value cannot be canonicalised: {exc}", code="not_canonical") from exc


def sha256_hex(value: Any) -> str:
    """sha256 of the canonical form, lowercase hex."""
    return hashlib.sha256(canonical_bytes(value)).hexdigest()
