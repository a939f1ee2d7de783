"""Hardware counters of a world's tick thread (cache misses, branch mispredictions, instructions,
cycles) from Linux ``perf_event_open`` through ctypes, user space only, where the kernel allows it
(``kernel.perf_event_paranoid`` ≤ 2, no seccomp filter refusing the call, a PMU the machine
exposes). Where it does not, ``read()`` says ``available: false`` with the reason instead of a
number. Counting costs the tick nothing measurable: the kernel counts, a read is one syscall.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import platform
import struct
import threading
from typing import Any

#: counter name -> (PERF_TYPE_*, config): the hardware ones, and two software ones the kernel
#: counts even without a PMU (a virtual machine): page faults and context switches
COUNTERS = {
    "cycles": (0, 0),
    "instructions": (0, 1),
    "cache_references": (0, 2),
    "cache_misses": (0, 3),
    "branches": (0, 4),
    "branch_misses": (0, 5),
    "page_faults": (1, 2),
    "context_switches": (1, 3),
}
_SYSCALL = {"x86_64": 298, "aarch64": 241, "arm64": 241}
_ATTR_SIZE = 112  # PERF_ATTR_SIZE_VER5
_EXCLUDE_KERNEL, _EXCLUDE_HV = 1 << 5, 1 << 6
_FD_CLOEXEC = 8


def _attr(kind: int, config: int) -> bytes:
    flags = _EXCLUDE_KERNEL | _EXCLUDE_HV
    head = struct.pack("<IIQQQQQ", kind, _ATTR_SIZE, config, 0, 0, 0, flags)
    return head + bytes(_ATTR_SIZE - len(head))


def thread_id(name: str) -> int | None:
    """The kernel thread id of the live thread called ``name`` (a world's tick thread)."""
    for t in threading.enumerate():
        if t.name == name and t.native_id is not None and t.is_alive():
            return int(t.native_id)
    return None


class HwCounters:
    """The counters of one thread; ``read()`` gives totals and the change since the last read."""

    def __init__(self, tid: int | None) -> None:
        self.tid = tid
        self.fds: dict[str, int] = {}
        self.reason: str | None = None
        self._last: dict[str, int] = {}
        self._lock = threading.Lock()
        self._open()

    def _open(self) -> None:
        number = _SYSCALL.get(platform.machine())
        if platform.system() != "Linux" or number is None:
            self.reason = f"perf_event_open is Linux on x86_64/aarch64 only (this is {platform.system()})"
            return
        if self.tid is None:
            self.reason = "the world's tick thread is not running"
            return
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.syscall.restype = ctypes.c_long
        for name, (kind, config) in COUNTERS.items():
            buf = ctypes.create_string_buffer(_attr(kind, config), _ATTR_SIZE)
            fd = libc.syscall(number, buf, self.tid, -1, -1, _FD_CLOEXEC)
            if fd < 0:
                err = ctypes.get_errno()
                why = "no such counter here (no PMU: a virtual machine?)" if err == 2 else os.strerror(err)
                self.reason = self.reason or f"perf_event_open refused {name}: {why} (errno {err})"
                continue
            self.fds[name] = int(fd)
        if self.fds:
            self.reason = None if len(self.fds) == len(COUNTERS) else self.reason

    def read(self) -> dict[str, Any]:
        if not self.fds:
            return {"available": False, "reason": self.reason or "unavailable"}
        hardware = any(COUNTERS[name][0] == 0 for name in self.fds)
        out: dict[str, Any] = {
            "available": hardware,  # cache misses and branch mispredictions need the hardware ones
            "counters": {},
            "missing": sorted(set(COUNTERS) - set(self.fds)),
        }
        with self._lock:
            for name, fd in self.fds.items():
                try:
                    value = struct.unpack("<Q", os.read(fd, 8))[0]
                except OSError as exc:
                    out["counters"][name] = {"error": str(exc)}
                    continue
                delta = value - self._last.get(name, value)
                self._last[name] = value
                out["counters"][name] = {"total": value, "since_last_read": delta}
        c = out["counters"]

        def ratio(a: str, b: str) -> float | None:
            x, y = c.get(a, {}).get("total"), c.get(b, {}).get("total")
            return round(x / y, 4) if isinstance(x, int) and isinstance(y, int) and y else None

        out["cache_miss_rate"] = ratio("cache_misses", "cache_references")
        out["branch_miss_rate"] = ratio("branch_misses", "branches")
        out["reason"] = self.reason
        return out

    def close(self) -> None:
        for fd in self.fds.values():
            with contextlib.suppress(OSError):
                os.close(fd)
        self.fds = {}


__all__ = ["COUNTERS", "HwCounters", "thread_id"]
