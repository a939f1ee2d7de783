"""Local requests to a running world: how ``ouroboros players --data DIR`` reaches a live ``go``.

The data folder is the authority (as for ``ouroboros admin``): whoever can write
``DATA/<world>/inbox/`` may ask. A request is one JSON file, ``<id>.request.json`` (written
atomically); the running world takes it between two ticks, runs it, and writes
``<id>.answer.json`` (``{"ok": true, "result": ...}`` or ``{"ok": false, "code", "message"}``),
which the asker reads and deletes. ``go`` holds an exclusive lock on ``DATA/<world>/go.lock``
while it runs, so an asker knows whether anyone will answer (``held_by_go``); with no ``go``
running, the CLI works on the saved world itself, holding that lock meanwhile.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ouroboros.errors import BadInputError, OuroborosError
from ouroboros.patches import write_atomic

INBOX_DIR = "inbox"
LOCK_FILE = "go.lock"
REQUEST_SUFFIX = ".request.json"
ANSWER_SUFFIX = ".answer.json"


class GoLock:
    """The exclusive lock ``go`` holds on a world folder while it runs."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(self._fd)
            raise

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # closing drops the lock
            self._fd = -1


@contextmanager
def unless_go_runs(folder: Path) -> Iterator[bool]:
    """Yields ``True`` holding the lock when no ``go`` runs the folder, ``False`` when one does."""
    try:
        lock = GoLock(folder)
    except OSError:
        yield False
        return
    try:
        yield True
    finally:
        lock.release()


def ask(folder: Path, request: dict[str, Any], timeout_s: float = 10.0) -> Any:
    """Hand ``request`` to the ``go`` running ``folder`` and wait for its answer; raises the
    error it answered with (a ``BadInputError`` for bad input) or ``OuroborosError`` on timeout."""
    inbox = folder / INBOX_DIR
    inbox.mkdir(parents=True, exist_ok=True)
    request_id = f"{time.time_ns():020d}-{secrets.token_hex(4)}"
    write_atomic(inbox / f"{request_id}{REQUEST_SUFFIX}", json.dumps(request).encode())
    answer_path = inbox / f"{request_id}{ANSWER_SUFFIX}"
    deadline = time.monotonic() + timeout_s
    while not answer_path.exists():
        if time.monotonic() > deadline:
            (inbox / f"{request_id}{REQUEST_SUFFIX}").unlink(missing_ok=True)
            raise OuroborosError(
                f"the running world did not answer within {timeout_s:.0f} s", code="no_answer"
            )
        time.sleep(0.02)
    answer = json.loads(answer_path.read_bytes())
    answer_path.unlink(missing_ok=True)
    if answer.get("ok"):
        return answer.get("result")
    error = BadInputError if answer.get("bad_input") else OuroborosError
    raise error(str(answer.get("message")), code=str(answer.get("code")))


class Inbox:
    """The running world's side: ``serve(handler)`` answers every waiting request."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / INBOX_DIR
        self.path.mkdir(parents=True, exist_ok=True)
        self._seen: int | None = None

    def serve(self, handler: Callable[[dict[str, Any]], Any]) -> int:
        """Answer the waiting requests (a ``stat`` of the folder when none came); returns how many."""
        try:
            stamp = os.stat(self.path).st_mtime_ns
        except OSError:
            return 0
        if stamp == self._seen:
            return 0
        self._seen = stamp
        served = 0
        for path in sorted(self.path.glob(f"*{REQUEST_SUFFIX}")):
            request_id = path.name[: -len(REQUEST_SUFFIX)]
            try:
                request = json.loads(path.read_bytes())
                answer = {"ok": True, "result": handler(request)}
            except OuroborosError as exc:
                answer = {"ok": False, "code": exc.code, "message": exc.message,
                          "bad_input": isinstance(exc, BadInputError)}  # fmt: skip
            except (OSError, ValueError, TypeError, KeyError) as exc:
                answer = {"ok": False, "code": "bad_request", "message": f"unreadable request: {exc}",
                          "bad_input": True}  # fmt: skip
            write_atomic(self.path / f"{request_id}{ANSWER_SUFFIX}", json.dumps(answer).encode())
            path.unlink(missing_ok=True)
            served += 1
        return served


__all__ = ["GoLock", "Inbox", "ask", "unless_go_runs"]
