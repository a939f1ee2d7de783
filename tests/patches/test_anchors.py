"""The two attacks on the ledger of issue 14, exactly as they were run, and the anchors that stop
them: the pointer mirror (a cut tail with the mirror deleted or zeroed), the trust root pinned
outside the folder and the witness file (a swapped keyring, a re-pinned and re-hashed chain, an
attacker-signed patch). Everything runs through the real command line and a real SQLite file."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ouroboros.cli import app
from ouroboros.patches.canonical import canonical_bytes, sha256_hex
from ouroboros.patches.keys import Keyring, SigningKey
from ouroboros.patches.ledger import LEDGER_FILE, POINTER_FILE, entry_hash
from ouroboros.patches.mirror import GENESIS_HASH, pointer_as_of
from ouroboros.patches.witness import TRUST_ROOT_ENV, WITNESS_ENV

from .conftest import FAST_BUDGETS, params_content

NO_ANCHORS: dict[str, str | None] = {WITNESS_ENV: None, TRUST_ROOT_ENV: None}


def cli(*args: object, env: dict[str, str | None] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [str(a) for a in args], env={**NO_ANCHORS, **(env or {})})
    return result.exit_code, result.stdout, result.stderr


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    return lines[0]


def found(tmp_path: Path, *anchor_args: object) -> tuple[Path, str]:
    """A petri data folder founded by ``keys new`` as an operator does it; its printed trust root."""
    data = tmp_path / "data"
    data.mkdir()
    world = {"world": "petri", "seed": 3, "config": {"entities": 60}, "budgets": FAST_BUDGETS}
    (data / "world.json").write_text(json.dumps(world))
    code, out, err = cli("keys", "new", "op", "--data", data, *anchor_args)
    assert code == 0, err
    match = re.search(r"^trust root ([0-9a-f]{64})", out, re.M)
    assert match, out
    return data, match.group(1)


def submit(
    tmp_path: Path, data: Path, temperature: int, version: str, *anchor_args: object
) -> dict[str, Any]:
    content = tmp_path / f"content-{temperature}.json"
    content.write_text(json.dumps(params_content(temperature, version)))
    bundle = tmp_path / f"bundle-{temperature}.json"
    assert cli("patch", "new", "--content", content, "-o", bundle, "--data", data, *anchor_args)[0] == 0
    assert cli("patch", "sign", bundle, "--key", "op", "--data", data)[0] == 0
    code, out, err = cli("patch", "submit", bundle, "--data", data, "--json", *anchor_args)
    assert code in (0, 1), err
    return dict(json.loads(out))


def tamper(data: Path, script: str, *args: Any) -> None:
    """The attacker: SQL straight on the file, with the append-only triggers dropped."""
    db = sqlite3.connect(data / LEDGER_FILE)
    db.executescript("DROP TRIGGER IF EXISTS entries_no_update; DROP TRIGGER IF EXISTS entries_no_delete;")
    db.execute("BEGIN")
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement, args[: statement.count("?")])
    db.commit()
    db.close()


def consistent_mirror(data: Path) -> None:
    """The careful attacker: a pointer file that names the (new) head with the pointer at it."""
    db = sqlite3.connect(data / LEDGER_FILE)
    seq, digest = db.execute("SELECT seq, hash FROM head").fetchone()
    mirror = {**pointer_as_of(db, seq), "head_seq": seq, "head_hash": digest}
    db.close()
    (data / POINTER_FILE).write_bytes(canonical_bytes(mirror) + b"\n")


def cut_the_rejection(data: Path, head_before: int, rejected: str) -> None:
    """Attack 1: cut the entries of a rejected patch and make the other tables consistent."""
    tamper(data, "DELETE FROM entries WHERE seq > ?", head_before)
    tamper(data, "DELETE FROM bundles WHERE patch_id = ?", rejected)
    tamper(data, "DELETE FROM patch_state WHERE patch_id = ?", rejected)
    tamper(
        data,
        "UPDATE head SET seq = ?, hash = (SELECT hash FROM entries WHERE seq = ?)",
        head_before,
        head_before,
    )


def rewrite_chain(data: Path, change: Callable[[list[list[Any]]], None]) -> None:
    """Change entries, then recompute every hash (the entry hash is unkeyed) and the head."""
    db = sqlite3.connect(data / LEDGER_FILE)
    rows = [list(r) for r in db.execute("SELECT * FROM entries ORDER BY seq")]
    db.close()
    change(rows)
    prev = GENESIS_HASH
    for row in rows:
        row[9] = prev
        row[10] = prev = entry_hash(*row[:10])
    tamper(data, "DELETE FROM entries")
    for row in rows:
        tamper(data, "INSERT INTO entries VALUES (?,?,?,?,?,?,?,?,?,?,?)", *row)
    tamper(data, "UPDATE head SET seq = ?, hash = ?", rows[-1][0], prev)
    consistent_mirror(data)


def swap_the_keyring(data: Path) -> SigningKey:
    """Attack 2: a keyring of the attacker's own, pinned in entry 1, every hash recomputed."""
    mallory = SigningKey.generate("op")
    ring = Keyring.sign_document(Keyring.unsigned(1, {mallory.keyid: mallory.public_entry(["*"])}), mallory)
    (data / "keyrings" / "1.json").write_bytes(canonical_bytes(ring) + b"\n")

    def repin(rows: list[list[Any]]) -> None:
        evidence = json.loads(rows[0][8])
        assert rows[0][3] == "keyring" and evidence["keyring_version"] == 1
        evidence |= {"keyid": mallory.keyid, "keyring_sha256": sha256_hex(ring)}
        rows[0][8] = canonical_bytes(evidence).decode()

    rewrite_chain(data, repin)
    return mallory


def attacker_bundle(tmp_path: Path, data: Path, mallory: SigningKey) -> Path:
    """A bundle on the active version, made with the unanchored CLI and signed by the attacker."""
    content = tmp_path / "evil.json"
    content.write_text(json.dumps(params_content(12, "1.1.0")))
    bundle = tmp_path / "evil-bundle.json"
    assert cli("patch", "new", "--content", content, "-o", bundle, "--data", data)[0] == 0
    key_file = tmp_path / "mallory.key"
    mallory.save(key_file)
    assert cli("patch", "sign", bundle, "--key", key_file, "--data", data)[0] == 0
    return bundle


GOVERNED = (("ledger",), ("patch", "list"), ("keys", "list"), ("killswitch", "status"))


# -- attack 1: a cut tail with the pointer file deleted or zeroed ----------------------------------
@pytest.mark.parametrize("mirror", ["deleted", "zeroed"])
def test_a_cut_tail_with_the_pointer_file_gone_does_not_verify(tmp_path: Path, mirror: str) -> None:
    data, _ = found(tmp_path)
    assert submit(tmp_path, data, 25, "1.0.0")["state"] == "active"
    head_before = json.loads(cli("ledger", "--data", data, "--json")[1])["pointer"]["head_seq"]
    rejected = submit(tmp_path, data, 500, "1.1.0")  # out of bounds: rejected, and recorded
    assert rejected["state"] == "rejected"
    cut_the_rejection(data, head_before, rejected["patch_id"])
    if mirror == "deleted":
        (data / POINTER_FILE).unlink()
    else:
        (data / POINTER_FILE).write_bytes(b"\0" * (data / POINTER_FILE).stat().st_size)
    for command in GOVERNED:
        code, _, err = cli(*command, "--data", data)
        assert code == 1, (command, err)
        assert "pointer file" in one_error_line(err)
    assert not (data / POINTER_FILE).exists() or (data / POINTER_FILE).read_bytes().strip(b"\0") == b""


def test_a_cut_tail_with_a_consistent_pointer_file_is_refused_by_the_witness(tmp_path: Path) -> None:
    witness = tmp_path / "witness.jsonl"
    data, _ = found(tmp_path, "--witness", witness)
    assert submit(tmp_path, data, 25, "1.0.0", "--witness", witness)["state"] == "active"
    head_before = json.loads(cli("ledger", "--data", data, "--json", "--witness", witness)[1])["pointer"]
    rejected = submit(tmp_path, data, 500, "1.1.0", "--witness", witness)
    assert rejected["state"] == "rejected"
    cut_the_rejection(data, head_before["head_seq"], rejected["patch_id"])
    consistent_mirror(data)
    assert cli("ledger", "--data", data)[0] == 0  # without the witness, nothing inside can tell
    for command in GOVERNED:
        code, _, err = cli(*command, "--data", data, env={WITNESS_ENV: str(witness)})
        assert code == 1, (command, err)
        assert "entries were cut" in one_error_line(err)
    alerts = [json.loads(line) for line in witness.read_text().splitlines() if "alert" in line]
    assert alerts and alerts[-1]["code"] == "witness_ahead"  # the alert is kept outside the folder


# -- attack 2: a swapped keyring, entry 1 re-pinned, every hash recomputed --------------------------
def _after_the_swap(tmp_path: Path, *anchor_args: object) -> tuple[Path, str, Path]:
    data, root = found(tmp_path, *anchor_args)
    assert submit(tmp_path, data, 25, "1.0.0", *anchor_args)["state"] == "active"
    mallory = swap_the_keyring(data)
    return data, root, attacker_bundle(tmp_path, data, mallory)


def test_without_anchors_the_rewritten_chain_is_trusted_as_the_adr_says(tmp_path: Path) -> None:
    data, _, evil = _after_the_swap(tmp_path)
    code, out, _ = cli("patch", "submit", evil, "--data", data, "--json")
    assert (code, json.loads(out)["state"]) == (0, "active")  # ADR 0011: pin the root or witness


@pytest.mark.parametrize("how", ["environment", "flag"])
def test_a_pinned_trust_root_refuses_the_rewritten_chain(tmp_path: Path, how: str) -> None:
    data, root, evil = _after_the_swap(tmp_path)
    env = {TRUST_ROOT_ENV: root} if how == "environment" else {}
    flag = ("--trust-root", root) if how == "flag" else ()
    for command in (("patch", "submit", evil), *GOVERNED):
        code, _, err = cli(*command, "--data", data, *flag, env=env)
        assert code == 1, (command, err)
        assert "trust root" in one_error_line(err)
    code, out, _ = cli("patch", "list", "--data", data, "--json")
    assert [p["state"] for p in json.loads(out)["patches"]] == ["active"]  # the attacker's never got in


def test_a_witness_refuses_the_rewritten_chain(tmp_path: Path) -> None:
    witness = tmp_path / "witness.jsonl"
    data, _, evil = _after_the_swap(tmp_path, "--witness", witness)
    for command in (("patch", "submit", evil), *GOVERNED):
        code, _, err = cli(*command, "--data", data, "--witness", witness)
        assert code == 1, (command, err)
        assert "rewritten" in one_error_line(err)


def test_a_witnessed_head_is_signed_by_the_folders_key(tmp_path: Path) -> None:
    from ouroboros.patches.keys import verify_signature
    from ouroboros.patches.witness import HEAD_ROLE

    witness = tmp_path / "witness.jsonl"
    data, root = found(tmp_path, "--witness", witness)
    heads = [json.loads(line) for line in witness.read_text().splitlines()]
    assert [(h["seq"], h["root"], h["folder"]) for h in heads] == [(1, root, str(data.resolve()))]
    op = SigningKey.load(data / "keys" / "op.key")
    assert json.loads(cli("ledger", "--data", data, "--json")[1])["head_signed_by"] == op.keyid
    signed = {k: heads[0][k] for k in ("seq", "hash", "root")}
    assert heads[0]["keyid"] == op.keyid
    assert verify_signature(
        Keyring.trust_first(json.loads((data / "keyrings/1.json").read_text())).keys[op.keyid].public,
        HEAD_ROLE,
        signed,
        heads[0]["sig"],
    )


def test_a_pinned_root_refuses_a_rewrite_that_keeps_the_keyring(tmp_path: Path) -> None:
    """Without the folder's private key, a re-hashed chain has no valid head signature."""
    data, root = found(tmp_path)
    assert submit(tmp_path, data, 25, "1.0.0")["state"] == "active"
    rejected = submit(tmp_path, data, 500, "1.1.0")
    assert rejected["state"] == "rejected"

    def launder(rows: list[list[Any]]) -> None:  # the refusal's reason says something else
        for row in rows:
            if row[4] == rejected["patch_id"] and row[6] == "rejected":
                row[7] = "withdrawn by its author"

    rewrite_chain(data, launder)
    assert cli("ledger", "--data", data)[0] == 0  # the chain itself is consistent again
    code, _, err = cli("ledger", "--data", data, env={TRUST_ROOT_ENV: root})
    assert code == 1 and "not signed by a key of the pinned keyring" in one_error_line(err)


def test_a_pinned_root_refuses_a_cut_tail_whose_head_nobody_signed(tmp_path: Path) -> None:
    data, root = found(tmp_path)
    assert submit(tmp_path, data, 25, "1.0.0")["state"] == "active"
    head_before = json.loads(cli("ledger", "--data", data, "--json")[1])["pointer"]["head_seq"]
    rejected = submit(tmp_path, data, 500, "1.1.0")
    cut_the_rejection(data, head_before, rejected["patch_id"])
    consistent_mirror(data)
    code, _, err = cli("patch", "list", "--data", data, env={TRUST_ROOT_ENV: root})
    assert code == 1 and "not signed" in one_error_line(err)


def test_a_head_left_unsigned_is_signed_at_open_unless_a_root_is_pinned(tmp_path: Path) -> None:
    data, root = found(tmp_path)
    tamper(data, "DELETE FROM head_signature")  # as a folder made before heads were signed
    assert cli("ledger", "--data", data, "--trust-root", root)[0] == 1
    assert cli("ledger", "--data", data)[0] == 0  # no pin: the folder is trusted, its head signed
    assert cli("ledger", "--data", data, "--trust-root", root)[0] == 0


# -- the anchors as input ----------------------------------------------------------------------------
def test_founding_under_a_pinned_root_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    code, _, err = cli("keys", "new", "op", "--data", data, env={TRUST_ROOT_ENV: "a" * 64})
    assert code == 1 and "no keyring" in one_error_line(err)


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (("--trust-root", "not-hex"), {}),
        ((), {TRUST_ROOT_ENV: "abc"}),
        (("--witness", "{data}/w.jsonl"), {}),  # inside the data folder
        (("--witness", "{tmp}/no/such/folder/w.jsonl"), {}),
    ],
)
def test_bad_anchors_are_bad_input(tmp_path: Path, args: tuple[str, ...], env: dict[str, str]) -> None:
    data, _ = found(tmp_path)
    args = tuple(a.format(data=data, tmp=tmp_path) for a in args)
    code, _, err = cli("ledger", "--data", data, *args, env=env)
    assert code == 2, err
    one_error_line(err)


def test_a_witness_behind_the_ledger_catches_up_and_warns_nobody(tmp_path: Path) -> None:
    """A crash between a commit and the witness append leaves the witness behind: that is safe."""
    witness = tmp_path / "witness.jsonl"
    data, _ = found(tmp_path, "--witness", witness)
    assert submit(tmp_path, data, 25, "1.0.0", "--witness", witness)["state"] == "active"
    lines = witness.read_text().splitlines()
    witness.write_text(lines[0] + "\n" + lines[1][:17])  # the rest lost, the last append torn
    code, _, err = cli("ledger", "--data", data, "--witness", witness)
    assert code == 0, err
    head = json.loads(cli("ledger", "--data", data, "--json")[1])["pointer"]["head_seq"]
    assert json.loads(witness.read_text().splitlines()[-1])["seq"] == head


# -- a running world -------------------------------------------------------------------------------
EMPTY_THE_LEDGER = (
    "DELETE FROM entries; DELETE FROM bundles; DELETE FROM patch_state; DELETE FROM versions; "
    "DELETE FROM pointer; DELETE FROM head; DELETE FROM head_signature"
)


@pytest.mark.parametrize("mirror", ["deleted", "consistent", "ledger emptied"])
def test_a_running_world_keeps_its_version_when_the_ledger_is_cut_under_it(
    tmp_path: Path, mirror: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Rolled back by a cut: with the pointer file deleted, or rewritten to match, the follower
    refuses (it remembers the head it saw) and the world stays on the version it runs."""
    import shutil

    from ouroboros.patches.activation import PointerFollower
    from ouroboros.patches.governor import Governor
    from ouroboros.worlds import build_world

    from .conftest import SMALL_WORLD, make_bundle

    data = tmp_path / "data"
    with Governor(data, world_defaults=SMALL_WORLD, environ={}, script_checker=None) as gov:
        op = gov.new_key("op", ["*"])
        assert gov.submit(make_bundle(gov, params_content(31), op)).state == "active"
        gov.ledger._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        shutil.copy(data / LEDGER_FILE, tmp_path / "at-31.sqlite3")  # the attacker keeps a copy
        second = make_bundle(gov, params_content(35, "1.1.0"), op)
        assert gov.submit(second).state == "active"
    world = build_world("petri", 7, {"entities": 60})
    follower = PointerFollower(data)
    assert follower.sync(world, force=True) == second["patch_id"]
    world.step()
    old, live = sqlite3.connect(tmp_path / "at-31.sqlite3"), sqlite3.connect(data / LEDGER_FILE)
    old.backup(live)  # the kept copy written back: every table consistent, one version back
    old.close()
    live.close()
    if mirror == "ledger emptied":
        tamper(data, EMPTY_THE_LEDGER)
        (data / POINTER_FILE).unlink()
    elif mirror == "deleted":
        (data / POINTER_FILE).unlink()
    else:
        consistent_mirror(data)
    for _ in range(3):
        assert follower.sync(world) is False
        world.step()
    assert world.resources["gameplay_version"] == second["patch_id"]
    assert world.resources["params"]["temperature"] == 35
    assert follower.refusal is not None
    alerts = [r for r in caplog.records if r.name == "ouroboros.ledger" and r.levelname == "CRITICAL"]
    assert len(alerts) == 1  # one alert, not one per tick
    follower.close()


def test_an_emptied_ledger_beside_its_keyrings_is_refused(tmp_path: Path) -> None:
    data, _ = found(tmp_path)
    assert submit(tmp_path, data, 25, "1.0.0")["state"] == "active"
    tamper(data, EMPTY_THE_LEDGER)
    (data / POINTER_FILE).unlink()
    for command in GOVERNED:
        code, _, err = cli(*command, "--data", data)
        assert code == 1 and "emptied" in one_error_line(err), (command, err)


# -- an explicit repair --------------------------------------------------------------------------
def test_a_lost_pointer_file_is_rewritten_only_on_the_operators_word(tmp_path: Path) -> None:
    data, _ = found(tmp_path)
    assert submit(tmp_path, data, 25, "1.0.0")["state"] == "active"
    (data / POINTER_FILE).unlink()
    code, _, err = cli("ledger", "--data", data, "--rewrite-mirror")
    assert code == 2 and "--actor and --reason" in one_error_line(err)
    code, out, err = cli(
        "ledger",
        "--data",
        data,
        "--rewrite-mirror",
        "--actor",
        "op",
        "--reason",
        "deleted by a cleanup script",
    )
    assert code == 0, err
    assert "pointer file rewritten (it was missing)" in out
    entries = json.loads(cli("ledger", "--data", data, "--json")[1])["entries"]
    assert (
        entries[-1]["kind"] == "mirror_rewritten" and entries[-1]["reason"] == "deleted by a cleanup script"
    )


def test_the_repair_cannot_launder_a_witnessed_cut(tmp_path: Path) -> None:
    witness = tmp_path / "witness.jsonl"
    data, _ = found(tmp_path, "--witness", witness)
    assert submit(tmp_path, data, 25, "1.0.0", "--witness", witness)["state"] == "active"
    head_before = json.loads(cli("ledger", "--data", data, "--json")[1])["pointer"]["head_seq"]
    rejected = submit(tmp_path, data, 500, "1.1.0", "--witness", witness)
    cut_the_rejection(data, head_before, rejected["patch_id"])
    (data / POINTER_FILE).unlink()
    repair = ("--rewrite-mirror", "--actor", "mallory", "--reason", "nothing happened")
    code, _, err = cli("ledger", "--data", data, *repair, "--witness", witness)
    assert code == 1 and "entries were cut" in one_error_line(err)
    assert not (data / POINTER_FILE).exists()
