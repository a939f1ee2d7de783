"""Fixtures shared by every test folder: the real local model, served once per test session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

#: a loaded 2-core machine (six test runs at once) loads the model in 3-5 s idle, far slower busy
LOCAL_MODEL_START_TIMEOUT_S = 120.0
#: one enrichment (two requests of up to ~200 tokens at ~10 tokens/s under load), with room
LOCAL_MODEL_REQUEST_TIMEOUT_S = 120.0


def local_model_path() -> Path:
    """The local model's file; under CI (``CI=true``) fetched if missing, else a skip saying how."""
    from ouroboros.ai.llm.local import LOCAL_MODEL, cache_dir, ensure_model, ensure_runtime, runtime_ready

    model = cache_dir() / "models" / LOCAL_MODEL.filename
    if not (model.is_file() and runtime_ready()):
        if os.environ.get("CI", "").lower() not in ("true", "1"):
            pytest.skip("the local model is not fetched: run `ouroboros llm fetch` (make test does)")
        ensure_runtime()  # under CI a missing model is fetched, and a failure fails the test
    return ensure_model()


@pytest.fixture(scope="session")
def local_llm() -> Iterator[object]:
    """``ouroboros llm serve`` on a private port (a free one) for the whole session: a real model."""
    from ouroboros.ai.llm.local import LocalServer

    server = LocalServer(
        local_model_path(), port=0, threads=1, start_timeout_s=LOCAL_MODEL_START_TIMEOUT_S
    ).start()
    try:
        yield server
    finally:
        server.stop()
