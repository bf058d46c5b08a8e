"""Who is watching: one member per open socket, refreshed by its process.

Redis (production): a sorted set per stream, member ``<process>:<socket>``, score
the time its process last vouched for it. Each process refreshes its own sockets
every ``LIVE_VIEWER_HEARTBEAT_S``; members older than ``LIVE_VIEWER_TTL_S`` (a
crashed or partitioned process) are pruned before counting, so they stop counting
within that time instead of forever.

``tick`` is the coalescer: at most one process per stream per interval wins a
``SET NX PX`` lock, prunes, counts, and learns whether the count changed since the
last broadcast and whether it is a new peak — one atomic script, one round trip.

Without Redis (the embedded single-process default) the same API is kept in memory.
"""

from __future__ import annotations

import time

from django.conf import settings

from . import redis as room_redis

_TICK = """
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[3]) == false then return {-1, 0} end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
local n = redis.call('ZCARD', KEYS[1])
local last = redis.call('GET', KEYS[3])
if last and tonumber(last) == n then return {-1, 0} end
redis.call('SET', KEYS[3], n, 'EX', 86400)
local peak = tonumber(redis.call('GET', KEYS[4]) or '0')
if n > peak then
  redis.call('SET', KEYS[4], n, 'EX', 86400)
  return {n, 1}
end
return {n, 0}
"""


class RedisPresence:
    def __init__(self, client):
        self.client = client
        self._tick = client.register_script(_TICK)

    async def change(self, stream_id: int, added: list[str], removed: list[str]) -> None:
        key = room_redis.viewers_key(stream_id)
        pipe = self.client.pipeline(transaction=False)
        if added:
            now = time.time()
            pipe.zadd(key, {member: now for member in added})
            pipe.expire(key, 86400)
        if removed:
            pipe.zrem(key, *removed)
        await pipe.execute()

    async def refresh(self, members_by_stream: dict[int, list[str]]) -> None:
        if not members_by_stream:
            return
        now = time.time()
        pipe = self.client.pipeline(transaction=False)
        for stream_id, members in members_by_stream.items():
            if members:
                key = room_redis.viewers_key(stream_id)
                pipe.zadd(key, {member: now for member in members})
                pipe.expire(key, 86400)
        await pipe.execute()

    async def tick(self, stream_id: int) -> tuple[int | None, bool]:
        """(count, new peak) if this process should broadcast a changed count now, else (None, False)."""
        key = room_redis.viewers_key(stream_id)
        count, peak = await self._tick(
            keys=[key, key + ":tick", key + ":last", key + ":peak"],
            args=[time.time(), settings.LIVE_VIEWER_TTL_S, int(settings.LIVE_VIEWERS_INTERVAL_S * 1000) - 50],
        )
        return (None, False) if count < 0 else (int(count), bool(peak))


def viewer_counts(stream_ids: list[int]) -> dict[int, int]:
    """Live sockets per stream, for the HTTP API (one round trip for the whole page)."""
    if not stream_ids:
        return {}
    if settings.LIVE_ROOM_FANOUT != "hub" and not settings.REDIS_URL:
        return {sid: _local.count(sid) for sid in stream_ids}
    breaker = room_redis.breaker
    if not breaker.available():
        return dict.fromkeys(stream_ids, 0)
    floor = time.time() - settings.LIVE_VIEWER_TTL_S
    try:
        pipe = room_redis.sync_client().pipeline(transaction=False)
        for sid in stream_ids:
            pipe.zcount(room_redis.viewers_key(sid), floor, "+inf")
        counts = pipe.execute()
    except room_redis.REDIS_ERRORS as exc:
        # While Redis is away nobody can be counted: the stream pages still answer (0 watching)
        # instead of failing for a figure.
        breaker.failed(exc)
        return dict.fromkeys(stream_ids, 0)
    breaker.succeeded()
    return {sid: int(n) for sid, n in zip(stream_ids, counts, strict=True)}


class LocalPresence:
    """In-process presence for the embedded default (one process, no Redis)."""

    def __init__(self):
        self.members: dict[int, set[str]] = {}
        self.last: dict[int, int] = {}
        self.peak: dict[int, int] = {}
        self.next_tick: dict[int, float] = {}

    def count(self, stream_id: int) -> int:
        return len(self.members.get(stream_id, ()))

    async def change(self, stream_id: int, added: list[str], removed: list[str]) -> None:
        members = self.members.setdefault(stream_id, set())
        members.update(added)
        members.difference_update(removed)
        if not members:
            self.members.pop(stream_id, None)

    async def refresh(self, members_by_stream) -> None:
        return None

    async def tick(self, stream_id: int) -> tuple[int | None, bool]:
        now = time.monotonic()
        if now < self.next_tick.get(stream_id, 0):
            return None, False
        self.next_tick[stream_id] = now + settings.LIVE_VIEWERS_INTERVAL_S - 0.05
        n = self.count(stream_id)
        if self.last.get(stream_id) == n:
            return None, False
        self.last[stream_id] = n
        if n > self.peak.get(stream_id, 0):
            self.peak[stream_id] = n
            return n, True
        return n, False


_local = LocalPresence()


def local_presence() -> LocalPresence:
    return _local
