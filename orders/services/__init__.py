"""Order services, one module per part of the flow; import from here."""

from .cart import cart_get_or_create, cart_item_add, cart_item_remove, cart_item_update  # noqa: F401
from .disputes import (  # noqa: F401
    dispute_escalate,
    dispute_open,
    dispute_resolve,
    dispute_respond,
    disputes_escalate_due,
)
from .lifecycle import (  # noqa: F401
    merchant_order_confirm,
    merchant_order_refund,
    merchant_order_returned,
    merchant_orders_auto_confirm,
    order_cancel,
    order_expire,
    order_mark_paid,
    orders_expire_unpaid,
)
from .reviews import review_create  # noqa: F401
