"""What happens to an order after checkout: paid, cancelled (by the buyer or the payment window),
refunded, confirmed, completed. Every status change goes through orders/status.py."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import Product
from catalog.stock import product_stock_return
from core.errors import Conflict, NotFound
from core.masking import mask_name
from livestream import events as room
from notifications.services import notify

from ..checkout.gate import GateLine, gate_release
from ..checkout.plan import buyer_display_name
from ..checkout.sql_names import sql
from ..domain_events import cancel_asked, refund_booked, units_returning
from ..models import MerchantOrder, OfferPurchase, Order, OrderLine
from ..status import MERCHANT_ORDER_WORKFLOW, merchant_order_transition, order_transition
from .errors import RefundExceedsPaid
from .locks import merchant_order_lock, merchant_orders_lock, order_lock

MO = MerchantOrder.Status
SHIPPED_OR_LATER = {MO.SHIPPED, MO.DELIVERED, MO.COMPLETED}
TERMINAL = {MO.COMPLETED, MO.CANCELLED, MO.REFUNDED}


# --- units going back --------------------------------------------------------------------------

_GIVE_BACK = sql("UPDATE {offer} SET remaining = remaining + %(n)s WHERE id = %(id)s AND status = '{offer_live}' "
                 "AND remaining + %(n)s <= quantity RETURNING remaining, stream_id")


def _give_back_to_offer(*, offer_id: int, quantity: int) -> int | None:
    """Units back to a still-live offer; None if it ended (then they go back to product stock)."""
    with connection.cursor() as cursor:
        cursor.execute(_GIVE_BACK, {"n": quantity, "id": offer_id})
        return cursor.fetchone()


def _return_units(*, order: Order, merchant_order_ids: list[int]) -> None:
    """Return the reserved units of these merchant orders, exactly once (the caller moved them to
    ``cancelled`` under the order's row lock, which only one caller can do).

    Offer units go back to the offer while it is live, else to the product's stock: an ended
    offer's allocation has gone back to the shelf, so its returns do too. In the lock order: the
    buyer's counters, then every product row involved (by pk), then the offers (by pk), so a cancel
    never waits on an offer while holding what a checkout (stock, then offer) needs."""

    offer_units: dict[tuple[int, int], int] = defaultdict(int)
    product_units: dict[int, int] = defaultdict(int)
    lines = list(OrderLine.objects.filter(merchant_order_id__in=merchant_order_ids).values_list(
        "pk", "product_id", "offer_id", "quantity"))
    taken_back = set().union(*units_returning.send(line_ids=[line[0] for line in lines]))
    for _pk, product_id, offer_id, quantity in (line for line in lines if line[0] not in taken_back):
        if offer_id:
            offer_units[(offer_id, product_id)] += quantity
        else:
            product_units[product_id] += quantity
    for (offer_id, _product_id), quantity in sorted(offer_units.items()):
        OfferPurchase.objects.filter(offer_id=offer_id, buyer_id=order.buyer_id, quantity__gte=quantity).update(
            quantity=F("quantity") - quantity)
    involved = sorted(set(product_units) | {product_id for _offer_id, product_id in offer_units})
    list(Product.objects.select_for_update().filter(pk__in=involved).order_by("pk").values_list("pk", flat=True))
    back_to_offer = []
    for (offer_id, product_id), quantity in sorted(offer_units.items()):
        row = _give_back_to_offer(offer_id=offer_id, quantity=quantity)
        if row is None:
            product_units[product_id] += quantity
        else:
            back_to_offer.append(GateLine(offer_id=offer_id, quantity=quantity))
            room.offer_updated(stream_id=row[1], offer_id=offer_id, remaining=row[0])
    for product_id, quantity in sorted(product_units.items()):
        product_stock_return(product_id=product_id, quantity=quantity)
    if back_to_offer:
        transaction.on_commit(lambda: gate_release(buyer_id=order.buyer_id, lines=back_to_offer))


def _locked_order(*, order_id: int, buyer=None) -> Order:
    queryset = Order.objects.select_for_update(of=("self",))  # the first lock (orders/services/locks.py)
    if buyer is not None:
        queryset = queryset.filter(buyer=buyer)
    order = queryset.filter(pk=order_id).first()
    if order is None:
        raise NotFound(_("No such order."))
    return order


def _locked_merchant_orders(order: Order) -> list[MerchantOrder]:
    return merchant_orders_lock(order=order, queryset=MerchantOrder.objects.select_related("merchant__user",
                                                                                         "order__buyer"))


# --- payment window ----------------------------------------------------------------------------

@transaction.atomic
def order_expire(*, order_id: int) -> bool:
    """Cancel an order unpaid past its deadline and return its units; False if it needs nothing
    (paid meanwhile, already cancelled, or not due). Two sweeps at once: the second waits on the
    row lock, then finds it cancelled, so units go back exactly once."""
    order = order_lock(order_id=order_id)
    if order is None or order.status != Order.Status.PENDING_PAYMENT or order.payment_deadline > timezone.now():
        return False
    merchant_orders = _locked_merchant_orders(order)
    for mo in merchant_orders:
        merchant_order_transition(mo, MO.CANCELLED, reason="payment window expired")
    order_transition(order, Order.Status.CANCELLED, reason="payment window expired")
    _return_units(order=order, merchant_order_ids=[mo.pk for mo in merchant_orders])
    notify(user=order.buyer, kind="order.expired", params={"order": order.pk})
    return True


def orders_expire_unpaid(*, limit: int | None = None) -> int:
    """The beat sweep: cancel up to ``limit`` overdue unpaid orders, oldest deadline first."""
    ids = list(Order.objects.filter(status=Order.Status.PENDING_PAYMENT, payment_deadline__lte=timezone.now())
               .order_by("payment_deadline").values_list("pk", flat=True)[:limit or settings.ORDERS_SWEEP_BATCH])
    return sum(1 for order_id in ids if order_expire(order_id=order_id))


# --- paid --------------------------------------------------------------------------------------

def order_mark_paid(*, order: Order, actor=None) -> Order:
    """The order (locked by the caller, pending payment) is paid: it and its merchant orders move on."""
    merchant_orders = _locked_merchant_orders(order)
    order_transition(order, Order.Status.PAID, actor=actor, reason="payment succeeded")
    for mo in merchant_orders:
        merchant_order_transition(mo, MO.PAID, actor=actor, reason="payment succeeded")
    sold = defaultdict(int)
    for product_id, quantity in OrderLine.objects.filter(merchant_order__order=order).values_list(
            "product_id", "quantity"):
        sold[product_id] += quantity
    for product_id, quantity in sorted(sold.items()):
        Product.objects.filter(pk=product_id).update(sales_count=F("sales_count") + quantity)
    notify(user=order.buyer, kind="order.paid", params={"order": order.pk})
    _announce_sale(order)
    for mo in (MerchantOrder.objects.filter(order=order).select_related("merchant__user")
               .annotate(item_count=Sum("lines__quantity"))):
        notify(user=mo.merchant.user, kind="merchant_order.paid",
               params={"merchant_order": mo.pk, "items": mo.item_count, "total": str(mo.total)})
    return order


def _announce_sale(order: Order) -> None:
    """``sale.made`` for a paid order placed in a live stream, after commit: one per line of the
    stream's own shop (another shop's line in the same order is no sale of that room)."""
    if not order.stream_id:
        return


    lines = list(OrderLine.objects.filter(
        merchant_order__order=order, merchant_order__merchant_id=F("merchant_order__order__stream__merchant_id"))
        .order_by("pk").values_list("product_id", "quantity"))
    if lines:
        masked = mask_name(buyer_display_name(order.buyer))
        for product_id, quantity in lines:
            room.sale_made(stream_id=order.stream_id, product_id=product_id, quantity=quantity, buyer_masked=masked)


# --- refunds -----------------------------------------------------------------------------------

def refundable_amount(merchant_order: MerchantOrder) -> Decimal:
    return merchant_order.total - merchant_order.refunded_amount


@transaction.atomic
def merchant_order_refund(*, merchant_order: MerchantOrder, amount: Decimal, reason: str, actor=None,
                          dispute=None):
    """Book a refund against a merchant order; the payments app sends it back through the payment's
    provider (``orders.domain_events.refund_booked``).

    The amount is added by one conditional UPDATE (``refunded_amount + amount <= total``), so any
    number of concurrent refunds (dispute decisions, cancellations) can never exceed what was paid;
    the table's CHECK constraint is the last line. The booking, the refund row and the ledger's
    posting of it commit together (atomic); the provider is called after commit."""
    amount = Decimal(amount)
    if amount <= 0:
        raise Conflict(_("A refund must be more than zero."))
    booked = MerchantOrder.objects.filter(pk=merchant_order.pk, refunded_amount__lte=F("total") - amount).update(
        refunded_amount=F("refunded_amount") + amount)
    if not booked:
        raise RefundExceedsPaid()
    merchant_order.refresh_from_db(fields=["refunded_amount"])
    refunds = refund_booked.send(merchant_order_id=merchant_order.pk, order_id=merchant_order.order_id, amount=amount,
                                 reason=reason, dispute_id=getattr(dispute, "pk", None))
    if len(refunds) != 1:
        raise RuntimeError("exactly one receiver (the payments app) must refund a booked amount")
    refund = refunds[0]
    notify(user=merchant_order.order.buyer, kind="refund.issued",
           params={"amount": str(amount), "merchant_order": merchant_order.pk, "reason": reason})
    return refund


def merchant_order_returned(*, merchant_order_id: int, actor=None, reason: str) -> MerchantOrder:
    """The parcel came back to the shop undelivered: the buyer gets back all that is left of what was
    paid for this sub-order (goods and delivery), which ends ``refunded``. Units are not put back on
    sale: returned produce is the merchant's to inspect and relist. Run inside the caller's transaction
    (the logistics scan that records the return)."""

    mo = merchant_order_lock(merchant_order_id=merchant_order_id,
                             queryset=MerchantOrder.objects.select_related("order__buyer"))
    if not MERCHANT_ORDER_WORKFLOW.allowed(mo.status, MerchantOrder.Status.REFUNDED):
        return mo  # already refunded in full (a dispute), or never paid
    left = refundable_amount(mo)
    if left > 0:
        merchant_order_refund(merchant_order=mo, amount=left, reason=reason, actor=actor)
    merchant_order_transition(mo, MO.REFUNDED, actor=actor, reason=reason)
    _unsell(order=mo.order, merchant_order_ids=[mo.pk])
    order_settle(order=mo.order)
    return mo


# --- cancel by the buyer -------------------------------------------------------------------------

@transaction.atomic
def order_cancel(*, buyer, order_id: int) -> Order:
    """The buyer cancels before anything shipped: units go back, anything paid is refunded."""
    order = _locked_order(order_id=order_id, buyer=buyer)
    if order.status not in (Order.Status.PENDING_PAYMENT, Order.Status.PAID):
        order_transition(order, Order.Status.CANCELLED, actor=buyer)  # raises the 409
    cancel_asked.send(order_id=order.pk)
    merchant_orders = _locked_merchant_orders(order)
    if any(mo.status in SHIPPED_OR_LATER for mo in merchant_orders):
        raise Conflict(_("Part of this order has already shipped; open a dispute instead."), code="already_shipped")
    cancelled = []
    for mo in merchant_orders:
        if mo.status in (MO.CANCELLED, MO.REFUNDED):
            continue
        left = refundable_amount(mo)
        merchant_order_transition(mo, MO.CANCELLED, actor=buyer, reason="cancelled by the buyer")
        if order.status == Order.Status.PAID and left > 0:
            merchant_order_refund(merchant_order=mo, amount=left, reason=_("order cancelled"), actor=buyer)
        if order.status == Order.Status.PAID:
            notify(user=mo.merchant.user, kind="merchant_order.cancelled", params={"merchant_order": mo.pk})
        cancelled.append(mo.pk)
    was_paid = order.status == Order.Status.PAID
    order_transition(order, Order.Status.CANCELLED, actor=buyer, reason="cancelled by the buyer")
    _return_units(order=order, merchant_order_ids=cancelled)
    if was_paid:
        _unsell(order=order, merchant_order_ids=cancelled)
    notify(user=buyer, kind="order.cancelled", params={"order": order.pk})
    return order


def _unsell(*, order: Order, merchant_order_ids: list[int]) -> None:
    sold = defaultdict(int)
    for product_id, quantity in OrderLine.objects.filter(merchant_order_id__in=merchant_order_ids).values_list(
            "product_id", "quantity"):
        sold[product_id] += quantity
    for product_id, quantity in sorted(sold.items()):
        Product.objects.filter(pk=product_id, sales_count__gte=quantity).update(
            sales_count=F("sales_count") - quantity)


# --- receipt and completion ----------------------------------------------------------------------

def order_settle(*, order: Order) -> None:
    """A paid order whose merchant orders all reached an end is completed (or cancelled if none
    was completed, i.e. everything was refunded)."""
    statuses = set(MerchantOrder.objects.filter(order=order).values_list("status", flat=True))
    if order.status != Order.Status.PAID or not statuses <= TERMINAL:
        return
    order = order_lock(order_id=order.pk)  # the callers hold it already (the lock order): no wait
    if order.status != Order.Status.PAID:
        return
    order_transition(order, Order.Status.COMPLETED if MO.COMPLETED in statuses else Order.Status.CANCELLED,
                     reason="all merchant orders settled")


def _complete(mo: MerchantOrder, *, actor, reason: str) -> MerchantOrder:
    merchant_order_transition(mo, MO.COMPLETED, actor=actor, reason=reason)
    notify(user=mo.merchant.user, kind="merchant_order.completed", params={"merchant_order": mo.pk})
    order_settle(order=mo.order)
    return mo


@transaction.atomic
def merchant_order_confirm(*, buyer, merchant_order_id: int) -> MerchantOrder:
    """The buyer confirms receipt of a delivered merchant order."""
    mo = merchant_order_lock(merchant_order_id=merchant_order_id, queryset=MerchantOrder.objects.select_related(
        "order", "merchant__user").filter(order__buyer=buyer))
    if mo is None:
        raise NotFound(_("No such order."))
    return _complete(mo, actor=buyer, reason="receipt confirmed by the buyer")


def merchant_orders_auto_confirm(*, limit: int | None = None) -> int:
    """The beat task: complete merchant orders delivered more than ORDERS_AUTO_CONFIRM_AFTER ago."""
    cutoff = timezone.now() - settings.ORDERS_AUTO_CONFIRM_AFTER
    ids = list(MerchantOrder.objects.filter(status=MO.DELIVERED, delivered_at__lte=cutoff)
               .order_by("delivered_at").values_list("pk", flat=True)[:limit or settings.ORDERS_SWEEP_BATCH])
    done = 0
    for pk in ids:
        with transaction.atomic():
            mo = merchant_order_lock(merchant_order_id=pk, queryset=MerchantOrder.objects.select_related(
                "order", "merchant__user").filter(status=MO.DELIVERED, delivered_at__lte=cutoff))
            if mo is not None:
                _complete(mo, actor=None, reason="confirmed automatically after delivery")
                done += 1
    return done
