"""Redis clients: one place that makes them, and one list of what a call may raise.

- ``REDIS_ERRORS``: what a Redis call raises while Redis is away, paused or restarting (callers
  pair it with a ``core.breaker.Breaker``).
- ``shared_client(url, role=…)``: one thread-safe pooled client per role and URL for the process
  (the live room's publishes, the offer gate), made once under a lock. ``blocking=True`` makes a
  request thread wait up to ``timeout`` for a free connection instead of failing when the pool is
  busy (hundreds of ASGI threads exhausted a plain pool and tripped the breaker).
- ``probe(url)``: a short-lived client with a 1 s timeout for health checks and metrics.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

import redis

REDIS_ERRORS = (redis.RedisError, OSError)

_lock = threading.Lock()
_clients: dict[tuple[str, str], redis.Redis] = {}


def shared_client(url: str, *, role: str, timeout: float = 2.0, max_connections: int = 200,
                  blocking: bool = False) -> redis.Redis:
    key = (role, url)
    client = _clients.get(key)
    if client is None:
        with _lock:
            client = _clients.get(key)
            if client is None:
                if blocking:
                    pool = redis.BlockingConnectionPool.from_url(
                        url, max_connections=max_connections, timeout=timeout,
                        socket_timeout=timeout, socket_connect_timeout=timeout, health_check_interval=30)
                else:
                    pool = redis.ConnectionPool.from_url(
                        url, max_connections=max_connections, socket_timeout=timeout,
                        socket_connect_timeout=timeout, health_check_interval=30)
                client = _clients[key] = redis.Redis(connection_pool=pool)
    return client


@contextmanager
def probe(url: str):
    client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    try:
        yield client
    finally:
        client.close()
