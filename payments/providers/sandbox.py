"""The sandbox provider: stands in for Alipay / WeChat Pay in development and tests.

Charges and refunds succeed at once and locally. Its notices use the contract's signature
(``payments.signature``); ``manage.py sandbox_pay`` (DEBUG only) sends one.
"""

from __future__ import annotations

import json
import uuid
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext_lazy as _

from core.errors import ValidationFailed
from core.text import MalformedInput, TextRefused, load_json

from .. import signature
from . import ProviderCharge, ProviderRefund, WebhookNotice

EVENT_TYPES = ("payment.succeeded", "payment.failed")


class SandboxProvider:
    name = "sandbox"

    def create_charge(self, *, payment) -> ProviderCharge:
        reference = f"sbx_{uuid.uuid4().hex[:24]}"
        return ProviderCharge(reference=reference, client_params={
            "provider": self.name,
            "reference": reference,
            "amount": f"{payment.amount:.2f}",
            "currency": payment.currency,
            "hint": "Sandbox: `python manage.py sandbox_pay <order id>` (DEBUG) completes this payment.",
        })

    def refund(self, *, payment, amount: Decimal, refund_id: int) -> ProviderRefund:
        return ProviderRefund(reference=f"sbx_rf_{refund_id}_{uuid.uuid4().hex[:12]}", succeeded=True)

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
    """The body the sandbox sends for ``payment`` (used by sandbox_pay and the tests)."""
    return json.dumps({
        "event_id": event_id or f"evt_{uuid.uuid4().hex}",
        "type": event_type,
        "payment_id": payment.pk,
        "amount": f"{payment.amount if amount is None else Decimal(amount):.2f}",
        "currency": currency or payment.currency,
    }).encode()
