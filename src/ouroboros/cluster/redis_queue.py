"""The job queue on Redis Streams (7.0 commands only), for a cluster of processes.

Layout under a namespace ``ns`` (hash-tagged, so every key sits in one slot):

- ``{ns}:jobs:KIND`` a stream per job kind, read by the consumer group ``workers``;
- ``{ns}:queued`` the keys queued or running (a set: a key is submitted once), and ``{ns}:entry``
  each queued key's newest stream entry;
- ``{ns}:results`` key → result JSON (a hash: a key's result is written once), and
  ``{ns}:results:log`` a stream of the keys in the order their results were written;
- ``{ns}:dead`` the dead letters (a stream).

A delivery's lease is its entry's idle time in the group's pending list: the worker running it
renews it with ``XCLAIM … JUSTID`` (which resets the idle time), and the janitor, on a timer,
takes every entry idle past the lease with ``XAUTOCLAIM`` and hands it on — added again with its
attempt counted, or to the dead letters after the last — so a job whose worker died is finished
by another with no further traffic. Writing a result, acknowledging the delivery and dropping
the key from ``queued`` is one Lua script: the key's result is written once however many
deliveries finish.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

import redis

from ouroboros.cluster import keys
from ouroboros.cluster.jobs import DeadLetter, Job, QueueStats, check_job, dump_result, load_object
from ouroboros.errors import ClusterError

GROUP = "workers"
JANITOR = "janitor"

# KEYS: queued, results, results log, stream, entry ; ARGV: key, result, entry id, group.
# A fresh result also drops a copy of the job still waiting (handed on while this one ran late).
_COMPLETE = """
local fresh = redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2])
if fresh == 1 then
  redis.call('XADD', KEYS[3], '*', 'key', ARGV[1])
  redis.call('SREM', KEYS[1], ARGV[1])
  local copy = redis.call('HGET', KEYS[5], ARGV[1])
  if copy and copy ~= ARGV[3] then
    if #redis.call('XPENDING', KEYS[4], ARGV[4], copy, copy, 1) == 0 then
      redis.call('XDEL', KEYS[4], copy)
    end
  end
  redis.call('HDEL', KEYS[5], ARGV[1])
end
redis.call('XACK', KEYS[4], ARGV[4], ARGV[3])
redis.call('XDEL', KEYS[4], ARGV[3])
return fresh
"""
# KEYS: queued, results, stream, dead, entry ; ARGV: entry id, group, key, kind, payload, attempt, priority,
# max deliveries, error. Acknowledges the delivery, then: done already → forget; last attempt →
# dead letter; else → added again with the next attempt.
_RETRY = """
local acked = redis.call('XACK', KEYS[3], ARGV[2], ARGV[1])
if acked == 0 then return -1 end
redis.call('XDEL', KEYS[3], ARGV[1])
if redis.call('HEXISTS', KEYS[2], ARGV[3]) == 1 then
  return 0
end
local attempt = tonumber(ARGV[6])
if attempt >= tonumber(ARGV[8]) then
  redis.call('XADD', KEYS[4], '*', 'key', ARGV[3], 'kind', ARGV[4], 'payload', ARGV[5],
             'attempts', attempt, 'error', ARGV[9])
  redis.call('SREM', KEYS[1], ARGV[3])
  redis.call('HDEL', KEYS[5], ARGV[3])
  return 2
end
local id = redis.call('XADD', KEYS[3], '*', 'key', ARGV[3], 'kind', ARGV[4], 'payload', ARGV[5],
                      'attempt', attempt + 1, 'priority', ARGV[7])
redis.call('HSET', KEYS[5], ARGV[3], id)
return 1
"""
# KEYS: queued, results, stream, entry ; ARGV: key, kind, payload, priority
_SUBMIT = """
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return 0 end
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
local id = redis.call('XADD', KEYS[3], '*', 'key', ARGV[1], 'kind', ARGV[2], 'payload', ARGV[3],
                      'attempt', 1, 'priority', ARGV[4])
redis.call('HSET', KEYS[4], ARGV[1], id)
return 1
"""


class RedisJobQueue:
    def __init__(
        self,
        url: str,
        kinds: tuple[str, ...],
        namespace: str = "ouroboros",
        max_deliveries: int = 3,
        socket_timeout_s: float = 5.0,
    ) -> None:
        self.kinds = tuple(sorted(set(kinds)))
        self.max_deliveries = max_deliveries
        self.ns = keys.ns(namespace)
        try:
            self.r = redis.Redis.from_url(url, socket_timeout=socket_timeout_s, decode_responses=True)
        except ValueError as exc:
            raise ClusterError(f"--redis {url!r}: {exc}") from exc
        self._submit = self.r.register_script(_SUBMIT)
        self._complete = self.r.register_script(_COMPLETE)
        self._retry = self.r.register_script(_RETRY)
        self._groups_ready = False

    # -- keys ---------------------------------------------------------------------------------
    def stream(self, kind: str) -> str:
        return f"{self.ns}:jobs:{kind}"

    @property
    def _queued(self) -> str:
        return f"{self.ns}:queued"

    @property
    def _results(self) -> str:
        return f"{self.ns}:results"

    @property
    def _log(self) -> str:
        return f"{self.ns}:results:log"

    @property
    def _entry(self) -> str:
        return f"{self.ns}:entry"

    @property
    def _dead(self) -> str:
        return f"{self.ns}:dead"

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except redis.exceptions.ConnectionError as exc:
            raise ClusterError(f"redis is unreachable: {exc}") from exc
        except redis.exceptions.TimeoutError as exc:
            raise ClusterError(f"redis timed out: {exc}") from exc

    def ensure_groups(self) -> None:
        if self._groups_ready:
            return
        for kind in self.kinds:
            try:
                self._call(self.r.xgroup_create, self.stream(kind), GROUP, id="0", mkstream=True)
            except redis.exceptions.ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise ClusterError(f"redis refused to make a consumer group: {exc}") from exc
        self._groups_ready = True

    def _check_kind(self, kind: str) -> None:
        if kind not in self.kinds:
            raise ClusterError(f"job kind {kind!r} is not served here (kinds: {', '.join(self.kinds)})")

    # -- the contract ----------------------------------------------------------------------------
    def submit(self, kind: str, payload: Mapping[str, Any], key: str, priority: int = 0) -> bool:
        text = check_job(kind, payload, key)
        self._check_kind(kind)
        self.ensure_groups()
        keys = [self._queued, self._results, self.stream(kind), self._entry]
        return bool(self._call(self._submit, keys=keys, args=[key, kind, text, int(priority)]))

    def claim(self, consumer: str, wait_s: float = 0.0, kinds: frozenset[str] | None = None) -> Job | None:
        self.ensure_groups()
        streams = {self.stream(k): ">" for k in self.kinds if kinds is None or k in kinds}
        block = int(wait_s * 1000) if wait_s > 0 else None
        try:
            got = self._call(self.r.xreadgroup, GROUP, consumer, streams, count=1, block=block)
        except redis.exceptions.ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            self._groups_ready = False  # a Redis restarted without its data: make the groups again
            self.ensure_groups()
            return None
        for _stream, entries in got or ():
            for entry_id, fields in entries:
                return self._job(entry_id, fields)
        return None

    @staticmethod
    def _job(entry_id: str, fields: Mapping[str, str]) -> Job:
        return Job(
            key=fields["key"],
            kind=fields["kind"],
            payload=load_object(fields["payload"]),
            attempt=int(fields.get("attempt", 1)),
            priority=int(fields.get("priority", 0)),
            handle=entry_id,
        )

    def renew(self, job: Job, consumer: str) -> bool:
        # XCLAIM resets the entry's idle time; it returns nothing once the entry is acknowledged
        # (the janitor handed the job on): the lease is lost.
        got = self._call(self.r.xclaim, self.stream(job.kind), GROUP, consumer, 0, [job.handle], justid=True)
        return bool(got)

    def complete(self, job: Job, result: Mapping[str, Any]) -> bool:
        text = dump_result(result)
        keys = [self._queued, self._results, self._log, self.stream(job.kind), self._entry]
        return bool(self._call(self._complete, keys=keys, args=[job.key, text, job.handle, GROUP]))

    def fail(self, job: Job, error: str) -> None:
        self._hand_on(job, error)

    def _hand_on(self, job: Job, error: str) -> int:
        keys = [self._queued, self._results, self.stream(job.kind), self._dead, self._entry]
        payload = json.dumps(job.payload, sort_keys=True, separators=(",", ":"))
        args = [job.handle, GROUP, job.key, job.kind, payload, job.attempt, job.priority,
                self.max_deliveries, error[:500]]  # fmt: skip
        return int(self._call(self._retry, keys=keys, args=args))

    def reclaim(self, idle_s: float) -> int:
        """Hand on every delivery idle for ``idle_s`` (XAUTOCLAIM to the janitor, then retry)."""
        self.ensure_groups()
        moved = 0
        for kind in self.kinds:
            cursor = "0-0"
            while True:
                idle_ms = int(idle_s * 1000)
                got = self._call(
                    self.r.xautoclaim, self.stream(kind), GROUP, JANITOR, idle_ms, cursor, count=100
                )
                cursor, entries = got[0], got[1]
                for entry_id, fields in entries:
                    if not fields:
                        continue  # deleted meanwhile
                    job = self._job(entry_id, fields)
                    if self._hand_on(job, "lease expired: its worker stopped renewing it") >= 0:
                        moved += 1
                if cursor in ("0-0", b"0-0"):
                    break
        return moved

    def result(self, key: str) -> dict[str, Any] | None:
        text = self._call(self.r.hget, self._results, key)
        return None if text is None else load_object(text)

    def results_since(self, cursor: str, limit: int = 100) -> tuple[str, list[tuple[str, dict[str, Any]]]]:
        low = f"({cursor}" if cursor else "-"
        entries = self._call(self.r.xrange, self._log, low, "+", count=limit)
        if not entries:
            return cursor, []
        keys = [fields["key"] for _, fields in entries]
        texts = self._call(self.r.hmget, self._results, keys)
        out = [(k, load_object(t)) for k, t in zip(keys, texts, strict=True) if t is not None]
        return entries[-1][0], out

    def dead_letters(self) -> list[DeadLetter]:
        entries = self._call(self.r.xrange, self._dead, "-", "+")
        return [
            DeadLetter(f["key"], f["kind"], load_object(f["payload"]), int(f["attempts"]), f["error"])
            for _, f in entries
        ]

    def stats(self) -> QueueStats:
        self.ensure_groups()
        waiting = running = 0
        consumers: set[str] = set()
        for kind in self.kinds:
            # acknowledged entries are deleted, so a stream holds the waiting and running ones
            # (the group's ``lag`` is no help: Redis cannot tell it after a deletion)
            pending = 0
            for group in self._call(self.r.xinfo_groups, self.stream(kind)):
                if group["name"] == GROUP:
                    pending = int(group["pending"])
            running += pending
            waiting += int(self._call(self.r.xlen, self.stream(kind))) - pending
            for c in self._call(self.r.xinfo_consumers, self.stream(kind), GROUP):
                if int(c["pending"]) > 0:
                    consumers.add(c["name"])
        dead = int(self._call(self.r.xlen, self._dead))
        results = int(self._call(self.r.hlen, self._results))
        return QueueStats(waiting, running, dead, results, sorted(consumers))

    def ping(self) -> bool:
        try:
            return bool(self.r.ping())
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
            return False

    def close(self) -> None:
        self.r.close()


def wait_for_redis(url: str, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    client = redis.Redis.from_url(url, socket_timeout=1.0)
    try:
        while True:
            try:
                client.ping()
                return
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
                if time.monotonic() > deadline:
                    raise ClusterError(f"redis at {url} did not answer in {timeout_s:g} s: {exc}") from exc
                time.sleep(0.05)
    finally:
        client.close()


__all__ = ["GROUP", "RedisJobQueue", "wait_for_redis"]
