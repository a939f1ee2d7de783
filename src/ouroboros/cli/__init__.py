"""The ``ouroboros`` command line. ``core`` holds the app and the world commands (run, replay,
snapshot, go); every other module adds one command group to it when imported here."""

from __future__ import annotations

from ouroboros.cli import admin as _admin  # noqa: F401  (registers its commands)
from ouroboros.cli import ai as _ai  # noqa: F401  (registers its commands)
from ouroboros.cli import cluster as _cluster  # noqa: F401  (registers its commands)
from ouroboros.cli import cluster_control as _cluster_control  # noqa: F401  (registers its command)
from ouroboros.cli import config as _config  # noqa: F401  (registers its commands)
from ouroboros.cli import events as _events  # noqa: F401  (registers its commands)
from ouroboros.cli import evolve as _evolve  # noqa: F401  (registers its command)
from ouroboros.cli import governance as _governance  # noqa: F401  (registers its commands)
from ouroboros.cli import llm as _llm  # noqa: F401  (registers its commands)
from ouroboros.cli import mcp as _mcp  # noqa: F401  (registers its command)
from ouroboros.cli import models as _models  # noqa: F401  (registers its commands)
from ouroboros.cli import optimizer as _optimizer  # noqa: F401
from ouroboros.cli import players as _players  # noqa: F401  (registers its commands)
from ouroboros.cli import rollout as _rollout  # noqa: F401  (registers its commands)
from ouroboros.cli import sandbox as _sandbox  # noqa: F401  (registers its commands)
from ouroboros.cli.boundary import EXIT_BAD_INPUT, EXIT_FAILED
from ouroboros.cli.core import app, main

__all__ = ["EXIT_BAD_INPUT", "EXIT_FAILED", "app", "main"]
