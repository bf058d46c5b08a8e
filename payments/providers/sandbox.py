"""The sandbox provider: stands in for Alipay / WeChat Pay in development and tests.

Charges and refunds succeed at once and locally. Its notices use the contract's signature
(``payments.signature``); ``manage.py sandbox_pay`` (DEBUG only) sends one.

It plays the outside world, so it keeps books of its own (``SandboxTransaction``), as a provider
does on its side: a trade opened with each charge, paid (or failed) when ``sandbox_notice``
simulates the buyer paying, a refund row for each refund. Its answers to a payment query and its
settlement file come from those books only, never from our ``Payment`` or ``Refund`` rows.
"""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import ValidationFailed
from core.text import MalformedInput, TextRefused, load_json

from .. import signature
from ..models import SandboxTransaction
from ..settlement_file import SettlementRow, settlement_file_write
from ..status import SANDBOX_TRADE_WORKFLOW
from . import ProviderCharge, ProviderPaymentStatus, ProviderRefund, WebhookNotice

# The providers' clock: a settlement day is a day of China Standard Time whatever our TIME_ZONE.
PROVIDER_ZONE = ZoneInfo("Asia/Shanghai")
CENT = Decimal("0.01")
Tx = SandboxTransaction

EVENT_TYPES = ("payment.succeeded", "payment.failed")


class SandboxProvider:
    name = "sandbox"

    def create_charge(self, *, payment, request=None) -> ProviderCharge:
        reference = f"sbx_{uuid.uuid4().hex[:24]}"
        sandbox_trade_record(payment_id=payment.pk, reference=reference, status=Tx.Status.PENDING,
                             amount=payment.amount, currency=payment.currency)
        return ProviderCharge(reference=reference, client_params={
            "provider": self.name,
            "reference": reference,
            "amount": f"{payment.amount:.2f}",
            "currency": payment.currency,
            "hint": "Sandbox: `python manage.py sandbox_pay <order id>` (DEBUG) completes this payment.",
        })

    def refund(self, *, payment, amount: Decimal, refund_id: int) -> ProviderRefund:
        """Refund at once; a second call with the same ``refund_id`` answers the first refund again
        (the idempotency a provider keys on the out-refund-no)."""
        record, _created = Tx.objects.get_or_create(
            kind=Tx.Kind.REFUND, refund_id=refund_id,
            defaults={"payment_id": payment.pk, "reference": f"sbx_rf_{refund_id}_{uuid.uuid4().hex[:12]}",
                      "amount": amount, "fee": Decimal("0.00"), "currency": payment.currency,
                      "status": Tx.Status.SUCCEEDED})
        return ProviderRefund(reference=record.reference, succeeded=True)

    def query_payment(self, *, payment) -> ProviderPaymentStatus:
        """What the sandbox's books say of the trade ``payment`` opened (``unknown`` if none)."""
        record = Tx.objects.filter(kind=Tx.Kind.PAYMENT, payment_id=payment.pk).first()
        if record is None:
            return ProviderPaymentStatus(status="unknown")
        if record.status == Tx.Status.PENDING:
            return ProviderPaymentStatus(status="pending", currency=record.currency, reference=record.reference)
        paid = record.status == Tx.Status.SUCCEEDED
        return ProviderPaymentStatus(status=record.status, amount=record.amount if paid else None,
                                     currency=record.currency, reference=record.reference,
                                     paid_at=record.created_at if paid else None)

    def settlement_file(self, day: date) -> bytes:
        """The day's settlement file (docs/orders-payments.md): every transaction the sandbox completed
        that China Standard Time day, payments and refunds, in the order they completed."""
        start = datetime.combine(day, time.min, tzinfo=PROVIDER_ZONE)
        records = (Tx.objects.filter(status=Tx.Status.SUCCEEDED, created_at__gte=start,
                                     created_at__lt=start + timedelta(days=1)).order_by("created_at", "pk"))
        return settlement_file_write(
            SettlementRow(transaction_id=r.reference, type=r.kind, out_trade_no=r.payment_id,
                          out_refund_no=r.refund_id, amount=r.amount, fee=r.fee, currency=r.currency,
                          completed_at=r.created_at.astimezone(PROVIDER_ZONE))
            for r in records.iterator())

    def parse_webhook(self, *, headers, body: bytes) -> WebhookNotice:
        signature.verify(headers.get(signature.HEADER), body)
        try:
            data = load_json(body.decode("utf-8"))  # core/text.py: no NUL, lone surrogate, deep nesting
            if not isinstance(data, dict):
                raise ValueError
            event_id, kind = str(data["event_id"]), str(data["type"])
            payment_id = int(data["payment_id"])
            amount = Decimal(str(data["amount"]))
            currency = str(data["currency"])
        except (ValueError, KeyError, TypeError, InvalidOperation, MalformedInput, TextRefused):
            raise ValidationFailed(_("The notice is not valid JSON with event_id, type, payment_id, amount and "
                                     "currency."), code="malformed_notice") from None
        if kind not in EVENT_TYPES or not event_id or len(event_id) > 100 or not amount.is_finite():
            raise ValidationFailed(_("Unknown event type or bad event id."), code="malformed_notice")
        return WebhookNotice(event_id=event_id, type=kind, payment_id=payment_id, amount=amount, currency=currency,
                             raw=data)


def sandbox_notice(*, payment, event_type: str = "payment.succeeded", amount=None, currency=None,
                   event_id: str | None = None) -> bytes:
    """The body the sandbox sends for ``payment`` (used by sandbox_pay and the tests).

    It simulates the buyer paying at the sandbox at this moment: its books record the trade as
    paid (or failed) with the notice's amount and currency, so a later query and the day's
    settlement file say the same as the notice."""
    amount = payment.amount if amount is None else Decimal(amount)
    currency = currency or payment.currency
    sandbox_trade_record(payment_id=payment.pk, reference=payment.provider_reference,
                         status=Tx.Status.SUCCEEDED if event_type == "payment.succeeded" else Tx.Status.FAILED,
                         amount=amount, currency=currency)
    return json.dumps({
        "event_id": event_id or f"evt_{uuid.uuid4().hex}",
        "type": event_type,
        "payment_id": payment.pk,
        "amount": f"{amount:.2f}",
        "currency": currency,
    }).encode()


def sandbox_fee(amount: Decimal) -> Decimal:
    """What the sandbox keeps of a payment: ``PAYMENT_SANDBOX_FEE_RATE``, half-up to the cent."""
    return (amount * settings.PAYMENT_SANDBOX_FEE_RATE).quantize(CENT, rounding=ROUND_HALF_UP)


def sandbox_trade_record(*, payment_id: int, reference: str, status: str, amount: Decimal, currency: str) -> None:
    """The sandbox's trade for one out-trade-no: opened pending, then paid or failed once.

    Moves as ``SANDBOX_TRADE_WORKFLOW`` allows and is otherwise left as it is: a paid trade stays
    as it was paid (a buyer pays a trade once; another notice for it is a resend), a failed one
    may still be paid (the buyer tried again)."""
    with transaction.atomic():
        record = Tx.objects.select_for_update().filter(kind=Tx.Kind.PAYMENT, payment_id=payment_id).first()
        if record is None:
            record = Tx(kind=Tx.Kind.PAYMENT, payment_id=payment_id,
                        reference=reference or f"sbx_{uuid.uuid4().hex[:24]}")
        elif not SANDBOX_TRADE_WORKFLOW.allowed(record.status, status):
            return
        amount = Decimal(amount).quantize(CENT)
        record.status, record.amount, record.currency = status, amount, currency[:3]
        record.fee = sandbox_fee(amount) if status == Tx.Status.SUCCEEDED else Decimal("0.00")
        record.created_at = timezone.now()
        record.save()
