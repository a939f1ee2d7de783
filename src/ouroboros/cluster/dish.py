"""A shard of a world without players (``ouroboros shard WORLD``): the dish ticks at its pace.

``DishGame`` is the live-game face ``run_shard`` drives for such a world: ``step`` ticks it (its
tick times kept), ``save`` writes its snapshot under the shard's folder (``<world>.snapshot``,
loaded again by the next life), and it has no players (entering is refused; nothing is ever
sent to a gateway). The shard's ``ShardHost`` keeps its heartbeat and lease as for a played
shard; its ``ShardLink`` follows the version the control publishes and reports each tick.

Its tick reports say ``players: 0``; their exposures are the world's entity ids (as
``rollout.kpis`` counts them for a world without players), sampled once per ``REFRESH_S`` so that
a big dish does not send every id every tick.

**The dish for the evolution loop** (a world whose spec evolves): every ``SNAPSHOT_EVERY_S`` the
tick thread takes the world's snapshot at its boundary (bytes in memory) and hands it to the
link thread, which compresses it and writes it to ``keys.shard_snapshot`` (JSON: tick, version,
zlib+base64 snapshot). The tick thread never compresses and never waits on Redis; a snapshot
not yet written when the next is taken is replaced (the newest wins). The control process
mirrors it (``cluster.evolution``).
"""

from __future__ import annotations

import base64
import json
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ouroboros.engine import World
from ouroboros.errors import OuroborosError, WorldError

#: how often a shard of an evolving world hands the control a snapshot of its dish
SNAPSHOT_EVERY_S = 2.0
#: the tick times kept (for reports and stats)
TICK_TIMES = 256


class DishGame:
    """See the module docstring: ``world`` ticked at ``tick_hz``, saved in ``folder``."""

    def __init__(self, world: World, folder: Path, tick_hz: float) -> None:
        self.world = world
        self.folder = folder
        self.tick_hz = tick_hz
        self.tick_ms: list[float] = []

    @property
    def snapshot_file(self) -> Path:
        return self.folder / f"{self.world.meta['world']}.snapshot"

    # the live-game protocol: a world without players has none to enter
    def enter(self, character: str) -> None:
        return None

    def command(self, character: str, line: str) -> None:
        return None

    def leave(self, character: str) -> None:
        return None

    def present(self, character: str) -> bool:
        return True  # never claimed, never entered: an operation for it is dropped

    def subscribe(self, deliver: Callable[[str, list[dict[str, Any]]], None]) -> Callable[[], None]:
        return lambda: None

    @property
    def characters_present(self) -> frozenset[str]:
        return frozenset()

    def entity_ids(self) -> list[str]:
        """Every entity alive (the exposures of a world without players)."""
        return [str(i) for chunk in self.world.query() for i in chunk.ids.tolist()]

    def step(self) -> Any:
        t0 = time.perf_counter()
        report = self.world.step()
        self.tick_ms.append((time.perf_counter() - t0) * 1e3)
        del self.tick_ms[:-TICK_TIMES]
        return report

    def save(self) -> None:
        """The dish's snapshot, written whole then renamed over the last (a crash keeps the last)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        part = self.snapshot_file.with_suffix(".snapshot.part")
        part.write_bytes(self.world.snapshot())
        part.replace(self.snapshot_file)


def open_dish(world: str, folder: Path, seed: int, config: dict[str, Any], tick_hz: float | None) -> DishGame:
    """The dish of ``world`` saved in ``folder``, or a new one built with ``seed`` and ``config``;
    ``tick_hz`` ``None``: the pace ``go`` gives a world without players."""
    from ouroboros.server.runtime.options import DEFAULT_TICKS_PER_SECOND
    from ouroboros.worlds import build_world

    live = build_world(world, seed, config)
    dish = DishGame(live, folder, 0.0)
    if dish.snapshot_file.exists():
        try:
            live.restore(dish.snapshot_file.read_bytes())
        except OuroborosError as exc:
            raise WorldError(f"{dish.snapshot_file}: {exc.message} (remove it to start over)") from exc
    dish.tick_hz = tick_hz or DEFAULT_TICKS_PER_SECOND
    return dish


def encode_snapshot(tick: int, version: str | None, data: bytes) -> str:
    """The ``keys.shard_snapshot`` document: JSON with the snapshot compressed (zlib) in base64."""
    packed = base64.b64encode(zlib.compress(data, 6)).decode()
    return json.dumps({"t": tick, "v": version, "z": packed}, separators=(",", ":"))


def decode_snapshot(raw: str | None) -> tuple[int, str | None, bytes] | None:
    """(tick, version, snapshot bytes) of a ``keys.shard_snapshot`` document; ``None`` for none or
    one that is not ours (never trusted further: ``World.restore`` checks the bytes)."""
    if raw is None:
        return None
    try:
        doc = json.loads(raw)
        tick, version = int(doc["t"]), doc.get("v")
        data = zlib.decompress(base64.b64decode(doc["z"], validate=True))
    except (ValueError, TypeError, KeyError, zlib.error):
        return None
    if version is not None and not isinstance(version, str):
        return None
    return tick, version, data


__all__ = ["SNAPSHOT_EVERY_S", "DishGame", "decode_snapshot", "encode_snapshot", "open_dish"]
