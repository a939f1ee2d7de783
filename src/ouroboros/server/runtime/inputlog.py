"""A live world's input log, in rotating segments that ``ouroboros replay`` re-runs.

``InputRecorder(folder, world)`` keeps ``<data>/<world>/inputs/``: each segment is
``seg-<tick>.snapshot`` (the world as the segment starts) and ``seg-<tick>.jsonl`` (an engine
input log, ``engine/replay.py``, whose header names that snapshot by path and hash). What it
promises:

- It is an ``after_tick`` hook: it runs on the tick thread under the world's lock, after each tick.
  The tick thread only hands the tick's report (its inputs and the digest the tick already took)
  to one I/O thread, which writes the files in order; a segment's snapshot is taken on the tick
  thread (the state at that boundary) and written on the I/O thread.
- A new segment starts every ``segment_ticks`` ticks, and whenever the world did not simply step
  forward (a restore put another state back): each segment replays from its own snapshot. Only the
  newest ``keep_segments`` are kept.
- A world whose ticks take no digest (``digest_every_tick`` off) is not recorded.
"""

from __future__ import annotations

import contextlib
import copy
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import xxhash

from ouroboros.engine import TickReport, World
from ouroboros.engine.replay import LogWriter
from ouroboros.patches import write_atomic

INPUTS_DIR = "inputs"
SEGMENT_TICKS = 9_000  # five minutes at 30 ticks a second
KEEP_SEGMENTS = 12


class _Start:
    """The world as a segment starts, frozen for the I/O thread (``LogWriter`` reads these)."""

    def __init__(self, world: World) -> None:
        self.seed, self.tick = world.seed, world.tick
        self.meta = copy.deepcopy(world.meta)
        self._digest = world.digest()

    def digest(self) -> Any:
        return self._digest


class InputRecorder:
    """Records a live world's inputs in rotating, replayable segments (see the module docstring)."""

    def __init__(
        self, folder: Path, *, segment_ticks: int = SEGMENT_TICKS, keep_segments: int = KEEP_SEGMENTS
    ) -> None:
        self.folder = Path(folder) / INPUTS_DIR
        self.segment_ticks = max(1, int(segment_ticks))
        self.keep_segments = max(1, int(keep_segments))
        self._writer: LogWriter | None = None
        self._open = False  # a segment is open (its writer may still be on its way on the I/O thread)
        self._start = 0
        self._last = -1
        self.error: str | None = None
        # files are written on one I/O thread, in order: the tick thread never waits for the disk
        self._io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inputlog-io")

    def segments(self) -> list[Path]:
        """The kept segments' logs, oldest first."""
        return sorted(self.folder.glob("seg-*.jsonl"), key=lambda p: int(p.stem.split("-")[1]))

    def begin(self, world: World) -> None:
        """Start the first segment from the world as it is now (between two ticks)."""
        if world.digest_every_tick:
            self._rotate(world)

    def after_tick(self, world: World, ms: float = 0.0) -> None:
        report = world.last_report
        if self.error is not None or report is None or report.digest is None:
            return
        if not self._open or report.tick != self._last + 1:
            self._rotate(world)  # the segment starts from this state: this tick is in its snapshot
            return
        self._io.submit(self._guarded, self._record, report)
        self._last = report.tick
        if report.tick - self._start >= self.segment_ticks:
            self._rotate(world)

    def _rotate(self, world: World) -> None:
        """On the tick thread: the state now (snapshot bytes, digest); the files on the I/O thread."""
        snapshot, start = world.snapshot(), _Start(world)
        self._open, self._start, self._last = True, world.tick, world.tick
        self._io.submit(self._guarded, self._open_segment, snapshot, start)

    def _guarded(self, fn: Any, *args: Any) -> None:
        if self.error is not None:
            return
        try:
            fn(*args)
        except OSError as exc:  # a full disk stops the recording, never the world
            self.error = f"input log: {exc.strerror or exc}"
            self._close_writer()

    def _open_segment(self, snapshot: bytes, start: _Start) -> None:
        self._close_writer()
        self.folder.mkdir(parents=True, exist_ok=True)
        stem = self.folder / f"seg-{start.tick}"
        write_atomic(stem.with_suffix(".snapshot"), snapshot)
        origin: dict[str, Any] = {
            "kind": "snapshot",
            "path": str(stem.with_suffix(".snapshot").resolve()),
            "xxh3": xxhash.xxh3_128_hexdigest(snapshot),
        }
        self._writer = LogWriter(stem.with_suffix(".jsonl"), start, origin)  # type: ignore[arg-type]
        self._writer._file.reconfigure(line_buffering=True)  # type: ignore[attr-defined]  # readable live
        for old in self.segments()[: -self.keep_segments]:
            old.unlink(missing_ok=True)
            old.with_suffix(".snapshot").unlink(missing_ok=True)

    def _record(self, report: TickReport) -> None:
        if self._writer is not None:
            self._writer.record(report)

    def _close_writer(self) -> None:
        if self._writer is not None:
            with contextlib.suppress(OSError):
                self._writer.close()
            self._writer = None

    def flush(self) -> None:
        """Wait until every tick recorded so far is in its file (lines are flushed as written)."""
        self._io.submit(self._guarded, self._flush).result()

    def _flush(self) -> None:
        if self._writer is not None:
            self._writer._file.flush()

    def close(self) -> None:
        """Close the open segment (its lines written); the recorder records no more."""
        self._open = False
        with contextlib.suppress(RuntimeError):  # already closed
            self._io.submit(self._close_writer).result()
            self._io.shutdown(wait=True)
        self.error = self.error or "closed"


__all__ = ["INPUTS_DIR", "KEEP_SEGMENTS", "SEGMENT_TICKS", "InputRecorder"]
