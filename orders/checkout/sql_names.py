"""Names for the orders app's raw SQL, taken from the models, never written out by hand.

The checkout's statements (``sql.py``) and the give-back of offer units
(``lifecycle.py``) touch other apps' tables; they are written as templates with ``{offer}``,
``{offer_live}`` and the like, and ``sql(template)`` fills them once, when the module is imported
(no cost per request). A renamed table or status then changes the SQL with it, and a template
naming something unknown fails at import, not in production.
"""

from __future__ import annotations

from catalog.models import Product
from core.models import IdempotencyKey
from livestream.models import Offer, Stream
from merchants.models import Merchant
from regions.models import Region

from ..models import CartItem, MerchantOrder, OfferPurchase, Order, OrderLine, PendingHold

NAMES: dict[str, str] = {
    # tables
    "region": Region._meta.db_table,
    "merchant": Merchant._meta.db_table,
    "product": Product._meta.db_table,
    "stream": Stream._meta.db_table,
    "offer": Offer._meta.db_table,
    "offerpurchase": OfferPurchase._meta.db_table,
    "pendinghold": PendingHold._meta.db_table,
    "order": Order._meta.db_table,
    "merchantorder": MerchantOrder._meta.db_table,
    "orderline": OrderLine._meta.db_table,
    "cartitem": CartItem._meta.db_table,
    "idempotencykey": IdempotencyKey._meta.db_table,
    # statuses and kinds (values of the models' choices)
    "offer_live": Offer.Status.LIVE.value,
    "offer_ended": Offer.Status.ENDED.value,
    "offer_sold_out": Offer.EndReason.SOLD_OUT.value,
    "village": Region.Level.VILLAGE.value,
    "key_done": IdempotencyKey.State.DONE.value,
}


def sql(template: str, **more: str) -> str:
    """``template`` with its ``{name}``s filled from ``NAMES`` (and ``more``)."""
    return template.format(**NAMES, **more)
