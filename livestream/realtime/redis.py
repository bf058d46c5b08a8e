"""Redis connections and names for the live room.

Pub/sub channels are global to a Redis server (not per database), so every name
carries the database number of ``REDIS_URL``: two deployments (or two test runs)
on one server never hear each other's rooms.
"""

from __future__ import annotations

import functools
import threading
from urllib.parse import urlsplit

import redis
from django.conf import settings

from core.breaker import Breaker

_lock = threading.Lock()
_sync_clients: dict[str, redis.Redis] = {}

# What a Redis call of the live room may raise when Redis is away, paused or restarting.
REDIS_ERRORS = (redis.RedisError, OSError)


@functools.lru_cache(maxsize=8)
def _prefix_for(url: str) -> str:
    path = urlsplit(url).path.strip("/") or "0"
    return f"cunbo:{path}:live:"


def prefix() -> str:
    return _prefix_for(settings.REDIS_URL)


def room_channel(stream_id: int) -> str:
    return f"{prefix()}room:{stream_id}"


def viewers_key(stream_id: int) -> str:
    return f"{prefix()}viewers:{stream_id}"


def sync_client() -> redis.Redis:
    """One thread-safe pooled client per URL for sync code (services, selectors, on_commit)."""
    url = settings.REDIS_URL
    client = _sync_clients.get(url)
    if client is None:
        with _lock:
            client = _sync_clients.get(url)
            if client is None:
                client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2,
                                              max_connections=200, health_check_interval=30)
                _sync_clients[url] = client
    return client


# After a failed call, sync callers skip Redis for LIVE_ROOM_REDIS_RETRY_AFTER seconds: without it
# every request publishing a room event (a checkout, a chat batch) would wait out the timeout in turn.
breaker = Breaker("live room Redis", retry_after=lambda: settings.LIVE_ROOM_REDIS_RETRY_AFTER,
                  consequence="room events are skipped and chat refused")


def async_client():
    """A new asyncio client (one per event loop: the room process owns and closes it)."""
    import redis.asyncio as aioredis

    return aioredis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_keepalive=True,
                                   max_connections=50)
