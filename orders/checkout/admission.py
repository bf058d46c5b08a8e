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
from django.db import connection
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.utils import get_md5_hash_password

from core.errors import ServiceUnavailable

from ..services.errors import OfferNotLive, OverBuyerLimit, SoldOut
from .gate import ADMITTED, OVER_LIMIT, SOLD_OUT, GateLine, gate_release, gate_reserve, offer_gate_reset


class CheckoutJWTAuthentication(JWTAuthentication):
    """simplejwt's authentication for the orders endpoint, with two savings on the checkout's path:
    the token is verified once per request (``token_user_id``, which the throttle and the gate ask
    first, keeps it), and the user is read by one plain SELECT of its columns instead of a queryset
    (building the query cost about 1 ms of CPU, a tenth of a checkout). ``get_user`` is a copy of
    simplejwt's: tests/orders/test_checkout_copies.py keeps the two giving the same answers."""

    _select = None

    def authenticate(self, request):
        token = getattr(request._request, "cunbo_validated_token", None)
        if token is None:
            return super().authenticate(request)
        return self.get_user(token), token

    def get_user(self, validated_token):
        if jwt_settings.USER_ID_FIELD != self.user_model._meta.pk.name:
            return super().get_user(validated_token)
        try:
            user_id = validated_token[jwt_settings.USER_ID_CLAIM]
        except KeyError as e:
            raise InvalidToken(_("Token contained no recognizable user identification")) from e
        meta = self.user_model._meta
        if self._select is None:
            columns = ", ".join(connection.ops.quote_name(f.column) for f in meta.concrete_fields)
            type(self)._select = (f"SELECT {columns} FROM {connection.ops.quote_name(meta.db_table)} "
                                  f"WHERE {connection.ops.quote_name(meta.pk.column)} = %s")
        with connection.cursor() as cursor:
            cursor.execute(self._select, [user_id])
            row = cursor.fetchone()
        if row is None:
            raise AuthenticationFailed(_("User not found"), code="user_not_found")
        user = self.user_model.from_db(connection.alias, [f.attname for f in meta.concrete_fields], row)
        if jwt_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
        if jwt_settings.CHECK_REVOKE_TOKEN and (
                validated_token.get(jwt_settings.REVOKE_TOKEN_CLAIM) != get_md5_hash_password(user.password)):
            raise AuthenticationFailed(_("The user's password has been changed."), code="password_changed")
        return user


class CheckoutJWTScheme(SimpleJWTScheme):
    """The OpenAPI document describes it as the bearer token it is."""

    target_class = CheckoutJWTAuthentication


_jwt = CheckoutJWTAuthentication()


def token_user_id(request) -> int | None:
    """The user id a valid access token names, without touching the database (None if none).
    The token is verified once per request (the checkout throttle asks first)."""
    token = getattr(request._request, "cunbo_validated_token", None)
    if token is not None:
        return int(token[jwt_settings.USER_ID_CLAIM])
    header = _jwt.get_header(request)
    raw = _jwt.get_raw_token(header) if header else None
    if raw is None:
        return None
    try:
        token = _jwt.get_validated_token(raw)
        user_id = int(token[jwt_settings.USER_ID_CLAIM])
    except (InvalidToken, TokenError, KeyError, TypeError, ValueError):
        return None
    request._request.cunbo_validated_token = token
    return user_id


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
