"""Random cuts and rewrites of a witnessed ledger: every one is refused at open, while a witness
that merely lags (a crash between a commit and its append) never raises a false alarm."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ouroboros.errors import KeyringError, LedgerError
from ouroboros.patches.governor import Governor
from ouroboros.patches.ledger import LEDGER_FILE, POINTER_FILE

from .conftest import SMALL_WORLD
from .test_anchors import consistent_mirror, rewrite_chain


def _open(data: Path, witness: Path) -> Governor:
    return Governor(data, world_defaults=SMALL_WORLD, environ={}, witness=witness, script_checker=None)


def _history(data: Path, witness: Path, sizes: list[int]) -> list[dict[str, Any]]:
    """Transactions of ``sizes`` entries (some moving the pointer); a snapshot of the folder after each."""
    snapshots = []
    with _open(data, witness) as gov:
        gov.new_key("op", ["*"])
        for i, size in enumerate(sizes):
            with gov.ledger.transaction("op", f"step {i}") as tx:
                for j in range(size):
                    tx.audit("note", {"i": i, "j": j})
                if i % 2:
                    tx.set_pointer(None, None, False)
            path = data.parent / f"snapshot-{i}.sqlite3"
            copy = sqlite3.connect(path)
            gov.ledger._db.backup(copy)  # a consistent copy of the folder's tables as they were
            copy.close()
            snapshots.append({"db": path, "mirror": (data / POINTER_FILE).read_bytes()})
    return snapshots


def _restore(data: Path, snapshot: dict[str, Any]) -> None:
    for suffix in ("", "-wal", "-shm"):
        (data / (LEDGER_FILE + suffix)).unlink(missing_ok=True)
    shutil.copy(snapshot["db"], data / LEDGER_FILE)
    (data / POINTER_FILE).write_bytes(snapshot["mirror"])


sizes = st.lists(st.integers(1, 3), min_size=2, max_size=6)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sizes=sizes, data_=st.data())
def test_a_cut_ledger_is_refused_whatever_the_attacker_does_with_the_mirror(
    sizes: list[int], data_: st.DataObject
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data, witness = Path(tmp) / "data", Path(tmp) / "witness.jsonl"
        snapshots = _history(data, witness, sizes)
        cut = data_.draw(st.integers(0, len(snapshots) - 2), label="restored snapshot")
        _restore(data, snapshots[cut])
        mirror = data_.draw(st.sampled_from(["as it was", "deleted", "zeroed", "consistent"]))
        if mirror == "deleted":
            (data / POINTER_FILE).unlink()
        elif mirror == "zeroed":
            (data / POINTER_FILE).write_bytes(b"\0" * 64)
        elif mirror == "consistent":
            consistent_mirror(data)
        with pytest.raises(LedgerError) as info:
            _open(data, witness)
        assert info.value.code in ("witness_ahead", "pointer_mirror_missing", "pointer_mirror_inconsistent")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sizes=sizes, data_=st.data())
def test_a_rewritten_ledger_is_refused(sizes: list[int], data_: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data, witness = Path(tmp) / "data", Path(tmp) / "witness.jsonl"
        _history(data, witness, sizes)
        head = sum(sizes) + 1 + len(sizes) // 2  # the key's entry, the notes, the pointer moves
        seq = data_.draw(st.integers(1, head), label="rewritten entry")
        extra = data_.draw(st.integers(0, 3), label="entries the attacker appends")

        def change(rows: list[list[Any]]) -> None:
            assert rows[-1][0] == head
            rows[seq - 1][7] = "nothing to see here"
            for n in range(extra):
                rows.append([head + n + 1, *rows[-1][1:]])

        rewrite_chain(data, change)
        with pytest.raises((LedgerError, KeyringError)) as info:
            _open(data, witness)
        assert info.value.code in ("witness_diverged", "ledger_tampered")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sizes=sizes, data_=st.data())
def test_a_witness_that_lags_is_no_alarm_and_catches_up(sizes: list[int], data_: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data, witness = Path(tmp) / "data", Path(tmp) / "witness.jsonl"
        _history(data, witness, sizes)
        lines = witness.read_bytes().splitlines(keepends=True)
        keep = data_.draw(st.integers(0, len(lines)), label="witness lines that survived")
        torn = data_.draw(st.integers(0, 40), label="bytes of a torn append")
        witness.write_bytes(b"".join(lines[:keep]) + (lines[keep][:torn] if keep < len(lines) else b""))
        with _open(data, witness) as gov:
            head = gov.ledger.head()
        with _open(data, witness) as gov:  # and it is up to date now
            assert gov.anchoring.witness is not None
            last = gov.anchoring.witness.last()
            assert last is not None and (last.seq, last.hash) == head


# -- the files the anchors read are parsed without surprises --------------------------------------
@settings(max_examples=150, deadline=None)
@given(raw=st.one_of(st.binary(max_size=400), st.text(max_size=400).map(str.encode)))
def test_any_witness_file_is_read_or_refused_cleanly(raw: bytes) -> None:
    from ouroboros.patches.witness import Witness

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "witness.jsonl"
        path.write_bytes(raw)
        try:
            Witness(path, Path(tmp) / "data").last()
        except LedgerError as exc:
            assert exc.code == "witness_unreadable"


@settings(max_examples=150, deadline=None)
@given(raw=st.one_of(st.binary(max_size=400), st.just(b"[" * 100_000), st.just(b" " * 70_000)))
def test_any_pointer_file_is_read_or_refused_cleanly(raw: bytes) -> None:
    from ouroboros.patches.mirror import read_mirror

    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / POINTER_FILE).write_bytes(raw)
        try:
            mirror = read_mirror(Path(tmp))
        except LedgerError as exc:
            assert exc.code == "pointer_mirror_inconsistent"
        else:
            assert mirror is not None and isinstance(mirror["head_seq"], int)


@given(text=st.text(max_size=200))
def test_any_trust_root_text_is_roots_or_bad_input(text: str) -> None:
    from ouroboros.errors import BadInputError
    from ouroboros.patches.witness import parse_trust_roots

    try:
        roots = parse_trust_roots(text)
    except BadInputError:
        return
    assert all(len(r) == 64 and set(r) <= set("0123456789abcdef") for r in roots)
