"""The input log, and replay that checks every tick's digest against it.

A log is JSON lines. The first line is the header: the format tag, the engine version, the seed,
the world's ``meta`` (enough for a world registry to rebuild the same world), how the run started
(fresh, or from a snapshot file named with its hash), the section names and the start digest.
Every following line is one tick: ``{"t": tick, "in": [[kind, payload], ...], "d": digest,
"s": section digests}``.

Replay rebuilds the start state, re-applies each tick's inputs and compares digests tick by tick;
the first mismatch becomes a ``Desync`` naming the tick and the sections (component fields) that
differ. The engine knows no world: the caller passes the function that builds one from a header.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ouroboros.engine.digest import Digest
from ouroboros.engine.errors import LogFormatError
from ouroboros.engine.world import ENGINE_VERSION, TickReport, World

LOG_FORMAT = "ouroboros-log/1"
MAX_LINE_BYTES = 64 << 20
_DIGEST_BYTES = 16


@dataclass(frozen=True)
class Desync:
    """Where a replay first left the recorded run."""

    tick: int
    sections: list[str]
    expected: str
    actual: str

    @property
    def components(self) -> list[str]:
        return component_names(self.sections)

    def describe(self) -> str:
        return f"desync at tick {self.tick}: {', '.join(self.sections)} differ"

    def as_dict(self) -> dict[str, Any]:
        return {
            "tick": self.tick,
            "sections": self.sections,
            "components": self.components,
            "expected": self.expected,
            "actual": self.actual,
        }


def component_names(sections: list[str]) -> list[str]:
    """``["Body.energy", "Body.age", "entities"]`` → ``["Body", "entities"]``, first seen first."""
    out: list[str] = []
    for s in sections:
        name = s.split(".", 1)[0]
        if name not in out:
            out.append(name)
    return out


@dataclass
class ReplayResult:
    header: dict[str, Any]
    ticks: int = 0
    final_digest: str | None = None
    desync: Desync | None = None
    world: World | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.desync is None


class LogWriter:
    """Appends one line per tick; the header is written when the writer opens."""

    def __init__(self, path: Path | str, world: World, start: dict[str, Any]) -> None:
        self.path = Path(path)
        digest = world.digest()
        header = {
            "format": LOG_FORMAT,
            "engine_version": ENGINE_VERSION,
            "seed": world.seed,
            "meta": world.meta,
            "start": start,
            "start_tick": world.tick,
            "sections": list(digest.section_names()),
            "digest": digest.hex,
        }
        self._sections = digest.section_names()
        self._file: IO[str] = self.path.open("w", encoding="utf-8")
        self._file.write(json.dumps(header, sort_keys=True, separators=(",", ":")) + "\n")

    def record(self, report: TickReport) -> None:
        if report.digest is None:
            raise LogFormatError("cannot log a tick without a digest (digest_every_tick is off)")
        line: dict[str, Any] = {
            "t": report.tick,
            "in": [[i.kind, i.payload] for i in report.inputs],
            "d": report.digest.hex,
            "s": b"".join(d for _, d in report.digest.sections).hex(),
        }
        names = report.digest.section_names()
        if names != self._sections:
            line["sections"] = list(names)
            self._sections = names
        self._file.write(json.dumps(line, separators=(",", ":")) + "\n")

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> LogWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class LogTick:
    tick: int
    inputs: list[tuple[str, Any]]
    digest: str
    sections: dict[str, str]


def _fail(lineno: int, why: str) -> LogFormatError:
    return LogFormatError(f"input log line {lineno}: {why}", path=f"line {lineno}")


def read_log(path: Path | str) -> tuple[dict[str, Any], Iterator[LogTick]]:
    """Parse and check the header now; yield checked ticks lazily (errors name the line)."""
    p = Path(path)
    try:
        f = p.open("rb")
    except OSError as exc:
        raise LogFormatError(f"cannot read input log {p}: {exc.strerror}") from exc
    first = f.readline(MAX_LINE_BYTES)
    try:
        header = _parse_line(first, 1)
    except LogFormatError:
        f.close()
        raise
    if header.get("format") != LOG_FORMAT:
        f.close()
        raise LogFormatError(f"{p} is not an ouroboros input log (format {LOG_FORMAT})")
    for key, kind in (
        ("seed", int),
        ("meta", dict),
        ("start", dict),
        ("start_tick", int),
        ("sections", list),
        ("digest", str),
    ):
        if not isinstance(header.get(key), kind) or isinstance(header.get(key), bool):
            f.close()
            raise _fail(1, f"header field {key!r} is missing or of the wrong type")
    if not all(isinstance(s, str) for s in header["sections"]):
        f.close()
        raise _fail(1, "header sections must be names")

    def ticks() -> Iterator[LogTick]:
        sections = list(header["sections"])
        expected_tick = header["start_tick"] + 1
        lineno = 1
        with f:
            for raw in iter(lambda: f.readline(MAX_LINE_BYTES), b""):
                lineno += 1
                if not raw.endswith(b"\n"):
                    raise _fail(lineno, "truncated (no end of line)")
                obj = _parse_line(raw, lineno)
                if "sections" in obj:
                    if not isinstance(obj["sections"], list) or not all(
                        isinstance(s, str) for s in obj["sections"]
                    ):
                        raise _fail(lineno, "bad sections")
                    sections = obj["sections"]
                t, inputs, d, s = obj.get("t"), obj.get("in"), obj.get("d"), obj.get("s")
                if t != expected_tick or isinstance(t, bool):
                    raise _fail(lineno, f"expected tick {expected_tick}, found {t!r}")
                if not isinstance(inputs, list) or not all(
                    isinstance(i, list) and len(i) == 2 and isinstance(i[0], str) for i in inputs
                ):
                    raise _fail(lineno, "inputs must be a list of [kind, payload]")
                if not (isinstance(d, str) and _is_hex(d, _DIGEST_BYTES)):
                    raise _fail(lineno, "digest is not 32 hex digits")
                if not (isinstance(s, str) and _is_hex(s, _DIGEST_BYTES * len(sections))):
                    raise _fail(lineno, "section digests do not match the section names")
                chunk = 2 * _DIGEST_BYTES
                by_name = {n: s[i * chunk : (i + 1) * chunk] for i, n in enumerate(sections)}
                yield LogTick(t, [(k, v) for k, v in inputs], d, by_name)
                expected_tick += 1

    return header, ticks()


def _is_hex(s: str, nbytes: int) -> bool:
    if len(s) != 2 * nbytes:
        return False
    try:
        bytes.fromhex(s)
    except ValueError:
        return False
    return True


def _parse_line(raw: bytes, lineno: int) -> dict[str, Any]:
    if not raw:
        raise _fail(lineno, "missing (the log is empty or truncated)")
    try:
        obj = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _fail(lineno, f"not JSON ({exc.__class__.__name__})") from exc
    if not isinstance(obj, dict):
        raise _fail(lineno, "not a JSON object")
    return obj


def _sections_hex(d: Digest) -> dict[str, str]:
    return {n: v.hex() for n, v in d.sections}


def replay(
    path: Path | str,
    build: Callable[[dict[str, Any]], World],
    *,
    on_tick: Callable[[int], None] | None = None,
    until: int | None = None,
) -> ReplayResult:
    """Re-run a log from its start state and stop at the first tick whose digest differs (or
    after tick ``until``: a stretch of the log)."""
    header, ticks = read_log(path)
    world = build(header)
    result = ReplayResult(header=header, world=world)
    start = world.digest()
    if start.hex != header["digest"] or world.tick != header["start_tick"]:
        result.desync = Desync(world.tick, ["start state"], header["digest"], start.hex)
        return result
    for entry in ticks:
        if until is not None and entry.tick > until:
            break
        for kind, payload in entry.inputs:
            world.submit(kind, payload)
        report = world.step()
        if report.digest is None:
            report = TickReport(report.tick, report.inputs, world.digest())
        assert report.digest is not None  # filled in just above when the world skipped it
        result.ticks += 1
        result.final_digest = report.digest.hex
        actual = _sections_hex(report.digest)
        if report.digest.hex != entry.digest or actual != entry.sections:
            names = list(dict.fromkeys([*entry.sections, *actual]))
            differing = [n for n in names if entry.sections.get(n) != actual.get(n)]
            result.desync = Desync(entry.tick, differing or ["tick"], entry.digest, report.digest.hex)
            return result
        if on_tick is not None:
            on_tick(entry.tick)
    return result
