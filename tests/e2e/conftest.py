"""Browser tests of the operator dashboard against a real ``ouroboros go``.

The ``server`` fixture starts ``ouroboros go --no-browser`` on free ports in a temporary data
folder and reads what the first start prints once: the admin's one-time secret and TOTP URI.
The ``page`` fixture is one headless Debian chromium page (never a downloaded browser) signed
in as that admin. Without chromium the browser tests skip, except under CI (``CI`` set) or
``OUROBOROS_REQUIRE_BROWSER=1``, where they fail. Every step's screenshot goes to ``tests/e2e/artifacts/``.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "web" / "dist" / "index.html"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = os.environ.get("OUROBOROS_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
START_TIMEOUT_S = 90.0
SECRET_LINE = re.compile(r"one-time secret (\S+)")
TOTP_LINE = re.compile(r"(otpauth://totp/\S+)")
URL_LINE = re.compile(r"dashboard and API at (http://\S+?)/? ")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    secret: str
    totp_uri: str
    data: Path
    proc: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)
    token: str = ""
    telnet_port: int = 0

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return httpx.request(method, self.url + path, headers=headers, timeout=30, **kwargs)


def browser_required() -> bool:
    """CI (``CI`` set, not empty/0/false) or ``OUROBOROS_REQUIRE_BROWSER=1``: a missing browser
    fails the browser tests instead of skipping them (``.ci/run`` sets it)."""
    ci = os.environ.get("CI", "").strip().lower()
    return ci not in ("", "0", "false", "no") or os.environ.get("OUROBOROS_REQUIRE_BROWSER") == "1"


def _require_browser() -> None:
    if not Path(CHROMIUM).exists():
        why = f"no Debian chromium at {CHROMIUM} (.ci/run installs it: apt-get install chromium)"
        if browser_required():
            pytest.fail(why + "; CI or OUROBOROS_REQUIRE_BROWSER=1 needs the browser tests to run")
        pytest.skip(why)
    if not DIST.exists():
        pytest.fail("web/dist is not built: run `make web` (make test builds it first)")


#: what ``go`` runs unless a test module sets ``GO_ARGS``
DEFAULT_GO_ARGS = ["--seed", "7", "--entities", "400"]


@pytest.fixture(scope="module")
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    _require_browser()
    data = tmp_path_factory.mktemp("go-data")
    port, telnet, ws = _free_port(), _free_port(), _free_port()
    exe = Path(sys.executable).with_name("ouroboros")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "ouroboros"]
    cmd += ["go", "--no-browser", "--port", str(port), "--telnet-port", str(telnet), "--ws-port", str(ws)]
    # by default, 400 molbots: the dish streams binary frames (>= 200 entities), the city JSON ones
    cmd += ["--data", str(data), *getattr(request.module, "GO_ARGS", DEFAULT_GO_ARGS)]
    env = {**os.environ, "COLUMNS": "400", "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=ROOT
    )
    lines: queue.Queue[str] = queue.Queue()
    output: list[str] = []

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            output.append(line.rstrip("\n"))
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    secret = totp_uri = url = None
    deadline = time.monotonic() + START_TIMEOUT_S
    while not (secret and totp_uri and url) and time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            if proc.poll() is not None:
                break
            continue
        if m := SECRET_LINE.search(line):
            secret = m.group(1).rstrip(",")
        if m := TOTP_LINE.search(line):
            totp_uri = m.group(1)
        if m := URL_LINE.search(line + " "):
            url = m.group(1)
    if not (secret and totp_uri and url):
        proc.kill()
        pytest.fail("ouroboros go did not print its URL, one-time secret and TOTP URI:\n" + "\n".join(output))
    srv = Server(
        url=url, secret=secret, totp_uri=totp_uri, data=data, proc=proc, output=output, telnet_port=telnet
    )
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    try:
        yield srv
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def page(browser: Any, server: Server) -> Iterator[Any]:
    """A page signed in with the one-time secret (spent by this login: the test proves it)."""
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(15000)
    pg.goto(server.url + "/")
    pg.get_by_test_id("login-secret").fill(server.secret)
    pg.get_by_test_id("login-submit").click()
    pg.locator('[data-testid^="btn-stop-"]').first.wait_for()
    server.token = pg.evaluate("sessionStorage.getItem('ouroboros.token')")
    shot(pg, "01-logged-in")
    try:
        yield pg
    finally:
        context.close()


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
