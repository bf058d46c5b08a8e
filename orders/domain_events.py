"""What the orders domain announces to the apps above it (core/domain_events.py)."""

from core.domain_events import DomainEvent

# Money was booked back to the buyer against a merchant order (a cancellation, a dispute's
# decision, a returned parcel): ``refunded_amount`` already holds it. Sent inside that
# transaction; the payments app's receiver writes the refund of the order's payment there too and
# returns it (and refuses, rolling the booking back, when the order has no successful payment).
refund_booked = DomainEvent("orders.refund_booked",
                            payload=("merchant_order_id", "order_id", "amount", "reason", "dispute_id"))

# The buyer asks to cancel an order (``POST /api/orders/{id}/cancel/``), under the order's lock and
# before anything changes. An app whose sale the order is (an adoption paid up front) may refuse it
# by raising a DomainError: that sale has cancellation rules of its own.
cancel_asked = DomainEvent("orders.cancel_asked", payload=("order_id",))

# Units of these order lines go back (their order was cancelled or expired). Sent inside that
# transaction, under the order's lock, once. An app that sold some of them from elsewhere than the
# stock (an adoption's orders) takes them back itself and returns their ids; the rest go back to the
# stock (or the offers) as before.
units_returning = DomainEvent("orders.units_returning", payload=("line_ids",))
