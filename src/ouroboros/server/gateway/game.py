"""What a gateway (telnet, WebSocket) needs of a live text world: the ``LiveGame`` protocol.

A gateway turns connections into characters and lines; the game turns lines into world inputs and
world ticks into events. The game's own tick loop runs in the same asyncio loop as the gateways
(``run_ticks``), so nothing here blocks and nothing here is called from another thread.

Events are plain JSON-ready dicts, one of:

- ``{"type": "text", "style": STYLE, "text": TEXT}``: lines to show. ``STYLE`` is one of
  ``STYLES``; telnet turns it into an ANSI colour, the web client into a CSS class. ``TEXT`` holds
  no control characters but newlines.
- ``{"type": "gmcp", "package": "Room.Info" | "Char.Vitals" | ..., "data": {...}}``: structured
  data for clients that asked for it (Mudlet's GMCP packages).
- ``{"type": "disconnect", "reason": TEXT}``: the character asked to quit (or was taken over);
  the gateway says the text and closes the connection.
- ``{"type": "refused", "text": TEXT}``: the character cannot play here now (it plays in another
  shard); the session shows the text and goes back to the login screen, the connection stays.
- ``{"type": "prompt", "text": TEXT}``: the player's numbers (health, money), sent once a command
  is answered; telnet sends it as a line of its own followed by GA, the mark of a MUD prompt.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

Event = dict[str, Any]
STYLES = (
    "info",  # plain text
    "room_title",
    "room",
    "exits",
    "things",  # what and who is in the room
    "say",
    "emote",
    "combat",
    "loot",
    "quest",
    "error",
    "system",
)


class LiveGame(Protocol):
    """A running world that characters enter by name."""

    name: str

    def enter(self, character: str) -> None:
        """Bring ``character`` into the world (created on first entry) at the next tick; it gets a
        ``look`` of where it stands. Entering an already present character is a no-op."""

    def command(self, character: str, line: str) -> None:
        """Queue one command line for the next tick. Never raises for any line: a line the game
        cannot understand gets an ``error`` text event back on that tick."""

    def leave(self, character: str) -> None:
        """Take ``character`` out of the world at the next tick (their state is kept)."""

    def present(self, character: str) -> bool:
        """Whether the character is in the world now."""

    def subscribe(self, deliver: Callable[[str, list[Event]], None]) -> Callable[[], None]:
        """Call ``deliver(character, events)`` after each tick for every character with events;
        returns a function that unsubscribes."""

    async def run_ticks(self) -> None:
        """Tick at the world's rate until cancelled (saving on the way out)."""
