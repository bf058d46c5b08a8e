"""Payout providers behind one interface (the same pattern as payments/providers).

A provider moves money from the platform's payout funds to a merchant's bank card or Alipay
account. Alipay's fund transfer (``alipay.fund.trans.uni.transfer``: ``out_biz_no``,
``trans_amount``, ``payee_info``) or a bank's transfer API plug in as another class with these
methods, named in ``settings.PAYOUT_PROVIDERS``; the rest of the product only talks to this
protocol. ``transfer`` is idempotent on ``payout.request_id`` (the ``out_biz_no``): calling it again
for the same payout never moves the money twice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

PAID = "paid"
FAILED = "failed"
PROCESSING = "processing"


@dataclass(frozen=True)
class TransferAccepted:
    """The provider took the transfer; its result comes later (callback or query)."""

    reference: str


@dataclass(frozen=True)
class TransferStatus:
    """What ``query`` says: ``paid``, ``failed`` or still ``processing`` (or unknown to the provider)."""

    status: str
    reference: str = ""
    amount: Decimal | None = None
    reason: str = ""


@dataclass(frozen=True)
class TransferResult:
    """A signed result callback, read and verified."""

    event_id: str
    request_id: uuid.UUID
    status: str  # PAID | FAILED
    amount: Decimal
    reference: str = ""
    reason: str = ""
    raw: dict = field(default_factory=dict)


class TransferRefused(Exception):
    """The provider refused the transfer for good (a closed card, a name that does not match): the
    payout failed and its money goes back to the merchant's available balance."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


class PayoutProvider(Protocol):
    name: str

    def transfer(self, *, payout) -> TransferAccepted:
        """Ask for ``payout.amount`` to go to ``payout.account``; idempotent on ``payout.request_id``.
        Raises ``TransferRefused`` for a final refusal; any other exception is retried."""

    def query(self, *, payout) -> TransferStatus:
        """Where the transfer of ``payout`` stands at the provider."""

    def parse_callback(self, headers, body: bytes) -> TransferResult:
        """Verify the callback's signature and read it; raise a DomainError (400) if either fails."""


class UnknownProvider(LookupError):
    pass


@lru_cache(maxsize=None)
def _load(path: str):
    return import_string(path)()


def get_provider(name: str) -> PayoutProvider:
    path = settings.PAYOUT_PROVIDERS.get(name)
    if path is None:
        raise UnknownProvider(name)
    return _load(path)
