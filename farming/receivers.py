"""How adoptions and pre-sales react to the orders' facts (core/domain_events.py)."""

from django.db.models import Q

from core.domain_events import IN_TRANSACTION
from orders.domain_events import cancel_asked, units_returning
from orders.models import OrderLine

from .errors import CancelThroughAdoption
from .models import Subscription


@cancel_asked.receiver(phase=IN_TRANSACTION)
def refuse_cancelling_an_adoption_by_its_order(*, order_id):
    """An adoption's paying order is cancelled through the adoption, whose cut-off and pro-rata refund apply."""
    if Subscription.objects.filter(order_id=order_id, status=Subscription.Status.ACTIVE).exists():
        raise CancelThroughAdoption()


@units_returning.receiver(phase=IN_TRANSACTION)
def take_back_what_was_not_sold_from_stock(*, line_ids):
    """An adoption's orders never took any stock: nothing of them goes back to it."""
    return set(OrderLine.objects.filter(
        Q(merchant_order__order__adoption_subscription__isnull=False)
        | Q(merchant_order__order__adoption_delivery__isnull=False), pk__in=line_ids).values_list("pk", flat=True))
