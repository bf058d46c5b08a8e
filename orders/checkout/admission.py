"""Checkout admission: the gate's verdict before any database work, and its bookkeeping after.

``checkout_admission`` wraps the database checkout: a buyer the gate refuses gets the 409 at
once; a buyer it admits holds the gate's units until the checkout either commits (they stay
taken) or fails (they go back, and if the database refused what the gate allowed, the gate is
reloaded from the database: PostgreSQL is the truth).
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from accounts.authentication import verified_access_token
from core.errors import ServiceUnavailable
from core.jwt_auth import token_user_id as jwt_token_user_id

from ..services.errors import OfferNotLive, OverBuyerLimit, SoldOut
from .gate import ADMITTED, OVER_LIMIT, SOLD_OUT, GateLine, gate_release, gate_reserve, offer_gate_reset


def token_user_id(request) -> int | None:
    """The user id a valid access token names, without touching the database (None if none).
    The token is verified once per request (the checkout throttle asks first; the authentication
    that loads the user later reuses it)."""
    token = verified_access_token(request)
    return None if token is None else jwt_token_user_id(token)


def offer_lines_of(data) -> list[tuple[int, int]]:
    """(offer id, units) of a checkout body's offer lines, read without validating the rest: the
    gate only needs these; anything malformed is left to the full validation (no gate then)."""
    try:
        items = data.get("items") or []
        return [(int(item["offer"]), int(item["quantity"])) for item in items[:50]
                if isinstance(item, dict) and item.get("offer") and 0 < int(item["quantity"]) < 1000]
    except (AttributeError, KeyError, TypeError, ValueError, OverflowError):
        return []


@contextmanager
def checkout_admission(*, buyer_id: int | None, offer_lines: list[tuple[int, int]], idempotency_key: str = ""):
    """``offer_lines``: (offer id, units). Yields a callable telling whether the response failed."""
    lines = [GateLine(offer_id=o, quantity=n) for o, n in offer_lines]
    verdict = gate_reserve(buyer_id=buyer_id, lines=lines, idempotency_key=idempotency_key) \
        if (lines and buyer_id) else None
    if verdict == SOLD_OUT:
        raise SoldOut()
    if verdict == OVER_LIMIT:
        raise OverBuyerLimit()
    outcome = {"failed": False}
    try:
        yield outcome
    except (SoldOut, OfferNotLive, OverBuyerLimit):
        if verdict == ADMITTED:
            _mismatch(lines)
        raise
    except BaseException:
        if verdict == ADMITTED:
            gate_release(buyer_id=buyer_id, lines=lines)
        raise
    if verdict == ADMITTED and outcome["failed"]:
        gate_release(buyer_id=buyer_id, lines=lines)


def _mismatch(lines: list[GateLine]) -> None:
    """The gate let through what the database refused: reload the gate from the truth."""
    for line in lines:
        offer_gate_reset(offer_id=line.offer_id)


_slots: threading.BoundedSemaphore | None = None
_slots_lock = threading.Lock()


@contextmanager
def checkout_slot():
    """At most ``ORDERS_CHECKOUT_CONCURRENCY`` checkouts of this process in the database at once.

    Under ASGI every sync request runs in a thread of its own; hundreds of runnable threads
    fighting for the GIL stretch every round trip of the transaction holding the offer's row
    lock (docs/benchmarks.md). Admitted buyers wait here, blocked and off the GIL, instead."""
    global _slots
    if _slots is None:
        with _slots_lock:
            if _slots is None:
                _slots = threading.BoundedSemaphore(settings.ORDERS_CHECKOUT_CONCURRENCY)
    if not _slots.acquire(timeout=settings.ORDERS_CHECKOUT_QUEUE_TIMEOUT):
        raise ServiceUnavailable(_("Checkout is very busy; please try again."))
    try:
        yield
    finally:
        _slots.release()
