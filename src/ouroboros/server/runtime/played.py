"""The tick loop of a world people play (its ``spec.game``): its game and its telnet and WebSocket
gateways share one asyncio loop on the world's tick thread.

The loop serves ``ouroboros players --data`` requests (``inbox``) between ticks, STOPped or not;
tells players STOP once and GO (``RunningGame.operators_stopped``/``operators_resumed``); ticks at
the runner's pace (a version that changes the game's pace lands at a tick); saves every
``autosave_s`` and on the way out, after the gateways are closed. Another ``go`` on the same folder
is refused (``GoLock``).
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import TYPE_CHECKING, Any

from ouroboros.errors import BadInputError
from ouroboros.server.gateway import AccountStore, SessionRegistry, serve_telnet, serve_websocket
from ouroboros.server.runtime.inbox import GoLock, Inbox

if TYPE_CHECKING:
    from ouroboros.server.runtime.runner import WorldRunner
    from ouroboros.worlds.spec import RunningGame


def run_played(runner: WorldRunner, ready: threading.Event) -> None:
    """The tick thread of a played world: an asyncio loop for its game and its gateways."""
    try:
        asyncio.run(_serve_and_tick(runner, ready))
    except Exception as exc:
        runner.error = runner.error or f"{type(exc).__name__}: {exc}"
    finally:
        ready.set()
        runner.finished.set()


async def _serve_and_tick(runner: WorldRunner, ready: threading.Event) -> None:
    """The played world's loop: its game ticks here and its gateways serve here."""
    hook = runner.spec.game
    if hook is None:  # start() runs this only for a played world
        raise BadInputError(f"{runner.name} is not a world people play")

    loop = asyncio.get_running_loop()

    def quiet_cancel(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        # connections still open at shutdown are cancelled: that is the plan, not an error
        if not isinstance(context.get("exception"), asyncio.CancelledError):
            loop.default_exception_handler(context)

    loop.set_exception_handler(quiet_cancel)
    game: RunningGame
    if runner.shards is not None:  # the shards behind one gateway, routed by the rollout
        runner.game = game = runner.shards.open_game(hook)
    else:
        runner.game = game = hook.open(runner.world, runner.folder, runner.pace or 1e6)
    accounts = AccountStore(runner.folder / hook.accounts_file)

    def alert(event: dict[str, Any]) -> None:  # a telnet / WebSocket login lockout began
        runner.feed.publish("security", runner.name, **event)

    registry = SessionRegistry(game, accounts, limits=runner.options.session_limits, on_alert=alert)
    servers: list[Any] = []
    try:
        go_lock = GoLock(runner.folder)
    except OSError:
        runner.error = f"another ouroboros go runs {runner.folder}"
        accounts.close()
        game.close()
        return
    inbox = Inbox(runner.folder)
    try:
        try:
            telnet = await serve_telnet(game, registry, runner.options.host, runner.options.telnet_port)
            servers.append(telnet)
            ws = await serve_websocket(game, registry, runner.options.host, runner.options.ws_port)
            servers.append(ws)
        except OSError as exc:
            runner.error = f"cannot listen on {runner.options.host}: {exc.strerror or exc}"
            return
        runner.ports = {
            "telnet": telnet.sockets[0].getsockname()[1],
            "ws": next(iter(ws.sockets)).getsockname()[1],
        }
        ready.set()
        next_at, last_save, ran = time.monotonic(), time.monotonic(), 0
        while runner._should_tick(ran):
            inbox.serve(runner.players.answer_local)  # `ouroboros players --data`, STOPped or not
            _tell_stop_and_go(runner)
            if runner.paused.is_set():
                await asyncio.sleep(0.05)
                next_at = time.monotonic()
                continue
            runner.step()
            ran += 1
            period = 1.0 / runner.pace if runner.pace > 0 else 0.0  # a new tick_hz lands at a tick
            now = time.monotonic()
            if now - last_save >= game.autosave_s:
                runner.save()
                last_save = now
            next_at += period
            if next_at < now - period:
                next_at = now
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
    except Exception as exc:
        runner.error = f"{type(exc).__name__}: {exc}"
        runner.feed.publish("error", runner.name, source="ticks", message=runner.error)
    finally:
        registry.close_all()
        for server in servers:
            server.close()
        await asyncio.sleep(0.05)  # let the closed sessions' handlers finish
        runner.save()
        runner.follower.close()
        if runner.shards is not None:
            runner.shards.close()
        accounts.close()
        game.close()
        go_lock.release()


def _tell_stop_and_go(runner: WorldRunner) -> None:
    """On the game's loop: players hear STOP once, and GO; their commands meanwhile are
    answered by the game (``RunningGame.operators_stopped``)."""
    stopped = runner.paused.is_set()
    if runner.game is None or stopped == (runner.game.frozen is not None):
        return
    note = runner._run_note or {}
    why = f" ({note['reason']})" if note.get("reason") else ""
    if stopped:
        runner.game.operators_stopped(why)
    else:
        runner.game.operators_resumed(why)


__all__ = ["run_played"]
