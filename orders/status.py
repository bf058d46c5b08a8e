"""The order pipeline: one transition table per model, one function that moves along it."""

from __future__ import annotations

from core.transitions import Workflow

from .models import Dispute, DisputeEvent, MerchantOrder, MerchantOrderEvent, Order, OrderEvent
from .services.holds import pending_holds_release

ORDER_TRANSITIONS = {
    Order.Status.PENDING_PAYMENT: {Order.Status.PAID, Order.Status.CANCELLED},
    Order.Status.PAID: {Order.Status.COMPLETED, Order.Status.CANCELLED},
    Order.Status.COMPLETED: set(),
    Order.Status.CANCELLED: set(),
}

MERCHANT_ORDER_TRANSITIONS = {
    MerchantOrder.Status.PENDING_PAYMENT: {MerchantOrder.Status.PAID, MerchantOrder.Status.CANCELLED},
    MerchantOrder.Status.PAID: {MerchantOrder.Status.SHIPPED, MerchantOrder.Status.CANCELLED,
                                MerchantOrder.Status.REFUNDED},
    MerchantOrder.Status.SHIPPED: {MerchantOrder.Status.DELIVERED, MerchantOrder.Status.REFUNDED},
    MerchantOrder.Status.DELIVERED: {MerchantOrder.Status.COMPLETED, MerchantOrder.Status.REFUNDED},
    MerchantOrder.Status.COMPLETED: {MerchantOrder.Status.REFUNDED},
    MerchantOrder.Status.CANCELLED: set(),
    MerchantOrder.Status.REFUNDED: set(),
}

D = Dispute.Status
DISPUTE_TRANSITIONS = {
    D.OPEN: {D.ACCEPTED, D.CONTESTED, D.ESCALATED},
    D.CONTESTED: {D.ESCALATED},
    D.ESCALATED: {D.RESOLVED},
    D.ACCEPTED: set(),
    D.RESOLVED: set(),
}

ORDER_WORKFLOW = Workflow(Order, ORDER_TRANSITIONS, events=OrderEvent,
                          timestamps={Order.Status.PAID: "paid_at", Order.Status.CANCELLED: "cancelled_at"})
MERCHANT_ORDER_WORKFLOW = Workflow(MerchantOrder, MERCHANT_ORDER_TRANSITIONS, events=MerchantOrderEvent, timestamps={
    MerchantOrder.Status.SHIPPED: "shipped_at",
    MerchantOrder.Status.DELIVERED: "delivered_at",
    MerchantOrder.Status.COMPLETED: "completed_at",
})

DISPUTE_WORKFLOW = Workflow(Dispute, DISPUTE_TRANSITIONS, events=DisputeEvent)


def order_transition(order: Order, to: str, *, actor=None, reason: str = "") -> Order:
    """Move ``order`` (locked by the caller) to ``to``; 409 if the table forbids it."""
    ORDER_WORKFLOW.check(order.status, to)
    if order.status == Order.Status.PENDING_PAYMENT:  # paid, cancelled or expired: it holds nothing unpaid now
        pending_holds_release(order=order)
    return ORDER_WORKFLOW.transition(order, to, actor=actor, reason=reason)


def merchant_order_transition(merchant_order: MerchantOrder, to: str, *, actor=None, reason: str = "") -> MerchantOrder:
    """Move ``merchant_order`` (locked by the caller) to ``to``; 409 if the table forbids it."""
    return MERCHANT_ORDER_WORKFLOW.transition(merchant_order, to, actor=actor, reason=reason)
