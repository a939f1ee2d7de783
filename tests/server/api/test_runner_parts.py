"""A ``WorldRunner`` is a tick loop given its parts: the governed folder (``runner.governance``) and
the evolution cycles (``runner.evolution``) are built from the factories it is given, opened and
closed on its control thread (where the governor's SQLite connections live)."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import pytest

from ouroboros.errors import OuroborosError
from ouroboros.server.runtime import Feed, WorldRunner
from ouroboros.server.runtime.evolution import Evolution
from ouroboros.server.runtime.governance import Governance

from .conftest import OPTIONS


class RecordingGovernance(Governance):
    """The real governance, noting the thread each open and close ran on."""

    def __init__(self, host: object) -> None:
        super().__init__(host)  # type: ignore[arg-type]
        self.threads: list[tuple[str, str]] = []

    def open(self) -> None:
        self.threads.append(("open", threading.current_thread().name))
        super().open()

    def close(self) -> None:
        self.threads.append(("close", threading.current_thread().name))
        super().close()


def test_the_runner_uses_the_parts_it_is_given_on_its_control_thread(tmp_path: Path) -> None:
    options = dataclasses.replace(OPTIONS, max_ticks=5, council=False)
    made: list[RecordingGovernance] = []

    def governance(host: object) -> RecordingGovernance:
        made.append(RecordingGovernance(host))
        return made[0]

    runner = WorldRunner("petri", tmp_path / "data", options, Feed(), governance=governance)
    try:
        assert runner.governance is made[0]
        assert isinstance(runner.evolution, Evolution) and runner.evolution.loop is None
        # the governed folder is open: the runner's governor is the part's, on the control thread
        assert runner.call(lambda: runner.governor is runner.governance.governor)
        assert runner.governance.trust_root is not None and runner.governance.anchors is not None
        assert (tmp_path / "data" / "petri" / "world.json").exists()
        # no loop attached (no council here): an operator's cycle is refused with a clear code
        with pytest.raises(OuroborosError) as refused:
            runner.evolution.evolve("now", "op")
        assert refused.value.code == "no_evolution" and not runner.evolution.evolving
        runner.start()
        assert runner.finished.wait(30)
    finally:
        runner.stop()
    assert made[0].threads == [("open", "petri-control_0"), ("close", "petri-control_0")]
    assert not runner.governance.is_open
    with pytest.raises(OuroborosError):
        runner.governor  # noqa: B018 - closed with the runner
