"""Sockets per client address: at most ``WS_MAX_SOCKETS_PER_ADDRESS`` open at once (both routes).

Viewer inflation opened 2,000 anonymous live-room sockets from one address. ``SocketsPerAddress``
(the outermost WebSocket middleware, ``marketplace/asgi.py``) counts the open sockets of each
client address in Redis (``INCR`` with a TTL, ``DECR`` when the socket ends; the TTL,
``WS_ADDRESS_COUNT_TTL_S``, bounds what a crashed process leaves counted) and refuses the handshake
past the limit with close 4429 (an HTTP 403 on a real server). Without Redis (the embedded
default) a counter in the process stands in. If Redis cannot be reached the limit is not enforced
for a few seconds (logged), as for the HTTP throttles.

The client address is the HTTP throttles' rule (DRF's ``get_ident`` with ``NUM_PROXIES``): with no
proxy counted, the peer address — which uvicorn has already taken from ``X-Forwarded-For`` when the
peer is one of ``FORWARDED_ALLOW_IPS`` — else the ``NUM_PROXIES``-th address from the right of
``X-Forwarded-For``. It is kept as ``scope["client_address"]`` for the consumers (the live room
counts anonymous viewers by it).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import weakref

from django.conf import settings

from .breaker import Breaker
from .redis import REDIS_ERRORS

logger = logging.getLogger(__name__)

CLOSE_TOO_MANY = 4429
_breaker = Breaker("socket limits' Redis", retry_after=lambda: 5.0, consequence="sockets per address are not limited")
_clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_local: dict[str, int] = {}


def client_address(scope) -> str:
    headers = dict(scope.get("headers") or [])
    peer = (scope.get("client") or ("",))[0] or ""
    xff = headers.get(b"x-forwarded-for", b"").decode("latin-1")
    num_proxies = settings.REST_FRAMEWORK.get("NUM_PROXIES", 0)
    if not num_proxies or not xff:
        return peer
    addrs = xff.split(",")
    return addrs[-min(num_proxies, len(addrs))].strip()


def address_key(address: str) -> str:
    """A short digest standing for an address in Redis keys and presence members."""
    return hashlib.blake2b(address.encode(), digest_size=8).hexdigest()


def _client():
    import redis.asyncio as aioredis

    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        client = _clients[loop] = aioredis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    return client


async def _acquire(key: str, limit: int) -> bool:
    if not settings.REDIS_URL:
        _local[key] = _local.get(key, 0) + 1
        return _local[key] <= limit
    if not _breaker.available():
        return True
    try:
        pipe = _client().pipeline(transaction=True)
        pipe.incr(key)
        pipe.expire(key, settings.WS_ADDRESS_COUNT_TTL_S)
        count, _ok = await pipe.execute()
    except REDIS_ERRORS as exc:
        _breaker.failed(exc)
        return True
    _breaker.succeeded()
    return count <= limit


async def _release(key: str) -> None:
    if not settings.REDIS_URL:
        left = _local.get(key, 0) - 1
        if left > 0:
            _local[key] = left
        else:
            _local.pop(key, None)
        return
    try:
        client = _client()
        if await client.decr(key) <= 0:
            await client.delete(key)
    except REDIS_ERRORS as exc:  # the TTL forgets it
        logger.warning("socket count not released: %s: %s", exc.__class__.__name__, exc)


class SocketsPerAddress:
    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        address = client_address(scope)
        scope = dict(scope, client_address=address)
        limit = settings.WS_MAX_SOCKETS_PER_ADDRESS
        if not limit or not address:
            return await self.inner(scope, receive, send)
        key = f"{settings.CACHES['default'].get('KEY_PREFIX', '') or 'cunbo'}:ws:addr:{address_key(address)}"
        # A refused handshake still counted once: released below like any other socket.
        allowed = await _acquire(key, limit)
        try:
            if not allowed:
                message = await receive()
                if message.get("type") == "websocket.connect":
                    await send({"type": "websocket.close", "code": CLOSE_TOO_MANY})
                return None
            return await self.inner(scope, receive, send)
        finally:
            await asyncio.shield(_release(key))
