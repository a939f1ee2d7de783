"""Input logs and replay: a log plus the start state reproduces a run, and the first tick that
differs is named with the sections that differ."""

from __future__ import annotations

import gc
import json
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ouroboros.engine import LogWriter, World, read_log, replay
from ouroboros.engine.errors import InputError, LogFormatError

from .toy import build_world

PUSHES = {2: (1, 0), 5: (0, -2), 6: (3, 3), 11: (-1, -1)}
TICKS = 14


def record(path: Path, world: World, ticks: int = TICKS, start: dict[str, Any] | None = None) -> list[str]:
    """Run ``world`` with PUSHES, logging every tick; returns the digests."""
    out = []
    with LogWriter(path, world, start or {"from": "fresh"}) as log:
        for _ in range(ticks):
            push = PUSHES.get(world.tick + 1)
            if push is not None:
                world.submit("push", {"dx": push[0], "dy": push[1]})
            report = world.step()
            log.record(report)
            assert report.digest is not None
            out.append(report.digest.hex)
    return out


def rebuild(header: dict[str, Any]) -> World:
    return build_world(header["seed"])


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "run.log"
    record(path, build_world())
    return path


def read_all(path: Path) -> list[Any]:
    _, ticks = read_log(path)
    return list(ticks)


def test_a_recorded_run_replays_without_desync(tmp_path: Path) -> None:
    path = tmp_path / "run.log"
    digests = record(path, build_world())
    seen: list[int] = []
    result = replay(path, rebuild, on_tick=seen.append)
    assert result.ok, result.desync
    assert result.ticks == TICKS
    assert result.final_digest == digests[-1]
    assert seen == list(range(1, TICKS + 1))
    assert result.world is not None and result.world.digest().hex == digests[-1]
    logged = {t.tick: t.inputs for t in read_all(path)}
    assert logged[5] == [("push", {"dx": 0, "dy": -2})]
    assert logged[4] == []


def test_a_log_started_from_a_snapshot_replays(tmp_path: Path) -> None:
    world = build_world()
    world.run(6)
    snap = tmp_path / "start.snap"
    snap.write_bytes(world.snapshot())
    path = tmp_path / "run.log"
    digests = record(path, world, ticks=8, start={"snapshot": str(snap)})

    def from_snapshot(header: dict[str, Any]) -> World:
        w = build_world(header["seed"])
        w.restore(Path(header["start"]["snapshot"]).read_bytes())
        return w

    result = replay(path, from_snapshot)
    assert result.ok, result.desync
    assert result.ticks == 8
    assert result.final_digest == digests[-1]
    # starting from the wrong state is caught before the first tick
    wrong = replay(path, rebuild)
    assert wrong.desync is not None
    assert wrong.desync.sections == ["start state"]
    assert wrong.ticks == 0


def test_a_planted_change_is_found_at_its_tick_and_field(log: Path) -> None:
    def perturb(world: World) -> None:
        if world.tick + 1 == 7:  # only while tick 7 runs
            world.query("Vel")[0]["Vel.x"][3] += 1

    def rebuild_perturbed(header: dict[str, Any]) -> World:
        world = rebuild(header)
        world.add_system("perturb", perturb, phase="post_tick", writes=["Vel"])
        return world

    result = replay(log, rebuild_perturbed)
    assert result.desync is not None
    assert result.desync.tick == 7
    assert result.desync.sections == ["Vel.x"]
    assert result.desync.components == ["Vel"]
    assert "7" in result.desync.describe() and "Vel.x" in result.desync.describe()
    assert result.ticks == 7
    assert result.desync.expected != result.desync.actual


def rewrite(path: Path, tick: int, fn: Any) -> None:
    lines = path.read_text().splitlines(keepends=True)
    for i, line in enumerate(lines[1:], start=1):
        obj = json.loads(line)
        if obj["t"] == tick:
            fn(obj)
            lines[i] = json.dumps(obj, separators=(",", ":")) + "\n"
    path.write_text("".join(lines))


@pytest.mark.parametrize("tick", [2, 6, 11])
def test_an_edited_input_desyncs_at_its_tick(log: Path, tick: int) -> None:
    rewrite(log, tick, lambda obj: obj["in"][0][1].update(dx=obj["in"][0][1]["dx"] + 1))
    result = replay(log, rebuild)
    assert result.desync is not None
    assert result.desync.tick == tick
    assert "Vel.x" in result.desync.sections
    assert result.ticks == tick


def test_an_input_added_to_the_log_desyncs_at_its_tick(log: Path) -> None:
    rewrite(log, 9, lambda obj: obj["in"].append(["push", {"dx": 0, "dy": 1}]))
    result = replay(log, rebuild)
    assert result.desync is not None
    assert result.desync.tick == 9
    assert "Vel.y" in result.desync.sections


def test_an_input_the_world_refuses_is_not_replayed_silently(log: Path) -> None:
    rewrite(log, 5, lambda obj: obj["in"][0][1].update(dx=10_000))
    with pytest.raises(InputError):
        replay(log, rebuild)


def test_a_log_truncated_mid_line_is_refused(log: Path) -> None:
    data = log.read_bytes()
    log.write_bytes(data[: len(data) - 10])
    with pytest.raises(LogFormatError, match="truncated"):
        read_all(log)
    with pytest.raises(LogFormatError):
        replay(log, rebuild)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(0, 10**9))
def test_any_truncation_is_refused_or_reads_whole_ticks(log: Path, cut: int) -> None:
    data = log.read_bytes()
    cut %= len(data)
    short = log.with_name(f"short-{cut}.log")
    short.write_bytes(data[:cut])
    lines_kept = data[:cut].count(b"\n")
    if cut == 0 or data[cut - 1 : cut] != b"\n":
        with pytest.raises(LogFormatError):
            read_all(short)
    else:
        assert len(read_all(short)) == lines_kept - 1


def _replace_in_line_4(old: bytes, new: bytes) -> Any:
    return lambda lines: lines.__setitem__(4, lines[4].replace(old, new))


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda lines: lines.__setitem__(4, b"\xff\xfe garbage\n"), id="garbage line"),
        pytest.param(lambda lines: lines.__setitem__(4, b"[1, 2, 3]\n"), id="line not an object"),
        pytest.param(lambda lines: lines.__delitem__(4), id="tick missing"),
        pytest.param(lambda lines: lines.insert(4, lines[4]), id="tick repeated"),
        pytest.param(_replace_in_line_4(b'"d":"', b'"d":"zz'), id="bad digest"),
        pytest.param(_replace_in_line_4(b'"s":"', b'"s":"00'), id="bad sections"),
        pytest.param(_replace_in_line_4(b'"in":[', b'"in":[7,'), id="bad input"),
        pytest.param(_replace_in_line_4(b'"t":4', b'"t":true'), id="tick not a number"),
    ],
)
def test_a_damaged_tick_line_is_refused(log: Path, damage: Any) -> None:
    lines = log.read_bytes().splitlines(keepends=True)
    damage(lines)
    log.write_bytes(b"".join(lines))
    with pytest.raises(LogFormatError):
        read_all(log)


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(b"", id="empty file"),
        pytest.param(b"not json at all\n", id="garbage header"),
        pytest.param(b'{"format": "ouroboros-log/2"}\n', id="another format"),
        pytest.param(b'{"format": "some-other-tool"}\n', id="another tool"),
        pytest.param(b"[]\n", id="header not an object"),
    ],
)
def test_a_file_that_is_not_an_input_log_is_refused(tmp_path: Path, header: bytes) -> None:
    path = tmp_path / "x.log"
    path.write_bytes(header)
    with pytest.raises(LogFormatError):
        read_all(path)


@pytest.mark.parametrize("field", ["seed", "meta", "start", "start_tick", "sections", "digest"])
def test_a_header_missing_a_field_is_refused(log: Path, field: str) -> None:
    lines = log.read_bytes().splitlines(keepends=True)
    header = json.loads(lines[0])
    header.pop(field)
    lines[0] = json.dumps(header).encode() + b"\n"
    log.write_bytes(b"".join(lines))
    with pytest.raises(LogFormatError):
        read_all(log)


def test_a_missing_log_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LogFormatError):
        read_all(tmp_path / "nope.log")


def test_a_tick_without_a_digest_cannot_be_logged(tmp_path: Path) -> None:
    world = build_world(digest_every_tick=False)
    with LogWriter(tmp_path / "x.log", world, {}) as writer, pytest.raises(LogFormatError):
        writer.record(world.step())


def test_a_refused_log_header_does_not_leave_the_file_open(tmp_path: Path) -> None:
    path = tmp_path / "x.log"
    path.write_bytes(b"not json\n")
    gc.collect()  # what earlier tests left (a subprocess pipe) is not this test's business
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        with pytest.raises(LogFormatError):
            read_log(path)
        gc.collect()
    leaked = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert [m for m in leaked if path.name in m] == []


def test_a_log_opened_after_an_edit_between_ticks_replays(tmp_path: Path) -> None:
    world = build_world()
    world.run(5)
    world.set(int(world.query("Pos")[0].ids[0]), "Pos", x=1000)  # an operator's edit between ticks
    snap = tmp_path / "start.snap"
    snap.write_bytes(world.snapshot())
    path = tmp_path / "run.log"
    record(path, world, ticks=4, start={"snapshot": str(snap)})

    def from_snapshot(header: dict[str, Any]) -> World:
        w = build_world(header["seed"])
        w.restore(Path(header["start"]["snapshot"]).read_bytes())
        return w

    result = replay(path, from_snapshot)
    assert result.ok, result.desync
    assert result.ticks == 4
