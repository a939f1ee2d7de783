"""``python -m ouroboros.content.export [ROOT]``: write the published JSON Schemas under
``ROOT/schemas/<SCHEMA_VERSION>/`` (ROOT defaults to the current folder)."""

from __future__ import annotations

from ouroboros.content._export import export_schemas, main, schema_documents

__all__ = ["export_schemas", "main", "schema_documents"]

if __name__ == "__main__":
    raise SystemExit(main())
