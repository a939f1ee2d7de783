"""The public surface of ouroboros.content: a small, sorted, importable API."""

from __future__ import annotations

import ouroboros.content as content


def test_all_is_sorted_and_importable() -> None:
    # isort style, as ruff keeps it: CONSTANTS, then Classes, then functions, each alphabetical
    assert content.__all__ == sorted(content.__all__, key=lambda n: (not n.isupper(), not n[0].isupper(), n))
    assert len(set(content.__all__)) == len(content.__all__)
    for name in content.__all__:
        assert getattr(content, name) is not None, name


def test_domain_table_matches_patch_fields() -> None:
    assert set(content.DOMAINS) | {"remove"} == set(content.PatchContent.model_fields)
    for domain, model in content.DOMAIN_MODELS.items():
        assert {"id", "version"} <= set(model.model_fields), domain
