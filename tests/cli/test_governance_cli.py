"""The governance commands as a user runs them: keys, patch new/sign/verify/submit/list/show/
approve/reject, rollback, ledger, killswitch — exit codes 0 / 1 (refused) / 2 (bad input)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ouroboros.cli import app
from tests.budgets import SLOW_MACHINE_TICK_MS

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "patches"


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [str(a) for a in args], env=env)
    return result.exit_code, result.stdout, result.stderr


def _one_error_line(err: str) -> bool:
    return err.startswith("error: ") and "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "world.json").write_text(
        json.dumps(
            {
                "world": "petri",
                "seed": 3,
                "config": {"entities": 60},
                "budgets": {
                    "warmup_ticks": 2,
                    "determinism_ticks": 3,
                    "shadow_ticks": 6,
                    "canary_ticks": 3,
                    "tick_budget_ms": SLOW_MACHINE_TICK_MS,
                },
            }
        )
    )
    code, out, err = run("keys", "new", "op", "--data", folder)
    assert code == 0, err
    assert "op" in out and "keep it secret" in out
    return folder


def _content(tmp_path: Path, temperature: int, version: str) -> Path:
    path = tmp_path / f"content-{temperature}.json"
    path.write_text(
        json.dumps(
            {
                "world_params": [
                    {
                        "id": "petri.params.t",
                        "version": version,
                        "world": "petri",
                        "params": {"temperature": temperature},
                    }
                ]
            }
        )
    )
    return path


def _bundle(tmp_path: Path, data: Path, temperature: int, version: str, sign: bool = True) -> Path:
    out = tmp_path / f"bundle-{temperature}.json"
    code, _, err = run(
        "patch", "new", "--content", _content(tmp_path, temperature, version), "-o", out, "--data", data
    )
    assert code == 0, err
    if sign:
        assert run("patch", "sign", out, "--key", "op", "--data", data)[0] == 0
    return out


def test_the_whole_life_of_a_patch(tmp_path: Path, data: Path) -> None:
    first = _bundle(tmp_path, data, 30, "1.0.0")
    code, out, err = run("patch", "verify", first, "--data", data)
    assert code == 0 and "verified" in out, err
    code, out, _ = run("patch", "submit", first, "--data", data, "--json")
    assert code == 0
    verdict = json.loads(out)
    assert verdict["state"] == "active" and verdict["reasons"] == []
    second = _bundle(tmp_path, data, 32, "1.1.0")
    assert run("patch", "submit", second, "--data", data)[0] == 0
    code, out, _ = run("patch", "list", "--data", data, "--json")
    listing = json.loads(out)
    assert [p["state"] for p in listing["patches"]] == ["superseded", "active"]
    code, out, _ = run("patch", "show", listing["active"], "--data", data)
    assert code == 0 and "approved → active" in out
    code, out, _ = run("rollback", "--actor", "alice", "--reason", "too warm", "--data", data, "--json")
    assert code == 0 and json.loads(out)["to"] == listing["patches"][0]["patch_id"]
    code, out, _ = run("ledger", "--data", data, "--json")
    ledger = json.loads(out)
    assert ledger["verified"] and ledger["pointer"]["active"] == listing["patches"][0]["patch_id"]
    assert any(e["kind"] == "rollback" and e["actor"] == "alice" for e in ledger["entries"])


def test_rejected_patch_exits_1_with_its_reasons(tmp_path: Path, data: Path) -> None:
    unsigned = _bundle(tmp_path, data, 30, "1.0.0", sign=False)
    code, out, _ = run("patch", "submit", unsigned, "--data", data, "--json")
    assert code == 1
    assert json.loads(out)["reasons"][0]["code"] == "unsigned"
    code, out, _ = run("patch", "submit", unsigned, "--data", data)
    assert code == 1 and "[integrity] unsigned" in out


def test_tampered_bundle_is_refused(tmp_path: Path, data: Path) -> None:
    bundle = _bundle(tmp_path, data, 30, "1.0.0")
    doc = json.loads(bundle.read_text())
    doc["content"]["world_params"][0]["params"]["temperature"] = 99
    bundle.write_text(json.dumps(doc))
    code, out, _ = run("patch", "verify", bundle, "--data", data, "--json")
    assert code == 1 and json.loads(out)["reasons"][0]["code"] == "hash_mismatch"


@pytest.mark.parametrize(
    "args",
    [
        ("patch", "submit", "missing.json"),
        ("patch", "new", "--content", "missing.json", "-o", "x.json"),
        ("patch", "sign", "missing.json", "--key", "op"),
        ("patch", "show", "p-" + "0" * 32),
        ("patch", "sign", "BUNDLE", "--key", "nobody"),
        ("keys", "new", "Bad Name"),
        ("keys", "new", "op"),  # exists already
        ("killswitch", "engage", "--actor", "", "--reason", "x"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path: Path, data: Path, args: tuple[str, ...]) -> None:
    bundle = _bundle(tmp_path, data, 30, "1.0.0", sign=False)
    args = tuple(str(bundle) if a == "BUNDLE" else a for a in args)
    code, out, err = run(*args, "--data", data)
    assert code == 2, (out, err)
    assert err.startswith("error: ") and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_bad_content_file_is_refused_with_its_reason(tmp_path: Path, data: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps({"world_params": [{"id": "x", "version": "1.0", "world": "petri", "params": {}}]})
    )
    code, _, err = run("patch", "new", "--content", bad, "-o", tmp_path / "b.json", "--data", data)
    assert code == 2 and "version" in err


def test_killswitch_blocks_submit_and_status_reports_it(tmp_path: Path, data: Path) -> None:
    bundle = _bundle(tmp_path, data, 30, "1.0.0")
    code, out, _ = run("killswitch", "engage", "--actor", "alice", "--reason", "incident", "--data", data)
    assert code == 0 and "engaged" in out
    code, out, err = run("patch", "submit", bundle, "--data", data)
    assert code == 1 and "kill-switch engaged" in err
    code, out, _ = run("killswitch", "status", "--data", data, "--json")
    status = json.loads(out)
    assert status["engaged"] and not status["ai_patch_ingest_enabled"] and status["actor"] == "alice"
    assert run("killswitch", "release", "--actor", "alice", "--reason", "ok", "--data", data)[0] == 0
    code, out, err = run("patch", "submit", bundle, "--data", data, "--killswitch")
    assert code == 1 and "flag" in err
    assert run("patch", "submit", bundle, "--data", data)[0] == 0


def test_a_tampered_ledger_refuses_every_command(tmp_path: Path, data: Path) -> None:
    import sqlite3

    assert run("patch", "submit", _bundle(tmp_path, data, 30, "1.0.0"), "--data", data)[0] == 0
    db = sqlite3.connect(data / "ledger.sqlite3")
    db.executescript("DROP TRIGGER entries_no_update; UPDATE entries SET actor = 'mallory' WHERE seq = 2;")
    db.commit()
    db.close()
    code, _, err = run("ledger", "--data", data)
    assert code == 1 and "hash chain" in err


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.json")))
def test_every_example_makes_a_bundle(tmp_path: Path, data: Path, name: str) -> None:
    code, _out, err = run(
        "patch", "new", "--content", EXAMPLES / name, "-o", tmp_path / "b.json", "--data", data
    )
    assert code == 0, err
    assert json.loads((tmp_path / "b.json").read_text())["content"] == json.loads(
        (EXAMPLES / name).read_text()
    )


# -- the audit of the governance layer -----------------------------------------------------------
def test_tampered_active_content_fails_the_ledger_command(tmp_path: Path, data: Path) -> None:
    import sqlite3

    assert run("patch", "submit", _bundle(tmp_path, data, 30, "1.0.0"), "--data", data)[0] == 0
    second = _bundle(tmp_path, data, 31, "1.1.0")
    db = sqlite3.connect(data / "ledger.sqlite3")
    db.execute("""UPDATE versions SET content = replace(content, '"temperature":30', '"temperature":99')""")
    db.commit()
    db.close()
    code, out, err = run("ledger", "--data", data)
    assert code == 1 and out == "" and _one_error_line(err)
    assert "content of version" in err and "verified" not in err
    for args in (("patch", "list"), ("patch", "submit", second)):
        assert run(*args, "--data", data)[0] == 1  # no new activation on an untrustworthy ledger


def test_a_replaced_keyring_is_refused(tmp_path: Path, data: Path) -> None:
    bundle = _bundle(tmp_path, data, 30, "1.0.0")
    other = tmp_path / "other"
    assert run("keys", "new", "mallory", "--data", other)[0] == 0
    (data / "keyrings" / "1.json").write_bytes((other / "keyrings" / "1.json").read_bytes())
    code, _, err = run("patch", "verify", bundle, "--data", data)
    assert code == 1 and _one_error_line(err) and "not the keyring the ledger recorded" in err


@pytest.mark.parametrize(
    "budgets",
    [
        {"determinism_ticks": 0, "shadow_ticks": -5},
        {"shadow_ticks": "x"},
        {"human_domains": 5},
    ],
)
def test_bad_budgets_are_one_clear_error_on_any_command(data: Path, budgets: dict) -> None:
    world = json.loads((data / "world.json").read_text())
    (data / "world.json").write_text(json.dumps({**world, "budgets": budgets}))
    for args in (("patch", "list"), ("killswitch", "status"), ("ledger",)):
        code, _, err = run(*args, "--data", data)
        assert code == 2 and _one_error_line(err) and "budgets" in err, (args, err)


@pytest.mark.parametrize(
    ("flag", "value", "words"),
    [("--author-type", "robot", "author"), ("--engine-compat", "garbage!!", "engine_compat")],
)
def test_patch_new_refuses_a_bad_envelope_flag(
    tmp_path: Path, data: Path, flag: str, value: str, words: str
) -> None:
    out = tmp_path / "b.json"
    code, _, err = run(
        "patch", "new", "--content", _content(tmp_path, 30, "1.0.0"), "-o", out, flag, value, "--data", data
    )
    assert code == 2 and _one_error_line(err) and words in err
    assert not out.exists()


def test_patch_hash_takes_data_like_every_command(tmp_path: Path) -> None:
    doc = tmp_path / "x.json"
    doc.write_text('{"b": 1, "a": [1.0, "x"]}')
    code, out, _ = run("patch", "hash", doc, "--data", tmp_path / "nowhere")
    assert code == 0 and len(out.strip()) == 64
    assert not (tmp_path / "nowhere").exists()


def test_submit_json_under_the_kill_switch_still_prints_one_object(tmp_path: Path, data: Path) -> None:
    bundle = _bundle(tmp_path, data, 30, "1.0.0")
    code, out, err = run("patch", "submit", bundle, "--data", data, "--json", "--killswitch")
    assert code == 1 and "kill-switch engaged" in err
    verdict = json.loads(out)  # exactly one JSON document on stdout
    assert verdict["state"] == "refused" and verdict["patch_id"] == json.loads(bundle.read_text())["patch_id"]
    assert [r["code"] for r in verdict["reasons"]] == ["killswitch_engaged"]


@pytest.mark.parametrize(
    "args",
    [
        ("killswitch", "status"),
        ("patch", "list"),
        ("ledger",),
        ("keys", "list"),
        ("patch", "show", "p-" + "0" * 32),
    ],
)
def test_read_only_commands_do_not_create_a_mistyped_data_folder(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    typo = tmp_path / "ouroboros-dta"
    code, _out, err = run(*args, "--data", typo)
    assert code == 2 and _one_error_line(err) and "no such folder" in err
    assert not typo.exists()


@pytest.mark.parametrize("how", ["flag", "environment"])
def test_a_forced_kill_switch_is_recorded_in_the_ledger(tmp_path: Path, data: Path, how: str) -> None:
    bundle = _bundle(tmp_path, data, 30, "1.0.0")
    if how == "flag":
        code, _, _ = run("patch", "submit", bundle, "--data", data, "--killswitch")
    else:
        code, _, _ = run("patch", "submit", bundle, "--data", data, env={"OUROBOROS_KILLSWITCH": "1"})
    assert code == 1
    entries = json.loads(run("ledger", "--data", data, "--json")[1])["entries"]
    forced = [e for e in entries if e["kind"] == "killswitch_forced"]
    assert len(forced) == 1 and forced[0]["evidence"]["cause"] == how


def test_dry_run_json_shows_a_hash_and_counts_not_the_content(tmp_path: Path, data: Path) -> None:
    code, out, _ = run(
        "patch", "submit", _bundle(tmp_path, data, 30, "1.0.0"), "--data", data, "--dry-run", "--json"
    )
    assert code == 0
    summary = json.loads(out)["evidence"]["effective_content"]
    assert set(summary) == {"sha256", "objects"} and summary["objects"] == {"world_params": 1}
    assert "temperature" not in out


def test_a_data_folder_can_be_founded_for_neon(tmp_path: Path) -> None:
    folder = tmp_path / "city"
    assert run("keys", "new", "op", "--world", "neon", "--data", folder)[0] == 0
    assert json.loads((folder / "world.json").read_text())["world"] == "neon"
    code, _, err = run("keys", "new", "gen", "--world", "petri", "--data", folder)
    assert code == 2 and _one_error_line(err) and "neon" in err
    bundle = tmp_path / "b.json"
    assert run("patch", "new", "--content", EXAMPLES / "rooms.json", "-o", bundle, "--data", folder)[0] == 0
    assert json.loads(bundle.read_text())["world"] == "neon"


@pytest.mark.parametrize(
    "command",
    [
        ("killswitch", "engage", "--actor", "op", "--reason", "r"),
        ("ledger",),
        ("patch", "list"),
        ("director", "status"),
        ("queue", "list"),
        ("models", "list"),
    ],
)
def test_a_go_folder_names_its_worlds_and_gains_nothing(tmp_path: Path, command: tuple[str, ...]) -> None:
    """`go --data DATA` keeps DATA/neon and DATA/petri; a command pointed at DATA says so."""
    root = tmp_path / "data"
    for world in ("neon", "petri"):
        assert run("keys", "new", "op", "--world", world, "--data", root / world)[0] == 0
    before = sorted(p.name for p in root.iterdir())
    code, _, err = run(*command, "--data", root)
    assert code == 2 and _one_error_line(err)
    assert f"--data {root / 'neon'}" in err and f"--data {root / 'petri'}" in err
    assert sorted(p.name for p in root.iterdir()) == before
