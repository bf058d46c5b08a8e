"""The one lock order of the order pipeline, and the helpers that take locks in it.

Every transaction that locks more than one of these rows takes them in this order (a path that
needs only some of them skips the others, never reorders them):

    order → its merchant orders (by pk) → disputes → shipments → payments → refunds
          → the buyer's unpaid holds (by scope) → per-buyer offer counters (by offer)
          → product stock (by pk) → offers (by pk)

Two paths that lock the same order and merchant order in opposite orders deadlock: PostgreSQL
kills one of them (SQLSTATE 40P01) and its client gets a 503 (issue #12: a dispute accepted, which
locked the merchant order and then the order, while the buyer cancelled, which locks the order and
then its merchant orders). So a path that starts from a merchant order, a dispute or a shipment
first reads which order it belongs to, without a lock, and locks that order first
(``merchant_order_lock``). docs/orders-payments.md states the rule.
"""

from __future__ import annotations

from django.db.models import QuerySet

from ..models import MerchantOrder, Order


def order_lock(*, order_id: int) -> Order | None:
    """Lock an order row (the first lock of every path through the order pipeline)."""
    return Order.objects.select_for_update(of=("self",)).filter(pk=order_id).first()


def merchant_orders_lock(*, order: Order, queryset: QuerySet | None = None) -> list[MerchantOrder]:
    """Lock an order's merchant orders, by pk (the caller holds the order's lock)."""
    queryset = MerchantOrder.objects.all() if queryset is None else queryset
    return list(queryset.select_for_update(of=("self",)).filter(order=order).order_by("pk"))


def merchant_order_lock(*, merchant_order_id: int, queryset: QuerySet | None = None) -> MerchantOrder | None:
    """Lock a merchant order the lock-order way: its order first, then the merchant order.

    ``queryset`` scopes the look-up (the caller's own merchant orders, with its ``select_related``);
    None if it has no such merchant order (nothing is locked then)."""
    queryset = MerchantOrder.objects.all() if queryset is None else queryset
    order_id = queryset.filter(pk=merchant_order_id).values_list("order_id", flat=True).first()
    if order_id is None:
        return None
    order_lock(order_id=order_id)  # a merchant order never changes order: this is the right row
    return queryset.select_for_update(of=("self",)).filter(pk=merchant_order_id).first()
