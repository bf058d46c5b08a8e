"""Redis connections and names for the live room.

Pub/sub channels are global to a Redis server (not per database), so every name
carries the database number of ``REDIS_URL``: two deployments (or two test runs)
on one server never hear each other's rooms.
"""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

import redis
from django.conf import settings

from core.breaker import Breaker
from core.redis import REDIS_ERRORS, shared_client  # noqa: F401 - REDIS_ERRORS: the room's callers use it


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
    return shared_client(settings.REDIS_URL, role="live room")


# After a failed call, sync callers skip Redis for LIVE_ROOM_REDIS_RETRY_AFTER seconds: without it
# every request publishing a room event (a checkout, a chat batch) would wait out the timeout in turn.
breaker = Breaker("live room Redis", retry_after=lambda: settings.LIVE_ROOM_REDIS_RETRY_AFTER,
                  consequence="room events are skipped and chat refused")


def async_client():
    """A new asyncio client (one per event loop: the room process owns and closes it)."""
    import redis.asyncio as aioredis

    return aioredis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_keepalive=True,
                                   max_connections=50)
