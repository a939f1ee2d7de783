"""Characters on Redis: the store every shard of a cluster loads from.

Keeps the ``CharacterStore`` promises (``characters.store``) with one Lua script per operation,
so each check-and-write is atomic on the server (Redis 7.0 commands only). Keys live under the
cluster's namespace (``cluster.keys``: one hash slot): the record (``character:NAME``, no
expiry), the lease (``character:NAME:lease`` = ``TOKEN:HOLDER``, expiring by ``PX`` — Redis's
own clock ends a lease, no process's), the set of stored names and the fencing counter. Records
survive a Redis restart only as far as its persistence does: run it with ``appendonly yes``
(``cluster up`` does). Redis away or refusing: ``ClusterError``.
"""

from __future__ import annotations

import json
from typing import Any

import redis

from ouroboros.characters.store import (
    Record,
    Tokens,
    check_holder,
    check_name,
    check_ttl,
    encode_record,
)
from ouroboros.cluster import keys
from ouroboros.errors import CharacterHeldError, CharacterLeaseLostError, ClusterError

# KEYS: lease, record, counter. ARGV: holder, ttl_ms. -> {token, record|nil} or {0, other holder}
CLAIM = """
local cur = redis.call('GET', KEYS[1])
if cur then
  local holder = string.sub(cur, string.find(cur, ':', 1, true) + 1)
  if holder ~= ARGV[1] then return {0, holder} end
end
local token = redis.call('INCR', KEYS[3])
redis.call('SET', KEYS[1], token .. ':' .. ARGV[1], 'PX', ARGV[2])
return {token, redis.call('GET', KEYS[2])}
"""
# KEYS: lease, record, names. ARGV: TOKEN:HOLDER, name, record ('' for none), end the lease ('1'/'0')
WRITE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[3] ~= '' then
  redis.call('SET', KEYS[2], ARGV[3])
  redis.call('SADD', KEYS[3], ARGV[2])
end
if ARGV[4] == '1' then redis.call('DEL', KEYS[1]) end
return 1
"""
# KEYS: leases. ARGV: ttl_ms, then TOKEN:HOLDER for each lease. -> 1/0 per lease
RENEW = """
local out = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[i + 1] then
    redis.call('PEXPIRE', key, ARGV[1])
    out[i] = 1
  else
    out[i] = 0
  end
end
return out
"""
REDIS_ERRORS = (redis.exceptions.RedisError, OSError)


class RedisCharacters:
    def __init__(self, url: str, namespace: str = keys.NAMESPACE, socket_timeout_s: float = 5.0) -> None:
        try:
            self.r = redis.Redis.from_url(url, decode_responses=True, socket_timeout=socket_timeout_s)
        except ValueError as exc:
            raise ClusterError(f"--redis {url!r}: {exc}") from exc
        self.namespace = namespace
        self._tokens = Tokens()
        self._claim = self.r.register_script(CLAIM)
        self._write_script = self.r.register_script(WRITE)
        self._renew = self.r.register_script(RENEW)

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except REDIS_ERRORS as exc:
            raise ClusterError(f"character store: redis failed: {exc}") from exc

    def _lease(self, name: str) -> str:
        return keys.character_lease(name, self.namespace)

    def claim(self, name: str, holder: str, ttl_s: float) -> Record | None:
        check_name(name)
        check_holder(holder)
        ttl_ms = max(1, round(check_ttl(ttl_s) * 1000))
        ns = self.namespace
        token, text = self._call(
            self._claim,
            keys=[self._lease(name), keys.character(name, ns), keys.character_tokens(ns)],
            args=[holder, ttl_ms],
        )
        if int(token) == 0:
            raise CharacterHeldError(name, str(text))
        self._tokens.put(name, holder, int(token))
        return None if text is None else dict(json.loads(text))

    def _write(self, name: str, holder: str, text: str, end: bool) -> bool:
        token = self._tokens.get(name, holder)
        if token is None:
            return False
        ns = self.namespace
        done = self._call(
            self._write_script,
            keys=[self._lease(name), keys.character(name, ns), keys.character_names(ns)],
            args=[f"{token}:{holder}", name, text, "1" if end else "0"],
        )
        return int(done) == 1

    def save(self, name: str, holder: str, record: Record) -> None:
        check_name(name)
        check_holder(holder)
        if not self._write(name, holder, encode_record(name, record), end=False):
            self._tokens.drop(name, holder)
            raise CharacterLeaseLostError(f"{holder} no longer holds {name}: its save is refused", path=name)

    def release(self, name: str, holder: str, record: Record | None = None) -> bool:
        check_name(name)
        check_holder(holder)
        text = "" if record is None else encode_record(name, record)
        ok = self._write(name, holder, text, end=True)  # Redis away: the token is kept, try again
        self._tokens.drop(name, holder)
        if not ok and record is not None:
            raise CharacterLeaseLostError(
                f"{holder} no longer holds {name}: its record is refused", path=name
            )
        return ok

    def renew(self, holder: str, ttl_s: float) -> list[str]:
        check_holder(holder)
        ttl_ms = max(1, round(check_ttl(ttl_s) * 1000))
        held = sorted(self._tokens.of(holder).items())
        if not held:
            return []
        kept = self._call(
            self._renew,
            keys=[self._lease(name) for name, _ in held],
            args=[ttl_ms, *(f"{token}:{holder}" for _, token in held)],
        )
        lost = [name for (name, _), ok in zip(held, kept, strict=True) if int(ok) == 0]
        for name in lost:
            self._tokens.drop(name, holder)
        return lost

    def holder(self, name: str) -> str | None:
        check_name(name)
        value = self._call(self.r.get, self._lease(name))
        return None if value is None else str(value).partition(":")[2]

    def names(self) -> list[str]:
        return sorted(self._call(self.r.smembers, keys.character_names(self.namespace)))

    def persistent(self) -> bool | None:
        """Whether this Redis keeps data across a restart (AOF or RDB snapshots); ``None`` when it
        will not say (``CONFIG`` refused, as managed services do, or Redis away)."""
        try:
            config = self.r.config_get("appendonly")
            config.update(self.r.config_get("save"))
        except REDIS_ERRORS:
            return None
        return config.get("appendonly") == "yes" or bool(str(config.get("save") or "").strip())

    def close(self) -> None:
        self.r.close()


__all__ = ["RedisCharacters"]
