"""Checkout admission: the gate's verdict before any database work, and its bookkeeping after.

``checkout_admission`` wraps the database checkout: a buyer the gate refuses gets the 409 at
once; a buyer it admits holds the gate's units until the checkout either commits (they stay
taken) or fails (they go back, and if the database refused what the gate allowed, the gate is
reloaded from the database: PostgreSQL is the truth).
"""

from __future__ import annotations

from contextlib import contextmanager

from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from .gate import ADMITTED, OVER_LIMIT, SOLD_OUT, GateLine, gate_release, gate_reserve, offer_gate_reset
from .services.errors import OfferNotLive, OverBuyerLimit, SoldOut

_jwt = JWTAuthentication()


def token_user_id(request) -> int | None:
    """The user id a valid access token names, without touching the database (None if none)."""
    header = _jwt.get_header(request)
    raw = _jwt.get_raw_token(header) if header else None
    if raw is None:
        return None
    try:
        return int(_jwt.get_validated_token(raw)[jwt_settings.USER_ID_CLAIM])
    except (InvalidToken, TokenError, KeyError, TypeError, ValueError):
        return None


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
