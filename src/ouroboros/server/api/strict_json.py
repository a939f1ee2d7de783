"""Strict JSON for every surface that takes it: the admin API's bodies and the stream's messages.

Python's ``json`` accepts more than JSON and more than the rest of the server can hold. Here a
document is refused with one ``BadJsonError`` (a ``BadInputError``: an HTTP 422, a stream
``error`` answer) when it:

- is not UTF-8, not JSON, or nests deeper than ``MAX_DEPTH``;
- holds ``NaN``, ``Infinity`` or ``-Infinity`` (not JSON at all), a float that overflows to
  infinity (``1e400``), or an integer outside 64 bits;
- holds a string or key with a lone surrogate (``"\\ud800"``: no UTF-8 text can carry it, so
  SQLite, logs and UTF-8 responses would fail on it later);
- repeats a key in one object (which of the two would count is a parser's whim).

``check`` applies the same rules to a document that is already parsed. ``safe_text`` makes any
string storable and printable (a lone surrogate becomes its ``\\udXXX`` escape), for writing what
was refused into an audit row or a log line. Pure: no I/O.
"""

from __future__ import annotations

import json
import math
from typing import Any

from ouroboros.errors import BadJsonError

MAX_DEPTH = 64
MAX_INT = 2**63 - 1


class _Refused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _constant(name: str) -> Any:
    raise _Refused(f"{name} is not a JSON number")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"the number {text[:40]} is out of range")
    return value


def _int(text: str) -> int:
    if len(text.lstrip("-")) > 19:  # longer than any 64-bit integer: refused before int() works on it
        raise _Refused(f"the integer {text[:40]}... is out of range (64 bits)")
    value = int(text)
    if not -MAX_INT - 1 <= value <= MAX_INT:
        raise _Refused(f"the integer {text} is out of range (64 bits)")
    return value


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Refused(f"the key {safe_text(key)[:60]!r} is repeated in one object")
        out[key] = value
    return out


def safe_text(text: str) -> str:
    """``text`` with every lone surrogate written as its escape, so it encodes to UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def check(doc: Any, *, max_depth: int = MAX_DEPTH) -> None:
    """Refuse (``BadJsonError``) a parsed document that strict JSON would not have given.
    Iterative, so no document can exhaust the stack here."""
    stack: list[tuple[Any, str, int]] = [(doc, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if depth > max_depth:
            raise BadJsonError(f"the JSON nests deeper than {max_depth} levels", path=path or "/")
        if isinstance(value, str):
            if _has_surrogate(value):
                raise BadJsonError("a string holds a lone surrogate (not valid Unicode)", path=path or "/")
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, int):
            if not -MAX_INT - 1 <= value <= MAX_INT:
                raise BadJsonError("an integer is out of range (64 bits)", path=path or "/")
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise BadJsonError("a number is not finite (NaN or Infinity)", path=path or "/")
        elif isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str) or _has_surrogate(key):
                    raise BadJsonError("a key holds a lone surrogate (not valid Unicode)", path=path or "/")
                stack.append((item, f"{path}/{safe_text(key)}", depth + 1))
        elif isinstance(value, list | tuple):
            stack.extend((item, f"{path}/{i}", depth + 1) for i, item in enumerate(value))
        else:
            raise BadJsonError(f"{type(value).__name__} is not a JSON value", path=path or "/")


def loads(data: bytes | bytearray | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON document in ``data``, or ``BadJsonError`` saying what is wrong with it."""
    if isinstance(data, bytes | bytearray):
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadJsonError(f"the JSON is not UTF-8 (byte {exc.start})") from None
    else:
        text = data
    try:
        doc = json.loads(
            text, parse_constant=_constant, parse_float=_float, parse_int=_int, object_pairs_hook=_object
        )
    except _Refused as exc:
        raise BadJsonError(exc.message) from None
    except json.JSONDecodeError as exc:
        raise BadJsonError(f"not JSON: {exc.msg} at character {exc.pos}") from None
    except RecursionError:
        raise BadJsonError(f"the JSON nests deeper than {max_depth} levels") from None
    except (ValueError, UnicodeError) as exc:
        raise BadJsonError(f"not JSON: {safe_text(str(exc))[:200]}") from None
    check(doc, max_depth=max_depth)
    return doc


__all__ = ["MAX_DEPTH", "check", "loads", "safe_text"]
