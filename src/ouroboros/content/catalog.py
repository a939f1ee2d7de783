"""``Catalog``: the active gameplay version, an immutable map domain -> {id: object}.

A patch is folded onto a catalog to make the next one. The fold rules, checked before anything
changes (all or nothing):

- within one patch an id appears once per domain, and a removal once;
- an object whose id is already in the catalog replaces it and must have a strictly greater
  semantic version (``version_not_increasing``), also when the id was removed earlier: the
  catalog remembers the last version of every removed id, so an old object cannot come back;
- a removal names an object the catalog has (``unknown_id``), and a patch does not both remove
  and carry the same object (``conflicting_change``).

Iteration, ``ids()``, ``objects()`` and ``to_content()`` are sorted by id, domains in ``DOMAINS``
order, so two equal catalogs serialise to the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any

from ouroboros.content._base import DomainObject, is_id, is_semver, semver_key
from ouroboros.content._errors import join_pointer
from ouroboros.content.patch import DOMAINS, PatchContent, parse_content
from ouroboros.errors import ContentError, Reason

__all__ = ["CATALOG_STAGE", "Catalog"]

CATALOG_STAGE = "static"

_Objects = Mapping[str, Mapping[str, DomainObject]]
_Retired = Mapping[str, Mapping[str, str]]


def _frozen(table: Mapping[str, Mapping[str, Any]]) -> Mapping[str, Mapping[str, Any]]:
    return MappingProxyType(
        {d: MappingProxyType({k: table.get(d, {})[k] for k in sorted(table.get(d, {}))}) for d in DOMAINS}
    )


class Catalog:
    """An immutable view of the active gameplay objects; ``apply`` returns a new catalog."""

    __slots__ = ("_objects", "_retired")

    def __init__(self, objects: _Objects | None = None, retired: _Retired | None = None) -> None:
        self._objects: _Objects = _frozen(objects or {})
        self._retired: _Retired = _frozen(retired or {})

    @classmethod
    def empty(cls) -> Catalog:
        return cls()

    @classmethod
    def from_content(cls, content: PatchContent) -> Catalog:
        """The catalog holding exactly ``content`` (which must fold onto an empty catalog)."""
        return cls.empty().applied(content)

    # --- reading -------------------------------------------------------------------------------

    def ids(self, domain: str) -> tuple[str, ...]:
        return tuple(self._table(domain))

    def objects(self, domain: str) -> tuple[DomainObject, ...]:
        return tuple(self._table(domain).values())

    def try_get(self, domain: str, object_id: str) -> DomainObject | None:
        return self._table(domain).get(object_id)

    def get(self, domain: str, object_id: str) -> DomainObject:
        """The object, or ``ContentError`` (code ``unknown_id``) when the catalog has none."""
        found = self.try_get(domain, object_id)
        if found is None:
            raise ContentError(
                [
                    Reason(
                        CATALOG_STAGE,
                        "unknown_id",
                        join_pointer("", domain, object_id),
                        f"no {domain} object with id {object_id!r}",
                    )
                ]
            )
        return found

    def has(self, domain: str, object_id: str) -> bool:
        return object_id in self._table(domain)

    def retired_version(self, domain: str, object_id: str) -> str | None:
        """The version an id had when it was removed, while it stays removed."""
        return self._retired[domain].get(object_id) if domain in self._retired else None

    def __len__(self) -> int:
        return sum(len(table) for table in self._objects.values())

    def __iter__(self) -> Iterator[tuple[str, DomainObject]]:
        for domain in DOMAINS:
            for obj in self._objects[domain].values():
                yield domain, obj

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Catalog):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        sizes = ", ".join(f"{d}={len(self._objects[d])}" for d in DOMAINS if self._objects[d])
        return f"Catalog({sizes})"

    def _table(self, domain: str) -> Mapping[str, DomainObject]:
        if domain not in self._objects:
            raise KeyError(f"unknown domain {domain!r} (domains: {', '.join(DOMAINS)})")
        return self._objects[domain]

    # --- folding -------------------------------------------------------------------------------

    def check(self, content: PatchContent, *, path_prefix: str = "") -> list[Reason]:
        """Why ``content`` cannot be folded onto this catalog; empty when it can."""
        reasons: list[Reason] = []

        def refuse(code: str, message: str, *segments: Any) -> None:
            reasons.append(Reason(CATALOG_STAGE, code, join_pointer(path_prefix, *segments), message))

        removed: dict[tuple[str, str], int] = {}
        for index, removal in enumerate(content.remove):
            key = (removal.domain, removal.id)
            if key in removed:
                refuse("duplicate_id", f"{removal.domain}/{removal.id} is removed twice", "remove", index)
                continue
            removed[key] = index
            if not self.has(removal.domain, removal.id):
                refuse(
                    "unknown_id",
                    f"cannot remove {removal.domain}/{removal.id}: the catalog has no such object",
                    "remove",
                    index,
                    "id",
                )

        for domain in DOMAINS:
            seen: set[str] = set()
            for index, obj in enumerate(content.objects(domain)):
                if obj.id in seen:
                    refuse(
                        "duplicate_id",
                        f"{domain} id {obj.id!r} appears more than once in this patch",
                        domain,
                        index,
                        "id",
                    )
                    continue
                seen.add(obj.id)
                if (domain, obj.id) in removed:
                    refuse(
                        "conflicting_change",
                        f"{domain}/{obj.id} is both removed and carried by this patch",
                        domain,
                        index,
                        "id",
                    )
                    continue
                current = self.try_get(domain, obj.id)
                previous = current.version if current is not None else self.retired_version(domain, obj.id)
                if previous is not None and semver_key(obj.version) <= semver_key(previous):
                    was = "is" if current is not None else "was (before its removal)"
                    refuse(
                        "version_not_increasing",
                        f"{domain}/{obj.id} {obj.version} must be greater than {previous}, "
                        f"the version it {was} in the catalog",
                        domain,
                        index,
                        "version",
                    )
        return reasons

    def apply(self, content: PatchContent) -> tuple[Catalog, list[Reason]]:
        """``(next catalog, [])``, or ``(self, reasons)`` when the fold rules refuse ``content``."""
        reasons = self.check(content)
        if reasons:
            return self, reasons
        objects = {d: dict(self._objects[d]) for d in DOMAINS}
        retired = {d: dict(self._retired[d]) for d in DOMAINS}
        for removal in content.remove:
            retired[removal.domain][removal.id] = objects[removal.domain].pop(removal.id).version
        for domain in DOMAINS:
            for obj in content.objects(domain):
                objects[domain][obj.id] = obj
                retired[domain].pop(obj.id, None)
        return Catalog(objects, retired), []

    def applied(self, content: PatchContent) -> Catalog:
        """The next catalog, or ``ContentError`` with the reasons ``check`` gives."""
        catalog, reasons = self.apply(content)
        if reasons:
            raise ContentError(reasons)
        return catalog

    # --- persistence ---------------------------------------------------------------------------

    def to_content(self) -> PatchContent:
        """Every object as one ``PatchContent`` (sorted by id): the catalog as a patch zero."""
        return PatchContent.model_validate({d: self.objects(d) for d in DOMAINS})

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{"objects": <content>, "retired": {domain: {id: version}}}``."""
        retired = {d: dict(self._retired[d]) for d in DOMAINS if self._retired[d]}
        return {"objects": self.to_content().to_json(), "retired": retired}

    @classmethod
    def from_dict(cls, data: Any) -> Catalog:
        """Read ``to_dict()`` output back; ``ContentError`` if it is not one."""
        if not isinstance(data, dict) or set(data) != {"objects", "retired"}:
            raise ContentError(
                [Reason("schema", "wrong_type", "/", "expected {'objects': ..., 'retired': ...}")]
            )
        content = parse_content(data["objects"], path_prefix="/objects")
        retired_data = data["retired"]
        retired: dict[str, dict[str, str]] = {}
        if not isinstance(retired_data, dict):
            raise ContentError([Reason("schema", "wrong_type", "/retired", "expected an object")])
        for domain, table in retired_data.items():
            if domain not in DOMAINS or not isinstance(table, dict):
                raise ContentError(
                    [
                        Reason(
                            "schema",
                            "bad_value",
                            join_pointer("/retired", domain),
                            "expected a domain name mapping ids to versions",
                        )
                    ]
                )
            retired[domain] = {}
            for object_id, version in table.items():
                if not is_id(object_id) or not is_semver(version):
                    raise ContentError(
                        [
                            Reason(
                                "schema",
                                "wrong_type",
                                join_pointer("/retired", domain),
                                "expected ids mapping to semantic versions",
                            )
                        ]
                    )
                retired[domain][object_id] = version
        catalog = cls.empty().applied(content)
        return cls(catalog._objects, retired)
