"""Versions as content: how a patch folds onto the version before it, what a world is given,
what stage 3 checks references against, and what evidence shows of a version.

This is the one place the governance layer knows the content layer's ``Catalog``. A version is
stored as its whole effective catalog (``{"objects": ..., "retired": ...}``); the base version
stores nothing. A world's base content (patch zero) is read from its package's ``base/`` folder
(``ouroboros/worlds/<name>/base/<domain>.json``, each ``{domain: [...]}``) by convention, so a
third world needs no change here: references and versions in a patch are checked against the base
content with the active version laid over it.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib.resources import files
from typing import Any

from ouroboros.content.overlay import by_id, overlay
from ouroboros.errors import Reason
from ouroboros.patches.canonical import load_json, sha256_hex


def load_catalog(stored: Mapping[str, Any] | None) -> Any:
    """The ``Catalog`` a version's stored form describes (``None``: the base world, empty)."""
    from ouroboros.content import Catalog

    return Catalog.from_dict(dict(stored)) if stored else Catalog.empty()


@cache
def base_content(world_name: str) -> dict[str, list[Any]]:
    """Patch zero of a world: the content files in its package's ``base/`` folder, one per domain
    (``base/items.json`` holds ``{"items": [...]}``); ``{}`` for a world without one."""
    from ouroboros.content import DOMAINS

    try:
        folder = files(f"ouroboros.worlds.{world_name}") / "base"
    except ModuleNotFoundError:
        return {}
    content: dict[str, list[Any]] = {}
    for domain in DOMAINS:
        path = folder / f"{domain}.json"
        if path.is_file():
            content[domain] = list(load_json(path.read_bytes(), f"base {domain} of {world_name}")[domain])
    return content


@cache
def _base_catalog(world_name: str) -> Any:
    return load_catalog({"objects": base_content(world_name), "retired": {}})


def lint_catalog(world_name: str, stored: Mapping[str, Any] | None) -> Any:
    """What stage 3 resolves references against and checks versions against: the world's base
    content with a version's objects laid over it (same id: the version's object)."""
    if stored is None:
        return _base_catalog(world_name)
    objects = overlay(base_content(world_name), stored["objects"])
    return load_catalog({"objects": objects, "retired": stored.get("retired", {})})


def effective_objects(world_name: str, stored: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Domain → id → object of a version (``stored``: its stored form, ``None`` the base version):
    the world's base content with the version's objects laid over it."""
    return by_id(overlay(base_content(world_name), stored))


def world_content(stored: Mapping[str, Any] | None) -> dict[str, Any]:
    """What a world is given for a version: every object of its catalog, as plain JSON."""
    return dict(stored["objects"]) if stored else {}


def content_summary(stored: Mapping[str, Any]) -> dict[str, Any]:
    """What evidence shows of a version's content: its sha256 and how many objects per domain."""
    objects = stored.get("objects") or {}
    counts = {d: len(v) for d, v in sorted(objects.items()) if isinstance(v, list) and v}
    return {"sha256": sha256_hex(dict(stored)), "objects": counts}


def fold_content(stored: Mapping[str, Any] | None, patch_content: Any) -> tuple[dict[str, Any], list[Reason]]:
    """The stored form of the version a patch makes, and the reasons the fold refuses (versions
    that do not increase, removals of unknown ids)."""
    catalog = load_catalog(stored)
    folded, reasons = catalog.apply(patch_content)
    return folded.to_dict(), [Reason("static", r.code, r.path, r.message) for r in reasons]


__all__ = [
    "base_content",
    "content_summary",
    "effective_objects",
    "fold_content",
    "lint_catalog",
    "load_catalog",
    "world_content",
]
