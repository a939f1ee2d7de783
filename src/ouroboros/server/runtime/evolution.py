"""petri's evolution cycles in a live runtime, off the tick path.

A cycle is planned on the control thread with the world held for a moment (the loop forks the dish
under the runner's lock), evaluated on the runner's *evolution thread* without the lock while the
dish ticks on, and finished back on the control thread, where the governor lives: the accepted
trait goes through the pipeline and reaches the dish through the active pointer at a tick
boundary. One cycle at a time; an operator's request waits for the cycle under way.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any, TypeVar

from ouroboros.errors import OuroborosError
from ouroboros.server.runtime.feed import Feed
from ouroboros.server.runtime.options import CONTROL_TIMEOUT_S

T = TypeVar("T")


class EvolvingRunner:
    """The evolution half of a ``WorldRunner`` (see ``runner``)."""

    name: str
    feed: Feed
    evolution: Any
    _control: ThreadPoolExecutor
    _evolver: ThreadPoolExecutor | None
    _cycle: Any
    _cycle_done: Future[dict[str, Any]] | None

    if TYPE_CHECKING:  # GovernedRunner.call: run ``fn`` on the control thread

        def call(self, fn: Callable[[], T], timeout_s: float = CONTROL_TIMEOUT_S) -> T: ...

    def evolve(self, reason: str | None, actor: str, timeout_s: float = CONTROL_TIMEOUT_S) -> dict[str, Any]:
        """An operator's evolution cycle: planned between two ticks (after the cycle under way,
        if one is), evaluated while the dish ticks on, delivered at a tick boundary. Returns its
        outcome event."""
        loop = self.evolution
        if loop is None:
            raise OuroborosError("the evolution loop is not running", code="no_evolution")
        deadline = time.monotonic() + timeout_s

        def start() -> tuple[Future[dict[str, Any]], bool]:
            if self._cycle_done is not None:
                return self._cycle_done, False
            return self._launch_cycle(loop.prepare_trigger(reason, actor)), True

        while True:
            done, ours = self.call(start, timeout_s)
            left = max(0.0, deadline - time.monotonic())
            if ours:
                return done.result(timeout=left)
            wait([done], timeout=left)  # another cycle first: one cycle at a time
            if time.monotonic() >= deadline:
                raise OuroborosError("an evolution cycle is still under way", code="cycle_under_way")

    @property
    def evolving(self) -> bool:
        """Whether an evolution cycle is under way."""
        return self._cycle_done is not None

    def _launch_cycle(self, cycle: Any) -> Future[dict[str, Any]]:
        """On the control thread: evaluate ``cycle`` on the evolution thread, without the lock,
        then finish it back on the control thread. The future is its outcome event."""
        loop, done = self.evolution, Future[dict[str, Any]]()
        if self._evolver is None:
            self._evolver = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{self.name}-evolution")
        self._cycle, self._cycle_done = cycle, done

        def finish(error: BaseException | None) -> None:  # control thread
            try:
                if error is not None:
                    raise error
                done.set_result(loop.finish(cycle))
            except Exception as exc:  # a failed cycle never stops the world
                message = f"{type(exc).__name__}: {exc}"
                self.feed.publish("error", self.name, source="evolution", message=message)
                done.set_exception(exc)
            finally:
                self._cycle = self._cycle_done = None

        def evaluate() -> None:  # evolution thread
            error: BaseException | None = None
            try:
                loop.evaluate(cycle)
            except Exception as exc:
                error = exc
            try:
                self._control.submit(finish, error)
            except RuntimeError:  # the runner is shutting down: nothing is delivered
                self._cycle = self._cycle_done = None
                done.set_exception(OuroborosError("the server stopped", code="stopped"))

        self._evolver.submit(evaluate)
        return done


__all__ = ["EvolvingRunner"]
