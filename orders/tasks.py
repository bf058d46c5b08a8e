"""Beat entry points: each calls a service acting on a bounded batch; safe to run twice at once."""

from celery import shared_task

from . import services
from .checkout.gate import offer_gates_reconcile


@shared_task(name="orders.expire_unpaid")
def expire_unpaid() -> int:
    cancelled = services.orders_expire_unpaid()
    offer_gates_reconcile()
    return cancelled


@shared_task(name="orders.auto_confirm")
def auto_confirm() -> int:
    return services.merchant_orders_auto_confirm()


@shared_task(name="orders.escalate_disputes")
def escalate_disputes() -> int:
    return services.disputes_escalate_due()
