"""``ouroboros go`` held to the anchors outside its data folder (ADR 0011): it prints each
world's trust root, witnesses every head with ``--witness``, and refuses to start (exit 1, one
line) on a folder whose pointer file is gone, whose root is not the pinned one, or whose ledger
is behind its witness."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from ouroboros.cli import core as cli
from ouroboros.patches.witness import TRUST_ROOT_ENV, WITNESS_ENV

from .conftest import one_error_line

PORTS = ("--port", "0", "--telnet-port", "0", "--ws-port", "0", "--no-browser", "--optimizer", "off")
NO_ANCHORS: dict[str, str | None] = {WITNESS_ENV: None, TRUST_ROOT_ENV: None}


def go(data: Path, *extra: str, env: dict[str, str | None] | None = None) -> tuple[int, str, str]:
    args = ["go", "--world", "petri", "--max-ticks", "3", "--ticks-per-second", "0", "--entities", "20"]
    result = CliRunner().invoke(
        cli.app, [*args, "--data", str(data), *PORTS, *extra], env={**NO_ANCHORS, **(env or {})}
    )
    return result.exit_code, result.stdout, result.stderr


def test_go_prints_the_root_to_pin_and_witnesses_its_heads(tmp_path: Path) -> None:
    data, witness = tmp_path / "data", tmp_path / "witness.jsonl"
    code, out, err = go(data, "--witness", str(witness))
    assert code == 0, err
    root = re.search(r"^petri trust root ([0-9a-f]{64})$", out, re.M)
    assert root, out
    assert f"export {TRUST_ROOT_ENV}={root.group(1)}" in out and f"witness {witness}" in out
    heads = [json.loads(line) for line in witness.read_text().splitlines()]
    assert heads and {h["folder"] for h in heads} == {str((data / "petri").resolve())}
    assert all(h["root"] == root.group(1) and h["sig"] for h in heads)
    # pinned: it starts, and says so; the unanchored warning is gone
    code, out, err = go(data, env={TRUST_ROOT_ENV: root.group(1), WITNESS_ENV: str(witness)})
    assert code == 0, err
    assert f"petri trust root {root.group(1)} (pinned)" in out and "warning" not in out


def test_go_without_anchors_warns(tmp_path: Path) -> None:
    code, out, err = go(tmp_path / "data")
    assert code == 0, err
    assert "anyone who can write to the data folder can rewrite or cut its history" in out


def test_go_refuses_a_folder_that_fails_its_anchors(tmp_path: Path) -> None:
    data, witness = tmp_path / "data", tmp_path / "witness.jsonl"
    assert go(data, "--witness", str(witness))[0] == 0
    ledger = data / "petri" / "ledger.sqlite3"
    kept = sqlite3.connect(tmp_path / "kept.sqlite3")
    live = sqlite3.connect(ledger)
    live.backup(kept)  # the attacker keeps a copy of the ledger as it is now
    live.close()
    kept.close()
    mirror = (data / "petri" / "active.json").read_bytes()
    for action in ("engage", "release"):  # more history, witnessed
        args = ["killswitch", action, "--actor", "op", "--reason", "drill", "--data", str(data / "petri")]
        assert CliRunner().invoke(cli.app, [*args, "--witness", str(witness)], env=NO_ANCHORS).exit_code == 0

    code, _, err = go(data, "--trust-root", "a" * 64)
    assert code == 1 and "trust root" in one_error_line(err)

    kept, live = sqlite3.connect(tmp_path / "kept.sqlite3"), sqlite3.connect(ledger)
    kept.backup(live)  # the older copy restored, with its own (consistent) pointer file
    kept.close()
    live.close()
    (data / "petri" / "active.json").write_bytes(mirror)
    code, _, err = go(data, "--witness", str(witness))
    assert code == 1 and "entries were cut" in one_error_line(err)

    (data / "petri" / "active.json").unlink()
    code, _, err = go(data)
    assert code == 1 and "pointer file" in one_error_line(err)
