"""A shard: one world's live game in its own process, its players' sockets in a gateway.

The shard reads its players' operations from its input stream (a consumer group, so a restarted
shard first takes back what its previous life had been given), applies them at the tick boundary
(a command from a character this life has not seen yet enters it first: after a restart players
simply go on), ticks, and sends each character's events to the stream of the gateway holding it.
A heartbeat key carries its boot id, so gateways see a restart however quick. Without Redis the
shard keeps ticking on what it has and catches up when Redis is back.

With ``seats`` (``cluster.seats``) a character plays in one shard at a time: entering claims it in
the shared character store and lays its record over the world, the heartbeat renews the leases,
a leave saves and releases it after the tick that applied it, and every autosave saves. A
character another shard holds is not entered: its gateway gets one ``refused`` event (the player
stays at the login screen).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import redis

from ouroboros.cluster import keys
from ouroboros.cluster.seats import Seats

GROUP = "shard"
REDIS_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)
Event = dict[str, Any]


class LiveGame(Protocol):  # the part of ``server.gateway.game.LiveGame`` a shard drives
    def enter(self, character: str) -> None: ...
    def command(self, character: str, line: str) -> None: ...
    def leave(self, character: str) -> None: ...
    def present(self, character: str) -> bool: ...
    def subscribe(self, deliver: Callable[[str, list[Event]], None]) -> Callable[[], None]: ...
    def step(self) -> Any: ...
    def save(self) -> None: ...


class ShardHost:
    def __init__(
        self,
        game: LiveGame,
        url: str,
        shard: str,
        boot_id: str | None = None,
        heartbeat_ttl_s: float = 2.0,
        seats: Seats | None = None,
    ) -> None:
        self.game = game
        self.seats = seats
        self.shard = shard
        self.boot_id = boot_id or uuid.uuid4().hex[:12]
        self.ttl_ms = int(heartbeat_ttl_s * 1000)
        self.r = redis.Redis.from_url(url, decode_responses=True, socket_timeout=2.0)
        self._in = keys.shard_in(shard)
        self._gw_of: dict[str, str] = {}
        self._out: list[tuple[str, str, list[Event]]] = []
        self._backlog = True  # first read this consumer's own pending operations
        self._group_ready = False
        self._beat_at = 0.0
        self.applied = 0
        game.subscribe(self._collect)

    def _ensure_group(self) -> None:
        if self._group_ready:
            return
        try:
            self.r.xgroup_create(self._in, GROUP, id="0", mkstream=True)
        except redis.exceptions.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._group_ready = True

    def pump(self, limit: int = 2000) -> int:
        """Apply the operations waiting for this tick; 0 when Redis is away."""
        try:
            self._ensure_group()
            start = "0" if self._backlog else ">"
            got: Any = self.r.xreadgroup(GROUP, self.shard, {self._in: start}, count=limit)
        except REDIS_ERRORS:
            self._group_ready = False
            return 0
        except redis.exceptions.ResponseError as exc:
            if "NOGROUP" in str(exc):  # a Redis that came back without its data
                self._group_ready = False
                return 0
            raise
        ids: list[str] = []
        for _, entries in got or ():
            for entry_id, fields in entries:
                ids.append(entry_id)
                if fields:
                    self._apply(fields)
        if self._backlog and len(ids) < limit:
            self._backlog = False  # the backlog is drained: new operations from now on
        if ids:
            with contextlib.suppress(*REDIS_ERRORS):  # at worst they come back as backlog after a restart
                self.r.xack(self._in, GROUP, *ids)
        self.applied += len(ids)
        return len(ids)

    def _apply(self, op: dict[str, str]) -> None:
        character, kind = op.get("c", ""), op.get("op")
        if not character:
            return
        if op.get("gw"):
            self._gw_of[character] = op["gw"]
        if kind == "enter":
            if not self.game.present(character) and self._seat(character):
                self.game.enter(character)
        elif kind == "command":
            if not self.game.present(character):
                if not self._seat(character):
                    return
                self.game.enter(character)
            self.game.command(character, op.get("line", ""))
        elif kind == "leave":
            self.game.leave(character)
            if self.seats is not None:
                self.seats.leaving(character)

    def _seat(self, character: str) -> bool:
        """Whether ``character`` may enter here (claimed); if not, its gateway is told why."""
        refusal = None if self.seats is None else self.seats.take(character)
        if refusal is None:
            return True
        gateway = self._gw_of.get(character)
        if gateway is not None:
            self._out.append((gateway, character, [{"type": "refused", "text": refusal}]))
        return False

    def after_tick(self) -> None:
        """Settle the characters that left this tick; take out those this shard lost."""
        if self.seats is None:
            return
        self.seats.settle()
        for character in self.seats.take_lost():
            self.game.leave(character)
            gateway = self._gw_of.get(character)
            if gateway is not None:
                text = "Your character was taken up by another shard: this one lost it. Connect again."
                self._out.append((gateway, character, [{"type": "disconnect", "reason": text}]))

    def _collect(self, character: str, events: list[Event]) -> None:
        gateway = self._gw_of.get(character)
        if gateway is not None:
            self._out.append((gateway, character, events))

    def flush(self) -> None:
        if not self._out:
            return
        out, self._out = self._out, []
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

    def heartbeat(self, now: float) -> None:
        if now - self._beat_at < self.ttl_ms / 8000:
            return
        self._beat_at = now
        with contextlib.suppress(*REDIS_ERRORS):
            self.r.set(keys.shard_alive(self.shard), self.boot_id, px=self.ttl_ms)
        if self.seats is not None:
            self.seats.renew(now)

    def save_characters(self) -> None:
        if self.seats is not None:
            self.seats.save_all()

    def release_characters(self) -> None:
        """Save and release every character held (a shard on its way out)."""
        if self.seats is not None:
            self.seats.release_all()

    def close(self) -> None:
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
    try:
        while not stop.is_set():
            host.pump()
            game.step()
            host.after_tick()
            host.flush()
            ran += 1
            now = time.monotonic()
            host.heartbeat(now)
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
