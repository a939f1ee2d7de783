"""Published JSON Schemas: regenerating them gives the committed bytes, and their hashes are pinned."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from ouroboros.content import DOMAINS, SCHEMA_VERSION, export_schemas
from ouroboros.content.export import main, schema_documents

from .conftest import REPO

COMMITTED = REPO / "schemas" / SCHEMA_VERSION

# A published schema never changes. If one of these fails, the models changed the published
# shape: put the change under a new SCHEMA_VERSION (a new folder) instead of editing these digests.
# (Schema 1 gained the optional ``model_roles`` domain before any release; content and envelope
# were re-pinned then; the envelope gained the optional ``migration`` hint the same way, issue 15.
# Every document valid before is still valid.)
PINNED_SHA256 = {
    "content.json": "c1df9db6abe8d7e294ed65140c045fd2a92503daeb948191d20ac55d080761c6",
    "dialogue.json": "e128843d6f8385acf8a7a7d91218d77d2f47380482ce6827be702c7fa33f1372",
    "economy_tuning.json": "522301fc3a58c6132dc4f4da7126ce1741a06cdfe4efde949055d82dcb43b28a",
    "envelope.json": "661575e883ac4424f0dbf1347e8e0af2e2accd3ccfca8eba7c6581b4ae4a6a7d",
    "items.json": "b573332cfec8d32cfd068673475171b36ad50c051cda285927cce3b0f1743c86",
    "model_roles.json": "32e9f14cebf312edb0b1db212d16c1025047c18bedbc45f41d754ebcfb43d0bf",
    "npc_behaviors.json": "087b12fde3df8f569330e3c84510a2b70e0f8ceeb7795b35f4aa48195555ee79",
    "npcs.json": "3b0afd40dedec3c37beaa9ed948acb59d5c0b081905a6f64e3945db9b3755df0",
    "procgen_rules.json": "e33d5c4f1e33428b111119f73cfbac265fb62ac5c6ec9a73b81cdc53ffde5392",
    "quests.json": "e4e0b98c6f266fda663b6e0482e0e848c942f4c135083300ee4488d75bad72f8",
    "rooms.json": "c90757b5462f31f1cac3b9a1439af0d5b104e9cb2dfea538a92c51b67dabfc69",
    "scripts.json": "9ea8c0a0b85e20a1e3d0333dbf98df1d4e64a26300b64bb4ae065374bd6907ab",
    "traits.json": "ff542b5f156c92e16bc4db2335dcc979c3ddf147b5c5a74a680898082deacd53",
    "world_params.json": "687e50c7ef2965e867907716efc428deaad5288cb8a6a8762f6af847a4bc680e",
}


def test_one_file_per_domain_plus_envelope_and_content() -> None:
    assert set(schema_documents()) == {f"{d}.json" for d in DOMAINS} | {"envelope.json", "content.json"}
    assert set(PINNED_SHA256) == set(schema_documents())


@pytest.mark.parametrize("name", sorted(PINNED_SHA256))
def test_regenerated_schema_equals_committed_file(name: str) -> None:
    assert (COMMITTED / name).read_text(encoding="utf-8") == schema_documents()[name]


@pytest.mark.parametrize("name", sorted(PINNED_SHA256))
def test_committed_schema_hash_is_pinned(name: str) -> None:
    assert hashlib.sha256((COMMITTED / name).read_bytes()).hexdigest() == PINNED_SHA256[name]


def test_export_writes_deterministic_files(tmp_path: Path) -> None:
    written = export_schemas(tmp_path)
    assert [p.name for p in written] == list(schema_documents())
    first = {p.name: p.read_bytes() for p in written}
    export_schemas(tmp_path)
    assert {p.name: p.read_bytes() for p in written} == first
    items = json.loads(first["items.json"])
    assert items["$id"] == f"ouroboros:schemas/{SCHEMA_VERSION}/items.json"
    assert items["additionalProperties"] is False
    assert items["properties"]["price"]["maximum"] == 1_000_000
    assert all(text.endswith(b"}\n") for text in first.values())


def test_schemas_carry_no_number_type() -> None:
    # content is integers only: no schema may admit a JSON number that is not an integer
    for name, text in schema_documents().items():
        assert '"type": "number"' not in text, name


def test_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path)]) == 0
    assert (tmp_path / "schemas" / SCHEMA_VERSION / "envelope.json").is_file()
    assert "envelope.json" in capsys.readouterr().out
    assert main(["a", "b"]) == 2
