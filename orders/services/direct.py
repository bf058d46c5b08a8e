"""Orders made outside the cart and checkout, for the apps above that sell in other ways (an
adoption paid up front, each of its scheduled deliveries): one merchant order of one line, priced
by the caller, with no stock taken (what they sell is not on the shelf).

They pass through the same pipeline afterwards (payment, shipping, confirmation, refunds,
settlement). Their unpaid-hold counters are raised like the checkout's, so leaving
``pending_payment`` lowers exactly what was raised (orders/services/holds.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from catalog.models import Product

from ..checkout import sql as checkout_sql
from ..commission import cents, rates_in_force
from ..models import MerchantOrder, Order, OrderLine
from ..status import merchant_order_transition, order_transition
from .holds import BUYER, NO_LIMIT, Hold, check_first_holds, pending_limit_error, product_scope


@dataclass(frozen=True)
class DirectLine:
    product: Product
    title: str
    unit: str
    unit_price: Decimal
    quantity: int


@dataclass(frozen=True)
class DirectAddress:
    village_id: int
    detail: str
    recipient: str
    phone: str


def address_of(order: Order) -> DirectAddress:
    """An earlier order's delivery address, for the orders that follow from it."""
    return DirectAddress(village_id=order.village_id, detail=order.address_detail, recipient=order.recipient,
                         phone=order.recipient_phone)


@transaction.atomic
def order_create_direct(*, buyer, line: DirectLine, address: DirectAddress, prepaid_reason: str = "",
                        stream_id: int | None = None) -> Order:
    """One order of one line for ``line.product``'s shop, at the caller's price, delivery included.

    With ``prepaid_reason`` the order is already paid for (by the order that paid for all of it; its
    amount is 0.00) and is moved to ``paid`` at once, without the buyer's unpaid-order limits;
    otherwise it waits for its payment like a checkout's order, within them. No stock is taken; when
    it is cancelled, the app that made it takes its units back (``orders.units_returning``)."""
    product, now = line.product, timezone.now()
    line_total = cents(line.unit_price * line.quantity)
    rates = rates_in_force(category_id=product.category_id, county_id=product.merchant.county_id, at=now)
    if prepaid_reason:
        holds = [Hold(BUYER, 1, line.quantity, NO_LIMIT, NO_LIMIT),
                 Hold(product_scope(product.pk), 1, line.quantity, NO_LIMIT, NO_LIMIT)]
    else:
        holds = [Hold(BUYER, 1, line.quantity, settings.ORDERS_PENDING_MAX_ORDERS, settings.ORDERS_PENDING_MAX_UNITS),
                 Hold(product_scope(product.pk), 1, line.quantity, NO_LIMIT, NO_LIMIT)]
        check_first_holds(holds, buyer_id=buyer.pk)
    try:
        with transaction.atomic():  # a refused counter undoes the ones raised before it
            if not checkout_sql.pending_holds_reserve(buyer_id=buyer.pk, holds=holds):
                raise _Refused()
    except _Refused:
        raise pending_limit_error(buyer_id=buyer.pk, holds=holds) from None
    order = Order.objects.create(
        buyer=buyer, village_id=address.village_id, address_detail=address.detail, recipient=address.recipient,
        recipient_phone=address.phone, items_total=line_total, total=line_total, stream_id=stream_id,
        payment_deadline=now + settings.ORDERS_PAYMENT_WINDOW)
    mo = MerchantOrder.objects.create(order=order, merchant_id=product.merchant_id, items_total=line_total,
                                      total=line_total, commission=cents(line_total * rates.commission),
                                      service_fee=cents(line_total * rates.service_fee))
    OrderLine.objects.create(merchant_order=mo, product=product, title=line.title[:80], unit=line.unit[:16],
                             unit_price=line.unit_price, quantity=line.quantity, line_total=line_total,
                             claims=list(product.claims), commission_rate=rates.commission,
                             service_fee_rate=rates.service_fee)
    if prepaid_reason:
        order_transition(order, Order.Status.PAID, reason=prepaid_reason)
        merchant_order_transition(mo, MerchantOrder.Status.PAID, reason=prepaid_reason)
    return order



class _Refused(Exception):
    """A counter was full (turned into the checkout's 409 once its savepoint is undone)."""
