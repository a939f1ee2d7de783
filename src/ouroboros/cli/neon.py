"""``ouroboros go --world neon``: the city with its telnet and WebSocket gateways, in one process.

The city is loaded from ``DATA/neon.db`` (or made new with ``--fresh`` or when nothing was saved),
ticks in the asyncio loop beside the gateways, autosaves, and saves once more when it stops
(Ctrl-C, SIGTERM, or ``--max-ticks``). Accounts live in the same SQLite file.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
import statistics
import time
from pathlib import Path

from rich.console import Console

from ouroboros.engine import World
from ouroboros.errors import BadInputError
from ouroboros.server import AccountStore, SessionRegistry, serve_telnet, serve_websocket
from ouroboros.worlds import build_world
from ouroboros.worlds.neon.runtime import NeonGame
from ouroboros.worlds.neon.store import CityStore


def check_port(port: int, flag: str) -> None:
    if not 0 <= port <= 65535:
        raise BadInputError(f"{flag} must be a port number (0-65535), got {port}")


def open_city(data: Path, seed: int, fresh: bool) -> tuple[CityStore, World, bool]:
    """The store in ``data`` and the city to run: the saved one unless ``fresh``."""
    store = CityStore(data)
    world = None if fresh else store.load()
    resumed = world is not None
    return store, world or build_world("neon", seed), resumed


async def serve_city(
    game: NeonGame,
    data: Path,
    host: str,
    telnet_port: int,
    ws_port: int,
    console: Console,
) -> None:
    accounts = AccountStore(data / "neon.db")
    registry = SessionRegistry(game, accounts)
    telnet = await serve_telnet(game, registry, host, telnet_port)
    websocket = await serve_websocket(game, registry, host, ws_port)
    t_port = telnet.sockets[0].getsockname()[1]
    w_port = next(iter(websocket.sockets)).getsockname()[1]
    console.print(
        f"neon city at tick {game.world.tick}: telnet {host} {t_port} · ws://{host}:{w_port}/"
        f" · data in {data}",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    loop = asyncio.get_running_loop()
    ticking = asyncio.current_task()
    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGTERM, lambda: ticking.cancel() if ticking else None)
    # the content tables and the loaded city live as long as the process: keep them out of the
    # cyclic collector's full passes, which otherwise stall a tick now and then
    gc.collect()
    gc.freeze()
    started, first_tick = time.monotonic(), game.world.tick
    try:
        await game.run_ticks()
    finally:
        registry.close_all()
        telnet.close()
        websocket.close()
        accounts.close()
        elapsed = max(time.monotonic() - started, 1e-9)
        ran = game.world.tick - first_tick
        times = sorted(game.tick_ms) or [0.0]
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
        console.print(
            f"ran {ran} ticks in {elapsed:.1f} s ({ran / elapsed:.1f} ticks/s); "
            f"tick p50 {statistics.median(times):.2f} ms, p99 {p99:.2f} ms; "
            f"saved the city at tick {game.world.tick} to {data / 'neon.db'}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
