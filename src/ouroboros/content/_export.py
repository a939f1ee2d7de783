"""The published JSON Schemas and their exporter (run it as ``python -m ouroboros.content.export``).

Writes ``ROOT/schemas/<SCHEMA_VERSION>/`` with ``envelope.json``, ``content.json`` and one file
per domain (the schema of one object of that domain). Output is deterministic (sorted keys,
two-space indent, trailing newline), so a regenerated file equals the committed one byte for byte.
A published schema never changes: changing a model means a new ``SCHEMA_VERSION``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ouroboros.content.envelope import SCHEMA_VERSION, Envelope
from ouroboros.content.patch import DOMAIN_MODELS, PatchContent

__all__ = ["export_schemas", "main", "schema_documents"]

_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def _document(name: str, model: type[BaseModel]) -> str:
    schema: dict[str, Any] = model.model_json_schema()
    schema = {"$schema": _DIALECT, "$id": f"ouroboros:schemas/{SCHEMA_VERSION}/{name}.json", **schema}
    return json.dumps(schema, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def schema_documents() -> dict[str, str]:
    """File name -> text of every published schema, in a fixed order."""
    models: dict[str, type[BaseModel]] = {"envelope": Envelope, "content": PatchContent, **DOMAIN_MODELS}
    return {f"{name}.json": _document(name, model) for name, model in models.items()}


def export_schemas(root: Path) -> list[Path]:
    """Write every schema under ``root/schemas/<SCHEMA_VERSION>/``; the paths written, in order."""
    folder = Path(root) / "schemas" / SCHEMA_VERSION
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for file_name, text in schema_documents().items():
        path = folder / file_name
        path.write_bytes(text.encode("utf-8"))
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) > 1:
        print("usage: python -m ouroboros.content.export [ROOT]", file=sys.stderr)
        return 2
    for path in export_schemas(Path(args[0] if args else ".")):
        print(path)
    return 0
