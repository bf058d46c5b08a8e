"""Demo payout: the demo shop with available money (ledger/demo.py) gives a bank account, its
county's operator verifies it, the shop asks for a payout of half its available money, and the
sandbox's signed callback says it was paid. Idempotent."""

from decimal import Decimal

from django.db import transaction

from accounts.models import Role, User
from core.errors import DomainError
from ledger.models import Settlement

from .models import Payout, PayoutAccount
from .providers.sandbox import HEADER, sandbox_callback, sign
from .services import (
    account_current,
    available,
    callback_handle,
    payout_account_change,
    payout_account_review,
    payout_request,
)


def seed(report) -> None:
    settlement = Settlement.objects.filter(state=Settlement.State.AVAILABLE).select_related("merchant__user").first()
    if settlement is None:
        report.note("payouts: no available money yet; no demo payout")
        return
    shop = settlement.merchant
    existing = Payout.objects.filter(merchant=shop).first()
    if existing is not None:
        report.record(existing, False)
        return
    operator = User.objects.filter(role=Role.OPERATOR, county_id=shop.county_id, is_active=True).order_by("pk").first()
    if operator is None:
        report.note("payouts: the demo shop's county has no operator; no demo payout")
        return
    current = account_current(shop.pk)
    with transaction.atomic():
        if current is not None and current.status == PayoutAccount.Status.VERIFIED:
            account = current
        else:
            account = payout_account_change(user=shop.user, kind="bank", holder_name=shop.user.get_full_name() or "张三",
                                            bank_name="中国农业银行", account_number="6228480012345678901")
            payout_account_review(user=operator, account_id=account.pk, decision="verify")
    amount = (available(shop.pk) / 2).quantize(Decimal("0.01"))
    try:
        payout = payout_request(user=shop.user, amount=f"{amount:.2f}")
    except DomainError as error:  # below the minimum: the demo shop sold too little
        report.note(f"payouts: no demo payout ({error})")
        return
    payout.refresh_from_db()
    body = sandbox_callback(payout=payout, paid=True)
    callback_handle(provider_name=payout.provider, headers={HEADER: sign(body)}, body=body)
    payout.refresh_from_db()
    report.record(payout, True)
