"""A shard: one world's live game in its own process, its players' sockets in a gateway.

The shard reads its players' operations from its input stream (a consumer group, so a restarted
shard first takes back what its previous life had been given), applies them at the tick boundary
(a command from a character this life has not seen yet enters it first: after a restart players
simply go on), ticks, and sends each character's events to the stream of the gateway holding it.
A heartbeat key carries its boot id, so gateways see a restart however quick, and another key
the version it runs (``keys.shard_running``), written as soon as the version landed.

**No tick waits on Redis.** Every Redis call is made on the shard's two I/O threads (``start``):
a reader (operations in, a blocking ``XREADGROUP``) and a writer (events out, acknowledgements,
the heartbeat, and every character-store call in one FIFO). The tick thread only moves entries
between bounded deques at its boundary. Without Redis, or with a Redis that stalls (a stopped
process answers nothing until the socket timeout), the shard keeps ticking at its pace on what it
has, and catches up when Redis is back: its players' lines meanwhile are dropped past
``MAX_OUTBOX`` (the oldest first). The heartbeat is written only while the tick thread ticks, so
a tick loop hung for ``STUCK_AFTER_S`` looks dead to the gateways.

With ``seats`` (``cluster.seats``) a character plays in one shard at a time: entering claims it
in the shared character store — the claim is made on the writer thread, and the character enters
at the first tick boundary after it answered, its record laid over the world there; what the
player typed meanwhile waits and is applied in order after. A character another shard holds is
not entered: its gateway gets one ``refused`` event (the player stays at the login screen); a
store that does not answer for ``CLAIM_PATIENCE_S`` refuses the same way ("try again"). The
writer renews the leases; a leave saves and releases after the tick that applied it (the record
read on the tick thread then, written in FIFO order, retried until the store answers); every
autosave saves. A character the shard lost (its lease ran out) is taken out at the next boundary.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import redis

from ouroboros.characters import Record
from ouroboros.cluster import keys
from ouroboros.cluster.seats import UNREACHABLE_TEXT, Seats
from ouroboros.errors import CharacterHeldError, ClusterError

GROUP = "shard"
REDIS_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)
Event = dict[str, Any]
#: outgoing batches kept while Redis does not take them (the oldest dropped first)
MAX_OUTBOX = 20_000
#: a claim the store has not answered for this long is refused ("try again in a moment")
CLAIM_PATIENCE_S = 30.0
#: on the way out, character writes a store away never took are given up after this
CLOSE_PATIENCE_S = 5.0
#: the heartbeat stops once the tick loop has not ticked for this long (a hung loop looks dead)
STUCK_AFTER_S = 10.0
#: the reader's longest wait in one ``XREADGROUP`` (and the writer's between two looks)
READ_BLOCK_MS = 200
#: how long the writer waits before trying a store call again while the store is away
RETRY_S = 0.25
LOST_TEXT = "Your character was taken up by another shard: this one lost it. Connect again."
log = logging.getLogger("ouroboros.cluster")
_UNSAID = object()


class LiveGame(Protocol):  # the part of ``server.gateway.game.LiveGame`` a shard drives
    def enter(self, character: str) -> None: ...
    def command(self, character: str, line: str) -> None: ...
    def leave(self, character: str) -> None: ...
    def present(self, character: str) -> bool: ...
    def subscribe(self, deliver: Callable[[str, list[Event]], None]) -> Callable[[], None]: ...
    def step(self) -> Any: ...
    def save(self) -> None: ...


class ShardHost:
    """The tick thread's side (``pump``, ``after_tick``, ``flush``, ``heartbeat``,
    ``save_characters``, ``release_characters``: none of them touches Redis) and the I/O threads
    (``start``; ``close`` drains them)."""

    def __init__(
        self,
        game: LiveGame,
        url: str,
        shard: str,
        boot_id: str | None = None,
        heartbeat_ttl_s: float = 2.0,
        seats: Seats | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        claim_patience_s: float = CLAIM_PATIENCE_S,
    ) -> None:
        self.game = game
        self.seats = seats
        self.shard = shard
        self.boot_id = boot_id or uuid.uuid4().hex[:12]
        self.ttl_ms = int(heartbeat_ttl_s * 1000)
        self.clock = clock
        self.claim_patience_s = claim_patience_s
        self.r = redis.Redis.from_url(url, decode_responses=True, socket_timeout=2.0)
        self._in = keys.shard_in(shard)
        self._gw_of: dict[str, str] = {}
        self._out: list[tuple[str, str, list[Event]]] = []
        self.applied = 0
        # tick thread → I/O threads and back: deques (one writer, one reader each)
        self._inbox: deque[tuple[str, dict[str, str]]] = deque()
        self._acks: deque[str] = deque()
        self._outbox: deque[tuple[str, str, list[Event]]] = deque(maxlen=MAX_OUTBOX)
        self._store_ops: deque[tuple[Any, ...]] = deque()
        self._store_done: deque[tuple[Any, ...]] = deque()
        # the tick thread's own view of its characters
        self.seated: set[str] = set()
        self._waiting: dict[str, list[dict[str, str]]] = {}  # a claim in flight: the ops that wait
        self._leaving: set[str] = set()
        # the I/O threads'
        self._wake = threading.Event()
        self._closing = threading.Event()
        self._threads: list[threading.Thread] = []
        self._ticked_at = clock()
        self._beat_at = float("-inf")
        self._running: str | None = None  # the version the world runs, as the tick thread saw it
        self._told_version: object = _UNSAID  # what ``keys.shard_running`` says
        self._backlog = True  # first read this consumer's own pending operations
        self._group_ready = False
        self._claim_since: dict[str, float] = {}
        self._closing_at: float | None = None
        game.subscribe(self._collect)

    # -- the tick thread ---------------------------------------------------------------------------

    def pump(self, limit: int = 2000) -> int:
        """At the tick boundary: seat the characters whose claims answered, then apply the
        operations read since the last boundary (at most ``limit``). Never waits."""
        self._settle_claims()
        n = 0
        while n < limit and self._inbox:
            entry_id, fields = self._inbox.popleft()
            if fields:
                self._apply(fields)
            self._acks.append(entry_id)
            n += 1
        if n:
            self.applied += n
            self._wake.set()
        return n

    def _settle_claims(self) -> None:
        while self._store_done:
            kind, character, value = self._store_done.popleft()
            if kind == "lost":
                if character in self.seated:
                    self.seated.discard(character)
                    self._leaving.discard(character)
                    self.game.leave(character)
                    self._tell(character, {"type": "disconnect", "reason": LOST_TEXT})
                continue
            ops = self._waiting.pop(character, [])
            if kind == "refused":
                self._tell(character, {"type": "refused", "text": value})
                continue
            if value is not None and self.seats is not None:
                self.seats.world.put({character: value})
            self.seated.add(character)
            for op in ops:
                self._apply(op)

    def _apply(self, op: dict[str, str]) -> None:
        character, kind = op.get("c", ""), op.get("op")
        if not character:
            return
        if op.get("gw"):
            self._gw_of[character] = op["gw"]
        if character in self._waiting:  # its claim is in flight: in order, after it answers
            self._waiting[character].append(op)
            return
        if kind in ("enter", "command"):
            if not self.game.present(character):
                if self.seats is not None and character not in self.seated:
                    self._waiting[character] = [op]
                    self._store_ops.append(("claim", character))
                    self._wake.set()
                    return
                self.game.enter(character)
            if kind == "command":
                self.game.command(character, op.get("line", ""))
        elif kind == "leave":
            self.game.leave(character)
            if character in self.seated:
                self._leaving.add(character)

    def _tell(self, character: str, event: Event) -> None:
        gateway = self._gw_of.get(character)
        if gateway is not None:
            self._out.append((gateway, character, [event]))

    def after_tick(self) -> None:
        """The characters that left this tick: their records, read now, go to be saved and
        released (in order, on the writer thread)."""
        if self.seats is None or not self._leaving:
            return
        records = self.seats.world.read()
        for character in sorted(self._leaving):
            self.seated.discard(character)
            self._store_ops.append(("write", character, records.get(character), True))
        self._leaving.clear()
        self._wake.set()

    def _collect(self, character: str, events: list[Event]) -> None:
        gateway = self._gw_of.get(character)
        if gateway is not None:
            self._out.append((gateway, character, events))

    def flush(self) -> None:
        """Hand this tick's events to the writer."""
        if not self._out:
            return
        out, self._out = self._out, []
        self._outbox.extend(out)
        self._wake.set()

    def running_version(self) -> str | None:
        """The version the shard's world runs now (``None``: its base)."""
        world = getattr(self.game, "world", None)
        return None if world is None else world.resources.get("gameplay_version")

    def heartbeat(self, now: float) -> None:
        """The tick loop is alive (the writer beats only while it is); a version that just landed
        wakes the writer, so a gateway tells players of a switch only once it has landed."""
        self._ticked_at = now
        running = self.running_version()
        if running != self._running:
            self._running = running
            self._wake.set()

    def save_characters(self) -> None:
        """Autosave: every seated character's record, read now, goes to be saved."""
        if self.seats is None or not self.seated:
            return
        records = self.seats.world.read()
        for character in sorted(self.seated):
            if character in records:
                self._store_ops.append(("write", character, records[character], False))
        self._wake.set()

    def release_characters(self) -> None:
        """Save and release every character held (a shard on its way out; ``close`` waits for it)."""
        if self.seats is None:
            return
        self._leaving |= self.seated
        self.after_tick()

    # -- the I/O threads ---------------------------------------------------------------------------

    def start(self) -> ShardHost:
        """Start the reader and the writer (daemon threads; ``close`` stops them)."""
        if not self._threads:
            for name, target in (("read", self._read_loop), ("write", self._write_loop)):
                thread = threading.Thread(target=target, name=f"{self.shard}-{name}", daemon=True)
                thread.start()
                self._threads.append(thread)
        return self

    def _read_loop(self) -> None:
        while not self._closing.is_set():
            if len(self._inbox) > 10 * 2000:  # the tick thread is behind: let it catch up
                self._closing.wait(READ_BLOCK_MS / 1000)
                continue
            try:
                read = self.read_once(READ_BLOCK_MS)
            except Exception:  # never let the reader die: the shard would stop hearing its players
                log.exception("%s: reading the input stream failed", self.shard)
                self._group_ready, read = False, False
            if not read:
                self._closing.wait(0.05)

    def read_once(self, block_ms: int | None = None, count: int = 2000) -> bool:
        """One read of the input stream into the inbox; False when Redis did not answer."""
        try:
            self._ensure_group()
            start = "0" if self._backlog else ">"
            block = None if self._backlog else block_ms
            got: Any = self.r.xreadgroup(GROUP, self.shard, {self._in: start}, count=count, block=block)
        except REDIS_ERRORS:
            self._group_ready = False
            return False
        except redis.exceptions.ResponseError as exc:
            if "NOGROUP" in str(exc):  # a Redis that came back without its data
                self._group_ready = False
                return False
            raise
        n = 0
        for _, entries in got or ():
            for entry_id, fields in entries:
                self._inbox.append((entry_id, fields or {}))
                n += 1
        if self._backlog and n < count:
            self._backlog = False  # the backlog is drained: new operations from now on
        return True

    def _ensure_group(self) -> None:
        if self._group_ready:
            return
        try:
            self.r.xgroup_create(self._in, GROUP, id="0", mkstream=True)
        except redis.exceptions.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._group_ready = True

    def _write_loop(self) -> None:
        while True:
            self._wake.clear()
            try:
                busy = self.write_once()
            except Exception:  # never let the writer die: events, heartbeat and saves stop with it
                log.exception("%s: the writer's round failed", self.shard)
                busy = False
                time.sleep(RETRY_S)
            if self._closing.is_set() and not busy:
                return
            if not busy:
                self._wake.wait(READ_BLOCK_MS / 1000)

    def write_once(self) -> bool:
        """One round of the writer; whether work is left (a store call waiting for the store)."""
        now = self.clock()
        self._beat(now)
        self._send()
        self._ack()
        return self._store_round(now)

    def _beat(self, now: float) -> None:
        """The heartbeat (every eighth of its expiry) and the version the shard runs (at once when
        it changed)."""
        version = self._running
        if now - self._ticked_at > STUCK_AFTER_S:
            return
        if now - self._beat_at < self.ttl_ms / 8000 and version == self._told_version:
            return
        self._beat_at = now
        running = json.dumps({"v": version, "b": self.boot_id}, separators=(",", ":"))
        try:
            with self.r.pipeline(transaction=False) as pipe:
                pipe.set(keys.shard_alive(self.shard), self.boot_id, px=self.ttl_ms)
                pipe.set(keys.shard_running(self.shard), running, px=self.ttl_ms)
                pipe.execute()
            self._told_version = version
        except REDIS_ERRORS:
            pass
        if self.seats is not None:
            self.seats.renew(now)
            self._report_lost()

    def _send(self) -> None:
        out: list[tuple[str, str, list[Event]]] = []
        while self._outbox and len(out) < 1000:
            out.append(self._outbox.popleft())
        if not out:
            return
        try:
            with self.r.pipeline(transaction=False) as pipe:
                for gateway, character, events in out:
                    body = {
                        "c": character,
                        "b": self.boot_id,
                        "events": json.dumps(events, separators=(",", ":")),
                    }
                    pipe.xadd(keys.gateway_out(gateway), body, maxlen=10_000, approximate=True)  # type: ignore[arg-type]
                pipe.execute()
        except REDIS_ERRORS:
            pass  # players miss these lines; the world goes on
        if self._outbox:
            self._wake.set()

    def _ack(self) -> None:
        ids = []
        while self._acks:
            ids.append(self._acks.popleft())
        if ids:
            with contextlib.suppress(*REDIS_ERRORS):  # at worst they come back as backlog after a restart
                self.r.xack(self._in, GROUP, *ids)

    def _store_round(self, now: float) -> bool:
        """The store calls waiting, in order; True when the head must wait for the store."""
        while self._store_ops and self.seats is not None:
            op = self._store_ops[0]
            if op[0] == "claim":
                done = self._claim(op[1], now)
            else:
                done = self.seats.write(op[1], op[2], release=op[3])
                if not done and self._closing.is_set() and self._give_up(now):
                    return False
            if not done:
                time.sleep(RETRY_S)  # the writer's own pace: the tick thread never waits on it
                return True
            self._report_lost()
            self._store_ops.popleft()
        return False

    def _give_up(self, now: float) -> bool:
        """On the way out, writes the store never took are given up after ``CLOSE_PATIENCE_S``."""
        if self._closing_at is None:
            self._closing_at = now
        if now - self._closing_at < CLOSE_PATIENCE_S:
            return False
        log.warning("%s: the store is away: %d character write(s) not made", self.shard, len(self._store_ops))
        self._store_ops.clear()
        return True

    def _claim(self, character: str, now: float) -> bool:
        """Claim one character; False while the store does not answer (within the patience)."""
        assert self.seats is not None
        record: Record | None
        try:
            record = self.seats.claim(character)
        except CharacterHeldError as exc:
            self._claim_since.pop(character, None)
            self._store_done.append(("refused", character, exc.message))
            return True
        except ClusterError as exc:
            since = self._claim_since.setdefault(character, now)
            if now - since < self.claim_patience_s and not self._closing.is_set():
                log.warning("%s: cannot claim %s yet: %s", self.shard, character, exc.message)
                return False
            self._claim_since.pop(character, None)
            self._store_done.append(("refused", character, UNREACHABLE_TEXT))
            return True
        self._claim_since.pop(character, None)
        self._store_done.append(("seated", character, record))
        return True

    def _report_lost(self) -> None:
        if self.seats is not None:
            for character in self.seats.take_lost():
                self._store_done.append(("lost", character, None))

    def close(self) -> None:
        """Stop the I/O threads once what is queued is written (characters, events, acks), then
        take the heartbeat key down."""
        self._closing.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(15)
        if not self._threads:  # never started: write what is queued here
            while self.write_once():
                pass
        try:
            if self.r.get(keys.shard_alive(self.shard)) == self.boot_id:
                self.r.delete(keys.shard_alive(self.shard))
        except REDIS_ERRORS:
            pass
        self.r.close()


def claim_shard(
    url: str, shard: str, boot_id: str, stop: threading.Event, ttl_s: float = 2.0, poll_s: float = 0.02
) -> bool:
    """Take the shard's lease (its heartbeat key) once no other process holds it; False when
    ``stop`` came first. Redis away: wait for it."""
    r = redis.Redis.from_url(url, decode_responses=True, socket_timeout=2.0)
    try:
        while not stop.is_set():
            try:
                if r.set(keys.shard_alive(shard), boot_id, nx=True, px=int(ttl_s * 1000)):
                    return True
            except REDIS_ERRORS:
                pass
            stop.wait(poll_s)
        return False
    finally:
        r.close()


def run_shard(
    game: LiveGame,
    host: ShardHost,
    stop: threading.Event,
    tick_hz: float,
    autosave_s: float = 30.0,
    on_tick: Callable[[], None] | None = None,
) -> int:
    """Tick at ``tick_hz`` until ``stop``; saves on the way out. Returns the ticks run."""
    period = 1.0 / tick_hz if tick_hz > 0 else 0.0
    next_at = last_save = time.monotonic()
    ran = 0
    host.start()
    try:
        while not stop.is_set():
            host.pump()
            game.step()
            host.after_tick()
            host.flush()
            ran += 1
            now = time.monotonic()
            host.heartbeat(host.clock())
            if on_tick is not None:
                on_tick()
            if now - last_save >= autosave_s:
                game.save()
                host.save_characters()
                last_save = now
            next_at += period
            if next_at < now - period:
                next_at = now
            stop.wait(max(0.0, next_at - time.monotonic()))
    finally:
        game.save()
        host.release_characters()
        close = getattr(game, "close", None)
        if close is not None:
            close()
        host.close()
    return ran


def seats_for(world: str, game: Any, store: Any, holder: str, lease_ttl_s: float = 10.0) -> Seats:
    """The seats of a shard of ``world`` running ``game``: its characters in ``store``."""
    from ouroboros.cluster.seats import HookCharacters
    from ouroboros.worlds import world_spec

    hook = world_spec(world).game
    if hook is None or getattr(game, "world", None) is None:
        from ouroboros.errors import WorldError

        raise WorldError(f"world {world!r} has no characters a shard could hold", path=world)
    return Seats(store, holder, HookCharacters(hook, game), lease_ttl_s=lease_ttl_s)


def open_live_game(world: str, folder: Path, seed: int = 0, tick_hz: float | None = None) -> Any:
    """The live game of ``world`` saved in ``folder`` (made fresh when there is none)."""
    from ouroboros.worlds import build_world, world_spec

    spec = world_spec(world)
    hook = spec.game
    if hook is None:
        from ouroboros.errors import WorldError

        raise WorldError(f"world {world!r} has no players: it has no shards to play in", path=world)
    folder.mkdir(parents=True, exist_ok=True)
    saved = hook.load(folder)
    live = saved if saved is not None else build_world(world, seed)
    return hook.open(live, folder, tick_hz or hook.ticks_per_second(live))


__all__ = ["GROUP", "ShardHost", "claim_shard", "open_live_game", "run_shard", "seats_for"]
