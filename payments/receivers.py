"""How payments react to other domains' events (core/domain_events.py)."""

from django.utils.translation import gettext_lazy as _

from core.domain_events import IN_TRANSACTION
from core.errors import Conflict
from orders.domain_events import refund_booked

from .models import Payment
from .services import refund_create


@refund_booked.receiver(phase=IN_TRANSACTION)
def refund_the_booked_amount(*, merchant_order_id, order_id, amount, reason, dispute_id):
    """The booked amount goes back through the order's successful payment (sent after commit)."""
    payment = Payment.objects.filter(order_id=order_id, status=Payment.Status.SUCCEEDED).first()
    if payment is None:
        raise Conflict(_("This order has no successful payment to refund."))
    return refund_create(payment=payment, merchant_order_id=merchant_order_id, amount=amount, reason=reason,
                         dispute_id=dispute_id)
