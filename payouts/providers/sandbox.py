"""The sandbox payout provider: stands in for Alipay's fund transfer and the banks.

``transfer`` builds the request Alipay's ``alipay.fund.trans.uni.transfer`` would get (to an Alipay
login or to a bank card) and accepts it locally; nothing leaves the machine. Its result is
delivered as the outside world would: a signed callback, sent by ``manage.py
sandbox_payout_result <payout id> --paid|--failed`` (DEBUG) or by the tests. ``query`` knows no
result (the sandbox keeps none): it answers ``processing``.

The callback's signature is the payments contract's (``payments.signature``: HMAC-SHA256 over
``"<t>.<body>"``) with its own secret, ``PAYOUT_CALLBACK_SECRET``, and its own header.
"""

from __future__ import annotations

import json
import uuid
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from core.errors import ValidationFailed
from core.text import MalformedInput, TextRefused, load_json
from payments import signature

from . import FAILED, PAID, PROCESSING, TransferAccepted, TransferResult, TransferStatus

HEADER = "X-Cunbo-Payout-Signature"
STATUSES = {"SUCCESS": PAID, "FAIL": FAILED}


def transfer_request(payout) -> dict:
    """The fund-transfer request for ``payout``, shaped like Alipay's (a bank's API takes the same facts)."""
    account = payout.account
    payee = {"identity": account.number, "name": account.holder_name}
    if account.kind == account.Kind.BANK:
        product = "TRANS_BANKCARD_NO_PWD"
        payee |= {"identity_type": "BANKCARD_ACCOUNT",
                  "bankcard_ext_info": {"inst_name": account.bank_name, "account_type": "2"}}
    else:
        product = "TRANS_ACCOUNT_NO_PWD"
        payee |= {"identity_type": "ALIPAY_LOGON_ID"}
    return {"out_biz_no": str(payout.request_id), "trans_amount": f"{payout.amount:.2f}", "product_code": product,
            "biz_scene": "DIRECT_TRANSFER", "order_title": f"Cunbo payout #{payout.pk}", "payee_info": payee}


def reference_for(payout) -> str:
    """The sandbox's order id for a transfer: the same for the same request id (idempotent)."""
    return f"sbx_po_{payout.request_id.hex[:24]}"


class SandboxPayoutProvider:
    name = "sandbox"

    def transfer(self, *, payout) -> TransferAccepted:
        transfer_request(payout)  # what a real provider would be sent
        return TransferAccepted(reference=reference_for(payout))

    def query(self, *, payout) -> TransferStatus:
        return TransferStatus(status=PROCESSING, reference=reference_for(payout))

    def parse_callback(self, headers, body: bytes) -> TransferResult:
        signature.verify(headers.get(HEADER), body, secret=settings.PAYOUT_CALLBACK_SECRET)
        try:
            data = load_json(body.decode("utf-8"))  # core/text.py: no NUL, lone surrogate, deep nesting
            if not isinstance(data, dict):
                raise ValueError
            event_id, status = str(data["notify_id"]), STATUSES[str(data["status"])]
            request_id = uuid.UUID(str(data["out_biz_no"]))
            amount = Decimal(str(data["trans_amount"]))
            reference, reason = str(data.get("order_id") or ""), str(data.get("fail_reason") or "")
        except (ValueError, KeyError, TypeError, InvalidOperation, MalformedInput, TextRefused):
            raise ValidationFailed(_("The callback is not valid JSON with notify_id, out_biz_no, status "
                                     "(SUCCESS or FAIL) and trans_amount."), code="malformed_callback") from None
        if not event_id or len(event_id) > 100 or not amount.is_finite() or len(reference) > 64:
            raise ValidationFailed(_("The callback's notify_id, amount or order id is not valid."),
                                   code="malformed_callback")
        return TransferResult(event_id=event_id, request_id=request_id, status=status, amount=amount,
                              reference=reference, reason=reason[:300], raw=data)


def sandbox_callback(*, payout, paid: bool = True, amount=None, request_id=None, reason: str = "",
                     event_id: str | None = None) -> bytes:
    """The body the sandbox sends with ``payout``'s result (used by sandbox_payout_result and the tests)."""
    return json.dumps({
        "notify_id": event_id or f"ntf_{uuid.uuid4().hex}",
        "out_biz_no": str(request_id or payout.request_id),
        "order_id": reference_for(payout),
        "status": "SUCCESS" if paid else "FAIL",
        "trans_amount": f"{payout.amount if amount is None else Decimal(amount):.2f}",
        "fail_reason": "" if paid else (reason or "PAYEE_ACCOUNT_STATUS_ERROR"),
    }).encode()


def sign(body: bytes, *, timestamp: int | None = None, secret: str | None = None) -> str:
    """The header value the sandbox sends with ``body``."""
    return signature.sign(body, secret=secret or settings.PAYOUT_CALLBACK_SECRET, timestamp=timestamp)
