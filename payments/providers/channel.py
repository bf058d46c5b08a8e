"""What the real channels (WeChat Pay, Alipay) share: money in fen and yuan, the out-trade-no
made from our ids, keys read from the environment, HTTP with the exchange log, and the errors.

Nothing here follows a channel's document of its own; each adapter module names the documents it
follows (payments/providers/wechatpay.py, payments/providers/alipay.py).
"""

from __future__ import annotations

import base64
import logging
import os
from decimal import Decimal, InvalidOperation
from functools import lru_cache

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError, ServiceUnavailable, ValidationFailed

from ..models import ChannelExchange

logger = logging.getLogger(__name__)

FEN = Decimal("0.01")
REDACTED = "[redacted]"
# Keys whose values never reach the exchange log (compared lower-case).
SECRET_KEYS = frozenset({"sign", "paysign", "signature", "authorization", "wechatpay-signature", "ciphertext",
                         "private_key", "apiv3_key", "encrypt_certificate"})


class ChannelUnavailable(ServiceUnavailable):
    """The channel could not be reached or answered 5xx / a rate limit: try again (503 Retry-After)."""

    code = "payment_channel_unavailable"
    default_message = _("The payment channel is not answering; please try again shortly.")

    @property
    def retry_after(self) -> int:
        return settings.PAYMENT_CHANNEL_RETRY_AFTER_S


class ChannelRefused(DomainError):
    """The channel refused our request (its 4xx, or a business error code)."""

    status = 502
    code = "payment_channel_refused"
    default_message = _("The payment channel refused the request.")


class BadChannelSignature(ValidationFailed):
    code = "invalid_signature"
    default_message = _("The channel's signature is missing or does not match.")


class StaleChannelSignature(BadChannelSignature):
    code = "stale_signature"
    default_message = _("The channel's timestamp is too far from now.")


class ForeignNotice(ValidationFailed):
    code = "foreign_merchant"
    default_message = _("The notice is for another merchant or app.")


class MalformedNotice(ValidationFailed):
    code = "malformed_notice"
    default_message = _("The notice is not in the channel's documented format.")


# Money. WeChat Pay counts in fen (integers), Alipay in yuan with two places (strings): both
# converted exactly with Decimal, never a float, and anything not a whole number of fen refused.

def yuan_to_fen(amount: Decimal) -> int:
    if amount != amount.quantize(FEN):
        raise ValueError(f"{amount} is not a whole number of fen")
    return int(amount.quantize(FEN) * 100)


def fen_to_yuan(fen) -> Decimal:
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise MalformedNotice()
    return (Decimal(fen) / 100).quantize(FEN)


def yuan_text(amount: Decimal) -> str:
    return f"{amount.quantize(FEN):.2f}"


def parse_yuan(text) -> Decimal:
    try:
        value = Decimal(str(text))
    except (InvalidOperation, ValueError):
        raise MalformedNotice() from None
    if not value.is_finite() or value != value.quantize(FEN):
        raise MalformedNotice()
    return value.quantize(FEN)


# Our ids at the channel. The out-trade-no is our payment id, at least 8 digits (WeChat Pay wants
# 6 to 32 characters): the same payment always opens the same trade, so a retried pay request
# cannot charge twice. The out-refund-no / out-request-no is the refund id the same way.

def out_no(pk: int) -> str:
    return str(pk).zfill(8)


def parse_out_no(text) -> int:
    text = str(text or "")
    if not text.isascii() or not text.isdigit() or len(text) > 18 or int(text) <= 0:
        raise MalformedNotice()
    return int(text)


# Keys.

def read_pem(value: str) -> bytes:
    """A PEM from the environment: the text itself (``\\n`` escapes allowed) or a file's path."""
    if value.lstrip().startswith("-----BEGIN"):
        return value.replace("\\n", "\n").encode()
    if os.path.isfile(value):
        with open(value, "rb") as handle:
            return handle.read()
    # Alipay's console hands out keys as bare base64 (no PEM armour).
    body = "".join(value.split())
    return b"-----BEGIN KEY-----\n" + body.encode() + b"\n-----END KEY-----\n"


@lru_cache(maxsize=16)
def private_key(value: str):
    pem = read_pem(value)
    if b"BEGIN KEY" in pem:  # bare base64: PKCS#8 DER
        return serialization.load_der_private_key(_der(pem), password=None)
    return serialization.load_pem_private_key(pem, password=None)


@lru_cache(maxsize=16)
def public_key(value: str):
    pem = read_pem(value)
    if b"BEGIN KEY" in pem:
        return serialization.load_der_public_key(_der(pem))
    return serialization.load_pem_public_key(pem)


def _der(pem: bytes) -> bytes:
    return base64.b64decode(b"".join(pem.splitlines()[1:-1]))


def rsa_sign(key, message: bytes) -> str:
    """SHA256withRSA (PKCS#1 v1.5), base64: the signature both channels use."""
    return base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


def rsa_verify(key, message: bytes, signature: str) -> bool:
    try:
        key.verify(base64.b64decode(signature, validate=True), message, padding.PKCS1v15(), hashes.SHA256())
    except Exception:  # noqa: BLE001 - a bad signature and bad base64 are the same refusal
        return False
    return True


# The exchange log.

def redact(value):
    if isinstance(value, dict):
        return {k: REDACTED if str(k).lower() in SECRET_KEYS else redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def exchange_record(*, provider: str, direction: str, operation: str, request=None, response=None,
                    status_code: int | None = None, outcome: str = "", payment_id: int | None = None,
                    refund_id: int | None = None) -> ChannelExchange | None:
    """Store one exchange (redacted). Never fails the caller: the log must not cost a payment."""
    try:
        return ChannelExchange.objects.create(
            provider=provider, direction=direction, operation=operation[:120], payment_id=payment_id,
            refund_id=refund_id, status_code=status_code, request=redact(request or {}),
            response=redact(response if isinstance(response, (dict, list)) else {"text": str(response or "")[:4000]}),
            outcome=outcome[:200])
    except Exception:  # noqa: BLE001
        logger.exception("could not store the %s exchange %s", provider, operation)
        return None


def http_send(*, provider: str, method: str, url: str, headers: dict, content: bytes | None = None,
              operation: str, request_log: dict, payment_id: int | None = None,
              refund_id: int | None = None) -> httpx.Response:
    """One call to a channel; a network failure is ``ChannelUnavailable``. The answer is logged by
    the caller once it is read (``exchange_record``), so the log holds what it meant."""
    try:
        with httpx.Client(timeout=settings.PAYMENT_CHANNEL_TIMEOUT_S) as client:
            return client.request(method, url, headers=headers, content=content)
    except httpx.HTTPError as error:
        exchange_record(provider=provider, direction=ChannelExchange.Direction.OUT, operation=operation,
                        request=request_log, outcome=f"network error: {error.__class__.__name__}: {error}",
                        payment_id=payment_id, refund_id=refund_id)
        raise ChannelUnavailable() from error
