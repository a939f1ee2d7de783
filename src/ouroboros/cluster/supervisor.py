"""Keeps a local cluster's processes running: starts each, restarts one that dies (with
exponential backoff, reset once it has stayed up), raises an alert when one keeps dying, and
stops them all cleanly (SIGTERM, then SIGKILL after a grace period).

It is driven by ``poll()`` and an injected clock, so a test can step it; ``run()`` polls on a
timer until told to stop. Every change of a process's state goes to ``on_event`` (the CLI
writes them to Redis, where ``cluster status`` and the dashboard read them).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: consecutive quick deaths after which a restart loop is an alert
LOOP_ALERT_AFTER = 3


@dataclass(frozen=True)
class ProcessSpec:
    name: str
    role: str
    argv: Sequence[str]
    env: Mapping[str, str] = field(default_factory=dict)
    #: a planned restart starts the new process before stopping the old one (a shard: the new one
    #: imports and waits for the old one's lease, so players wait only for the save and the load)
    overlap_restart: bool = False


@dataclass
class _Proc:
    spec: ProcessSpec
    popen: subprocess.Popen[bytes] | None = None
    state: str = "stopped"  # running | backoff | stopped
    restarts: int = 0
    quick_deaths: int = 0
    started_at: float = 0.0
    retry_at: float = 0.0
    last_exit: int | None = None
    last_reason: str | None = None  # why it was last restarted


class Supervisor:
    def __init__(
        self,
        specs: Sequence[ProcessSpec],
        on_event: Callable[[dict[str, Any]], None] = lambda e: None,
        clock: Callable[[], float] = time.monotonic,
        backoff_s: tuple[float, float] = (0.5, 30.0),
        healthy_after_s: float = 10.0,
        stop_grace_s: float = 10.0,
    ) -> None:
        names = [s.name for s in specs]
        if len(names) != len(set(names)):
            raise ValueError(f"process names repeat: {names}")
        self._procs = {s.name: _Proc(s) for s in specs}
        self._on_event = on_event
        self._clock = clock
        self.backoff_s = backoff_s
        self.healthy_after_s = healthy_after_s
        self.stop_grace_s = stop_grace_s

    def _emit(self, kind: str, proc: _Proc, **extra: Any) -> None:
        self._on_event({"event": kind, **self._row(proc), **extra})

    def _spawn(self, proc: _Proc) -> None:
        env = {**os.environ, **proc.spec.env}
        proc.popen = subprocess.Popen(list(proc.spec.argv), env=env, start_new_session=True)
        proc.state = "running"
        proc.started_at = self._clock()
        self._emit("started", proc)

    def start(self) -> None:
        for proc in self._procs.values():
            self._spawn(proc)

    def poll(self) -> None:
        """Notice deaths, restart what is due."""
        now = self._clock()
        for proc in self._procs.values():
            if proc.state == "running" and proc.popen is not None:
                code = proc.popen.poll()
                if code is None:
                    if proc.quick_deaths and now - proc.started_at >= self.healthy_after_s:
                        proc.quick_deaths = 0  # it stayed up: the next death starts over
                        self._emit("recovered", proc)
                    continue
                proc.last_exit = code
                proc.popen = None
                quick = now - proc.started_at < self.healthy_after_s
                proc.quick_deaths = proc.quick_deaths + 1 if quick else 1
                base, most = self.backoff_s
                delay = min(most, base * 2 ** (proc.quick_deaths - 1))
                proc.state = "backoff"
                proc.retry_at = now + delay
                proc.last_reason = _exit_reason(code)
                self._emit("died", proc, exit_code=code, restart_in_s=round(delay, 3))
                if proc.quick_deaths >= LOOP_ALERT_AFTER:
                    self._emit("restart_loop", proc, deaths=proc.quick_deaths)
            elif proc.state == "backoff" and now >= proc.retry_at:
                proc.restarts += 1
                self._spawn(proc)

    def restart(self, name: str) -> None:
        """A planned restart (a soft restart, an upgrade): SIGTERM, wait for a clean exit (SIGKILL
        after the grace), start again at once — no backoff, not a death."""
        proc = self._procs[name]
        old = proc.popen
        if proc.spec.overlap_restart and old is not None:
            proc.popen = None
            self._spawn(proc)  # the successor boots while the old one still serves
            proc.popen, new = old, proc.popen
        else:
            new = None
        if proc.popen is not None:
            _signal_group(proc.popen, signal.SIGTERM)
            try:
                proc.popen.wait(self.stop_grace_s)
            except subprocess.TimeoutExpired:
                _signal_group(proc.popen, signal.SIGKILL)
                proc.popen.wait(10)
            proc.last_exit = proc.popen.returncode
            proc.popen = None
        proc.restarts += 1
        proc.last_reason = "planned restart"
        if new is not None:
            proc.popen, proc.state, proc.started_at = new, "running", self._clock()
            self._emit("soft_restart", proc)
            return
        self._emit("soft_restart", proc)
        self._spawn(proc)

    def stop(self) -> None:
        """SIGTERM every process (its whole session), SIGKILL what is left after the grace."""
        live = [p for p in self._procs.values() if p.popen is not None]
        for proc in live:
            _signal_group(proc.popen, signal.SIGTERM)
        deadline = time.monotonic() + self.stop_grace_s
        for proc in live:
            assert proc.popen is not None
            try:
                proc.popen.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(proc.popen, signal.SIGKILL)
                proc.popen.wait(10)
            proc.last_exit = proc.popen.returncode
            proc.popen = None
        for proc in self._procs.values():
            proc.state = "stopped"
            self._emit("stopped", proc)

    def run(
        self,
        should_stop: Callable[[], bool],
        every_s: float = 0.2,
        soft_restart: Mapping[str, float] | None = None,
    ) -> None:
        """Start, poll every ``every_s`` until ``should_stop()``, stop. ``soft_restart``: process
        name → seconds between planned restarts (to shed old code and memory)."""
        self.start()
        due = {name: self._clock() + s for name, s in (soft_restart or {}).items()}
        try:
            while not should_stop():
                self.poll()
                now = self._clock()
                for name, at in due.items():
                    if now >= at and self._procs[name].state == "running":
                        self.restart(name)
                        due[name] = self._clock() + (soft_restart or {})[name]
                time.sleep(every_s)
        finally:
            self.stop()

    def _row(self, proc: _Proc) -> dict[str, Any]:
        return {
            "name": proc.spec.name,
            "role": proc.spec.role,
            "pid": proc.popen.pid if proc.popen is not None else None,
            "state": proc.state,
            "health": _health(proc),
            "restarts": proc.restarts,
            "last_exit": proc.last_exit,
            "last_restart_reason": proc.last_reason,
        }

    def status(self) -> list[dict[str, Any]]:
        return [self._row(p) for p in self._procs.values()]

    def pid(self, name: str) -> int | None:
        popen = self._procs[name].popen
        return popen.pid if popen is not None else None


def _health(proc: _Proc) -> str:
    """``ok`` running (and not in a restart loop), ``restarting`` waiting out its backoff,
    ``failing`` dying again and again, ``stopped``."""
    if proc.quick_deaths >= LOOP_ALERT_AFTER:
        return "failing"
    return {"running": "ok", "backoff": "restarting"}.get(proc.state, "stopped")


def _exit_reason(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with status {code}"


def _signal_group(popen: subprocess.Popen[bytes] | None, sig: int) -> None:
    if popen is None or popen.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(popen.pid, sig)


__all__ = ["LOOP_ALERT_AFTER", "ProcessSpec", "Supervisor"]
