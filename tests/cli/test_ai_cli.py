"""``ouroboros director``, ``generate`` and ``queue`` as a user runs them on a governed neon
folder: exit codes 0 / 1 (refused) / 2 (bad input, one line on stderr), ``--json`` output, and
``generate`` printing the same proposal for the same seed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ouroboros.cli.ai import parse_assignments, parse_setting
from ouroboros.errors import BadInputError
from tests.budgets import SLOW_MACHINE_TICK_MS

from .conftest import invoke as run
from .conftest import one_error_line


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "world.json").write_text(
        json.dumps(
            {
                "world": "neon",
                "seed": 5,
                "config": {},
                "budgets": {
                    "warmup_ticks": 2,
                    "determinism_ticks": 3,
                    "shadow_ticks": 8,
                    "canary_ticks": 4,
                    "tick_budget_ms": SLOW_MACHINE_TICK_MS,
                },
            }
        )
    )
    code, _, err = run("keys", "new", "op", "--data", folder)
    assert code == 0, err
    return folder


def queued(data: Path, seed: int) -> str:
    code, out, err = run("generate", "ITEM", "--seed", seed, "--data", data, "--queue", "--json")
    assert code == 0, err
    body = json.loads(out)
    assert body["queue_state"] == "queued"
    return str(body["proposal_id"])


# -- generate ------------------------------------------------------------------------------------
def test_generate_prints_the_same_proposal_for_the_same_seed() -> None:
    first = run("generate", "ITEM", "--seed", 17, "--json")
    again = run("generate", "item", "--seed", 17, "--json", "--world", "neon")
    other = run("generate", "ITEM", "--seed", 18, "--json")
    assert first[0] == again[0] == other[0] == 0
    assert first[1] == again[1] != other[1]
    proposal = json.loads(first[1])
    assert proposal["type"] == "ITEM" and proposal["seed"] == 17 and proposal["payload"]["items"]
    code, text, _ = run("generate", "ITEM", "--seed", 17)
    assert code == 0 and text.startswith(proposal["proposal_id"])


@pytest.mark.parametrize(
    "args",
    [
        ("generate", "DRAGON", "--seed", "1"),
        ("generate", "ITEM", "--seed", "-1"),
        ("generate", "ITEM", "--seed", "1", "--context", "{not json"),
        ("generate", "ITEM", "--seed", "1", "--context", "[1]"),
        ("generate", "ITEM", "--seed", "1", "--queue"),
        ("generate", "ITEM", "--seed", "1", "--world", "atlantis"),
    ],
)
def test_generate_bad_input_is_one_line_and_exit_2(args: tuple[str, ...]) -> None:
    code, out, err = run(*args)
    assert code == 2 and one_error_line(err), (out, err)


def test_generate_grows_from_a_folder_and_obeys_its_guardrails(data: Path) -> None:
    (data / "guardrails.json").write_text(
        json.dumps({"banned_words": [], "max_weapon_damage": 0, "max_armor": 0})
    )
    code, _, err = run("generate", "ITEM", "--seed", 4, "--data", data)
    assert code == 1 and one_error_line(err)  # a guardrail refusal
    code, _, err = run("generate", "ITEM", "--seed", 4, "--data", data, "--world", "petri")
    assert code == 2 and one_error_line(err)


# -- director --------------------------------------------------------------------------------------
def test_director_settings_persist_between_commands(data: Path) -> None:
    assert run("director", "set", "chaos", "70", "--data", data)[0] == 0
    assert run("director", "set", "human_in_the_loop", "off", "--data", data)[0] == 0
    code, out, _ = run("director", "status", "--data", data, "--json")
    status = json.loads(out)
    assert code == 0 and status["sliders"]["chaos"] == 70 and status["toggles"]["human_in_the_loop"] is False
    code, out, _ = run("director", "status", "--data", data)
    assert "chaos 70" in out and "director running" in out


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("chaos", "101"),
        ("chaos", "-1"),
        ("expansion", "lots"),
        ("loudness", "5"),
        ("glitch_doors_only", "maybe"),
    ],
)
def test_director_set_refuses_bad_values(data: Path, name: str, value: str) -> None:
    code, _, err = run("director", "set", "--data", data, "--", name, value)  # "--": -1 is no option
    assert code == 2 and one_error_line(err), err
    assert json.loads(run("director", "status", "--data", data, "--json")[1])["sliders"]["chaos"] == 10


def test_pause_stop_and_resume(data: Path) -> None:
    assert json.loads(run("director", "pause", "--data", data, "--json")[1])["mode"] == "paused"
    assert (
        json.loads(run("director", "stop", "--data", data, "--json", "--reason", "incident")[1])["mode"]
        == "stopped"
    )
    code, _, err = run("director", "pause", "--data", data)
    assert code == 1 and "only resume" in err and one_error_line(err)  # a refusal
    code, _, err = run("generate", "ITEM", "--seed", 1, "--data", data, "--queue")
    assert code == 1 and "emergency stop" in err  # nothing is queued while stopped
    code, _, err = run("director", "resume", "--data", data, "--reason", " ")
    assert code == 2 and one_error_line(err)
    assert json.loads(run("director", "resume", "--data", data, "--json")[1])["mode"] == "running"
    code, out, _ = run("director", "log", "--data", data)
    assert code == 0 and out.strip() == "no decisions yet"


def test_commands_on_a_missing_folder_are_bad_input(tmp_path: Path) -> None:
    for args in (("director", "status"), ("queue", "list"), ("director", "set", "chaos", "5")):
        code, _, err = run(*args, "--data", tmp_path / "nope")
        assert code == 2 and one_error_line(err), args
    assert not (tmp_path / "nope").exists()


# -- queue -----------------------------------------------------------------------------------------
def test_queue_edit_approve_and_undo(data: Path) -> None:
    pid = queued(data, 21)
    code, out, _ = run("queue", "list", "--data", data, "--json")
    assert code == 0 and [p["proposal_id"] for p in json.loads(out)["proposals"]] == [pid]
    code, out, _ = run("queue", "show", pid, "--data", data)
    assert code == 0 and out.startswith(f"{pid}: queued")
    code, out, err = run(
        "queue", "edit", pid, "--set", "items/0/name=Widowmaker", "--data", data, "--actor", "ann"
    )
    assert code == 0, err
    code, out, _ = run("queue", "diff", pid, "--data", data, "--json")
    assert {
        "path": "/items/0/name",
        "before": json.loads(out)["generated"]["items"][0]["name"],
        "after": "Widowmaker",
    } in json.loads(out)["changes"]
    code, out, err = run("queue", "approve", pid, "--data", data, "--json", "--reason", "good")
    assert code == 0, err
    verdict = json.loads(out)
    assert verdict["state"] == "active" and verdict["proposal_state"] == "active"
    code, out, _ = run("patch", "list", "--data", data, "--json")
    assert json.loads(out)["active"] == verdict["patch_id"]
    code, out, err = run("queue", "undo", pid, "--data", data, "--json")
    assert code == 0, err
    assert json.loads(out)["proposal_state"] == "rolled_back"
    code, _, err = run("queue", "undo", pid, "--data", data)
    assert code == 1 and one_error_line(err)


def test_queue_refusals_exit_1_and_bad_input_exit_2(data: Path) -> None:
    pid = queued(data, 22)
    before = run("queue", "show", pid, "--data", data, "--json")[1]
    code, _, err = run("queue", "edit", pid, "--set", "items/0/id=neon.item.x", "--data", data)
    assert code == 2 and one_error_line(err)
    code, _, err = run("queue", "edit", pid, "--set", "items/0/stats/damage=900", "--data", data)
    assert code == 1 and one_error_line(err)  # guardrails refuse it; nothing changed
    assert run("queue", "show", pid, "--data", data, "--json")[1] == before
    code, _, err = run("queue", "edit", pid, "--set", "nonsense", "--data", data)
    assert code == 2 and one_error_line(err)
    code, _, err = run("queue", "show", "prop-unknown", "--data", data)
    assert code == 2 and one_error_line(err)
    code, _, err = run("queue", "list", "--state", "lost", "--data", data)
    assert code == 2 and one_error_line(err)
    assert run("killswitch", "engage", "--actor", "ops", "--reason", "incident", "--data", data)[0] == 0
    code, out, _ = run("queue", "approve", pid, "--data", data, "--json")
    assert code == 1 and json.loads(out)["state"] == "refused"
    assert json.loads(run("queue", "show", pid, "--data", data, "--json")[1])["state"] == "refused"
    assert run("killswitch", "release", "--actor", "ops", "--reason", "over", "--data", data)[0] == 0
    code, _, err = run("queue", "reject", pid, "--data", data, "--reason", "not today")
    assert code == 0, err
    code, _, err = run("queue", "approve", pid, "--data", data)
    assert code == 1 and one_error_line(err)


def test_parse_assignments_and_settings() -> None:
    assert parse_assignments(["items/0/name=Edge", "items/0/price=120", 'items/0/description="7"']) == {
        "items": {"0": {"name": "Edge", "price": 120, "description": "7"}}
    }
    for bad in (["x"], ["=5"], ["a=1", "a=2"], ["a=1", "a/b=2"], []):
        with pytest.raises(BadInputError):
            parse_assignments(bad)
    assert parse_setting("glitch_doors_only", "ON") is True and parse_setting("chaos", " 7 ") == 7


# -- refusals and bad input the audit found --------------------------------------------------------
@pytest.mark.parametrize("bad", ["{bad", '{"max_weapon_damage": -1}', '"x"', "[]"])
def test_an_invalid_guardrails_file_refuses_and_status_says_why(data: Path, bad: str) -> None:
    pid = queued(data, 23)
    (data / "guardrails.json").write_text(bad)
    code, _, err = run("generate", "ITEM", "--seed", 24, "--data", data, "--queue")
    assert code == 1 and "guardrails" in err and one_error_line(err)
    code, _, err = run("queue", "approve", pid, "--data", data)
    assert code == 1 and "guardrails" in err and one_error_line(err)
    code, out, _ = run("director", "status", "--data", data)
    assert code == 0 and "guardrails file INVALID" in out
    assert (
        "guardrails.json"
        in json.loads(run("director", "status", "--data", data, "--json")[1])["guardrails_error"]
    )
    assert [
        p["state"] for p in json.loads(run("queue", "list", "--data", data, "--json")[1])["proposals"]
    ] == ["queued"]


@pytest.mark.parametrize(
    "args",
    [
        ("director", "status"),
        ("director", "log"),
        ("queue", "list"),
        ("models", "list"),
        ("models", "stats"),
        ("generate", "ITEM", "--seed", "1"),
    ],
)
def test_a_read_only_command_on_an_empty_folder_exits_2_and_writes_nothing(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run(*args, "--data", empty)
    assert code == 2 and one_error_line(err), err
    assert list(empty.iterdir()) == []


def test_deeply_nested_json_is_one_line_of_bad_input(data: Path) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    code, _, err = run("generate", "ITEM", "--seed", 1, "--context", '{"x": ' + deep + "}")
    assert code == 2 and one_error_line(err), err
    pid = queued(data, 25)
    code, _, err = run("queue", "edit", pid, "--set", "items/0/name=" + deep, "--data", data)
    assert code == 2 and one_error_line(err), err
    code, _, err = run("queue", "edit", pid, "--set", "/".join(["items"] * 5000) + "=1", "--data", data)
    assert code == 2 and one_error_line(err), err


def test_status_text_shows_the_throttles_in_force(data: Path) -> None:
    assert run("director", "set", "jobs_per_minute", "50", "--data", data)[0] == 0
    (data / "guardrails.json").write_text('{"jobs_per_minute": 4}')
    code, out, _ = run("director", "status", "--data", data)
    assert code == 0 and "jobs_per_minute 50 (in force 4: capped by the guardrails)" in out


def test_a_failed_generate_queue_json_still_prints_json(data: Path) -> None:
    (data / "guardrails.json").write_text('{"max_weapon_damage": 1}')
    code, out, err = run("generate", "ITEM", "--seed", 3, "--data", data, "--queue", "--json")
    assert code == 1 and one_error_line(err)
    body = json.loads(out)
    assert body["queue_state"] == "failed" and body["error"]["code"]
    assert json.loads(run("queue", "list", "--data", data, "--json")[1])["proposals"] == []


def test_generate_help_reads_as_plain_text() -> None:
    code, out, _ = run("generate", "--help")
    assert code == 0 and "``" not in out and "--queue" in out


def test_queue_show_says_when_enrich_fell_back_and_why(data: Path) -> None:
    from tests.ai.llm.conftest import Reply, ollama_envelope
    from tests.ai.test_council import _serve

    with _serve() as (url, script):
        script.default = Reply(ollama_envelope('{"wrong": "shape"}'))  # outside the schema
        code, _, err = run(
            "models", "set", "flavour", "--provider", "ollama", "--model", "tiny", "--base-url", url,
            "--key", "op", "--data", data,
        )  # fmt: skip
        assert code == 0, err
        pid = queued(data, 26)
    code, out, _ = run("queue", "show", pid, "--data", data)
    assert (
        code == 0 and "enrich: " in out and "kept the generated words because flavour: schema_mismatch" in out
    )
    code, out, _ = run("director", "log", "--data", data, "--json")
    (logged,) = [d for d in json.loads(out)["decisions"] if d["rule"] == "enrich"]
    assert logged["outcome"] == "fallback" and "schema_mismatch" in logged["why"]["why"]
    code, out, _ = run("models", "stats", "--data", data, "--json")
    (row,) = json.loads(out)["stats"]
    assert (row["role"], row["model"], row["calls"], row["failures"]) == ("flavour", "tiny", 1, 1)
