"""The contract's webhook signature: ``X-Cunbo-Signature: t=<unix seconds>,v1=<hex>``.

``v1`` is HMAC-SHA256 keyed with ``PAYMENT_WEBHOOK_SECRET`` over ``"<t>.<raw body>"`` (the exact
bytes received). A timestamp more than ``PAYMENT_WEBHOOK_TOLERANCE_S`` (300 s) from now is refused,
so a captured notice cannot be replayed later; several ``v1`` values may be sent while a secret is
being rotated, and any one matching is enough.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError

HEADER = "X-Cunbo-Signature"


class BadSignature(DomainError):
    code = "invalid_signature"
    default_message = _("The webhook signature is missing or does not match.")


class StaleSignature(BadSignature):
    code = "stale_signature"
    default_message = _("The webhook timestamp is too far from now.")


def compute(secret: str, timestamp: int | str, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(body: bytes, *, secret: str | None = None, timestamp: int | None = None) -> str:
    """The header value a provider (or the sandbox) sends with ``body``."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={compute(secret or settings.PAYMENT_WEBHOOK_SECRET, timestamp, body)}"


def verify(header: str | None, body: bytes, *, secret: str | None = None, now: float | None = None) -> int:
    """Check the header against ``body``; returns the timestamp or raises BadSignature/StaleSignature."""
    if not header:
        raise BadSignature()
    timestamp, candidates = None, []
    for part in header.split(","):
        key, _sep, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            candidates.append(value)
    if timestamp is None or not candidates:
        raise BadSignature()
    expected = compute(secret or settings.PAYMENT_WEBHOOK_SECRET, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise BadSignature()
    now = time.time() if now is None else now
    if abs(now - timestamp) > settings.PAYMENT_WEBHOOK_TOLERANCE_S:
        raise StaleSignature()
    return timestamp
