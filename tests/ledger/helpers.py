"""Builders for the ledger tests: orders with commission rates, paid through the ledger."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from ledger.services import payment_post, settlement_release
from orders.commission import cents
from orders.models import MerchantOrder, Order, OrderLine
from payments.models import Payment

ZERO = Decimal("0.00")


def sold(*, merchant, buyer, village, lines, delivery=ZERO) -> MerchantOrder:
    """A paid merchant order of ``lines`` [(product, quantity, commission rate, service fee rate)],
    its money posted as the payment's notice posts it."""
    items = sum((product.price * quantity for product, quantity, _c, _s in lines), ZERO)
    commission = sum((cents(product.price * quantity * Decimal(c)) for product, quantity, c, _s in lines), ZERO)
    service_fee = sum((cents(product.price * quantity * Decimal(s)) for product, quantity, _c, s in lines), ZERO)
    total = items + delivery
    order = Order.objects.create(
        buyer=buyer, status=Order.Status.PAID, items_total=items, delivery_total=delivery, total=total,
        village=village, address_detail="3号院", recipient="王小明", recipient_phone="13912345678",
        payment_deadline=timezone.now() + datetime.timedelta(minutes=30), paid_at=timezone.now())
    mo = MerchantOrder.objects.create(order=order, merchant=merchant, status=MerchantOrder.Status.PAID,
                                      items_total=items, delivery_fee=delivery, total=total, commission=commission,
                                      service_fee=service_fee)
    for product, quantity, c, s in lines:
        OrderLine.objects.create(merchant_order=mo, product=product, title=product.title, unit=product.unit,
                                 unit_price=product.price, quantity=quantity, line_total=product.price * quantity,
                                 commission_rate=Decimal(c), service_fee_rate=Decimal(s))
    payment = Payment.objects.create(order=order, provider="sandbox", amount=total, status=Payment.Status.SUCCEEDED,
                                     provider_reference=f"sandbox-{order.pk}", succeeded_at=order.paid_at)
    payment_post(payment_id=payment.pk, order_id=order.pk, provider="sandbox", amount=total, kept=True)
    return mo


def complete_and_release(mo: MerchantOrder):
    """The buyer confirmed long enough ago for the return window to have passed; release it."""
    mo.status = MerchantOrder.Status.COMPLETED
    mo.completed_at = timezone.now() - settings.LEDGER_RETURN_WINDOW - datetime.timedelta(hours=1)
    mo.save(update_fields=["status", "completed_at"])
    return settlement_release(merchant_order_id=mo.pk)


def this_month() -> str:
    return timezone.localdate().strftime("%Y-%m")
