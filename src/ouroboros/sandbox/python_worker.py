"""Python traits outside the process: an isolated worker fed one batch per tick, and the petri
``Trait`` that uses it.

The static gate (``python_gate``) is not trusted alone, so trait code never runs in the host: it
runs in a child interpreter (``_py_worker_main``) that locks itself in before the first trait is
loaded (network namespace, rlimits on CPU, address space, files and processes, a dropped uid and a
seccomp filter, where the machine allows; ``PythonTraitWorker.protections`` says which held).

What the host promises, whatever the trait does:

- ``run_batch`` returns within ``batch_deadline_ms`` plus the time to kill the child: a worker that
  overruns (busy loop), exhausts its CPU or memory, dies (``os._exit``, a segfault) or answers
  garbage is killed and the call returns ``(None, Fault)`` with ``WALL_CLOCK``, ``CPU_TIME``,
  ``MEMORY``, ``WORKER_DIED`` or ``BAD_RESULT``; an exception in the trait is ``RUNTIME``
  (``RECURSION`` for a too-deep stack) and names the entity. The next call starts a fresh worker
  and reloads the scripts still loaded, so one hostile trait never stops the others for longer
  than its own batch.
- Results are data, never objects: the reply is three int64 columns of exactly the batch's length
  (``thrust_x``, ``thrust_y``, ``energy_gain``); anything else is ``BAD_RESULT``.
- ``unload`` drops every reference the worker holds to a script version and collects garbage, so
  hot-swapping versions does not grow the worker (the seed's "ghost classes").
- Every fresh worker started after the first (a kill, a death, a recycling) is told to the
  listeners of ``add_restart_listener`` (the dashboard's alert center raises an alert).

``PythonTrait`` adapts one script to petri's ``Trait`` protocol: one ``run_batch`` per tick over
all carriers, seeded from the tick's keyed stream (so the trait's ``random`` is deterministic),
intents clipped to ``±max_intent_abs``; a fault adds nothing that tick, lands in ``.faults``, and
after ``max_consecutive_faults`` faulted ticks in a row the trait is disabled.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import signal
import struct
import subprocess
import sys
import tempfile
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ouroboros.errors import SandboxError
from ouroboros.sandbox.faults import Fault, FaultCode
from ouroboros.sandbox.python_gate import MAX_SOURCE_BYTES, check_python_trait

ENTITY_FIELDS = (
    "id", "x", "y", "vx", "vy", "energy", "max_energy", "thrust",
    "food_count", "food_dx", "food_dy", "crowd_count", "crowd_dx", "crowd_dy",
)  # fmt: skip
INTENT_FIELDS = ("thrust_x", "thrust_y", "energy_gain")
_CHILD = Path(__file__).with_name("_py_worker_main.py")
_HEADER = struct.Struct(">II")
_MAX_REPLY_HEADER_BYTES = 64 * 1024
_MAX_REPLY_DEPTH = 4  # a reply is a flat object; ``protections`` is its one list
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_OPENERS = frozenset(b"[{")
_CHILD_CODES = {
    "syntax": FaultCode.SYNTAX,
    "contract": FaultCode.CONTRACT,
    "memory": FaultCode.MEMORY,
    "recursion": FaultCode.RECURSION,
    "runtime": FaultCode.RUNTIME,
    "bad_result": FaultCode.BAD_RESULT,
}
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class PythonTraitLimits:
    """Hard limits of the worker and of one call into it."""

    cpu_seconds: int = 2  # CPU one call (load or batch) may use: RLIMIT_CPU soft, re-armed per call
    worker_cpu_seconds: int = 600  # RLIMIT_CPU hard; the host recycles the worker at half of it
    address_space_bytes: int = 512 * 1024 * 1024  # RLIMIT_AS of the worker
    batch_deadline_ms: int = 1000  # wall clock for one batch, data both ways included
    load_deadline_ms: int = 2000  # wall clock to load (compile and run the module of) one script
    start_deadline_ms: int = 5000  # wall clock for a fresh worker to lock itself in and say hello
    max_source_bytes: int = MAX_SOURCE_BYTES
    max_entities_per_batch: int = 1_000_000
    max_intent_abs: int = 1 << 24  # intents are clipped to ±this (Q16: 256 units)
    max_consecutive_faults: int = 3  # PythonTrait: faulted ticks in a row before it is disabled
    network_namespace: bool = True  # unshare(CLONE_NEWNET) where the machine allows
    process_namespaces: bool = True  # user (unless root), pid and mount namespaces, an empty root
    seccomp: bool = True  # install the seccomp allow-list where the machine allows
    # Refuse to run traits in a worker that could address other processes: one that holds
    # neither the seccomp allow-list nor a pid namespace.
    require_process_isolation: bool = True

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if isinstance(value, bool):
                continue
            if not isinstance(value, int) or value <= 0:
                raise SandboxError(f"PythonTraitLimits.{name} must be a positive int")
        if self.cpu_seconds > self.worker_cpu_seconds:
            raise SandboxError("cpu_seconds must not exceed worker_cpu_seconds")


class _Stop(Exception):
    """The worker failed a request; carries the fault (the worker is already killed)."""

    def __init__(self, fault: Fault) -> None:
        super().__init__(fault.message)
        self.fault = fault


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            stream.close()


_restart_listeners: list[Callable[[dict[str, Any]], None]] = []


def add_restart_listener(listener: Callable[[dict[str, Any]], None]) -> Callable[[], None]:
    """Call ``listener`` with ``{"restarts", "reason", "pid"}`` whenever any worker in this process
    is started again (after a kill, a death or a recycling); returns the function that removes it."""
    _restart_listeners.append(listener)
    return lambda: _restart_listeners.remove(listener) if listener in _restart_listeners else None


def _notify_restart(info: dict[str, Any]) -> None:
    for listener in list(_restart_listeners):
        with contextlib.suppress(Exception):  # a listener never breaks a tick
            listener(info)


class PythonTraitWorker:
    """One isolated worker process holding any number of loaded scripts (``id@version``).

    Not thread-safe: one caller at a time, as one tick loop is. Usable as a context manager."""

    def __init__(self, limits: PythonTraitLimits | None = None) -> None:
        self.limits = limits or PythonTraitLimits()
        self.protections: tuple[str, ...] = ()
        self.restarts = 0  # fresh workers started after the first (kills, deaths, recycling)
        self._started = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._worker_pid: int | None = None  # the interpreter running traits (pid 1 of its namespace)
        self._sources: dict[str, str] = {}
        self._cpu_total_ms = 0
        self._last_wall_ms = 0  # wall clock of the latest request, reply included
        self._tmp = tempfile.TemporaryDirectory(prefix="ouroboros-pyworker-")
        # The finalizer kills a worker its owner forgot to close; it holds the process through a
        # one-slot list so it never keeps ``self`` alive.
        self._holder: list[subprocess.Popen[bytes] | None] = [None]
        self._finalizer = weakref.finalize(self, PythonTraitWorker._cleanup, self._holder, self._tmp)
        self._closed = False

    # -- lifecycle ---------------------------------------------------------------------------

    @staticmethod
    def _cleanup(holder: list[subprocess.Popen[bytes] | None], tmp: tempfile.TemporaryDirectory[str]) -> None:
        if holder[0] is not None:
            _kill(holder[0])
        tmp.cleanup()

    def __enter__(self) -> PythonTraitWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the worker and forget every script. Idempotent."""
        self._closed = True
        self._stop_process()
        self._sources.clear()
        self._finalizer()

    @property
    def pid(self) -> int | None:
        """The worker's pid while it runs (started lazily by the first ``load``)."""
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    @property
    def worker_pid(self) -> int | None:
        """The pid (as the host sees it) of the interpreter that runs the traits: behind a pid
        namespace a child of ``pid``, which only waits for it and reports how it ended."""
        return (self._worker_pid or self.pid) if self.pid is not None else None

    def rss_bytes(self) -> int | None:
        """The worker's resident memory, from ``/proc/<pid>/status`` (``None``: not running).
        Behind a pid namespace that is the forked interpreter, not its reaper (``pid``)."""
        pid = self.worker_pid
        if pid is None:
            return None
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return None
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return None

    def _stop_process(self) -> None:
        proc, self._proc = self._proc, None
        self._holder[0] = None
        if proc is not None:
            _kill(proc)

    def _start(self) -> None:
        """A fresh worker with every loaded script reloaded; raises ``_Stop`` if it cannot."""
        if self._closed:
            raise SandboxError("this worker is closed")
        self._stop_process()
        self.restarts += self._started
        self._started = 1
        lim = self.limits
        try:
            proc = subprocess.Popen(
                [sys.executable, "-P", "-s", "-S", str(_CHILD)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                cwd=self._tmp.name,
                env={"PYTHONHASHSEED": "0", "LC_ALL": "C", "PATH": "/nonexistent"},
                close_fds=True,
                start_new_session=True,
            )
        except OSError as exc:
            raise _Stop(Fault(FaultCode.WORKER_DIED, f"the worker could not start: {exc}")) from None
        self._proc = self._holder[0] = proc
        self._cpu_total_ms = 0
        assert proc.stdin is not None and proc.stdout is not None
        os.set_blocking(proc.stdin.fileno(), False)
        os.set_blocking(proc.stdout.fileno(), False)
        config = {
            "cpu_seconds": lim.cpu_seconds,
            "worker_cpu_seconds": lim.worker_cpu_seconds,
            "address_space_bytes": lim.address_space_bytes,
            "host_pid": os.getpid(),
            "netns": lim.network_namespace,
            "namespaces": lim.process_namespaces,
            "seccomp": lim.seccomp,
        }
        self._worker_pid = None
        hello, _ = self._call(config, b"", lim.start_deadline_ms, "", "")
        forked = hello.get("forked")
        if isinstance(forked, int) and forked > 0:  # it forked into a pid namespace: hello follows
            self._worker_pid = forked
            hello, _ = self._call_reply(lim.start_deadline_ms, "", "")
        if hello.get("ok") is not True:
            self._stop_process()
            raise _Stop(Fault(FaultCode.WORKER_DIED, "the worker did not lock itself in"))
        self.protections = tuple(str(p) for p in hello.get("protections", ()))
        if lim.require_process_isolation and not {"seccomp", "pidns"} & set(self.protections):
            self._stop_process()
            raise _Stop(
                Fault(
                    FaultCode.WORKER_DIED,
                    "the worker could not isolate itself from other processes "
                    "(neither a seccomp filter nor a pid namespace held)",
                )
            )
        for key, source in list(self._sources.items()):
            script_id, _, version = key.rpartition("@")
            try:
                reply, _ = self._call(
                    {"op": "load", "key": key, "source": source},
                    b"",
                    lim.load_deadline_ms,
                    script_id,
                    version,
                )
            except _Stop:
                del self._sources[key]  # it cannot be reloaded: drop it rather than fail every start
                raise
            if not reply.get("ok"):
                del self._sources[key]

    def _ensure_running(self) -> None:
        recycle = self._cpu_total_ms > self.limits.worker_cpu_seconds * 500
        if self._proc is None or self._proc.poll() is not None or recycle:
            before = self.restarts
            self._start()
            if self.restarts > before:
                why = "recycled: half its CPU limit spent" if recycle else "the last one was killed or died"
                _notify_restart({"restarts": self.restarts, "reason": why, "pid": self.pid})

    # -- the pipe ----------------------------------------------------------------------------

    def _call(
        self,
        header: dict[str, Any],
        payload: bytes,
        deadline_ms: int,
        script_id: str,
        version: str,
        expect_payload: int = 0,
    ) -> tuple[dict[str, Any], bytes]:
        """One request and its reply within ``deadline_ms``; on any failure the worker is killed
        and ``_Stop`` carries the fault."""
        head = json.dumps(header).encode()
        return self._exchange(
            _HEADER.pack(len(head), len(payload)) + head + payload,
            deadline_ms,
            script_id,
            version,
            expect_payload,
        )

    def _call_reply(self, deadline_ms: int, script_id: str, version: str) -> tuple[dict[str, Any], bytes]:
        """One more reply to the request already sent."""
        return self._exchange(b"", deadline_ms, script_id, version, 0)

    def _exchange(
        self, request: bytes, deadline_ms: int, script_id: str, version: str, expect_payload: int
    ) -> tuple[dict[str, Any], bytes]:
        proc = self._proc
        assert proc is not None and proc.stdin is not None and proc.stdout is not None
        start = time.monotonic()
        deadline = start + deadline_ms / 1000
        try:
            if request:
                self._send(proc.stdin.fileno(), request, deadline)
            head_len, payload_len = _HEADER.unpack(self._recv(proc.stdout.fileno(), _HEADER.size, deadline))
            if head_len > _MAX_REPLY_HEADER_BYTES or payload_len not in (0, expect_payload):
                raise _Stop(Fault(FaultCode.BAD_RESULT, "the worker's reply has the wrong size"))
            reply = decode_reply(self._recv(proc.stdout.fileno(), head_len, deadline))
            body = self._recv(proc.stdout.fileno(), payload_len, deadline) if payload_len else b""
        except _Stop as stop:
            self._stop_process()
            f = stop.fault
            budget = {**f.budget_used, "wall_ms": _ms_since(start)}
            raise _Stop(Fault(f.code, f.message, script_id, version, budget_used=budget)) from None
        self._cpu_total_ms = max(self._cpu_total_ms, _as_int(reply.get("cpu_total_ms")))
        self._last_wall_ms = _ms_since(start)
        return reply, body

    def _send(self, fd: int, data: bytes, deadline: float) -> None:
        view = memoryview(data)
        poller = select.poll()
        poller.register(fd, select.POLLOUT)
        while view:
            try:
                view = view[os.write(fd, view) :]
                continue
            except BlockingIOError:
                pass
            except (BrokenPipeError, OSError):
                raise _Stop(self._death()) from None
            self._wait(poller, deadline)

    def _recv(self, fd: int, n: int, deadline: float) -> bytes:
        buf = bytearray()
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        while len(buf) < n:
            try:
                chunk = os.read(fd, n - len(buf))
            except BlockingIOError:
                self._wait(poller, deadline)
                continue
            if not chunk:
                raise _Stop(self._death())
            buf += chunk
        return bytes(buf)

    def _wait(self, poller: select.poll, deadline: float) -> None:
        left_ms = int((deadline - time.monotonic()) * 1000)
        if (left_ms <= 0 or not poller.poll(left_ms)) and time.monotonic() >= deadline:
            raise _Stop(Fault(FaultCode.WALL_CLOCK, "the worker overran its wall-clock deadline"))

    def _death(self) -> Fault:
        """Why the pipe closed: the child's exit status, read after it is gone."""
        proc = self._proc
        assert proc is not None
        try:
            status = proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return Fault(FaultCode.WORKER_DIED, "the worker closed its pipe")
        if status == -signal.SIGXCPU:
            return Fault(
                FaultCode.CPU_TIME, f"the worker ran past its CPU limit ({self.limits.cpu_seconds} s)"
            )
        if status < 0:
            return Fault(FaultCode.WORKER_DIED, f"the worker was killed by {signal.Signals(-status).name}")
        return Fault(FaultCode.WORKER_DIED, f"the worker exited with status {status}")

    # -- scripts -----------------------------------------------------------------------------

    def load(self, script_id: str, version: str, source: str, *, check: bool = True) -> Fault | None:
        """Load one script version (gate first unless ``check=False``, which only tests of the
        worker's own limits use). ``None``: loaded; else the fault that refused it."""
        key = _key(script_id, version)
        if check:
            faults = check_python_trait(source, max_source_bytes=self.limits.max_source_bytes)
            if faults:
                f = faults[0]
                return Fault(f.code, f.message, script_id, version)
        try:
            self._ensure_running()
            reply, _ = self._call(
                {"op": "load", "key": key, "source": source},
                b"",
                self.limits.load_deadline_ms,
                script_id,
                version,
            )
        except _Stop as stop:
            return stop.fault
        if not reply.get("ok"):
            return self._child_fault(reply, script_id, version)
        self._sources[key] = source
        return None

    def unload(self, script_id: str, version: str) -> None:
        """Forget one script version here and in the worker (a no-op if it is not loaded)."""
        key = _key(script_id, version)
        if self._sources.pop(key, None) is None or self.pid is None:
            return
        with contextlib.suppress(_Stop):  # a worker that fails here is gone, the script with it
            self._call({"op": "unload", "key": key}, b"", self.limits.load_deadline_ms, script_id, version)

    def loaded(self) -> list[tuple[str, str]]:
        """The ``(script_id, version)`` pairs loaded, in load order."""
        return [(k.rpartition("@")[0], k.rpartition("@")[2]) for k in self._sources]

    def run_batch(
        self,
        script_id: str,
        version: str,
        arrays: Mapping[str, npt.ArrayLike],
        seed: int,
        *,
        scalars: Mapping[str, int] | None = None,
    ) -> tuple[dict[str, I64] | None, Fault | None]:
        """Run the script's ``execute(entity)`` for every entity of the batch. ``arrays`` holds
        one 1-D int array per ``ENTITY_FIELDS`` name, all the same length; ``scalars`` are
        batch-wide ints every entity sees (``temperature``). Returns the intents or a fault."""
        key = _key(script_id, version)
        if key not in self._sources:
            raise SandboxError(f"script {key} is not loaded")
        columns, n = _pack(arrays, self.limits.max_entities_per_batch)
        extra = {str(k): int(v) for k, v in (scalars or {}).items()}
        if any(not k.isidentifier() or k in ENTITY_FIELDS or k in INTENT_FIELDS for k in extra):
            raise SandboxError("scalar names must be identifiers that are not entity fields")
        header = {
            "op": "batch",
            "key": key,
            "n": n,
            "seed": int(seed) & ((1 << 64) - 1),
            "fields": list(ENTITY_FIELDS),
            "scalars": extra,
        }
        expect = 8 * n * len(INTENT_FIELDS)
        try:
            self._ensure_running()
            if key not in self._sources:  # its reload into the fresh worker failed
                return None, Fault(
                    FaultCode.WORKER_DIED, "the script could not be reloaded", script_id, version
                )
            reply, body = self._call(
                header, columns, self.limits.batch_deadline_ms, script_id, version, expect
            )
        except _Stop as stop:
            return None, stop.fault
        if not reply.get("ok"):
            fault = self._child_fault(reply, script_id, version)
            if fault.code is FaultCode.MEMORY:
                self._stop_process()  # a fresh worker rather than a fragmented heap
            return None, fault
        if len(body) != expect:
            self._stop_process()
            return None, Fault(
                FaultCode.BAD_RESULT, "the worker's reply has the wrong size", script_id, version
            )
        out = np.frombuffer(body, dtype="<i8").astype(np.int64).reshape(len(INTENT_FIELDS), n)
        return {name: out[i] for i, name in enumerate(INTENT_FIELDS)}, None

    def _child_fault(self, reply: Mapping[str, Any], script_id: str, version: str) -> Fault:
        code = _CHILD_CODES.get(str(reply.get("code")), FaultCode.BAD_RESULT)
        entity = reply.get("entity")
        return Fault(
            code,
            str(reply.get("message", ""))[:500],
            script_id,
            version,
            entity=entity if isinstance(entity, int) else None,
            budget_used={"cpu_ms": _as_int(reply.get("cpu_ms")), "wall_ms": self._last_wall_ms},
        )


def decode_reply(data: bytes) -> dict[str, Any]:
    """A reply header from the worker, which may be compromised: a JSON object nested at most
    ``_MAX_REPLY_DEPTH`` deep, decoded only after that is measured (the size is capped before
    it is read). Anything else raises ``_Stop`` with ``BAD_RESULT``, never a ``RecursionError``
    or ``MemoryError`` from the decoder."""
    if _json_depth(data) > _MAX_REPLY_DEPTH:
        raise _Stop(Fault(FaultCode.BAD_RESULT, "the worker's reply nests too deep"))
    try:
        reply = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError, MemoryError):
        raise _Stop(Fault(FaultCode.BAD_RESULT, "the worker answered garbage")) from None
    if not isinstance(reply, dict):
        raise _Stop(Fault(FaultCode.BAD_RESULT, "the worker's reply is not an object"))
    return reply


def _json_depth(data: bytes) -> int:
    """How deep the brackets of a JSON text nest, strings skipped: linear, no recursion."""
    skeleton = _JSON_STRING.sub(b"", data).translate(None, _NOT_BRACKETS)
    depth = deepest = 0
    for byte in skeleton:
        depth += 1 if byte in _OPENERS else -1
        deepest = max(deepest, depth)
    return deepest


def _key(script_id: str, version: str) -> str:
    if not script_id or "@" in script_id or "@" in version or not version:
        raise SandboxError("script id and version must be non-empty and free of '@'")
    return f"{script_id}@{version}"


def _ms_since(start: float) -> int:
    return int((time.monotonic() - start) * 1000)


def _as_int(value: Any) -> int:
    return value if isinstance(value, int) else 0


def _pack(arrays: Mapping[str, npt.ArrayLike], max_n: int) -> tuple[bytes, int]:
    missing = [f for f in ENTITY_FIELDS if f not in arrays]
    if missing:
        raise SandboxError(f"run_batch needs the entity fields {missing}")
    cols = [np.asarray(arrays[f]) for f in ENTITY_FIELDS]
    n = cols[0].shape[0] if cols[0].ndim == 1 else -1
    if any(c.ndim != 1 or c.shape[0] != n or c.dtype.kind not in "iu" for c in cols) or n > max_n:
        raise SandboxError(f"run_batch needs 1-D int arrays of one length ≤ {max_n}")
    return np.concatenate(cols).astype("<i8", copy=False).tobytes(), n
