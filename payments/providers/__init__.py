"""Payment providers behind one interface.

The sandbox (``sandbox.py``), WeChat Pay API v3 (``wechatpay.py``) and Alipay's open platform
(``alipay.py``) are classes with the same methods, named in ``settings.PAYMENT_PROVIDERS`` (a real
channel only when its keys are set); the rest of the product only ever talks to this protocol.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Literal, Protocol, runtime_checkable

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class ChargeRequest:
    """What the buyer's client tells us about how it pays: the channel's ``method`` (WeChat Pay:
    ``jsapi`` | ``h5`` | ``native``; Alipay: ``page`` | ``wap`` | ``app``; empty: the channel's
    default), the payer's ``openid`` (WeChat JSAPI) and the buyer's IP (WeChat H5)."""

    method: str = ""
    openid: str = ""
    client_ip: str = ""


@dataclass(frozen=True)
class ProviderCharge:
    reference: str
    client_params: dict


@dataclass(frozen=True)
class ProviderRefund:
    """``succeeded``: the money went back. ``pending``: the channel took the refund and decides later
    (its refund notice, or ``query_refund``). Neither: refused, ``error`` says why (retried)."""

    reference: str
    succeeded: bool
    error: str = ""
    pending: bool = False


@dataclass(frozen=True)
class WebhookNotice:
    event_id: str
    type: str  # "payment.succeeded" | "payment.failed" | "payment.pending" | "refund.succeeded" | "refund.failed"
    payment_id: int
    amount: Decimal  # a refund notice: the amount refunded
    currency: str
    raw: dict
    refund_id: int | None = None  # refund notices only
    reference: str = ""  # the channel's transaction or refund id


QUERY_STATUSES = ("succeeded", "failed", "pending", "unknown")


@dataclass(frozen=True)
class ProviderPaymentStatus:
    """What a provider answers when asked about one of our payments by its out-trade-no (our payment id).

    The shape of WeChat Pay v3's "query order by out_trade_no" (``trade_state`` SUCCESS → succeeded,
    PAYERROR / CLOSED / REVOKED → failed, NOTPAY / USERPAYING → pending) and Alipay's
    ``alipay.trade.query`` (TRADE_SUCCESS / TRADE_FINISHED → succeeded, TRADE_CLOSED → failed,
    WAIT_BUYER_PAY → pending). ``unknown``: the provider has no such trade (ORDER_NOT_EXIST,
    ACQ.TRADE_NOT_EXIST) or could not say. ``amount`` and ``paid_at`` are what the provider
    charged and when; None while it has charged nothing."""

    status: Literal["succeeded", "failed", "pending", "unknown"]
    amount: Decimal | None = None
    currency: str = ""
    reference: str = ""
    paid_at: datetime | None = None

    def __post_init__(self):
        if self.status not in QUERY_STATUSES:
            raise ValueError(f"unknown query status {self.status!r}")


class PaymentProvider(Protocol):
    """Every provider has these. Optional capabilities are protocols of their own
    (``SupportsSettlementFile``): a provider that lacks one simply does not define the method."""

    name: str

    def create_charge(self, *, payment, request: ChargeRequest) -> ProviderCharge:
        """Open the charge with the provider; what the app needs to let the buyer pay."""

    def refund(self, *, payment, amount: Decimal, refund_id: int) -> ProviderRefund:
        """Send ``amount`` of ``payment`` back to the buyer. Idempotent per ``refund_id``."""

    def parse_webhook(self, *, headers, body: bytes) -> WebhookNotice:
        """Verify the notice's signature and read it; raise a DomainError (400) if either fails."""

    def query_payment(self, *, payment) -> ProviderPaymentStatus:
        """Ask the provider what became of ``payment`` (by its out-trade-no, our payment id).

        Used when no notice came (``payments.query_stuck``); may raise on a network failure (the
        sweep logs it and asks again next time). Never called while rows are locked."""


@runtime_checkable
class SupportsRefundQuery(Protocol):
    """Optional: ask the channel where a refund it accepted (``ProviderRefund.pending``) stands."""

    def query_refund(self, *, payment, refund_id: int) -> ProviderRefund:
        """The refund's state at the channel, by its out-refund-no (our refund id)."""


@runtime_checkable
class SupportsSettlementFile(Protocol):
    """Optional: the provider's settlement file of one day (docs/orders-payments.md, "Provider
    settlement file"). Real providers download it from their bill API (WeChat Pay's trade bill
    ``/v3/bill/tradebill``, Alipay's ``alipay.data.dataservice.bill.downloadurl.query``) and turn it
    into this format; the sandbox writes it from its own records."""

    def settlement_file(self, day: date) -> bytes:
        """The day's file (a day of Asia/Shanghai, the providers' clock), bytes as documented."""


class UnknownProvider(LookupError):
    pass


@lru_cache(maxsize=None)
def _load(path: str):
    return import_string(path)()


def get_provider(name: str) -> PaymentProvider:
    path = settings.PAYMENT_PROVIDERS.get(name)
    if path is None:
        raise UnknownProvider(name)
    return _load(path)
