"""One guard for every password sign-in: the API's ``POST /api/auth/token`` and the Django admin.

Rules (settings ``LOGIN_GUARD_*``, README):

- **Per account, exponential back-off, never a lock.** Each failed sign-in of a username is counted
  (forgotten ``LOGIN_GUARD_MEMORY_S`` after the last one). The first ``LOGIN_GUARD_FREE_FAILURES``
  (5) cost nothing; after the n-th failure beyond them the next try waits 2, 4, 8, … seconds,
  capped at ``LOGIN_GUARD_MAX_WAIT_S`` (15 min). While it waits every try is refused *before* the
  password is checked (the right one too, so a guesser learns nothing), and refused tries are not
  counted, so the wait never grows past the cap: the right password always gets in after at most
  15 minutes.
- **Known addresses keep their owner in.** An address the account signed in from (in the last
  ``LOGIN_GUARD_KNOWN_S``, 30 days) is held only to the failures made *from it* for that account,
  so an attacker elsewhere cannot keep the owner out even by renewing the back-off forever.
- **Per address.** ``LOGIN_GUARD_ADDRESS_FAILURES`` (20) failures from one client address (any
  usernames) in ``LOGIN_GUARD_ADDRESS_WINDOW_S`` (15 min) refuse that address until the window ends:
  one client cannot spray passwords over many accounts. The address is the one every per-address
  limit uses (``core.throttling.client_address``).
- Captcha-free. A try is counted when it begins (one Lua script in Redis: exact under parallel
  requests, so a burst of 40 wrong passwords is 5 guesses, not 40) and forgiven when it succeeds.
  Without Redis (local runs) the cache stands in under a process lock; if Redis is away the guard
  lets sign-ins through for a few seconds (logged), like every rate limit (core/throttling.py).
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import Throttled

from core.breaker import Breaker
from core.throttling import client_address, shared_redis

_breaker = Breaker("login guard's cache", retry_after=lambda: 5.0, consequence="sign-ins are not limited")
_local_lock = threading.Lock()

ACCOUNT, ADDRESS = 1, 2

# KEYS: account counter, account-at-address counter, address failures, the account's known addresses.
# ARGV: now, address digest, free failures, max wait, memory s, address limit, address window s.
_BEGIN = """
local now = tonumber(ARGV[1])
local known = redis.call('SISMEMBER', KEYS[4], ARGV[2]) == 1
local counter = KEYS[1]
if known then counter = KEYS[2] end
local n = tonumber(redis.call('HGET', counter, 'n') or '0')
local last = tonumber(redis.call('HGET', counter, 'last') or '0')
local free = tonumber(ARGV[3])
local wait, why = 0, 1
if n >= free then
  wait = last + math.min(2 ^ (n - free + 1), tonumber(ARGV[4])) - now
end
local failures = tonumber(redis.call('GET', KEYS[3]) or '0')
if failures >= tonumber(ARGV[6]) then
  local ttl = redis.call('TTL', KEYS[3])
  if ttl > wait then wait, why = ttl, 2 end
end
if wait > 0 then return {math.ceil(wait), why} end
local counted = {KEYS[2]}
if not known then table.insert(counted, KEYS[1]) end
for _, key in ipairs(counted) do
  redis.call('HINCRBY', key, 'n', 1)
  redis.call('HSET', key, 'last', ARGV[1])
  redis.call('EXPIRE', key, ARGV[5])
end
redis.call('SET', KEYS[3], 0, 'EX', ARGV[7], 'NX')
redis.call('INCR', KEYS[3])
if known then return {0, 1} end
return {0, 0}
"""


class LoginRefused(Throttled):
    """A sign-in refused by the guard: 429 with ``Retry-After`` in the API, a form error in the admin."""

    def __init__(self, wait: int, why: int):
        self.why = why
        message = (_("Too many failed sign-ins from your address.") if why == ADDRESS
                   else _("Too many failed sign-ins for this account."))
        super().__init__(wait=wait, detail=str(message))  # DRF adds "Expected available in N seconds."


@dataclass(frozen=True)
class Attempt:
    keys: tuple[str, str, str, str]
    address_digest: str
    known: bool


def backoff_s(failures: int) -> int:
    """How long the next try waits after ``failures`` failures (0 while they are free)."""
    free = settings.LOGIN_GUARD_FREE_FAILURES
    return 0 if failures < free else min(2 ** (failures - free + 1), settings.LOGIN_GUARD_MAX_WAIT_S)


def _digest(*parts: str) -> str:
    return hashlib.blake2b("\x1f".join(parts).encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()


def normalise_username(username) -> str:
    return username.strip().lower()[:150] if isinstance(username, str) else ""


def begin(*, username, request) -> Attempt | None:
    """Count a sign-in try before its password is checked, or raise ``LoginRefused``.
    Returns the attempt to pass to ``succeeded`` (None when the guard is not counting)."""
    name = normalise_username(username)
    address = client_address(request) or "-"
    address_digest = _digest(address)
    keys = (f"login:account:{_digest(name)}", f"login:pair:{_digest(name, address)}",
            f"login:address:{address_digest}", f"login:known:{_digest(name)}")
    args = (time.time(), address_digest, settings.LOGIN_GUARD_FREE_FAILURES, settings.LOGIN_GUARD_MAX_WAIT_S,
            settings.LOGIN_GUARD_MEMORY_S, settings.LOGIN_GUARD_ADDRESS_FAILURES,
            settings.LOGIN_GUARD_ADDRESS_WINDOW_S)
    if not _breaker.available():
        return None
    try:
        client = shared_redis()
        if client is not None:
            full = [cache.make_and_validate_key(key) for key in keys]
            wait, flag = client.eval(_BEGIN, 4, *full, *args)
        else:
            wait, flag = _begin_in_cache(keys, *args)
    except Exception as exc:  # noqa: BLE001 - any cache failure: let sign-ins through, stop asking for a moment
        _breaker.failed(exc)
        return None
    _breaker.succeeded()
    if wait > 0:
        raise LoginRefused(int(wait), int(flag))
    return Attempt(keys, address_digest, known=bool(flag))


def succeeded(attempt: Attempt | None) -> None:
    """The password was right: forget this try and its account's failures here; remember the address."""
    if attempt is None:
        return
    account, pair, address, known = attempt.keys
    cleared = [pair] if attempt.known else [pair, account]
    try:
        client = shared_redis()
        if client is not None:
            full = {key: cache.make_and_validate_key(key) for key in attempt.keys}
            pipe = client.pipeline(transaction=True)
            pipe.delete(*(full[key] for key in cleared))
            pipe.decr(full[address])
            pipe.sadd(full[known], attempt.address_digest)
            pipe.expire(full[known], settings.LOGIN_GUARD_KNOWN_S)
            pipe.execute()
        else:
            with _local_lock:
                cache.delete_many(cleared)
                failures = cache.get(address)
                if failures:
                    cache.set(address, (failures[0] - 1, failures[1]), max(int(failures[1] - time.time()), 1))
                addresses = cache.get(known) or set()
                cache.set(known, addresses | {attempt.address_digest}, settings.LOGIN_GUARD_KNOWN_S)
    except Exception as exc:  # noqa: BLE001
        _breaker.failed(exc)


def _begin_in_cache(keys, now, address_digest, free, max_wait, memory_s, address_limit, window_s):
    """The Lua script's rule over Django's cache (local runs without Redis), under a process lock."""
    account, pair, address, known_key = keys
    with _local_lock:
        known = address_digest in (cache.get(known_key) or set())
        n, last = cache.get(pair if known else account) or (0, 0.0)
        wait, why = (last + backoff_s(n) - now if n >= free else 0), ACCOUNT
        failures, window_end = cache.get(address) or (0, now + window_s)
        if failures >= address_limit and window_end - now > wait:
            wait, why = window_end - now, ADDRESS
        if wait > 0:
            return math.ceil(wait), why
        for key in ([pair] if known else [pair, account]):
            count, _last = cache.get(key) or (0, 0.0)
            cache.set(key, (count + 1, now), memory_s)
        cache.set(address, (failures + 1, window_end), max(int(window_end - now), 1))
        return 0, int(known)


def guard_reset() -> None:
    """Forget a past cache outage (tests)."""
    _breaker.reset()
