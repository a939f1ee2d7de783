"""A shard's seats: the characters it holds in the shared ``CharacterStore``, one shard at a time.

What it promises (the shard calls it from its one loop, outside a tick):

- ``take(name)`` before a character enters: the store's lease is claimed and the stored record
  laid over the world (``put``), so a character who last played in another shard arrives with
  everything; a name this shard already holds (it never left, or left and came back within the
  same tick) keeps the world's copy, which is newer. A character held by another shard is not
  entered: ``take`` answers the line the player is told.
- ``leaving(name)`` then ``settle()`` after the tick that applied the leave: the record is
  written and the lease released in one step, after every command the player typed before
  leaving has run.
- ``save_all()`` (autosave) writes every held character; ``renew(now)`` keeps the leases alive
  with the heartbeat; ``take_lost()`` answers the present characters this shard lost (a stall
  longer than the lease: the store refuses its writes, so the newer copy elsewhere is never
  overwritten, and the shard takes them out); ``release_all()`` on the way out.
- Records go to the store as JSON has them: a world's tuples (neon keeps each carried item as an
  ``(id, worn)`` pair) are written as lists, which the world lays back as it reads them.
- Redis away: a take is refused with a line (the player tries again), writes wait for the next
  settle or autosave. A record the store refuses (not JSON: a world's bug) is logged as an error
  and not written; a leave still releases the lease, so the character plays on elsewhere from its
  last good save. Nothing raises into the tick loop.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Protocol

from ouroboros.characters import CharacterStore, Record
from ouroboros.errors import BadInputError, CharacterHeldError, CharacterLeaseLostError, ClusterError

log = logging.getLogger("ouroboros.cluster")
UNREACHABLE_TEXT = "The city cannot reach your character's records right now; try again in a moment."


class WorldCharacters(Protocol):
    """How a shard reads and lays the characters of its world (the world's ``GameHook``)."""

    def read(self) -> dict[str, Record]: ...
    def put(self, records: Mapping[str, Record]) -> None: ...


class HookCharacters:
    """``WorldCharacters`` of a live game's world through its world's ``GameHook``."""

    def __init__(self, hook: Any, game: Any) -> None:
        self.hook = hook
        self.game = game

    def read(self) -> dict[str, Record]:
        return dict(self.hook.characters(self.game.world))

    def put(self, records: Mapping[str, Record]) -> None:
        self.hook.put_characters(self.game.world, records)


class Seats:
    def __init__(
        self, store: CharacterStore, holder: str, world: WorldCharacters, lease_ttl_s: float = 10.0
    ) -> None:
        self.store = store
        self.holder = holder
        self.world = world
        self.lease_ttl_s = lease_ttl_s
        self.held: set[str] = set()
        self._leaving: set[str] = set()
        self._renewed_at = float("-inf")
        self._lost: list[str] = []

    def take(self, name: str) -> str | None:
        """Claim ``name`` and lay its record over the world; ``None`` when taken, else the line
        the player is told (another shard holds it, or the store is away)."""
        if name in self.held:
            self._leaving.discard(name)
            return None
        try:
            record = self.store.claim(name, self.holder, self.lease_ttl_s)
        except CharacterHeldError as exc:
            return exc.message
        except ClusterError as exc:
            log.warning("%s: cannot claim %s: %s", self.holder, name, exc.message)
            return UNREACHABLE_TEXT
        if record is not None:
            self.world.put({name: record})
        self.held.add(name)
        return None

    def leaving(self, name: str) -> None:
        if name in self.held:
            self._leaving.add(name)

    def settle(self) -> None:
        """Save and release the characters that left (call after the tick that applied it)."""
        if not self._leaving:
            return
        records = self.world.read()
        for name in sorted(self._leaving):
            if self._write(name, records.get(name), release=True):
                self._leaving.discard(name)

    def save_all(self) -> None:
        if not self.held:
            return
        records = self.world.read()
        for name in sorted(self.held):
            if name in records:
                self._write(name, records[name], release=False)

    def release_all(self) -> None:
        records = self.world.read() if self.held else {}
        for name in sorted(self.held):
            self._write(name, records.get(name), release=True)

    def renew(self, now: float) -> None:
        """Extend the leases, at most every third of their length (``now``: monotonic seconds)."""
        if not self.held or now - self._renewed_at < self.lease_ttl_s / 3:
            return
        try:
            lost = self.store.renew(self.holder, self.lease_ttl_s)
        except ClusterError:
            return  # Redis away: try again at the next beat
        self._renewed_at = now
        for name in lost:
            log.warning("%s: lost the lease on %s (held too long without renewing)", self.holder, name)
            self._drop(name)

    def take_lost(self) -> list[str]:
        """The characters this shard lost since the last call (still in its world: take them out)."""
        lost, self._lost = self._lost, []
        return lost

    def _drop(self, name: str) -> None:
        self.held.discard(name)
        if name not in self._leaving:
            self._lost.append(name)
        self._leaving.discard(name)

    def _write(self, name: str, record: Record | None, *, release: bool) -> bool:
        """Whether the store has settled it (written, or refused for good)."""
        record = None if record is None else json_shaped(record)
        try:
            try:
                if release:
                    self.store.release(name, self.holder, record)
                elif record is not None:
                    self.store.save(name, self.holder, record)
            except BadInputError as exc:  # the world's record is no JSON: keep the last good save
                log.error("%s: cannot store %s: %s", self.holder, name, exc.message)
                if not release:
                    return True
                self.store.release(name, self.holder)
        except CharacterLeaseLostError:
            log.warning("%s: %s was taken elsewhere; this shard's copy is dropped", self.holder, name)
            self._drop(name)
            return True
        except ClusterError as exc:
            log.warning("%s: cannot write %s yet: %s", self.holder, name, exc.message)
            return False
        if release:
            self.held.discard(name)
        return True


def json_shaped(value: Any) -> Any:
    """``value`` with every tuple a list, as JSON keeps it (anything else is left for the store to
    judge: a key that is not a string stays, and is refused there)."""
    if isinstance(value, tuple | list):
        return [json_shaped(v) for v in value]
    if isinstance(value, dict):
        return {k: json_shaped(v) for k, v in value.items()}
    return value


__all__ = ["UNREACHABLE_TEXT", "HookCharacters", "Seats", "WorldCharacters", "json_shaped"]
