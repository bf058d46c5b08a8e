"""Rate limits counted in the shared Redis, exact under parallel requests.

DRF's ``SimpleRateThrottle`` reads a list of timestamps, appends and writes it back: two
requests arriving together both read the same list, and a burst of parallel requests gets
through well past the limit. ``WindowRateThrottle`` counts with one atomic transaction instead
(``SET key 0 EX window NX; INCR key; TTL key``): the window opens at the first request of a
caller and closes ``window`` seconds later, every request in it is counted exactly once, and the
time left is what ``Retry-After`` says.

If Redis cannot be reached the limit is not enforced for a few seconds (logged): a throttle
protects the service, it must not be the reason it answers 500 or stalls while Redis is away.
Without Redis (local runs) Django's cache stands in, with the same counting.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

from .breaker import Breaker

_OUTAGE_BACKOFF_S = 5.0
_breaker = Breaker("rate limits' cache", retry_after=lambda: _OUTAGE_BACKOFF_S,
                   consequence="rate limits are not enforced")


def _redis_client():
    """The redis-py client behind Django's Redis cache, or None for another cache backend."""
    backend = getattr(cache, "_cache", None)
    get_client = getattr(backend, "get_client", None)
    return get_client(None, write=True) if get_client else None


def window_hit(key: str, *, limit: int, window_s: int) -> tuple[bool, int]:
    """Count one request against ``key``; returns (allowed, seconds until the window closes)."""
    if not _breaker.available():
        return True, 0
    full_key = cache.make_and_validate_key(key)
    try:
        client = _redis_client()
        if client is not None:
            pipe = client.pipeline(transaction=True)
            pipe.set(full_key, 0, ex=window_s, nx=True)
            pipe.incr(full_key)
            pipe.ttl(full_key)
            _created, count, ttl = pipe.execute()
        else:
            cache.add(key, 0, window_s)
            try:
                count = cache.incr(key)
            except ValueError:  # expired between the two calls
                cache.add(key, 1, window_s)
                count = 1
            ttl = window_s
    except Exception as exc:  # noqa: BLE001 - any cache failure: serve, and stop asking for a moment
        _breaker.failed(exc)
        return True, 0
    _breaker.succeeded()
    return count <= limit, max(int(ttl), 1) if ttl and ttl > 0 else window_s


_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """``"30/min"`` -> (30, 60); the period is read by its first letter (s, m, h, d), as in DRF."""
    number, period = rate.split("/")
    return int(number), _PERIODS[period.strip()[0]]


def outage_reset() -> None:
    """Forget a past cache outage (tests)."""
    _breaker.reset()


class WindowRateThrottle(BaseThrottle):
    """A DRF throttle over ``window_hit``. Subclasses set ``scope`` (its rate is
    ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][scope]``, e.g. ``"30/min"``) and ``get_ident``-like
    ``get_key_ident`` (None: this throttle does not apply to the request)."""

    scope: str = ""

    def __init__(self):
        rate = settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {}).get(self.scope)
        self.limit, self.window_s = parse_rate(rate) if rate else (None, None)
        self._wait = None

    def get_key_ident(self, request, view) -> str | None:
        raise NotImplementedError

    def allow_request(self, request, view) -> bool:
        if self.limit is None:
            return True
        ident = self.get_key_ident(request, view)
        if ident is None:
            return True
        digest = hashlib.blake2b(str(ident).encode(), digest_size=12).hexdigest()  # any text makes a valid key
        allowed, wait = window_hit(f"throttle:{self.scope}:{digest}", limit=self.limit, window_s=self.window_s)
        self._wait = wait
        return allowed

    def wait(self):
        return self._wait


class IPRateThrottle(WindowRateThrottle):
    """Counted per client address (``REMOTE_ADDR``, the client's own behind a trusted proxy: core/proxy.py)."""

    def get_key_ident(self, request, view) -> str | None:
        return self.get_ident(request)


class UserRateThrottle(WindowRateThrottle):
    """Counted per signed-in user; anonymous requests are left to the address's throttle."""

    def get_key_ident(self, request, view) -> str | None:
        user = getattr(request, "user", None)
        return str(user.pk) if user is not None and user.is_authenticated else None


def client_address(request) -> str:
    """The caller's address as every per-address limit counts it (``REMOTE_ADDR``, the client's own
    behind a trusted proxy: core/proxy.py); works on a DRF request and on a plain Django one (the admin)."""
    return BaseThrottle().get_ident(request)


def shared_redis():
    """The Redis client behind the cache (None without Redis), for limits that need more than a counter."""
    return _redis_client()
