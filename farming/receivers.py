"""How adoptions and pre-sales react to the orders' facts (core/domain_events.py)."""

from core.domain_events import IN_TRANSACTION
from orders.domain_events import cancel_asked

from .errors import CancelThroughAdoption
from .models import Subscription


@cancel_asked.receiver(phase=IN_TRANSACTION)
def refuse_cancelling_an_adoption_by_its_order(*, order_id):
    """An adoption's paying order is cancelled through the adoption, whose cut-off and pro-rata refund apply."""
    if Subscription.objects.filter(order_id=order_id, status=Subscription.Status.ACTIVE).exists():
        raise CancelThroughAdoption()
