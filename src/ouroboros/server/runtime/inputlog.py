"""A live world's input log, in rotating segments that ``ouroboros replay`` re-runs.

``InputRecorder(folder, world)`` keeps ``<data>/<world>/inputs/``: each segment is
``seg-<tick>.snapshot`` (the world as the segment starts) and ``seg-<tick>.jsonl`` (an engine
input log, ``engine/replay.py``, whose header names that snapshot by path and hash). What it
promises:

- It is an ``after_tick`` hook: it runs on the tick thread under the world's lock, after each tick,
  and costs one JSON line a tick (the digest is the one the tick already took) plus one snapshot
  a segment.
- A new segment starts every ``segment_ticks`` ticks, and whenever the world did not simply step
  forward (a restore put another state back): each segment replays from its own snapshot. Only the
  newest ``keep_segments`` are kept.
- A world whose ticks take no digest (``digest_every_tick`` off) is not recorded.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import xxhash

from ouroboros.engine import World
from ouroboros.engine.replay import LogWriter
from ouroboros.patches.atomic import write_atomic

INPUTS_DIR = "inputs"
SEGMENT_TICKS = 9_000  # five minutes at 30 ticks a second
KEEP_SEGMENTS = 12


class InputRecorder:
    """Records a live world's inputs in rotating, replayable segments (see the module docstring)."""

    def __init__(
        self, folder: Path, *, segment_ticks: int = SEGMENT_TICKS, keep_segments: int = KEEP_SEGMENTS
    ) -> None:
        self.folder = Path(folder) / INPUTS_DIR
        self.segment_ticks = max(1, int(segment_ticks))
        self.keep_segments = max(1, int(keep_segments))
        self._writer: LogWriter | None = None
        self._start = 0
        self._last = -1
        self.error: str | None = None

    def segments(self) -> list[Path]:
        """The kept segments' logs, oldest first."""
        return sorted(self.folder.glob("seg-*.jsonl"), key=lambda p: int(p.stem.split("-")[1]))

    def begin(self, world: World) -> None:
        """Start the first segment from the world as it is now (between two ticks)."""
        if world.digest_every_tick:
            try:
                self._rotate(world)
            except OSError as exc:
                self.error = f"input log: {exc.strerror or exc}"

    def after_tick(self, world: World, ms: float = 0.0) -> None:
        report = world.last_report
        if self.error is not None or report is None or report.digest is None:
            return
        try:
            if self._writer is None or report.tick != self._last + 1:
                self._rotate(world)  # the segment starts from this state: this tick is in its snapshot
                return
            self._writer.record(report)
            self._last = report.tick
            if report.tick - self._start >= self.segment_ticks:
                self._rotate(world)
        except OSError as exc:  # a full disk stops the recording, never the world
            self.error = f"input log: {exc.strerror or exc}"
            self.close()

    def _rotate(self, world: World) -> None:
        self.close()
        self.folder.mkdir(parents=True, exist_ok=True)
        stem = self.folder / f"seg-{world.tick}"
        snapshot = world.snapshot()
        write_atomic(stem.with_suffix(".snapshot"), snapshot)
        start: dict[str, Any] = {
            "kind": "snapshot",
            "path": str(stem.with_suffix(".snapshot").resolve()),
            "xxh3": xxhash.xxh3_128_hexdigest(snapshot),
        }
        self._writer = LogWriter(stem.with_suffix(".jsonl"), world, start)
        self._writer._file.reconfigure(line_buffering=True)  # type: ignore[attr-defined]
        self._start = self._last = world.tick
        for old in self.segments()[: -self.keep_segments]:
            old.unlink(missing_ok=True)
            old.with_suffix(".snapshot").unlink(missing_ok=True)

    def close(self) -> None:
        if self._writer is not None:
            with contextlib.suppress(OSError):
                self._writer.close()
            self._writer = None


__all__ = ["INPUTS_DIR", "KEEP_SEGMENTS", "SEGMENT_TICKS", "InputRecorder"]
