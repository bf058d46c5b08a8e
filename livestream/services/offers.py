"""Flash offers: units set aside from a product's stock, sold at a price while the stream is live.

Starting an offer takes its units from the product's stock (``catalog.stock``);
ending it — sold out, expired, stream ended or cancelled by the owner — zeroes
``remaining`` and hands the unsold units back, in one locked step, so no unit can
be sold twice or lost. The orders app sells against ``remaining`` through
``offer_units_take`` / ``offer_units_return`` (or its own conditional UPDATE
followed by ``offer_sold_out``).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.models import Product
from catalog.stock import product_stock_return, product_stock_take
from core.errors import Conflict, NotFound, ValidationFailed
from core.transitions import ensure_transition

from .. import events
from ..models import Offer, Stream
from ._common import owned_stream
from .streams import StreamNotLive

O = Offer.Status
OFFER_TRANSITIONS: dict[str, set[str]] = {O.LIVE: {O.ENDED}, O.ENDED: set()}


class OfferUnavailable(Conflict):
    code = "offer_unavailable"
    default_message = _("This offer has ended or has not enough units left.")


class OfferLimitReached(Conflict):
    code = "offer_limit_reached"
    default_message = _("You have reached this offer's limit per buyer.")


def _field_error(field: str, message) -> ValidationFailed:
    return ValidationFailed(message, fields={field: [str(message)]})


@transaction.atomic
def offer_start(*, stream_id: int, actor, product_id: int, price: Decimal, quantity: int,
                duration_s: int, per_buyer_limit: int | None = None) -> Offer:
    stream = owned_stream(stream_id=stream_id, actor=actor, for_update=True)
    if stream.status != Stream.Status.LIVE:
        raise StreamNotLive(_("Offers can be launched only while the stream is live."))
    if quantity is None or quantity < 1:
        raise _field_error("quantity", _("Offer at least one unit."))
    if per_buyer_limit is not None and per_buyer_limit < 1:
        raise _field_error("per_buyer_limit", _("The limit per buyer must be at least 1."))
    if not settings.LIVE_OFFER_MIN_DURATION_S <= duration_s <= settings.LIVE_OFFER_MAX_DURATION_S:
        raise _field_error("duration_s", _("An offer lasts between %(min)d and %(max)d seconds.") % {
            "min": settings.LIVE_OFFER_MIN_DURATION_S, "max": settings.LIVE_OFFER_MAX_DURATION_S})
    if price is None or price <= 0:
        raise _field_error("price", _("The price must be above zero."))
    product = stream.products.filter(pk=product_id, status=Product.Status.LISTED).first()
    if product is None:
        raise _field_error("product", _("That product is not sold in this stream."))
    if Offer.objects.filter(stream=stream, product=product, status=O.LIVE).exists():
        raise Conflict(_("This product already has a live offer."), code="offer_exists",
                       fields={"product": [str(_("End its live offer first."))]})
    if not product_stock_take(product_id=product.pk, quantity=quantity):
        raise Conflict(_("Not enough stock for this offer."), code="insufficient_stock",
                       fields={"quantity": [str(_("Only %(n)d in stock.") % {
                           "n": Product.objects.values_list("stock", flat=True).get(pk=product.pk)})]})
    offer = Offer.objects.create(
        stream=stream, product=product, price=price, quantity=quantity, remaining=quantity,
        per_buyer_limit=per_buyer_limit, ends_at=timezone.now() + datetime.timedelta(seconds=duration_s),
    )
    from ..selectors import offer_payload

    events.offer_started(stream_id=stream.pk, offer=offer_payload(offer))
    offer_id, eta = offer.pk, offer.ends_at

    def schedule_expiry():
        from ..tasks import offer_expire

        offer_expire.apply_async(args=[offer_id], eta=eta)

    transaction.on_commit(schedule_expiry, robust=True)
    return offer


def offer_end(*, offer_id: int, reason: str, actor=None) -> Offer | None:
    """End a live offer and hand its unsold units back. Idempotent: None if it had ended already."""
    with transaction.atomic():
        offer = Offer.objects.select_for_update().filter(pk=offer_id).first()
        if offer is None or offer.status != O.LIVE:
            return None
        ensure_transition(OFFER_TRANSITIONS, offer.status, O.ENDED)
        unsold = offer.remaining
        offer.status, offer.end_reason, offer.ended_at = O.ENDED, reason, timezone.now()
        offer.remaining, offer.returned = 0, unsold
        offer.save(update_fields=["status", "end_reason", "ended_at", "remaining", "returned"])
        if unsold:
            product_stock_return(product_id=offer.product_id, quantity=unsold)
        events.offer_ended(stream_id=offer.stream_id, offer_id=offer.pk, remaining=unsold, reason=reason)
        return offer


def offer_cancel(*, stream_id: int, offer_id: int, actor) -> Offer:
    """The owner ends an offer early."""
    with transaction.atomic():
        owned_stream(stream_id=stream_id, actor=actor)
        if not Offer.objects.filter(pk=offer_id, stream_id=stream_id).exists():
            raise NotFound(_("No such offer."))
        ended = offer_end(offer_id=offer_id, reason=Offer.EndReason.CANCELLED, actor=actor)
        if ended is None:
            raise Conflict(_("This offer has already ended."), code="offer_ended")
        return ended


def offer_sold_out(*, offer_id: int) -> Offer | None:
    """Call after selling an offer's last unit (``remaining`` reached 0): it ends as sold out."""
    with transaction.atomic():
        if not Offer.objects.filter(pk=offer_id, status=O.LIVE, remaining=0).exists():
            return None
        return offer_end(offer_id=offer_id, reason=Offer.EndReason.SOLD_OUT)


def offer_units_take(*, offer_id: int, quantity: int, buyer_id: int | None = None) -> int:
    """Reserve ``quantity`` units of a live, unexpired offer for an order; returns what remains.

    Must run inside the order's transaction. Raises ``OfferUnavailable`` (nothing
    changed) when the offer ended, expired or has too few units, and
    ``OfferLimitReached`` past its per-buyer limit (counting the buyer's unpaid and
    paid orders; concurrent checkouts of one buyer are serialized on an advisory
    lock). Publishes ``offer.updated`` on commit, and ends the offer as sold out
    when this took its last unit.
    """
    if quantity < 1:
        raise ValidationFailed(fields={"quantity": [str(_("Take at least one unit."))]})
    offer = Offer.objects.filter(pk=offer_id).values("stream_id", "per_buyer_limit").first()
    if offer is None:
        raise OfferUnavailable()
    if offer["per_buyer_limit"] and buyer_id is not None:
        _check_buyer_limit(offer_id=offer_id, buyer_id=buyer_id, quantity=quantity,
                           limit=offer["per_buyer_limit"])
    updated = Offer.objects.filter(
        pk=offer_id, status=O.LIVE, ends_at__gt=timezone.now(), remaining__gte=quantity,
    ).update(remaining=F("remaining") - quantity)
    if not updated:
        raise OfferUnavailable()
    remaining = Offer.objects.values_list("remaining", flat=True).get(pk=offer_id)
    events.offer_updated(stream_id=offer["stream_id"], offer_id=offer_id, remaining=remaining)
    if remaining == 0:
        offer_end(offer_id=offer_id, reason=Offer.EndReason.SOLD_OUT)
    return remaining


def offer_units_return(*, offer_id: int, quantity: int) -> None:
    """Give back units an order reserved (the order was cancelled or unpaid).

    To the offer while it is live; to the product's stock once the offer has ended
    (its unsold units were already returned then).
    """
    if quantity < 1:
        raise ValueError("quantity must be positive")
    with transaction.atomic():
        offer = Offer.objects.filter(pk=offer_id).values("stream_id", "product_id").first()
        if offer is None:
            return
        back = Offer.objects.filter(
            pk=offer_id, status=O.LIVE, remaining__lte=F("quantity") - quantity,
        ).update(remaining=F("remaining") + quantity)
        if back:
            remaining = Offer.objects.values_list("remaining", flat=True).get(pk=offer_id)
            events.offer_updated(stream_id=offer["stream_id"], offer_id=offer_id, remaining=remaining)
        else:
            product_stock_return(product_id=offer["product_id"], quantity=quantity)


def _check_buyer_limit(*, offer_id: int, buyer_id: int, quantity: int, limit: int) -> None:
    from orders.models import Order, OrderLine

    if connection.vendor == "postgresql":  # serialize one buyer's checkouts against this offer
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [offer_id % 2**31, buyer_id % 2**31])
    bought = (OrderLine.objects.filter(offer_id=offer_id, merchant_order__order__buyer_id=buyer_id)
              .exclude(merchant_order__order__status=Order.Status.CANCELLED)
              .aggregate(n=Sum("quantity"))["n"] or 0)
    if bought + quantity > limit:
        raise OfferLimitReached(fields={"quantity": [str(_("At most %(n)d more for you.")
                                                         % {"n": max(0, limit - bought)})]})


def offers_end_for_stream(*, stream: Stream) -> int:
    """The stream ended: its live offers end with it (inside the stream's transaction)."""
    ids = list(Offer.objects.filter(stream=stream, status=O.LIVE).order_by("pk").values_list("pk", flat=True))
    return sum(1 for pk in ids if offer_end(offer_id=pk, reason=Offer.EndReason.STREAM_ENDED))


def offers_expire_due(*, limit: int = 200) -> int:
    """End the live offers whose time is up (a bounded batch; the beat sweep and ETA tasks call it)."""
    ids = list(Offer.objects.filter(status=O.LIVE, ends_at__lte=timezone.now())
               .order_by("ends_at", "pk").values_list("pk", flat=True)[:limit])
    return sum(1 for pk in ids if offer_end(offer_id=pk, reason=Offer.EndReason.EXPIRED))
