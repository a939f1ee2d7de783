"""The real ``ouroboros go --no-browser``: one process serving /health, the admin API (with the
one-time login it printed) and the neon telnet port; SIGTERM saves both worlds and exits 0."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _read_until(proc: subprocess.Popen[str], pattern: str, timeout_s: float = 60.0) -> str:
    """stdout up to the line matching ``pattern`` (read by a thread: a pipe's buffered lines do
    not show up in select)."""
    assert proc.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    stdout = proc.stdout

    def pump() -> None:
        for line in iter(stdout.readline, ""):
            lines.put(line)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    seen = ""
    deadline = time.monotonic() + timeout_s
    while not re.search(pattern, seen):
        assert time.monotonic() < deadline, f"no {pattern!r} in:\n{seen}"
        try:
            seen += lines.get(timeout=0.2)
        except queue.Empty:
            assert proc.poll() is None, f"go exited {proc.returncode}:\n{seen}"
    _READERS[proc.pid] = (lines, reader)
    return seen


_READERS: dict[int, tuple[queue.Queue[str], threading.Thread]] = {}


def _rest(proc: subprocess.Popen[str], timeout_s: float = 60.0) -> tuple[str, str]:
    assert proc.stderr is not None
    err = proc.stderr.read()
    proc.wait(timeout_s)
    lines, reader = _READERS.pop(proc.pid)
    reader.join(timeout_s)  # the pump ends at the pipe's end: every line is in the queue
    out = ""
    while not lines.empty():
        out += lines.get()
    return out, err


def test_go_serves_the_api_and_telnet_in_one_process(tmp_path: Path) -> None:
    port = _free_port()
    command = [sys.executable, "-m", "ouroboros", "go", "--no-browser", "--port", str(port)]
    command += [
        "--telnet-port",
        "0",
        "--ws-port",
        "0",
        "--data",
        str(tmp_path / "data"),
        "--optimizer",
        "off",
    ]
    command += ["--entities", "60"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        out = _read_until(proc, r"Ctrl-C saves and quits")
        assert f"http://127.0.0.1:{port}/" in out
        secret = re.search(r"one-time secret (\S+)", out)
        telnet = re.search(r"telnet 127\.0\.0\.1 (\d+)", out)
        assert secret and telnet, out
        base = f"http://127.0.0.1:{port}"
        health = httpx.get(f"{base}/health", timeout=10)
        assert health.status_code == 200 and set(health.json()["worlds"]) == {"neon", "petri"}
        assert httpx.get(f"{base}/api/stats", timeout=10).status_code == 401
        token = httpx.post(f"{base}/api/auth/login", json={"secret": secret.group(1)}, timeout=10).json()[
            "token"
        ]
        stats = httpx.get(f"{base}/api/stats", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert stats.status_code == 200 and stats.json()["worlds"]["neon"]["running"]
        with socket.create_connection(("127.0.0.1", int(telnet.group(1))), timeout=10) as player:
            greeting = player.recv(4096)
            assert greeting  # the city's login screen (after telnet negotiation)
        proc.send_signal(signal.SIGTERM)
        rest, err = _rest(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "saved the city at tick" in rest and "saved snapshot at tick" in rest
    assert (tmp_path / "data" / "petri" / "petri.snapshot").exists()
    # request log lines on stderr are JSON objects
    import json

    logs = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert any(doc.get("path") == "/api/stats" and doc.get("status") == 401 for doc in logs)
