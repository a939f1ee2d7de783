"""A live world's input log in rotating segments: each segment replays from the snapshot before it
(through the real ``ouroboros replay``), old segments are dropped, and a restore starts a new one."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from ouroboros.cli import core as cli
from ouroboros.worlds import build_world

runner = CliRunner()


def _replay(log: Path) -> dict[str, object]:
    result = runner.invoke(cli.app, ["replay", str(log), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_each_segment_replays_from_its_own_snapshot(tmp_path: Path) -> None:
    from ouroboros.server.runtime.inputlog import InputRecorder

    world = build_world("petri", 3, {"entities": 40})
    world.start()
    recorder = InputRecorder(tmp_path, segment_ticks=10, keep_segments=2)
    recorder.begin(world)
    for tick in range(35):
        if tick % 7 == 0:
            world.submit("set_param", {"name": "temperature", "value": 40 + tick})
        world.step()
        recorder.after_tick(world)
    recorder.close()
    segments = recorder.segments()
    assert [p.name for p in segments] == ["seg-20.jsonl", "seg-30.jsonl"]  # seg-0, seg-10 dropped
    assert not (tmp_path / "inputs" / "seg-0.snapshot").exists()
    first, last = (_replay(p) for p in segments)
    assert (first["start_tick"], first["ticks"]) == (20, 30)
    assert (last["start_tick"], last["ticks"]) == (30, 35)
    assert last["final_digest"] == world.digest().hex
    # a stretch: from the segment's snapshot up to a chosen tick
    stretch = runner.invoke(cli.app, ["replay", str(segments[0]), "--until", "24", "--json"])
    assert stretch.exit_code == 0, stretch.output
    assert (json.loads(stretch.stdout)["replayed"], json.loads(stretch.stdout)["ticks"]) == (4, 24)


def test_a_restore_starts_a_new_segment_and_a_changed_input_desyncs(tmp_path: Path) -> None:
    from ouroboros.server.runtime.inputlog import InputRecorder

    world = build_world("petri", 5, {"entities": 30})
    world.start()
    early = world.snapshot()
    recorder = InputRecorder(tmp_path, segment_ticks=1000)
    recorder.begin(world)
    for _ in range(6):
        world.step()
        recorder.after_tick(world)
    world.restore(early)  # an operator's restore: the state goes back to tick 0
    world.submit("set_param", {"name": "temperature", "value": 70})
    world.step()
    recorder.after_tick(world)
    for _ in range(3):
        world.step()
        recorder.after_tick(world)
    recorder.close()
    names = [p.name for p in recorder.segments()]
    assert names == ["seg-0.jsonl", "seg-1.jsonl"]
    assert _replay(tmp_path / "inputs" / "seg-1.jsonl")["ticks"] == 4
    # a recorded input changed after the fact: replay names the tick where the run leaves the log
    log = tmp_path / "inputs" / "seg-0.jsonl"
    lines = log.read_text().splitlines()
    tick = json.loads(lines[3])
    tick["in"] = [["set_param", {"name": "temperature", "value": 99}]]
    lines[3] = json.dumps(tick)
    log.write_text("\n".join(lines) + "\n")
    result = runner.invoke(cli.app, ["replay", str(log)])
    assert result.exit_code == 1
    assert "replay desync at tick 3" in result.stderr
