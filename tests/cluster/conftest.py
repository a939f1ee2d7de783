"""Each test that needs Redis gets its own ``redis-server`` on a private unix socket, so it may
kill it. Without redis-server the tests fail under CI (``.ci/run`` installs it) and skip with
the line naming what to install elsewhere."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from ouroboros.cluster.redis_server import INSTALL_HINT, RedisServer
from ouroboros.errors import ClusterError


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    try:
        server = RedisServer().start()
    except ClusterError as exc:
        if os.environ.get("CI") or os.environ.get("OUROBOROS_REQUIRE_REDIS"):
            raise
        pytest.skip(f"{INSTALL_HINT} ({exc.message})")
    try:
        yield server
    finally:
        server.stop()
