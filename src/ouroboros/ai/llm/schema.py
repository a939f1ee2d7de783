"""A small JSON Schema validator for the schema shapes this package sends to models.

Models are asked for JSON that follows a schema, and servers that promise "structured output" do
not always keep the promise, so every answer is checked here, by us. The subset:

- ``type``: ``object``, ``array``, ``string``, ``integer``, ``boolean``, ``null`` (or a list of
  them). ``integer`` is a JSON integer only: ``true`` is not 1 and ``5.0`` is not 5.
- objects: ``properties``, ``required``, ``additionalProperties`` (``false``, ``true`` or a schema).
- strings: ``minLength``, ``maxLength`` (counted in code points); ``enum`` and ``const`` anywhere.
- arrays: ``items``, ``minItems``, ``maxItems``. Integers: ``minimum``, ``maximum``.
- annotations (``title``, ``description``, ``$schema``, ``$id``, ``default``) are ignored.

``check_schema`` refuses any other keyword (so a constraint is never silently skipped), and
``validate`` returns every problem as ``(json_pointer, message)``, empty when the value fits.
Both are pure and total: any input gives a list or a ``SchemaError``, never another exception.
"""

from __future__ import annotations

from typing import Any

from ouroboros.errors import SchemaError

__all__ = ["check_schema", "is_valid", "validate"]

_TYPES = frozenset({"object", "array", "string", "integer", "boolean", "null"})
_ANNOTATIONS = frozenset({"title", "description", "$schema", "$id", "default", "examples"})
_KEYWORDS = frozenset(
    {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "minLength",
        "maxLength",
        "enum",
        "const",
        "items",
        "minItems",
        "maxItems",
        "minimum",
        "maximum",
    }
)
_MAX_DEPTH = 32
_MAX_PROBLEMS = 50


def _pointer(path: str, key: str | int) -> str:
    return f"{path}/{str(key).replace('~', '~0').replace('/', '~1')}"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _count(value: Any) -> bool:
    return _is_int(value) and value >= 0


def check_schema(schema: Any, path: str = "") -> None:
    """Raise ``SchemaError`` unless ``schema`` uses only the supported subset."""
    _check_schema(schema, path or "#", 0)


def _check_schema(schema: Any, path: str, depth: int) -> None:
    if depth > _MAX_DEPTH:
        raise SchemaError(f"schema nests deeper than {_MAX_DEPTH}", path=path)
    if isinstance(schema, bool):
        return
    if not isinstance(schema, dict):
        raise SchemaError("a schema is an object or a boolean", path=path)
    unknown = sorted(set(schema) - _KEYWORDS - _ANNOTATIONS)
    if unknown:
        raise SchemaError(f"unsupported keywords {unknown}", path=path)
    types = schema.get("type")
    if types is not None:
        listed = types if isinstance(types, list) else [types]
        if not listed or not all(isinstance(t, str) and t in _TYPES for t in listed):
            raise SchemaError(f"type must be one of {sorted(_TYPES)} or a list of them", path=path)
    properties = schema.get("properties", {})
    if not isinstance(properties, dict) or not all(isinstance(k, str) for k in properties):
        raise SchemaError("properties must be an object of schemas", path=path)
    for name, sub in properties.items():
        _check_schema(sub, _pointer(path + "/properties", name), depth + 1)
    required = schema.get("required", [])
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        raise SchemaError("required must be a list of names", path=path)
    if "additionalProperties" in schema:
        _check_schema(schema["additionalProperties"], path + "/additionalProperties", depth + 1)
    if "items" in schema:
        _check_schema(schema["items"], path + "/items", depth + 1)
    for key in ("minLength", "maxLength", "minItems", "maxItems"):
        if key in schema and not _count(schema[key]):
            raise SchemaError(f"{key} must be an integer of 0 or more", path=path)
    for key in ("minimum", "maximum"):
        if key in schema and not _is_int(schema[key]):
            raise SchemaError(f"{key} must be an integer", path=path)
    if "enum" in schema and (not isinstance(schema["enum"], list) or not schema["enum"]):
        raise SchemaError("enum must be a non-empty list", path=path)


def _type_of(value: Any) -> str | None:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if _is_int(value):
        return "integer"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return None  # floats and anything that is not JSON


def _same(a: Any, b: Any) -> bool:
    """JSON equality: ``True`` is not ``1``."""
    return _type_of(a) == _type_of(b) and a == b


def validate(value: Any, schema: Any) -> list[tuple[str, str]]:
    """Every way ``value`` breaks ``schema``, as (JSON pointer, message); ``[]`` when it fits.
    ``SchemaError`` if the schema itself is outside the subset."""
    check_schema(schema)
    problems: list[tuple[str, str]] = []
    _validate(value, schema, "", problems, 0)
    return problems[:_MAX_PROBLEMS]


def is_valid(value: Any, schema: Any) -> bool:
    return not validate(value, schema)


def _validate(value: Any, schema: Any, path: str, problems: list[tuple[str, str]], depth: int) -> None:
    if len(problems) >= _MAX_PROBLEMS:
        return
    if schema is True:
        return
    if schema is False:
        problems.append((path, "no value is allowed here"))
        return
    if depth > _MAX_DEPTH:
        problems.append((path, f"value nests deeper than {_MAX_DEPTH}"))
        return
    kind = _type_of(value)
    types = schema.get("type")
    if types is not None:
        allowed = types if isinstance(types, list) else [types]
        if kind not in allowed:
            problems.append((path, f"expected {' or '.join(allowed)}, got {kind or type(value).__name__}"))
            return
    if kind is None:
        problems.append((path, f"{type(value).__name__} is not a JSON value this validator accepts"))
        return
    if "const" in schema and not _same(value, schema["const"]):
        problems.append((path, f"must be {schema['const']!r}"))
    if "enum" in schema and not any(_same(value, option) for option in schema["enum"]):
        shown = ", ".join(repr(o) for o in schema["enum"][:10])
        problems.append((path, f"must be one of {shown}"))
    if kind == "string":
        length = len(value)
        if "maxLength" in schema and length > schema["maxLength"]:
            problems.append((path, f"longer than {schema['maxLength']} characters ({length})"))
        if "minLength" in schema and length < schema["minLength"]:
            problems.append((path, f"shorter than {schema['minLength']} characters ({length})"))
    elif kind == "integer":
        if "minimum" in schema and value < schema["minimum"]:
            problems.append((path, f"below the minimum {schema['minimum']}"))
        if "maximum" in schema and value > schema["maximum"]:
            problems.append((path, f"above the maximum {schema['maximum']}"))
    elif kind == "array":
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            problems.append((path, f"more than {schema['maxItems']} items ({len(value)})"))
        if "minItems" in schema and len(value) < schema["minItems"]:
            problems.append((path, f"fewer than {schema['minItems']} items ({len(value)})"))
        if "items" in schema:
            for index, item in enumerate(value):
                _validate(item, schema["items"], _pointer(path, index), problems, depth + 1)
    elif kind == "object":
        properties = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in value:
                problems.append((_pointer(path, name), "required but missing"))
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if not isinstance(key, str):
                problems.append((path, "object keys must be strings"))
            elif key in properties:
                _validate(item, properties[key], _pointer(path, key), problems, depth + 1)
            elif extra is False:
                problems.append((_pointer(path, key), "not allowed (additionalProperties is false)"))
            else:
                _validate(item, extra, _pointer(path, key), problems, depth + 1)
