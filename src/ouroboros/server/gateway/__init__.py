"""The player gateways of a live text world: accounts, sessions, telnet and WebSocket.

Run them next to a ``LiveGame`` in one asyncio loop::

    accounts = AccountStore(data_dir / "neon.db")
    registry = SessionRegistry(game, accounts)
    telnet = await serve_telnet(game, registry, "127.0.0.1", 4000)
    websocket = await serve_websocket(game, registry, "127.0.0.1", 4001)
    try:
        await game.run_ticks()
    finally:
        registry.close_all()
        telnet.close()
        websocket.close()
        accounts.close()
"""

from ouroboros.errors import AccountError, ClientFrameError
from ouroboros.server.gateway.accounts import Account, AccountStore
from ouroboros.server.gateway.game import STYLES, Event, LiveGame
from ouroboros.server.gateway.session import Session, SessionLimits, SessionRegistry, Transport
from ouroboros.server.gateway.telnet import serve_telnet
from ouroboros.server.gateway.websocket import serve_websocket

__all__ = [
    "STYLES",
    "Account",
    "AccountError",
    "AccountStore",
    "ClientFrameError",
    "Event",
    "LiveGame",
    "Session",
    "SessionLimits",
    "SessionRegistry",
    "Transport",
    "serve_telnet",
    "serve_websocket",
]
