"""The Cluster tab in a real browser against a real ``ouroboros go``: with no cluster it says so;
``ouroboros cluster up`` on the same data folder (a real supervisor, a real worker process, a
private redis-server) shows its worker with its pid; the worker killed, the tab shows it back with
one restart and why, and the death is an alert on the Alerts tab. Stopped, the tab says so again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Any

import pytest

from ouroboros.cluster.redis_server import RedisServer
from tests.cluster.conftest import redis_server  # noqa: F401  (the fixture: a private redis-server)
from tests.e2e.conftest import ROOT, Server, shot
from tests.e2e.test_rollouts_tab import wait_until

pytestmark = pytest.mark.slow


def test_the_cluster_tab_shows_a_worker_its_restart_and_the_alert(
    page: Any,
    server: Server,
    redis_server: RedisServer,  # noqa: F811
) -> None:
    page.get_by_test_id("nav-cluster").click()
    page.get_by_test_id("cluster-none").wait_for()
    cmd = [sys.executable, "-m", "ouroboros", "cluster", "up", "--redis", redis_server.url, "--workers", "1",
           "--data", str(server.data)]  # fmt: skip
    up = subprocess.Popen(cmd, env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    try:
        row = page.get_by_test_id("cluster-proc-worker-1")
        row.wait_for(timeout=60000)
        pid_cell = row.get_by_test_id("cluster-pid")
        pid = int(
            wait_until(lambda: pid_cell.inner_text().strip().isdigit() and pid_cell.inner_text(), "a pid")
        )
        assert row.get_by_test_id("cluster-restarts").inner_text() == "0"
        assert page.get_by_test_id("cluster-kind-gen").is_visible()
        shot(page, "cluster-01-up")
        os.kill(pid, signal.SIGKILL)
        restarts = row.get_by_test_id("cluster-restarts")
        wait_until(lambda: restarts.inner_text() == "1", "the restart to show", timeout_s=60)
        wait_until(lambda: pid_cell.inner_text().strip() not in ("—", str(pid)), "the new pid", timeout_s=60)
        assert "killed by SIGKILL" in row.inner_text()
        shot(page, "cluster-02-restarted")
        page.get_by_test_id("nav-alerts").click()
        alert = page.locator('[data-testid="alert"][data-kind="cluster_restart"]')
        alert.first.wait_for(timeout=30000)
        assert "worker-1" in alert.first.inner_text() and "killed by SIGKILL" in alert.first.inner_text()
        shot(page, "cluster-03-alert")
        up.send_signal(signal.SIGINT)
        assert up.wait(60) == 0
        page.get_by_test_id("nav-cluster").click()
        page.get_by_test_id("cluster-none").wait_for(timeout=30000)
    finally:
        if up.poll() is None:
            up.kill()
            up.wait(10)
