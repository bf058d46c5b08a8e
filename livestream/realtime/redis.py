"""Redis connections and names for the live room.

Pub/sub channels are global to a Redis server (not per database), so every name
carries the database number of ``REDIS_URL``: two deployments (or two test runs)
on one server never hear each other's rooms.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from urllib.parse import urlsplit

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

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


class _Breaker:
    """After a failed call, sync callers skip Redis for ``LIVE_ROOM_REDIS_RETRY_AFTER`` seconds.

    A paused or unreachable Redis does not answer with an error: each call waits for the socket
    timeout. Without the breaker every request publishing a room event (a checkout, a chat batch)
    would wait that long, one after the other; with it, only the calls already on their way do,
    and the rest fail (or skip the event) at once until the next probe. One warning per outage."""

    def __init__(self):
        self.down_until = 0.0
        self.down = False

    def available(self) -> bool:
        return time.monotonic() >= self.down_until

    def failed(self, exc: BaseException) -> None:
        if not self.down:
            logger.warning("live room: Redis unreachable (%s: %s); room events are skipped and chat refused "
                           "for %.0f s at a time until it answers", exc.__class__.__name__, exc,
                           settings.LIVE_ROOM_REDIS_RETRY_AFTER)
        self.down = True
        self.down_until = time.monotonic() + settings.LIVE_ROOM_REDIS_RETRY_AFTER

    def succeeded(self) -> None:
        if self.down:
            self.down = False
            logger.warning("live room: Redis answers again")

    def reset(self) -> None:
        self.down_until, self.down = 0.0, False


breaker = _Breaker()


def async_client():
    """A new asyncio client (one per event loop: the room process owns and closes it)."""
    import redis.asyncio as aioredis

    return aioredis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_keepalive=True,
                                   max_connections=50)
