"""What one buyer may hold in unpaid orders.

An unpaid order holds its units for the payment window. Without a cap one account could reserve a
whole product (600 units in 0.2 s in issue #12's attack) and do it again every window. The caps,
from the settings (docs/orders-payments.md):

- ``ORDERS_PENDING_MAX_ORDERS`` unpaid orders and ``ORDERS_PENDING_MAX_UNITS`` unpaid units per buyer;
- per product (its stock) and per flash offer, at most ``ORDERS_PENDING_MAX_SHARE`` of the units on
  sale at checkout (what is left for everyone else), never less than ``ORDERS_PENDING_MIN_ITEM_UNITS``.

They are counted in ``PendingHold`` rows (scope ``""`` for the buyer, ``p<id>`` for a product, ``o<id>``
for an offer), raised by the checkout's one conditional upsert (in the checkout's own statement on
PostgreSQL, so no round trip is added) and lowered when the order leaves ``pending_payment``
(``order_transition`` calls ``pending_holds_release``, whichever way it leaves).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils.translation import gettext as _

from ..models import OrderLine, PendingHold
from .errors import PendingLimitReached

# "No cap" in the checkout statement's integer comparisons (a per-buyer limit left unset).
NO_LIMIT = 2_000_000_000

BUYER = ""


@dataclass(frozen=True)
class Hold:
    """One counter a checkout raises: ``orders``/``units`` to add, within ``max_orders``/``max_units``."""

    scope: str
    orders: int
    units: int
    max_orders: int
    max_units: int


def product_scope(product_id: int) -> str:
    return f"p{product_id}"


def offer_scope(offer_id: int) -> str:
    return f"o{offer_id}"


def item_cap(on_sale: int) -> int:
    """Units of one product or offer a buyer may hold unpaid when ``on_sale`` units are left."""
    share = math.ceil(Decimal(max(on_sale, 0)) * settings.ORDERS_PENDING_MAX_SHARE)
    return max(settings.ORDERS_PENDING_MIN_ITEM_UNITS, share)


def holds_for(lines, products: dict, offers: dict) -> list[Hold]:
    """The counters of a checkout of ``lines`` (merged), in scope order (the lock order)."""
    holds = [Hold(BUYER, 1, sum(ln.quantity for ln in lines), settings.ORDERS_PENDING_MAX_ORDERS,
                  settings.ORDERS_PENDING_MAX_UNITS)]
    for line in lines:
        if line.offer_id:
            on_sale, scope = offers[line.offer_id]["remaining"], offer_scope(line.offer_id)
        else:
            on_sale, scope = products[line.product_id]["stock"], product_scope(line.product_id)
        holds.append(Hold(scope, 1, line.quantity, NO_LIMIT, item_cap(on_sale)))
    return sorted(holds, key=lambda h: h.scope)


def check_first_holds(holds: list[Hold], *, buyer_id: int) -> None:
    """Refuse what no counter could take (the upsert's first insert is not compared with the cap)."""
    for hold in holds:
        if hold.orders > hold.max_orders or hold.units > hold.max_units:
            raise pending_limit_error(buyer_id=buyer_id, holds=holds)


def pending_limit_error(*, buyer_id: int, holds: list[Hold]) -> PendingLimitReached:
    """The refusal, naming the first cap the buyer's current holds leave no room in (read afresh,
    after the refused statement was undone)."""
    held = {scope: (orders, units) for scope, orders, units in PendingHold.objects.filter(
        buyer_id=buyer_id, scope__in=[h.scope for h in holds]).values_list("scope", "orders", "units")}
    for hold in holds:
        orders, units = held.get(hold.scope, (0, 0))
        if orders + hold.orders > hold.max_orders:
            return PendingLimitReached(
                _("You have %(held)d unpaid orders; at most %(max)d are allowed. Pay or cancel one first.")
                % {"held": orders, "max": hold.max_orders},
                fields={"items": [_("Unpaid orders: %(held)d of at most %(max)d.") % {
                    "held": orders, "max": hold.max_orders}]})
        if units + hold.units > hold.max_units:
            if hold.scope == BUYER:
                message = _("You hold %(held)d units in unpaid orders; with these %(n)d that would pass the "
                            "limit of %(max)d. Pay or cancel an order first.")
            else:
                message = _("You hold %(held)d units of this item in unpaid orders; with these %(n)d that "
                            "would pass the limit of %(max)d for one buyer.")
            return PendingLimitReached(message % {"held": units, "n": hold.units, "max": hold.max_units},
                                       fields={"items": [_("Unpaid units: %(held)d held, %(n)d asked, at most "
                                                           "%(max)d.") % {"held": units, "n": hold.units,
                                                                          "max": hold.max_units}]})
    return PendingLimitReached(fields={"items": [_("Too much is held in unpaid orders.")]})


def pending_holds_release(*, order) -> None:
    """The order left ``pending_payment``: what it held no longer counts (run under the order's lock,
    which only the one caller moving it out of ``pending_payment`` holds)."""
    release: dict[str, list[int]] = {BUYER: [1, 0]}
    for product_id, offer_id, quantity in OrderLine.objects.filter(merchant_order__order_id=order.pk).values_list(
            "product_id", "offer_id", "quantity"):
        release[BUYER][1] += quantity
        scope = offer_scope(offer_id) if offer_id else product_scope(product_id)
        release.setdefault(scope, [0, 0])
        release[scope][0] += 1
        release[scope][1] += quantity
    for scope in sorted(release):
        orders, units = release[scope]
        PendingHold.objects.filter(buyer_id=order.buyer_id, scope=scope).update(
            orders=Greatest(F("orders") - orders, 0), units=Greatest(F("units") - units, 0))
