"""What a world's stream hook hands the dashboard: a ``Frame`` of numpy records.

A frame holds every entity a viewer draws (id, position, energy per mille, kind, flags) and every
resource (food in a dish, rooms in a city, grown grass). ``kind`` and ``flags`` mean what the
world's ``StreamHook.legend`` says they mean. The wire format lives in
``ouroboros.server.stream.frames``; this module only fixes the record layout, so a world folder
can build frames without importing the server.

What it promises: a frame function only reads numpy columns into fresh arrays and writes nothing
back, so calling one between two ticks never changes a digest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

ENTITY_DTYPE = np.dtype(
    [("id", "<u4"), ("x", "<i4"), ("y", "<i4"), ("energy", "<u2"), ("kind", "u1"), ("flags", "u1")]
)
RESOURCE_DTYPE = np.dtype([("id", "<u4"), ("x", "<i4"), ("y", "<i4")])
MAX_FRAME_ITEMS = 0xFFFF  # the binary header's u16 counts

Entities = npt.NDArray[np.void]


@dataclass(frozen=True)
class Frame:
    """One picture of a world: ``entities`` in ``ENTITY_DTYPE``, ``resources`` in
    ``RESOURCE_DTYPE``. ``tick`` is ``None`` for a decoded binary frame (its header has none)."""

    world: str
    tick: int | None
    entities: Entities
    resources: Entities


def permille(value: npt.NDArray[Any], most: npt.NDArray[Any] | int) -> npt.NDArray[np.uint16]:
    """``value`` per mille of ``most``, held to 0..1000."""
    v = np.clip(value.astype(np.int64), 0, None) * 1000 // np.maximum(np.asarray(most, dtype=np.int64), 1)
    return np.clip(v, 0, 1000).astype(np.uint16)


def no_entities() -> Entities:
    return np.empty(0, dtype=ENTITY_DTYPE)


def no_resources() -> Entities:
    return np.empty(0, dtype=RESOURCE_DTYPE)


def joined(parts: list[Entities], dtype: np.dtype) -> Entities:
    """``parts`` end to end, at most ``MAX_FRAME_ITEMS`` records."""
    return np.concatenate(parts)[:MAX_FRAME_ITEMS] if parts else np.empty(0, dtype=dtype)


__all__ = [
    "ENTITY_DTYPE",
    "MAX_FRAME_ITEMS",
    "RESOURCE_DTYPE",
    "Entities",
    "Frame",
    "joined",
    "no_entities",
    "no_resources",
    "permille",
]
