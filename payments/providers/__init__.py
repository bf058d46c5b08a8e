"""Payment providers behind one interface.

Alipay or WeChat Pay plug in as another class with the same methods, named in
``settings.PAYMENT_PROVIDERS``; the rest of the product only ever talks to this protocol.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class ProviderCharge:
    reference: str
    client_params: dict


@dataclass(frozen=True)
class ProviderRefund:
    reference: str
    succeeded: bool
    error: str = ""


@dataclass(frozen=True)
class WebhookNotice:
    event_id: str
    type: str  # "payment.succeeded" | "payment.failed"
    payment_id: int
    amount: Decimal
    currency: str
    raw: dict


class PaymentProvider(Protocol):
    name: str

    def create_charge(self, *, payment) -> ProviderCharge:
        """Open the charge with the provider; what the app needs to let the buyer pay."""

    def refund(self, *, payment, amount: Decimal, refund_id: int) -> ProviderRefund:
        """Send ``amount`` of ``payment`` back to the buyer. Idempotent per ``refund_id``."""

    def parse_webhook(self, *, headers, body: bytes) -> WebhookNotice:
        """Verify the notice's signature and read it; raise a DomainError (400) if either fails."""


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
