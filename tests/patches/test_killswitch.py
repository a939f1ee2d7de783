"""The kill-switch: audited changes, forced at start, and deny whenever its state is in doubt."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ouroboros.errors import BadInputError, PatchError
from ouroboros.patches.killswitch import CONTROL_FILE, KillSwitch, env_forced
from ouroboros.patches.ledger import Ledger


def _switch(folder: Path, **kw: object) -> KillSwitch:
    return KillSwitch(folder, Ledger(folder), environ=kw.pop("environ", {}), **kw)  # type: ignore[arg-type]


def test_default_is_released_and_changes_are_audited(tmp_path: Path) -> None:
    ks = _switch(tmp_path)
    assert not ks.engaged()
    state = ks.set(True, "alice", "incident 42")
    assert state.engaged and state.actor == "alice" and state.reason == "incident 42"
    entry = ks.ledger.entries(kind="killswitch")[-1]
    assert (entry.actor, entry.reason, entry.before, entry.after) == (
        "alice",
        "incident 42",
        "released",
        "engaged",
    )
    assert not ks.set(False, "bob", "fixed").engaged
    assert _switch(tmp_path).state().actor == "bob"  # survives a restart


def test_actor_and_reason_are_required(tmp_path: Path) -> None:
    with pytest.raises(BadInputError):
        _switch(tmp_path).set(True, " ", "why")


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda p: p.write_bytes(b"\x00garbage"),
        lambda p: p.write_text(p.read_text().replace("true", "false")),  # checksum no longer holds
        lambda p: p.write_text("{}"),
        lambda p: p.unlink(),  # missing although the ledger recorded a change
        lambda p: p.write_text(json.dumps({"body": [], "checksum": 1})),
    ],
)
def test_unreadable_or_inconsistent_control_state_means_deny(tmp_path: Path, corrupt) -> None:
    ks = _switch(tmp_path)
    ks.set(True, "alice", "test")
    ks.set(False, "alice", "test")  # released: the file says enabled
    corrupt(tmp_path / CONTROL_FILE)
    state = _switch(tmp_path).state()
    assert state.engaged, state


def test_a_control_file_copied_from_an_older_state_disagrees_with_the_ledger(tmp_path: Path) -> None:
    ks = _switch(tmp_path)
    ks.set(False, "alice", "first")
    old = (tmp_path / CONTROL_FILE).read_bytes()
    ks.set(True, "alice", "stop")
    (tmp_path / CONTROL_FILE).write_bytes(old)  # replaying a stale "released" file
    assert _switch(tmp_path).state().engaged


@pytest.mark.parametrize(
    ("value", "forced"),
    [
        ("1", True),
        ("engaged", True),
        ("TRUE", True),
        ("maybe", True),
        ("0", False),
        ("", False),
        ("off", False),
    ],
)
def test_environment_forces_it(value: str, forced: bool) -> None:
    assert env_forced({"OUROBOROS_KILLSWITCH": value}) is forced
    assert env_forced({}) is False


def test_forced_switch_cannot_be_released_here(tmp_path: Path) -> None:
    ks = _switch(tmp_path, environ={"OUROBOROS_KILLSWITCH": "1"})
    assert ks.state().cause == "environment"
    with pytest.raises(PatchError):
        ks.set(False, "alice", "please")
    assert _switch(tmp_path, forced=True).state().cause == "flag"
