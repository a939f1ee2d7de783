"""An evolving world's evolution cycles in a live runtime, off the tick path.

A cycle is planned on the control thread with the world held for a moment (the loop forks the dish
under the runner's lock), evaluated on the runner's *evolution thread* without the lock while the
dish ticks on, and finished back on the control thread, where the governor lives: the accepted
trait goes through the pipeline and reaches the dish through the active pointer at a tick
boundary. One cycle at a time; an operator's request waits for the cycle under way. ``Evolution``
is the part a runner is given for it (``runner.evolution``; its ``loop`` is attached by ``go``).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any, Protocol, TypeVar

from ouroboros.errors import OuroborosError
from ouroboros.server.runtime.feed import Feed
from ouroboros.server.runtime.options import CONTROL_TIMEOUT_S
from ouroboros.server.runtime.parts import CyclePart, EvolutionLoopPart

T = TypeVar("T")


class EvolutionHost(Protocol):
    """What a live world's evolution cycles need of its runner."""

    name: str
    feed: Feed

    def call(self, fn: Callable[[], T], timeout_s: float = ...) -> T:
        """Run ``fn`` on the world's control thread and wait for its result."""
        ...

    def post(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        """Hand ``fn(*args)`` to the world's control thread (``RuntimeError`` once it is shut down)."""
        ...


class Evolution:
    """A live world's evolution cycles (``runner.evolution``), on the runner it is given; ``loop``
    is the world's evolution loop once ``go`` attaches one (``None``: the world does not evolve
    here)."""

    def __init__(self, host: EvolutionHost) -> None:
        self.host = host
        self.loop: EvolutionLoopPart | None = None
        self._evolver: ThreadPoolExecutor | None = None  # once a cycle has run
        self._cycle: CyclePart | None = None  # the cycle under way (set and cleared on the control thread)
        self._cycle_done: Future[dict[str, Any]] | None = None  # and its outcome

    def evolve(self, reason: str | None, actor: str, timeout_s: float = CONTROL_TIMEOUT_S) -> dict[str, Any]:
        """An operator's evolution cycle: planned between two ticks (after the cycle under way,
        if one is), evaluated while the dish ticks on, delivered at a tick boundary. Returns its
        outcome event."""
        loop = self.loop
        if loop is None:
            raise OuroborosError("the evolution loop is not running", code="no_evolution")
        deadline = time.monotonic() + timeout_s

        def start() -> tuple[Future[dict[str, Any]], bool]:
            if self._cycle_done is not None:
                return self._cycle_done, False
            return self._launch(loop, loop.prepare_trigger(reason, actor)), True

        while True:
            done, ours = self.host.call(start, timeout_s)
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

    def maybe_start(self) -> None:
        """On the control thread, every second of ticks: the loop looks at the world (between two
        ticks) and, when a cycle is due and none is under way, it starts on the evolution thread."""
        loop = self.loop
        if loop is not None and self._cycle_done is None:
            cycle = loop.prepare()  # holds the lock itself, briefly
            if cycle is not None:
                self._launch(loop, cycle)

    def _launch(self, loop: EvolutionLoopPart, cycle: CyclePart) -> Future[dict[str, Any]]:
        """On the control thread: evaluate ``cycle`` on the evolution thread, without the lock,
        then finish it back on the control thread. The future is its outcome event."""
        host, done = self.host, Future[dict[str, Any]]()
        if self._evolver is None:
            self._evolver = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{host.name}-evolution")
        self._cycle, self._cycle_done = cycle, done

        def finish(error: BaseException | None) -> None:  # control thread
            try:
                if error is not None:
                    raise error
                done.set_result(loop.finish(cycle))
            except Exception as exc:  # a failed cycle never stops the world
                message = f"{type(exc).__name__}: {exc}"
                host.feed.publish("error", host.name, source="evolution", message=message)
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
                host.post(finish, error)
            except RuntimeError:  # the runner is shutting down: nothing is delivered
                self._cycle = self._cycle_done = None
                done.set_exception(OuroborosError("the server stopped", code="stopped"))

        self._evolver.submit(evaluate)
        return done

    def stop(self) -> None:
        """When the world stops: the cycle under way stops at its next candidate (nothing is
        delivered) and the evolution thread ends."""
        cycle = self._cycle
        if cycle is not None:
            cycle.cancel()
        if self._evolver is not None:
            self._evolver.shutdown(wait=True)

    def close(self) -> None:
        """On the control thread, with the governed folder: close the loop (quietly)."""
        if self.loop is not None:
            with contextlib.suppress(Exception):
                self.loop.close()


__all__ = ["Evolution", "EvolutionHost"]
