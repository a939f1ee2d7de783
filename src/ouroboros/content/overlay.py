"""One overlay: content laid over content, object by object.

"Base content with the active version laid over it" is this function everywhere: the catalog
stage 3 lints against, the objects the council and the queue merge with, the content a generator
grows from, the content a world is given, the evolution cascade's candidate content.

What it promises (pinned by property tests):

- ``overlay(base, *layers)`` is ``base`` with each layer laid over it in turn: in every domain an
  object of a later layer replaces the one with the same ``id`` (later wins), objects with new ids
  are added, and a layer's ``remove`` list (``{"domain", "id"}``, as in patch content) deletes,
  before that layer's own objects go in.
- Laying the same layer twice changes nothing (idempotent); each domain comes back sorted by id;
  nothing given is changed (objects are copied, shallowly).
- A layer may be a stored catalog (``{"objects": ..., "retired": ...}``): its ``objects`` are laid.
  ``None`` is an empty layer. A domain that is not a list, or an object without a string ``id``,
  is one ``BadInputError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ouroboros.errors import BadInputError

__all__ = ["by_id", "layer_objects", "overlay"]

REMOVE = "remove"


def layer_objects(layer: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """The domain → objects mapping of ``layer``: patch content as it is, a stored catalog's
    ``objects`` (``None``: nothing)."""
    if layer is None:
        return {}
    if not isinstance(layer, Mapping):
        raise BadInputError("content must be a mapping of domain -> list of objects")
    objects = layer.get("objects")
    return objects if isinstance(objects, Mapping) else layer


def _table(domain: str, objects: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(objects, list | tuple):
        raise BadInputError(f"content domain {domain!r} must be a list of objects")
    table: dict[str, dict[str, Any]] = {}
    for obj in objects:
        if not isinstance(obj, Mapping) or not isinstance(obj.get("id"), str):
            raise BadInputError(f"content domain {domain!r} holds an object without an id")
        table[obj["id"]] = dict(obj)
    return table


def overlay(
    base: Mapping[str, Any] | None, *layers: Mapping[str, Any] | None
) -> dict[str, list[dict[str, Any]]]:
    """``base`` with every layer laid over it in turn (see the module docstring)."""
    tables: dict[str, dict[str, dict[str, Any]]] = {}
    for layer in (base, *layers):
        objects = layer_objects(layer)
        for removal in objects.get(REMOVE) or ():
            if isinstance(removal, Mapping) and isinstance(removal.get("domain"), str):
                tables.get(removal["domain"], {}).pop(str(removal.get("id")), None)
        for domain, domain_objects in objects.items():
            if domain != REMOVE:
                tables.setdefault(domain, {}).update(_table(domain, domain_objects))
    return {domain: [table[k] for k in sorted(table)] for domain, table in sorted(tables.items())}


def by_id(content: Mapping[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """``content`` (domain → list of objects) as domain → id → object."""
    return {
        domain: _table(domain, objects)
        for domain, objects in layer_objects(content).items()
        if domain != REMOVE
    }
