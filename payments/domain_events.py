"""What the payments domain announces to the apps above it (core/domain_events.py).

All three are sent inside the transaction that records the fact, so the ledger's posting of it
(ledger/receivers.py) commits or rolls back together with it.
"""

from core.domain_events import DomainEvent

# A provider's notice (or status query) settled a payment as succeeded. ``kept`` is False when the
# order had been closed meanwhile and the whole amount goes back to the buyer (``refunded_late``).
payment_received = DomainEvent("payments.payment_received",
                               payload=("payment_id", "order_id", "provider", "amount", "kept"))
# A refund row was written: for a booked merchant-order amount (``merchant_order_id``), or the
# whole of a late payment (``merchant_order_id`` None).
refund_created = DomainEvent("payments.refund_created",
                             payload=("refund_id", "payment_id", "merchant_order_id", "amount"))
# The provider confirmed that a refund reached the buyer.
refund_paid = DomainEvent("payments.refund_paid", payload=("refund_id", "provider", "amount"))
