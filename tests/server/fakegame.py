"""A small ``LiveGame`` for gateway tests: it keeps the protocol's promises (queued inputs
applied at the next tick, events delivered after the tick, ``run_ticks`` until cancelled) and
knows a handful of commands:

- ``look``: the room as text, plus a ``Room.Info`` gmcp event;
- ``say TEXT``: every present character sees ``NAME says: TEXT``;
- ``quit``: a ``disconnect`` event;
- ``spam KIB``: one text event of KIB KiB (for backpressure tests);
- anything else is echoed back as ``You typed: LINE``.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable

from ouroboros.server.gateway.game import Event

ROOM_INFO = {"num": 1, "name": "Neon Alley", "area": "Downtown", "exits": {"n": 2}}


class FakeGame:
    def __init__(self, name: str = "Fake City", tick_s: float = 0.005) -> None:
        self.name = name
        self.tick_s = tick_s
        self.ticks = 0
        self.applied: list[tuple[str, str, str]] = []  # (kind, character, line) in tick order
        self._pending: list[tuple[str, str, str]] = []
        self._present: set[str] = set()
        self._subscribers: list[Callable[[str, list[Event]], None]] = []

    # -- LiveGame ----------------------------------------------------------------------------------

    def enter(self, character: str) -> None:
        self._pending.append(("enter", character, ""))

    def command(self, character: str, line: str) -> None:
        self._pending.append(("command", character, line))

    def leave(self, character: str) -> None:
        self._pending.append(("leave", character, ""))

    def present(self, character: str) -> bool:
        return character in self._present

    def subscribe(self, deliver: Callable[[str, list[Event]], None]) -> Callable[[], None]:
        self._subscribers.append(deliver)

        def unsubscribe() -> None:
            if deliver in self._subscribers:
                self._subscribers.remove(deliver)

        return unsubscribe

    async def run_ticks(self) -> None:
        while True:
            self.tick()
            await asyncio.sleep(self.tick_s)

    # -- the fake world ----------------------------------------------------------------------------

    def tick(self) -> None:
        outbox: dict[str, list[Event]] = defaultdict(list)
        pending, self._pending = self._pending, []
        for kind, character, line in pending:
            self.applied.append((kind, character, line))
            if kind == "enter":
                if character not in self._present:
                    self._present.add(character)
                    self._look(outbox[character])
            elif kind == "leave":
                self._present.discard(character)
            elif character in self._present:
                self._command(character, line, outbox)
        self.ticks += 1
        for character, events in outbox.items():
            for deliver in list(self._subscribers):
                deliver(character, events)

    def _look(self, events: list[Event]) -> None:
        events.append({"type": "text", "style": "room_title", "text": "Neon Alley"})
        events.append({"type": "text", "style": "room", "text": "Rain hisses on hot neon.\nA drone hums."})
        events.append({"type": "gmcp", "package": "Room.Info", "data": dict(ROOM_INFO)})

    def _command(self, character: str, line: str, outbox: dict[str, list[Event]]) -> None:
        verb, _, rest = line.partition(" ")
        verb = verb.lower()
        if verb == "look":
            self._look(outbox[character])
        elif verb == "quit":
            outbox[character].append({"type": "disconnect", "reason": "See you on the street."})
        elif verb == "say":
            for other in sorted(self._present):
                outbox[other].append({"type": "text", "style": "say", "text": f"{character} says: {rest}"})
        elif verb == "spam" and rest.isdigit():
            outbox[character].append({"type": "text", "style": "info", "text": "x" * 1024 * int(rest)})
        else:
            outbox[character].append({"type": "text", "style": "info", "text": f"You typed: {line}"})
