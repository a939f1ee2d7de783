"""``Chunk``: one archetype's rows as the running system may see them (declared access only)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from ouroboros.engine.errors import AccessError, ComponentError
from ouroboros.engine.storage import Archetype

if TYPE_CHECKING:
    from ouroboros.engine.world import World

__all__ = ["Chunk"]

I64 = npt.NDArray[np.int64]


class Chunk:
    """One archetype's rows seen through the running system's declared access."""

    __slots__ = ("_arch", "_world")

    def __init__(self, arch: Archetype, world: World) -> None:
        self._arch = arch
        self._world = world

    @property
    def count(self) -> int:
        return self._arch.count

    @property
    def signature(self) -> tuple[str, ...]:
        return self._arch.signature

    @property
    def ids(self) -> I64:
        v = self._arch.ids[: self._arch.count]
        v.flags.writeable = False
        return v

    def __getitem__(self, key: str) -> np.ndarray:
        component, _, field = key.partition(".")
        if key not in self._arch.columns:
            raise ComponentError(f"archetype {self._arch.signature} has no column {key!r}")
        view = self._arch.columns[key][: self._arch.count]
        running = self._world._running
        if running is None or running.may_write(component):
            return view
        if running.may_read(component):
            ro = view.view()
            ro.flags.writeable = False
            return ro
        raise AccessError(
            f"system {running.name!r} touched {component}.{field} without declaring it",
            path=key,
        )
