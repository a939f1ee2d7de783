"""The worker cannot act on its host whatever the host's uid.

Issue 14's attack: a host that is not root starts a worker that keeps the host's uid, and a trait
that reached ``resource`` set the host's CPU limit to nothing and killed it. These tests run a
real host as uid 65534 (``setpriv``; the session may run as root) and hand its worker the attack
for real — ``prlimit(host, RLIMIT_CPU, (0, 0))``, ``kill(host, SIGKILL)``, ``kill(-1, SIGKILL)``,
``ptrace``, ``process_vm_readv``, ``pidfd_open``, and ``os.stat`` of host paths — with each
isolation layer alone and both. The host must live to print the fault.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import ouroboros

ATTACK = Path(__file__).parent / "corpus" / "python" / "parent_prlimit_kill.py"
SRC = str(Path(ouroboros.__file__).resolve().parents[1])
HOST = """
import json, sys
import numpy as np
from ouroboros.sandbox.python_worker import ENTITY_FIELDS, PythonTraitLimits, PythonTraitWorker

with PythonTraitWorker(PythonTraitLimits(**json.loads(sys.argv[1]))) as worker:
    fault = worker.load("attack", "1", sys.stdin.read(), check=False)
    if fault is None:
        _, fault = worker.run_batch("attack", "1", {f: np.arange(2) for f in ENTITY_FIELDS}, seed=1)
    print(json.dumps({"code": str(fault.code) if fault else None, "message": fault.message if fault else "",
                      "protections": list(worker.protections)}))
"""


def destructive_attack() -> str:
    """The corpus script with its harmless probes made real."""
    source = ATTACK.read_text()
    for probe, real in [
        ("resource.RLIMIT_CORE, (0, 0)", "resource.RLIMIT_CPU, (0, 0)"),
        ("os.kill(host, 0)", "os.kill(host, 9)"),
        ("os.kill(-1, 0)", "os.kill(-1, 9)"),
    ]:
        assert source.count(probe) == 1, probe
        source = source.replace(probe, real)
    return source


def run_host(limits: dict[str, Any], source: str) -> subprocess.CompletedProcess[str]:
    """Run the host as uid 65534. It keeps one capability, to read the interpreter under a root-only
    home (``CAP_DAC_READ_SEARCH``: no power over processes); the worker drops it."""
    command = [sys.executable, "-c", HOST, json.dumps(limits)]
    if os.getuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("needs setpriv to run the host as a user that is not root")
        caps = ["--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search"]
        command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *caps, *command]
    env = {"PYTHONPATH": SRC, "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TMPDIR": "/tmp"}
    return subprocess.run(
        command, input=source, capture_output=True, text=True, timeout=120, env=env, cwd="/tmp"
    )


LAYERS = pytest.mark.parametrize(
    "limits",
    [{}, {"seccomp": False}, {"process_namespaces": False}],
    ids=["both layers", "namespaces alone", "seccomp alone"],
)


def assert_contained(limits: dict[str, Any], source: str) -> None:
    done = run_host(limits, source)
    assert done.returncode == 0, f"the host died ({done.returncode}): {done.stderr[-2000:]}"
    result = json.loads(done.stdout)
    if limits and result["code"] == "worker_died" and "isolate" in result["message"]:
        pytest.skip(f"the one layer left on is not available on this machine: {result['message']}")
    assert result["code"] == "runtime", result
    assert "contained" in result["message"], result["message"]
    held = set(result["protections"])
    if "seccomp" not in limits and platform.machine() == "x86_64":
        assert "seccomp" in held
    if "process_namespaces" in limits:
        assert "pidns" not in held  # the layer under test was the only one
    elif "seccomp" in limits:
        assert "pidns" in held


@LAYERS
def test_a_worker_cannot_limit_signal_or_trace_a_host_that_is_not_root(limits: dict[str, Any]) -> None:
    assert_contained(limits, destructive_attack())


@LAYERS
def test_a_worker_cannot_stat_the_files_of_a_host_that_is_not_root(limits: dict[str, Any]) -> None:
    assert_contained(limits, (ATTACK.parent / "host_stat.py").read_text())


def test_a_worker_with_neither_layer_is_refused_rather_than_run() -> None:
    done = run_host({"seccomp": False, "process_namespaces": False}, destructive_attack())
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result["code"] == "worker_died" and "isolate" in result["message"], result
