"""The characters of a played world run as shards in one process (``go --shards neon=2``):
``ShardCharacters`` keeps them in ``SqliteCharacters(<data>/<world>/characters.sqlite3)``.

A character plays in one shard at a time and carries everything from one to the next (ADR 0020).
What it promises (everything runs on the world's tick thread, between ticks, under its lock):

- **Claim on entering, save on leaving.** ``seat(character, shard)`` claims the character for the
  shard (the holder is the shard's name) and lays its stored record over that shard's world
  (``cluster.seats.Seats``); a character still held by a sibling shard whose session there has
  ended is first saved and released by it (the hand-off is in one thread, so it never waits).
  ``after_tick`` marks the held characters no longer present in a shard as leaving, and
  ``settle`` (after every shard ticked) writes their records and releases them, so what the
  player did before leaving is in it. ``save`` (autosave) writes every held character; ``close``
  writes and releases them all.
- **Leases of a previous life are taken back.** One ``go`` runs a folder (``GoLock``), so a lease
  no shard of this process holds is a previous run's (a crash, or a shard count that shrank): the
  shard that wants the character claims it under the old holder's name and releases it first.
  Leases last ``LEASE_TTL_S`` and are renewed as the shards tick; a world STOPped longer than that
  takes its players out when it goes on (they log in again).
- **Imported once.** The first time a world runs with the store, the characters its shard worlds
  hold (saved by an earlier run that copied records between shards, with its ``homes.json``, or
  by a run without ``--shards``) are loaded into it: each from its home shard, else the first
  shard that has it; names the store has already are left alone. ``shards/homes.imported.json``
  records it and ``homes.json`` goes. ``--fresh`` starts the store empty.
- **A shard counts only the characters it holds.** ``counts`` gives a shard's money supply and
  the per-character counters (jobs taken, finished) of its tick report from the world's
  ``character_metrics``: what the characters it held through the tick made, plus the world's
  money that belongs to no character; a character laid in from the store (a move) adds nothing,
  one made here adds all it starts with. The money supply is a chained level in credits (it
  starts at the shard world's money, then grows each tick by the rate the characters held
  through that tick grew at, or by the credits made when it held no money before), so neither
  an arrival nor a departure looks like inflation or deflation, and a window's growth is the
  rate of the money made while held.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ouroboros.errors import OuroborosError
from ouroboros.patches import write_atomic
from ouroboros.worlds.spec import CharacterMetrics

if TYPE_CHECKING:
    from ouroboros.characters import Record, SqliteCharacters
    from ouroboros.cluster.seats import Seats
    from ouroboros.engine import World
    from ouroboros.server.gateway.sharded import ShardedGame
    from ouroboros.worlds.spec import GameHook

log = logging.getLogger("ouroboros.shards")

CHARACTERS_FILE = "characters.sqlite3"
HOMES_FILE = "homes.json"
IMPORTED_FILE = "homes.imported.json"
#: a shard's hold on a character; one process runs the folder, so it only needs to outlast a STOP
LEASE_TTL_S = 24 * 3600.0
#: what a shard counts per character: its money, then cumulative counters (what it added is reported)
KEYS = CharacterMetrics._fields
MONEY, CHARACTER_COUNTERS = KEYS[0], KEYS[1:]
ZEROS = CharacterMetrics()
LOST_TEXT = "Your character was taken up elsewhere: this shard lost it. Connect again."


class _ShardWorld:
    """A shard's world as ``Seats`` reads and lays it; remembers the names laid in (arrivals)."""

    def __init__(self, hook: GameHook, world: World) -> None:
        self.hook = hook
        self.world = world
        self.laid: set[str] = set()

    def read(self) -> dict[str, Record]:
        return dict(self.hook.characters(self.world))

    def put(self, records: Mapping[str, Record]) -> None:
        self.hook.put_characters(self.world, records)
        self.laid.update(records)


@dataclass
class _Tally:
    """What a shard counted at its last report."""

    last: dict[str, tuple[int, ...]] = field(default_factory=dict)  # held characters' ``KEYS``
    unheld: tuple[int, ...] | None = None  # the world's ``KEYS`` that no character holds
    level: float | None = None  # the chained money supply


class ShardCharacters:
    """The character store of one world's shards (see the module docstring)."""

    def __init__(
        self,
        folder: Path,
        names: Sequence[str],
        worlds: Sequence[World],
        hook: GameHook,
        *,
        fresh: bool = False,
        character_metrics: Callable[[World], Mapping[str, CharacterMetrics]] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.folder = folder
        self.names = list(names)
        self.worlds = list(worlds)
        self.hook = hook
        self.fresh = fresh
        self.character_metrics = character_metrics
        self.clock = clock  # paces lease renewals, between ticks only
        self.store: SqliteCharacters | None = None
        self.seats: list[Seats] = []
        self._worlds: list[_ShardWorld] = []
        self._tallies = [_Tally() for _ in self.names]

    @property
    def path(self) -> Path:
        return self.folder / CHARACTERS_FILE

    @property
    def shards_folder(self) -> Path:
        return self.folder / "shards"

    def _store(self) -> SqliteCharacters:
        if self.store is None:
            raise RuntimeError("the character store is not open")
        return self.store

    # -- opening ---------------------------------------------------------------------------------
    def open(self) -> list[Seats]:
        """The shards' seats, opening the store (and importing) on the first call: on the tick
        thread, once ``go`` holds the folder."""
        if self.store is not None:
            return self.seats
        from ouroboros.characters import SqliteCharacters
        from ouroboros.cluster.seats import Seats

        if self.fresh:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            (self.shards_folder / IMPORTED_FILE).unlink(missing_ok=True)
            (self.shards_folder / HOMES_FILE).unlink(missing_ok=True)
        store = SqliteCharacters(self.path)
        self.store = store
        self._worlds = [_ShardWorld(self.hook, w) for w in self.worlds]
        self.seats = [
            Seats(store, n, w, lease_ttl_s=LEASE_TTL_S) for n, w in zip(self.names, self._worlds, strict=True)
        ]
        if not (self.shards_folder / IMPORTED_FILE).exists():
            self._import()
        return self.seats

    def _import(self) -> None:
        """The characters of the shard worlds into the store, once (see the module docstring)."""
        from ouroboros.cluster.seats import json_shaped

        store = self._store()
        homes = self._read_homes()
        records = [dict(self.hook.characters(w)) for w in self.worlds]
        stored = set(store.names())
        every = sorted({name for r in records for name in r})
        imported: dict[str, str] = {}
        for name in every:
            if name in stored:
                continue
            home = homes.get(name)
            order = ([self.names.index(home)] if home in self.names else []) + list(range(len(self.names)))
            k = next(k for k in order if name in records[k])
            holder = self.names[k]
            try:
                store.claim(name, holder, LEASE_TTL_S)
                store.release(name, holder, json_shaped(records[k][name]))
            except OuroborosError as exc:  # a name the store refuses, a record no JSON keeps
                log.error("cannot import character %s from %s: %s", name, holder, exc.message)
                continue
            imported[name] = holder
        self.shards_folder.mkdir(parents=True, exist_ok=True)
        doc = {"imported": imported, "homes": homes}
        write_atomic(self.shards_folder / IMPORTED_FILE, (json.dumps(doc, sort_keys=True) + "\n").encode())
        (self.shards_folder / HOMES_FILE).unlink(missing_ok=True)
        if imported:
            log.info("imported %d characters into %s", len(imported), self.path)

    def _read_homes(self) -> dict[str, str]:
        try:
            doc = json.loads((self.shards_folder / HOMES_FILE).read_bytes())
        except (OSError, ValueError):
            return {}
        if not isinstance(doc, dict):
            return {}
        return {str(k): str(v) for k, v in doc.items() if v in self.names}

    # -- entering --------------------------------------------------------------------------------
    def seat(self, character: str, shard: str, game: ShardedGame) -> str | None:
        """Claim ``character`` for ``shard`` and lay its record there; ``None`` when it may enter,
        else the line the player is told."""
        seats = self.open()
        k = self.names.index(shard)
        for j, other in enumerate(seats):
            if j != k and character in other.held and not game.shards[self.names[j]].present(character):
                other.leaving(character)  # its session there has ended: hand it over now
                other.settle()
        if not any(character in s.held for s in seats):
            self._take_back(character, shard)
        return seats[k].take(character)

    def _take_back(self, character: str, shard: str) -> None:
        """A lease no shard of this process holds is a previous run's: released for ``shard``."""
        store = self._store()
        try:
            holder = store.holder(character)
            if holder is None or holder == shard:
                return
            store.claim(character, holder, LEASE_TTL_S)
            store.release(character, holder)
        except OuroborosError as exc:
            log.warning("cannot take back %s from a previous run: %s", character, exc.message)
            return
        log.info("took %s back from %s (a previous run's lease)", character, holder)

    # -- after each tick -------------------------------------------------------------------------
    def after_tick(self, k: int, present: Callable[[str], bool]) -> None:
        """After shard ``k`` ticked: the characters it holds that left it are leaving."""
        if not self.seats:
            return
        seats = self.seats[k]
        for name in sorted(seats.held):
            if not present(name):
                seats.leaving(name)

    def settle(self, game: ShardedGame | None) -> None:
        """After every shard ticked: write and release those that left, renew the leases, and take
        out (and tell) any character a shard lost."""
        now = self.clock()
        for name, seats in zip(self.names, self.seats, strict=True):
            seats.settle()
            seats.renew(now)
            for character in seats.take_lost():
                if game is not None and game.shard_of(character) == name:
                    game.leave(character)
                    game.tell(character, [{"type": "disconnect", "reason": LOST_TEXT}])

    def counts(
        self, k: int, world: World, gauges: Mapping[str, int | float]
    ) -> tuple[int | None, dict[str, int]]:
        """Shard ``k``'s money supply and what its held characters added to each counter of
        ``CHARACTER_COUNTERS`` this tick (see the module docstring); called after every tick."""
        tally = self._tallies[k]
        held = self.seats[k].held if self.seats else set()
        laid = self._worlds[k].laid if self._worlds else set()
        per = self.character_metrics(world) if self.character_metrics is not None else {}
        rows: Mapping[str, tuple[int, ...]] = per
        totals = [sum(column) for column in zip(*rows.values(), strict=True)] if rows else [0] * len(KEYS)
        unheld = tuple(int(gauges.get(key, 0)) - total for key, total in zip(KEYS, totals, strict=True))
        made = [0] * len(KEYS)
        base = tally.unheld[0] if tally.unheld is not None else 0
        last = tally.last
        for name in held:
            now = rows.get(name)
            if now is None:
                continue
            before = last.get(name)
            if before is None:
                if name in laid:
                    continue  # arrived with its record: made elsewhere
                before = ZEROS  # made here: all it has is new
            else:
                base += before[0]
            if now != before:
                made[0] += now[0] - before[0]
                for i in range(1, len(KEYS)):
                    made[i] += max(0, now[i] - before[i])
        if tally.unheld is not None:
            made[0] += unheld[0] - tally.unheld[0]
            for i in range(1, len(KEYS)):
                made[i] += max(0, unheld[i] - tally.unheld[i])
        money = None
        if MONEY in gauges:
            if tally.level is None:
                tally.level = float(gauges[MONEY])  # the scale: the shard world's money at its start
            else:
                if tally.level <= 0 and base > 0:
                    tally.level = float(base)  # an empty chain starts at the money it first holds
                grown = tally.level * (1 + made[0] / base) if base > 0 else tally.level + made[0]
                tally.level = max(0.0, grown)
            money = round(tally.level)
        tally.last = {name: rows[name] for name in held if name in rows}
        tally.unheld = unheld
        laid.clear()
        return money, {key: made[i] for i, key in enumerate(KEYS) if i > 0}

    # -- saving ----------------------------------------------------------------------------------
    def save(self) -> None:
        """Autosave: every held character's record (under the runner's lock)."""
        for seats in self.seats:
            seats.save_all()

    def close(self) -> None:
        """On the way out: every held character written and released, then the store closed."""
        for seats in self.seats:
            seats.release_all()
        if self.store is not None:
            with contextlib.suppress(Exception):
                self.store.close()
            self.store = None
        self.seats = []

    def holders(self) -> dict[str, list[str]]:
        """The characters each shard holds now (the operator's view)."""
        return {name: sorted(s.held) for name, s in zip(self.names, self.seats, strict=True)}


__all__ = ["CHARACTERS_FILE", "HOMES_FILE", "IMPORTED_FILE", "LEASE_TTL_S", "ShardCharacters"]
