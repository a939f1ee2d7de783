"""The ledger: append-only, hash-chained, transactional, tamper-evident; the state machine."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from ouroboros.errors import LedgerError, PatchError
from ouroboros.patches import states
from ouroboros.patches.ledger import LEDGER_FILE, POINTER_FILE, Ledger
from ouroboros.patches.states import State

P1, P2 = "p-" + "1" * 32, "p-" + "2" * 32


def _history(ledger: Ledger) -> None:
    with ledger.transaction("op", "submit") as tx:
        tx.add_bundle(P1, 0, None, "h1", {"n": 1})
        tx.transition(P1, State.VALIDATED)
        tx.transition(P1, State.CANARY)
        tx.transition(P1, State.APPROVED)
        tx.transition(P1, State.ACTIVE)
        tx.store_version(P1, 0, {"items": []})
        tx.set_pointer(P1, P1, False)


def test_every_legal_and_illegal_transition() -> None:
    for before in State:
        for after in State:
            if after in states.TRANSITIONS[before]:
                states.check(before, after)
            else:
                with pytest.raises(PatchError):
                    states.check(before, after)
    with pytest.raises(PatchError):
        states.check(None, State.ACTIVE)
    assert {State.REJECTED, State.ROLLED_BACK} == states.TERMINAL


def test_history_is_recorded_with_actor_reason_and_evidence(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    _history(ledger)
    entries = ledger.entries(patch_id=P1, kind="transition")
    assert [(e.before, e.after) for e in entries] == [
        (None, "draft"),
        ("draft", "validated"),
        ("validated", "canary"),
        ("canary", "approved"),
        ("approved", "active"),
    ]
    assert all(e.actor == "op" and e.reason == "submit" and e.at.endswith("Z") for e in entries)
    assert ledger.pointer().active == P1
    mirror = json.loads((tmp_path / POINTER_FILE).read_text())
    assert mirror["active"] == P1 and mirror["head_hash"] == ledger.pointer().head_hash
    ledger.close()
    assert Ledger(tmp_path).verify() == 7  # 5 transitions, the version, the pointer


def test_an_illegal_transition_rolls_back_the_whole_transaction(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    with pytest.raises(PatchError), ledger.transaction("op", "bad") as tx:
        tx.add_bundle(P1, 0, None, "h", {})
        tx.transition(P1, State.ACTIVE)  # draft → active is not allowed
    assert ledger.entries() == [] and not ledger.known(P1)
    assert ledger.verify() == 0


def test_a_patch_id_is_taken_once(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    _history(ledger)
    with pytest.raises(PatchError) as info, ledger.transaction("op", "again") as tx:
        tx.add_bundle(P1, 0, None, "h1", {"n": 1})
    assert info.value.code == "replayed"


def test_the_database_refuses_updates_and_deletes(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    _history(ledger)
    db = sqlite3.connect(tmp_path / LEDGER_FILE)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE entries SET actor = 'mallory' WHERE seq = 1")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM entries WHERE seq = 6")


def _tamper(folder: Path, sql: str) -> None:
    db = sqlite3.connect(folder / LEDGER_FILE)
    db.executescript("DROP TRIGGER entries_no_update; DROP TRIGGER entries_no_delete;" + sql)
    db.commit()
    db.close()


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE entries SET actor = 'mallory' WHERE seq = 2;",
        "UPDATE entries SET evidence = '{\"x\":1}' WHERE seq = 3;",
        "UPDATE entries SET after = 'active' WHERE seq = 1;",
        "DELETE FROM entries WHERE seq = 6;",  # the tail cut off
        "DELETE FROM entries WHERE seq = 3;",  # a hole
        "UPDATE entries SET seq = seq + 100 WHERE seq = 4;",
        "UPDATE patch_state SET state = 'rejected';",
        "UPDATE pointer SET active = 'p-" + "9" * 32 + "';",
        # the tables the chain vouches for, not only the entries
        "UPDATE versions SET content = '{\"items\":[99]}';",
        "DELETE FROM versions;",
        "INSERT INTO versions VALUES ('p-" + "3" * 32 + "', 3, '{}');",
        "UPDATE pointer SET active = NULL, permanent = NULL;",
        "UPDATE pointer SET canary = 1;",
        "DELETE FROM pointer;",
        "UPDATE bundles SET bundle = X'';",
        "UPDATE bundles SET parent = 'p-" + "9" * 32 + "';",
        "DELETE FROM bundles;",
        "INSERT INTO bundles VALUES ('p-" + "4" * 32 + "', 1, NULL, 'h', X'7B7D');",
    ],
)
def test_tampering_is_detected_at_open(tmp_path: Path, sql: str) -> None:
    ledger = Ledger(tmp_path)
    _history(ledger)
    ledger.close()
    _tamper(tmp_path, sql)
    with pytest.raises(LedgerError) as info:
        Ledger(tmp_path)
    assert info.value.code == "ledger_tampered"


def test_a_garbage_file_is_unreadable_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / LEDGER_FILE).write_bytes(b"this is not a database" * 100)
    with pytest.raises(LedgerError) as info:
        Ledger(tmp_path)
    assert info.value.code == "ledger_unreadable"


@pytest.mark.parametrize(
    ("damage", "code"),
    [
        ("delete", "pointer_mirror_missing"),
        ("zero", "pointer_mirror_inconsistent"),
        ("empty", "pointer_mirror_inconsistent"),
        ("torn", "pointer_mirror_inconsistent"),
        ("other pointer", "pointer_mirror_inconsistent"),
        ("head 0", "pointer_mirror_inconsistent"),
        ("huge", "pointer_mirror_inconsistent"),
    ],
)
def test_a_missing_or_inconsistent_pointer_mirror_denies_and_alerts(
    tmp_path: Path, damage: str, code: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Never re-derived from the database: a cut tail hides behind a deleted or zeroed mirror."""
    from ouroboros.patches.governor import Governor

    ledger = Ledger(tmp_path)
    _history(ledger)
    ledger.close()
    mirror = tmp_path / POINTER_FILE
    good = json.loads(mirror.read_text())
    if damage == "delete":
        mirror.unlink()
    elif damage == "zero":
        mirror.write_bytes(b"\0" * 120)
    elif damage == "empty":
        mirror.write_bytes(b"")
    elif damage == "torn":
        mirror.write_text('{"active": null, "torn')
    elif damage == "head 0":  # a well-formed mirror of an empty ledger
        mirror.write_text(
            json.dumps({**good, "active": None, "permanent": None, "head_seq": 0, "head_hash": "0" * 64})
        )
    elif damage == "huge":
        mirror.write_bytes(json.dumps(good).encode() + b" " * 100_000)
    else:
        mirror.write_text(json.dumps({**good, "active": None, "permanent": None}))
    before = mirror.read_bytes() if mirror.exists() else None
    for opening in (lambda: Ledger(tmp_path), lambda: Governor(tmp_path, script_checker=None, environ={})):
        with pytest.raises(LedgerError) as info:
            opening()
        assert info.value.code == code
    assert (mirror.read_bytes() if mirror.exists() else None) == before  # nothing re-derived
    assert any(r.levelname == "CRITICAL" and r.name == "ouroboros.ledger" for r in caplog.records)


def test_a_lagging_pointer_mirror_is_brought_up_to_date(tmp_path: Path) -> None:
    from ouroboros.patches.governor import Governor

    ledger = Ledger(tmp_path)
    assert json.loads((tmp_path / POINTER_FILE).read_bytes())["head_seq"] == 0  # before the first entry
    _history(ledger)
    before = (tmp_path / POINTER_FILE).read_bytes()
    with ledger.transaction("op", "back to base") as tx:
        tx.set_pointer(None, None, False)
    ledger.close()
    (tmp_path / POINTER_FILE).write_bytes(before)  # as a crash before the mirror's rename leaves it
    Governor(tmp_path, script_checker=None, environ={}).close()
    mirror = json.loads((tmp_path / POINTER_FILE).read_text())
    assert (mirror["active"], mirror["head_seq"]) == (None, 8)


def test_the_first_transaction_replaces_the_founding_mirror(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    with ledger.transaction("op", "a first entry that moves no pointer") as tx:
        tx.audit("note", {})
    ledger.close()
    assert json.loads((tmp_path / POINTER_FILE).read_text())["head_seq"] == 1
    assert Ledger(tmp_path).verify() == 1


def test_a_tail_cut_under_an_open_ledger_is_refused_before_anything_is_appended(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    _history(ledger)
    with ledger.transaction("op", "one more") as tx:
        tx.audit("note", {})
    _tamper(tmp_path, "DELETE FROM entries WHERE seq = 8; UPDATE head SET seq = 7, "
            "hash = (SELECT hash FROM entries WHERE seq = 7);")  # fmt: skip
    with pytest.raises(LedgerError) as info, ledger.transaction("op", "after the cut") as tx:
        tx.audit("note", {})
    assert info.value.code == "ledger_tampered" and "entry 8" in info.value.message
    assert ledger.head()[0] == 7  # nothing appended to the cut ledger


def test_versions_beyond_the_kept_known_good_are_pruned(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path, keep_known_good=2)
    parent = None
    ids = [f"p-{i:032x}" for i in range(5)]
    for seq, pid in enumerate(ids):
        with ledger.transaction("op", "step") as tx:
            tx.add_bundle(pid, seq, parent, "h", {})
            for s in (State.VALIDATED, State.CANARY, State.APPROVED, State.ACTIVE):
                tx.transition(pid, s)
            if parent:
                tx.transition(parent, State.SUPERSEDED)
            tx.store_version(pid, seq, {"n": seq})
            tx.set_pointer(pid, pid, False)
        parent = pid
    kept = [pid for pid in ids if ledger.version_content(pid) is not None]
    assert kept == ids[-2:]


def test_content_changed_after_open_is_refused_when_it_is_loaded(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    _history(ledger)
    assert ledger.version_content(P1) == {"items": []} and ledger.bundle(P1) == {"n": 1}
    db = sqlite3.connect(tmp_path / LEDGER_FILE)
    db.execute("""UPDATE versions SET content = '{"items":[1]}'""")
    db.execute("UPDATE bundles SET bundle = X'7B7D'")
    db.commit()
    db.close()
    for load in (ledger.version_content, ledger.bundle):
        with pytest.raises(LedgerError) as info:
            load(P1)
        assert info.value.code == "ledger_tampered"


def test_a_cut_tail_is_seen_through_the_pointer_file(tmp_path: Path) -> None:
    """Entries removed with the head row and the pointer row made to match: only the pointer
    file, written after each commit, still knows how long the ledger was."""
    ledger = Ledger(tmp_path)
    _history(ledger)
    ledger.close()
    assert json.loads((tmp_path / POINTER_FILE).read_text())["head_seq"] == 7
    _tamper(
        tmp_path,
        "DELETE FROM entries WHERE seq = 7; DELETE FROM pointer;"
        "UPDATE head SET seq = 6, hash = (SELECT hash FROM entries WHERE seq = 6);",
    )
    with pytest.raises(LedgerError) as info:
        Ledger(tmp_path)
    assert info.value.code == "ledger_tampered" and "pointer file" in info.value.message


def test_a_pointer_file_that_lags_the_ledger_is_fine(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    _history(ledger)
    with ledger.transaction("op", "an audit after the last pointer move") as tx:
        tx.audit("note", {})
    ledger.close()
    assert Ledger(tmp_path).verify() == 8  # the mirror still says 7: behind, not ahead
