"""Demo money: besides the paid (pending) demo order, a second order of the same shop that was
delivered, confirmed a week and a day ago and released, so the shop has pending and available
money (the payouts app's demo then pays part of it out). Idempotent."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from orders.models import MerchantOrder, Order
from orders.services.lifecycle import merchant_order_confirm
from orders.status import merchant_order_transition
from payments.demo import demo_order, demo_pay

from .models import Settlement
from .services import releases_due


def seed(report) -> None:
    buyer = User.objects.filter(username="demo-buyer").first()
    first = Order.objects.filter(buyer=buyer).order_by("pk").first() if buyer else None
    if first is None:
        report.note("ledger: no demo order yet; no demo money")
        return
    released = Settlement.objects.filter(state=Settlement.State.AVAILABLE).first()
    if released is not None:
        report.record(released, False)
        return
    product = first.merchant_orders.get().lines.first().product
    with transaction.atomic():
        order = demo_order(buyer=buyer, product=product, quantity=3)
    demo_pay(order)
    mo = MerchantOrder.objects.get(order=order)
    with transaction.atomic():
        merchant_order_transition(mo, MerchantOrder.Status.SHIPPED, reason="demo")
        merchant_order_transition(mo, MerchantOrder.Status.DELIVERED, reason="demo")
    merchant_order_confirm(buyer=buyer, merchant_order_id=mo.pk)
    # As if it had all happened a week and a day ago: past the return window, so it is released.
    ago = timezone.now() - settings.LEDGER_RETURN_WINDOW - timedelta(days=1)
    MerchantOrder.objects.filter(pk=mo.pk).update(shipped_at=ago - timedelta(days=2), delivered_at=ago,
                                                  completed_at=ago)
    releases_due()
    report.record(Settlement.objects.get(merchant_order=mo), True)
