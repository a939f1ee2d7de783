"""A private ``redis-server`` on a unix socket: what tests and ``cluster up`` start when they
need a Redis and none is given. Persistence is the caller's choice (``appendonly``)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from ouroboros.cluster.redis_queue import wait_for_redis
from ouroboros.errors import ClusterError

INSTALL_HINT = "redis-server is not installed: install it (Debian: apt-get install redis-server)"


class RedisServer:
    def __init__(self, folder: Path | None = None, appendonly: bool = False) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise ClusterError(INSTALL_HINT)
        # a unix socket path must stay under ~100 bytes: keep it short, under /tmp
        self.folder = Path(tempfile.mkdtemp(prefix="ouro-redis-", dir="/tmp")) if folder is None else folder
        self.socket = self.folder / "redis.sock"
        self.binary = binary
        self.appendonly = appendonly
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def start(self, timeout_s: float = 10.0) -> RedisServer:
        args = [
            self.binary, "--port", "0", "--unixsocket", str(self.socket), "--unixsocketperm", "700",
            "--dir", str(self.folder), "--save", "", "--appendonly", "yes" if self.appendonly else "no",
            "--daemonize", "no", "--loglevel", "warning",
        ]  # fmt: skip
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            wait_for_redis(self.url, timeout_s)
        except ClusterError:
            self.stop()
            raise
        return self

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
            self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
            self.proc = None


__all__ = ["INSTALL_HINT", "RedisServer"]
