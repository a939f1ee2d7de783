"""The live city: a neon ``World`` ticking in an asyncio loop beside its gateways (``LiveGame``).

What it promises:

- Characters act only through world inputs (``neon.enter``, ``neon.command``, ``neon.leave``),
  applied at the next tick boundary, so a live session is a replayable input log.
- Events a tick produced reach subscribers right after that tick, in the order they happened.
- The wall clock paces ticks and autosaves, and never reaches the world.
- ``run_ticks`` saves the city when it stops (cancelled by Ctrl-C or a shutdown) and every
  ``autosave_s`` seconds while it runs; a save is atomic (``store.CityStore``).
- While the city is STOPped (``freeze``) every present character is told once, and a command or an
  arrival meanwhile is answered at once ("the city is frozen"), never left hanging; the command is
  not run later. ``thaw`` (GO) tells everyone it moves again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from ouroboros.engine import World
from ouroboros.errors import OuroborosError
from ouroboros.worlds.neon.city import OUT
from ouroboros.worlds.neon.plugin import COMMAND, ENTER, LEAVE
from ouroboros.worlds.neon.store import CityStore
from ouroboros.worlds.neon.tables import tables

Event = dict[str, Any]
Deliver = Callable[[str, list[Event]], None]


class NeonGame:
    name = "neon"

    def __init__(
        self,
        world: World,
        store: CityStore | None = None,
        *,
        tick_hz: float | None = None,
        autosave_s: float = 30.0,
        max_ticks: int | None = None,
    ) -> None:
        self.world = world
        self.store = store
        self.tick_hz = float(tick_hz or tables(world).params["tick_hz"])
        self.autosave_s = autosave_s
        self.max_ticks = max_ticks
        self._present: set[str] = set()
        self._subscribers: list[Deliver] = []
        self._direct: dict[str, list[Event]] = {}
        self.tick_ms: list[float] = []  # the last ticks' durations (for benchmarks and stats)
        self.on_tick: list[Callable[[World], None]] = []
        self.frozen: str | None = None  # while STOPped: why, as players are told

    # -- LiveGame ---------------------------------------------------------------------------------
    def enter(self, character: str) -> None:
        if character in self._present:
            return
        self._submit(character, ENTER, {"name": character})
        self._present.add(character)
        if self.frozen is not None:
            self._tell_now(character, f"{self.frozen} You will step in when it moves again.")

    def command(self, character: str, line: str) -> None:
        if character not in self._present:
            return
        if self.frozen is not None and line.strip().lower() == "quit":  # leaving needs no tick
            self.leave(character)
            for deliver in list(self._subscribers):
                deliver(character, [{"type": "disconnect", "reason": "You jack out of a frozen city."}])
            return
        if self.frozen is not None:
            self._tell_now(character, "The city is frozen until GO: nothing was done. Try again then.")
            return
        self._submit(character, COMMAND, {"name": character, "line": line})

    # -- STOP and GO ------------------------------------------------------------------------------
    def freeze(self, why: str) -> None:
        """STOP: tell every present character ``why``, once; commands are answered, not run."""
        self.frozen = why
        for character in sorted(self._present):
            self._tell_now(character, why)

    def thaw(self, text: str = "The city moves again.") -> None:
        """GO: tell every present character; commands run again."""
        if self.frozen is None:
            return
        self.frozen = None
        for character in sorted(self._present):
            self._tell_now(character, text)

    def _tell_now(self, character: str, text: str) -> None:
        """Deliver a line to ``character`` right away (no tick runs while the city is frozen)."""
        event = {"type": "text", "style": "system", "text": text}
        for deliver in list(self._subscribers):
            deliver(character, [event])

    def leave(self, character: str) -> None:
        if character in self._present:
            self._present.discard(character)
            self._submit(character, LEAVE, {"name": character})

    def present(self, character: str) -> bool:
        return character in self._present

    @property
    def characters_present(self) -> frozenset[str]:
        """The characters in the city now (a shard reports them as its exposures)."""
        return frozenset(self._present)

    def subscribe(self, deliver: Deliver) -> Callable[[], None]:
        self._subscribers.append(deliver)
        return lambda: self._subscribers.remove(deliver) if deliver in self._subscribers else None

    def _submit(self, character: str, kind: str, payload: dict[str, Any]) -> None:
        try:
            self.world.submit(kind, payload)
        except OuroborosError as exc:
            self._direct.setdefault(character, []).append(
                {"type": "text", "style": "error", "text": f"Refused: {exc.message}"}
            )

    # -- ticking ----------------------------------------------------------------------------------
    def step(self) -> dict[str, list[Event]]:
        """One tick; returns (and delivers) the events it produced, per character."""
        t0 = time.perf_counter()
        self.world.step()
        self.tick_ms.append((time.perf_counter() - t0) * 1e3)
        del self.tick_ms[:-4096]
        out: dict[str, list[Event]] = self.world.scratch.pop(OUT, {})
        for name, events in self._direct.items():
            out.setdefault(name, []).extend(events)
        self._direct = {}
        for name, events in out.items():
            if any(e["type"] == "disconnect" for e in events):
                self.leave(name)
        for hook in self.on_tick:
            hook(self.world)
        for deliver in list(self._subscribers):
            for name, events in out.items():
                deliver(name, events)
        return out

    def save(self) -> None:
        if self.store is not None:
            self.store.save(self.world)

    def operators_stopped(self, why: str) -> None:
        """STOP, as players hear it (``why``: the operator's reason in brackets, or empty)."""
        self.freeze(f"The city freezes: its operators pressed STOP{why}. Nothing moves until GO.")

    def operators_resumed(self, why: str) -> None:
        self.thaw(f"The city moves again: its operators pressed GO{why}.")

    def close(self) -> None:
        """Release the store (after the last ``save``)."""
        if self.store is not None:
            self.store.close()

    def take_everyone_out(self) -> list[str]:
        """After a restore: every character offline and none present; returns who was present
        (they ``enter`` again once the world is back on its version)."""
        for chunk in self.world.query("Player"):
            chunk["Player.online"][:] = 0
        present = sorted(self._present)
        self._present.clear()
        return present

    async def run_ticks(self) -> None:
        period = 1.0 / self.tick_hz
        next_at = time.monotonic()
        last_save = next_at
        ran = 0
        try:
            while self.max_ticks is None or ran < self.max_ticks:
                self.step()
                ran += 1
                now = time.monotonic()
                if self.store is not None and now - last_save >= self.autosave_s:
                    self.save()
                    last_save = now
                next_at += period
                if next_at < now - period:  # fell behind: don't sprint to catch up
                    next_at = now
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        finally:
            self.save()
