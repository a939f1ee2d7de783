"""The real city in a child process (``python -m ouroboros go --world neon``) and a telnet client
(the ``telnetlib3`` library) that reads what a player would see, colours stripped."""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import telnetlib3

ANSI = re.compile(r"\x1b\[[0-9;]*m")
READY = re.compile(r"telnet 127\.0\.0\.1 (\d+) · ws://127\.0\.0\.1:(\d+)/")


class CityProcess:
    def __init__(self, data: Path, *extra: str) -> None:
        args = [sys.executable, "-m", "ouroboros", "go", "--world", "neon", "--data", str(data),
                "--telnet-port", "0", "--ws-port", "0", "--port", "0", "--no-browser", *extra]  # fmt: skip
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        deadline = time.monotonic() + 60
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise AssertionError(
                    f"the city did not start: {self.proc.stderr.read() if self.proc.stderr else ''}"
                )
            self.lines.append(line)
            found = READY.search(line)
            if found:
                self.telnet_port, self.ws_port = int(found[1]), int(found[2])
                return
        raise AssertionError("the city did not start in time")

    def stop(self) -> str:
        """Ctrl-C, as an operator would; returns everything it printed."""
        self.proc.send_signal(signal.SIGINT)
        out, err = self.proc.communicate(timeout=60)
        assert self.proc.returncode == 0, err
        return "".join(self.lines) + out


class Player:
    def __init__(self, reader: telnetlib3.TelnetReader, writer: telnetlib3.TelnetWriter) -> None:
        self.reader, self.writer = reader, writer
        self.buffer = ""

    @classmethod
    async def connect(cls, port: int) -> Player:
        reader, writer = await telnetlib3.open_connection("127.0.0.1", port, connect_minwait=0.05)
        return cls(reader, writer)

    async def send(self, line: str) -> None:
        self.writer.write(line + "\r\n")
        await self.writer.drain()

    async def expect(self, pattern: str, timeout: float = 15.0) -> str:
        """Read until ``pattern`` (a regex) shows up; returns the text up to and including it."""
        regex = re.compile(pattern)
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            found = regex.search(self.buffer)
            if found:
                seen, self.buffer = self.buffer[: found.end()], self.buffer[found.end() :]
                return seen
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise AssertionError(f"no {pattern!r} in {self.buffer[-2000:]!r}")
            try:
                chunk = await asyncio.wait_for(self.reader.read(65536), left)
            except TimeoutError:
                continue
            if not chunk:
                raise AssertionError(f"connection closed before {pattern!r}; got {self.buffer[-2000:]!r}")
            self.buffer += ANSI.sub("", chunk.replace("\r", ""))

    async def do(self, line: str, pattern: str, timeout: float = 15.0) -> str:
        await self.send(line)
        return await self.expect(pattern, timeout)

    def close(self) -> None:
        self.writer.close()
