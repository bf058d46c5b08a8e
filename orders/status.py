"""The order pipeline: one transition table per model, one function that moves along it."""

from __future__ import annotations

from django.utils import timezone

from core.transitions import ensure_transition

from .models import MerchantOrder, MerchantOrderEvent, Order, OrderEvent

ORDER_TRANSITIONS = {
    Order.Status.PENDING_PAYMENT: {Order.Status.PAID, Order.Status.CANCELLED},
    Order.Status.PAID: {Order.Status.COMPLETED, Order.Status.CANCELLED},
    Order.Status.COMPLETED: set(),
    Order.Status.CANCELLED: set(),
}

MERCHANT_ORDER_TRANSITIONS = {
    MerchantOrder.Status.PENDING_PAYMENT: {MerchantOrder.Status.PAID, MerchantOrder.Status.CANCELLED},
    MerchantOrder.Status.PAID: {MerchantOrder.Status.SHIPPED, MerchantOrder.Status.CANCELLED,
                                MerchantOrder.Status.REFUNDING, MerchantOrder.Status.REFUNDED},
    MerchantOrder.Status.SHIPPED: {MerchantOrder.Status.DELIVERED, MerchantOrder.Status.REFUNDING,
                                   MerchantOrder.Status.REFUNDED},
    MerchantOrder.Status.DELIVERED: {MerchantOrder.Status.COMPLETED, MerchantOrder.Status.REFUNDING,
                                     MerchantOrder.Status.REFUNDED},
    MerchantOrder.Status.REFUNDING: {MerchantOrder.Status.REFUNDED, MerchantOrder.Status.PAID,
                                     MerchantOrder.Status.SHIPPED, MerchantOrder.Status.DELIVERED,
                                     MerchantOrder.Status.COMPLETED},
    MerchantOrder.Status.COMPLETED: {MerchantOrder.Status.REFUNDING, MerchantOrder.Status.REFUNDED},
    MerchantOrder.Status.CANCELLED: set(),
    MerchantOrder.Status.REFUNDED: set(),
}

_TIMESTAMPS = {
    MerchantOrder.Status.SHIPPED: "shipped_at",
    MerchantOrder.Status.DELIVERED: "delivered_at",
    MerchantOrder.Status.COMPLETED: "completed_at",
}
_ORDER_TIMESTAMPS = {Order.Status.PAID: "paid_at", Order.Status.CANCELLED: "cancelled_at"}


def order_transition(order: Order, to: str, *, actor=None, reason: str = "") -> Order:
    """Move ``order`` (locked by the caller) to ``to``; 409 if the table forbids it."""
    ensure_transition(ORDER_TRANSITIONS, order.status, to)
    if order.status == Order.Status.PENDING_PAYMENT:  # paid, cancelled or expired: it holds nothing unpaid now
        from .services.holds import pending_holds_release

        pending_holds_release(order=order)
    OrderEvent.objects.create(order=order, actor=actor, from_status=order.status, to_status=to, reason=reason)
    order.status = to
    fields = ["status"]
    if to in _ORDER_TIMESTAMPS:
        setattr(order, _ORDER_TIMESTAMPS[to], timezone.now())
        fields.append(_ORDER_TIMESTAMPS[to])
    order.save(update_fields=fields)
    return order


def merchant_order_transition(merchant_order: MerchantOrder, to: str, *, actor=None, reason: str = "") -> MerchantOrder:
    """Move ``merchant_order`` (locked by the caller) to ``to``; 409 if the table forbids it."""
    ensure_transition(MERCHANT_ORDER_TRANSITIONS, merchant_order.status, to)
    MerchantOrderEvent.objects.create(
        merchant_order=merchant_order, actor=actor, from_status=merchant_order.status, to_status=to, reason=reason
    )
    merchant_order.status = to
    fields = ["status"]
    if to in _TIMESTAMPS:
        setattr(merchant_order, _TIMESTAMPS[to], timezone.now())
        fields.append(_TIMESTAMPS[to])
    merchant_order.save(update_fields=fields)
    return merchant_order
