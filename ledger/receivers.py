"""The ledger's postings of the money facts of payments (core/domain_events.py).

Each runs inside the transaction of the fact (IN_TRANSACTION): a payment is never marked paid, nor
a refund booked, without its posting, and a posting failing undoes the fact.
"""

from core.domain_events import IN_TRANSACTION
from payments.domain_events import payment_received, refund_created, refund_paid

from . import services


@payment_received.receiver(phase=IN_TRANSACTION)
def post_the_payment(*, payment_id, order_id, provider, amount, kept):
    services.payment_post(payment_id=payment_id, order_id=order_id, provider=provider, amount=amount, kept=kept)


@refund_created.receiver(phase=IN_TRANSACTION)
def post_the_refund(*, refund_id, payment_id, merchant_order_id, amount):
    if merchant_order_id is not None:  # a late payment's refund was owed from its payment's posting
        services.refund_post(refund_id=refund_id, merchant_order_id=merchant_order_id, amount=amount)


@refund_paid.receiver(phase=IN_TRANSACTION)
def post_the_paid_refund(*, refund_id, provider, amount):
    services.refund_paid_post(refund_id=refund_id, provider=provider, amount=amount)
