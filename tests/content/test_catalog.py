"""Catalog fold rules: replace by id with greater versions, removals, all or nothing, persistence."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ouroboros.content import Catalog, PatchContent, parse_content
from ouroboros.errors import ContentError

from .conftest import codes_paths, world


def item(version: str = "1.0.0", item_id: str = "it.x", price: int = 1) -> dict[str, Any]:
    return {"id": item_id, "version": version, "name": "X", "kind": "junk", "price": price}


def patch(**domains: Any) -> PatchContent:
    return parse_content(domains)


@pytest.fixture
def base() -> Catalog:
    return Catalog.from_content(parse_content(world()))


def test_empty_catalog() -> None:
    catalog = Catalog.empty()
    assert len(catalog) == 0
    assert catalog.ids("items") == ()
    assert catalog.try_get("items", "it.x") is None
    assert list(catalog) == []


def test_fold_adds_objects_sorted_by_id(base: Catalog) -> None:
    assert len(base) == 16
    assert base.ids("items") == ("it.chip", "it.knife")
    assert base.get("items", "it.knife").version == "1.0.0"
    assert [obj.id for domain, obj in base if domain == "npcs"] == ["np.rat", "np.vendor"]


def test_get_unknown_raises_content_error(base: Catalog) -> None:
    with pytest.raises(ContentError) as caught:
        base.get("items", "it.nothing")
    assert caught.value.reasons[0].code == "unknown_id"
    with pytest.raises(KeyError):
        base.ids("spells")


def test_replacement_needs_strictly_greater_version() -> None:
    catalog = Catalog.empty().applied(patch(items=[item("1.9.0", price=1)]))
    newer = catalog.applied(patch(items=[item("1.10.0", price=2)]))
    assert newer.get("items", "it.x").version == "1.10.0"
    assert catalog.get("items", "it.x").version == "1.9.0"  # the old catalog is unchanged
    for stale in ("1.9.0", "1.8.99", "0.10.0"):
        same, reasons = catalog.apply(patch(items=[item(stale, price=3)]))
        assert same is catalog
        assert codes_paths(reasons) == {("version_not_increasing", "/items/0/version")}


def test_refused_patch_changes_nothing() -> None:
    catalog = Catalog.empty().applied(patch(items=[item("2.0.0")]))
    content = patch(items=[item("1.0.0", item_id="it.new"), item("1.0.0")])
    after, reasons = catalog.apply(content)
    assert after is catalog
    assert not after.has("items", "it.new")
    assert [r.code for r in reasons] == ["version_not_increasing"]
    with pytest.raises(ContentError):
        catalog.applied(content)


def test_duplicate_ids_in_one_patch() -> None:
    _, reasons = Catalog.empty().apply(patch(items=[item(), item("2.0.0")]))
    assert codes_paths(reasons) == {("duplicate_id", "/items/1/id")}


def test_same_id_in_two_domains_is_fine() -> None:
    trait = {"id": "it.x", "version": "1.0.0", "world": "petri", "kind": "builtin", "builtin": "wander"}
    catalog = Catalog.empty().applied(patch(items=[item()], traits=[trait]))
    assert catalog.has("items", "it.x") and catalog.has("traits", "it.x")


def test_removal(base: Catalog) -> None:
    after = base.applied(patch(remove=[{"domain": "economy_tuning", "id": "ec.all"}]))
    assert not after.has("economy_tuning", "ec.all")
    assert len(after) == len(base) - 1
    assert after.retired_version("economy_tuning", "ec.all") == "1.0.0"


def test_removal_of_unknown_id_and_twice(base: Catalog) -> None:
    _, reasons = base.apply(
        patch(
            remove=[
                {"domain": "items", "id": "it.ghost"},
                {"domain": "rooms", "id": "rm.a"},
                {"domain": "rooms", "id": "rm.a"},
            ]
        )
    )
    assert codes_paths(reasons) == {("unknown_id", "/remove/0/id"), ("duplicate_id", "/remove/2")}


def test_remove_and_carry_in_one_patch_conflicts() -> None:
    catalog = Catalog.empty().applied(patch(items=[item()]))
    _, reasons = catalog.apply(patch(items=[item("2.0.0")], remove=[{"domain": "items", "id": "it.x"}]))
    assert codes_paths(reasons) == {("conflicting_change", "/items/0/id")}


def test_removed_object_cannot_come_back_older() -> None:
    catalog = Catalog.empty().applied(patch(items=[item("3.0.0")]))
    gone = catalog.applied(patch(remove=[{"domain": "items", "id": "it.x"}]))
    _, reasons = gone.apply(patch(items=[item("2.0.0")]))
    assert codes_paths(reasons) == {("version_not_increasing", "/items/0/version")}
    back = gone.applied(patch(items=[item("3.0.1")]))
    assert back.get("items", "it.x").version == "3.0.1"
    assert back.retired_version("items", "it.x") is None


def test_fold_is_order_independent_and_deterministic() -> None:
    doc = world()
    reversed_doc = {k: list(reversed(v)) for k, v in doc.items()}
    one = Catalog.from_content(parse_content(doc))
    two = Catalog.from_content(parse_content(reversed_doc))
    assert one == two
    assert json.dumps(one.to_dict()) == json.dumps(two.to_dict())


def test_persistence_round_trip(base: Catalog) -> None:
    after = base.applied(patch(remove=[{"domain": "economy_tuning", "id": "ec.all"}]))
    data = json.loads(json.dumps(after.to_dict()))
    restored = Catalog.from_dict(data)
    assert restored == after
    assert restored.retired_version("economy_tuning", "ec.all") == "1.0.0"
    # to_content is the objects only: a catalog rebuilt from it forgets the removal history
    rebuilt = Catalog.from_content(after.to_content())
    assert rebuilt.to_content() == after.to_content()
    assert rebuilt.retired_version("economy_tuning", "ec.all") is None


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        {"objects": {}},
        {"objects": {"items": 5}, "retired": {}},
        {"objects": {}, "retired": {"x": {}}},
        {"objects": {}, "retired": {"items": {"it.x": "one"}}},
    ],
)
def test_from_dict_refuses_junk(data: Any) -> None:
    with pytest.raises(ContentError):
        Catalog.from_dict(data)


def test_catalog_objects_are_immutable(base: Catalog) -> None:
    knife = base.get("items", "it.knife")
    with pytest.raises(ValueError):
        knife.price = 0  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        base._objects["items"]["it.evil"] = knife  # type: ignore[index]
