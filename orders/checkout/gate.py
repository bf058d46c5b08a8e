"""The hot-offer gate: a Redis mirror of each live offer's remaining units and of each buyer's count.

A flash offer in a big stream puts thousands of buyers on one PostgreSQL row. The gate answers
the buyers who cannot get anything (sold out, over their limit) from Redis in one atomic Lua call,
so only about as many checkouts as there are units ever reach the database.

PostgreSQL stays the truth: the gate only ever *refuses early*; a buyer it admits still goes through
the conditional UPDATEs of the checkout. The gate is

- initialised from the database when an offer starts (``offer_gate_reset``, for the livestream app)
  and lazily whenever its key is missing;
- given units back when a checkout it admitted fails, or an order is cancelled (``gate_release``);
- re-read from the database on any mismatch (it admitted a buyer the database then refused);
- skipped when Redis is unreachable (the database path alone decides: never oversells), for
  ``ORDERS_GATE_RETRY_AFTER`` seconds before it is tried again.

Keys (one offer): ``gate:o:{id}:left`` (units), ``gate:o:{id}:buyers`` (hash buyer → units) and
``gate:o:{id}:limit`` (the per-buyer limit, 0 for none), so a refusal needs no database at all.
``gate:idem:{buyer}:{key}`` marks an Idempotency-Key the gate admitted, so a retry of a checkout
that succeeded reaches the stored answer instead of being told "sold out".
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from core.breaker import Breaker
from core.metrics import GATE_VERDICTS
from core.redis import REDIS_ERRORS, shared_client
from livestream.models import Offer

from ..models import OfferPurchase

ADMITTED, BYPASS, SOLD_OUT, OVER_LIMIT, MISSING = "admitted", "bypass", "sold_out", "over_limit", "missing"

# KEYS: [idem, left1, buyers1, limit1, left2, ...]; ARGV: [buyer, idem_ttl, n1, n2, ...]
# Returns {code, index}: 1 admitted, 2 bypass (idempotent retry), 0 sold out, -2 over limit, -1 key missing.
_RESERVE = """
if KEYS[1] ~= '' and redis.call('EXISTS', KEYS[1]) == 1 then return {2, 0} end
local count = (#KEYS - 1) / 3
for i = 1, count do
  local left = redis.call('GET', KEYS[3 * i - 1])
  if not left then return {-1, i} end
  local n = tonumber(ARGV[2 + i])
  if tonumber(left) < n then return {0, i} end
  local limit = tonumber(redis.call('GET', KEYS[3 * i + 1]) or '0')
  if limit > 0 then
    local have = tonumber(redis.call('HGET', KEYS[3 * i], ARGV[1]) or '0')
    if have + n > limit then return {-2, i} end
  end
end
for i = 1, count do
  local n = tonumber(ARGV[2 + i])
  redis.call('DECRBY', KEYS[3 * i - 1], n)
  redis.call('HINCRBY', KEYS[3 * i], ARGV[1], n)
end
if KEYS[1] ~= '' then redis.call('SET', KEYS[1], '1', 'EX', tonumber(ARGV[2])) end
return {1, 0}
"""

# KEYS: [left, buyers]; ARGV: [buyer, n]. Gives units back only to a gate that exists.
_RELEASE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('INCRBY', KEYS[1], tonumber(ARGV[2]))
local have = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
local after = have - tonumber(ARGV[2])
if after > 0 then redis.call('HSET', KEYS[2], ARGV[1], after) else redis.call('HDEL', KEYS[2], ARGV[1]) end
return 1
"""

# KEYS: [left, buyers, limit]; ARGV: [left, ttl, limit, buyer1, n1, ...]
_LOAD = """
redis.call('DEL', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[2]))
redis.call('SET', KEYS[3], ARGV[3], 'EX', tonumber(ARGV[2]))
for i = 4, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[2]))
return 1
"""


@dataclass(frozen=True)
class GateLine:
    offer_id: int
    quantity: int


class _Client:
    """One redis client per URL and process, with a short circuit-breaker after a failure."""

    def __init__(self):
        self._lock = threading.Lock()
        self._url = None
        self._client = None
        self._scripts = {}
        self.breaker = Breaker("offer gate Redis", retry_after=lambda: settings.ORDERS_GATE_RETRY_AFTER,
                               consequence="the database decides alone")

    def get(self):
        url = settings.ORDERS_GATE_REDIS_URL
        if not url:
            return None
        if not self.breaker.available():
            return None
        if url != self._url:
            with self._lock:
                if url != self._url:
                    client = shared_client(url, role="offer gate", blocking=True,
                                           timeout=settings.ORDERS_GATE_SOCKET_TIMEOUT,
                                           max_connections=settings.ORDERS_GATE_MAX_CONNECTIONS)
                    self._scripts = {name: client.register_script(body) for name, body in
                                     (("reserve", _RESERVE), ("release", _RELEASE), ("load", _LOAD))}
                    self._client, self._url = client, url
        return self._client

    def script(self, name):
        return self._scripts[name]

    def failed(self, exc: Exception) -> None:
        self.breaker.failed(exc)


_client = _Client()


def _keys(offer_id: int) -> tuple[str, str, str]:
    return f"gate:o:{offer_id}:left", f"gate:o:{offer_id}:buyers", f"gate:o:{offer_id}:limit"


def _ttl_for(ends_at) -> int:
    # Live until the offer ends, plus an hour so late cancellations still find the gate.
    return max(60, int((ends_at - timezone.now()).total_seconds()) + 3600)


def gate_reserve(*, buyer_id: int, lines: list[GateLine], idempotency_key: str = "") -> str | None:
    """Try to take ``lines`` from the gate. Returns ADMITTED, BYPASS, SOLD_OUT or OVER_LIMIT,
    or None when the gate cannot answer (no Redis): then the database path alone decides.
    Each answer is counted at /metrics (``cunbo_gate_verdicts_total``)."""
    verdict = _reserve(buyer_id=buyer_id, lines=lines, idempotency_key=idempotency_key)
    GATE_VERDICTS.labels(verdict or "unanswered").inc()
    return verdict


def _reserve(*, buyer_id: int, lines: list[GateLine], idempotency_key: str) -> str | None:
    if not lines:
        return BYPASS
    client = _client.get()
    if client is None:
        return None
    idem = f"gate:idem:{buyer_id}:{idempotency_key}" if idempotency_key else ""
    keys, args = [idem], [buyer_id, int(settings.IDEMPOTENCY_KEY_TTL.total_seconds())]
    for line in lines:
        keys.extend(_keys(line.offer_id))
        args.append(line.quantity)
    try:
        for _attempt in range(3):
            code, index = _client.script("reserve")(keys=keys, args=args, client=client)
            _client.breaker.succeeded()
            if code != -1:
                return {1: ADMITTED, 2: BYPASS, 0: SOLD_OUT, -2: OVER_LIMIT}[code]
            offer_gate_reset(offer_id=lines[index - 1].offer_id)
        return None
    except REDIS_ERRORS as exc:
        _client.failed(exc)
        return None


def gate_release(*, buyer_id: int, lines: list[GateLine]) -> None:
    """Give units back (a checkout the gate admitted failed, or an order was cancelled)."""
    client = _client.get()
    if client is None:
        return
    try:
        for line in lines:
            _client.script("release")(keys=list(_keys(line.offer_id)[:2]), args=[buyer_id, line.quantity], client=client)
    except REDIS_ERRORS as exc:
        _client.failed(exc)


def offer_gate_reset(*, offer_id: int) -> None:
    """(Re)load an offer's gate from PostgreSQL: its remaining units if live (else 0) and every
    buyer's count. Call it when an offer starts; the checkout calls it when the key is missing and
    after the database refused a buyer the gate had admitted."""


    client = _client.get()
    if client is None:
        return
    offer = Offer.objects.filter(pk=offer_id).values("status", "remaining", "ends_at", "per_buyer_limit").first()
    if offer is None:
        return
    live = offer["status"] == Offer.Status.LIVE and offer["ends_at"] > timezone.now()
    args = [offer["remaining"] if live else 0, _ttl_for(offer["ends_at"]), offer["per_buyer_limit"] or 0]
    for buyer_id, quantity in OfferPurchase.objects.filter(offer_id=offer_id, quantity__gt=0).values_list(
            "buyer_id", "quantity"):
        args.extend([buyer_id, quantity])
    try:
        _client.script("load")(keys=list(_keys(offer_id)), args=args, client=client)
    except REDIS_ERRORS as exc:
        _client.failed(exc)


def offer_gate_close(*, offer_id: int) -> None:
    """An offer ended: its gate refuses everyone from now on (the database would anyway)."""
    client = _client.get()
    if client is None:
        return
    left = _keys(offer_id)[0]
    try:
        client.set(left, 0, keepttl=True) if client.exists(left) else None
    except REDIS_ERRORS as exc:
        _client.failed(exc)


def gate_reset_breaker() -> None:
    """Forget a past Redis failure and reconnect afresh (tests, and after an operator fixed Redis)."""
    _client.breaker.reset()
    _client._url = None


def gate_left(*, offer_id: int) -> int | None:
    """The units the gate believes are left (None: no gate or no Redis)."""
    client = _client.get()
    if client is None:
        return None
    try:
        value = client.get(_keys(offer_id)[0])
    except REDIS_ERRORS as exc:
        _client.failed(exc)
        return None
    return None if value is None else int(value)


def offer_gates_reconcile() -> int:
    """Raise any live offer's gate that believes in fewer units than the database holds.

    A gate below the truth would turn buyers away from units that are there (a process died
    between admitting a buyer and giving the units back). A gate above it only sends a few more
    buyers to the database, which refuses them, so only this direction is repaired. Run by the
    payment-window sweep."""

    fixed = 0
    for offer_id, remaining in Offer.objects.filter(status=Offer.Status.LIVE, ends_at__gt=timezone.now()).values_list(
            "pk", "remaining"):
        left = gate_left(offer_id=offer_id)
        if left is not None and left < remaining:
            offer_gate_reset(offer_id=offer_id)
            fixed += 1
    return fixed
