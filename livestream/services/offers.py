"""Flash offers: units set aside from a product's stock, sold at a price while the stream is live.

Starting an offer takes its units from the product's stock (``catalog.stock``);
ending it — sold out, expired, stream ended or cancelled by the owner — zeroes
``remaining`` and hands the unsold units back, in one locked step, so no unit can
be sold twice or lost. The orders app sells against ``remaining`` with its own
conditional UPDATE (and its Redis gate, which it loads when this module announces
``offer_opened`` and closes on ``offer_closed``: livestream/domain_events.py).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.models import Product
from catalog.stock import product_stock_return, product_stock_take
from core.errors import Conflict, NotFound, ValidationFailed

from .. import events
from ..domain_events import offer_closed, offer_opened
from ..models import Offer, Stream
from ..status import OFFER_WORKFLOW
from ._common import owned_stream
from .streams import StreamNotLive

O = Offer.Status


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
    product.refresh_from_db(fields=["stock"])  # the answer shows what is left on the shelf after the take
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
    offer_opened.send(offer_id=offer_id)
    return offer


def offer_end(*, offer_id: int, reason: str, actor=None) -> Offer | None:
    """End a live offer and hand its unsold units back. Idempotent: None if it had ended already."""
    with transaction.atomic():
        # The lock order (orders/services/locks.py): the product's stock row, then the offer, as a
        # checkout takes them; the other way round an offer ending while a buyer checks out the
        # product's stock and its offer together could deadlock.
        product_id = Offer.objects.filter(pk=offer_id, status=O.LIVE).values_list("product_id", flat=True).first()
        if product_id is None:
            return None
        Product.objects.select_for_update().filter(pk=product_id).values_list("pk", flat=True).first()
        offer = Offer.objects.select_for_update().filter(pk=offer_id).first()
        if offer is None or offer.status != O.LIVE:
            return None
        unsold = offer.remaining
        offer.end_reason, offer.ended_at, offer.remaining, offer.returned = reason, timezone.now(), 0, unsold
        OFFER_WORKFLOW.transition(offer, O.ENDED, update_fields=("end_reason", "ended_at", "remaining", "returned"))
        if unsold:
            product_stock_return(product_id=offer.product_id, quantity=unsold)
        events.offer_ended(stream_id=offer.stream_id, offer_id=offer.pk, remaining=unsold, reason=reason)
        offer_closed.send(offer_id=offer_id)
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


def offers_end_for_stream(*, stream: Stream) -> int:
    """The stream ended: its live offers end with it (inside the stream's transaction)."""
    ids = list(Offer.objects.filter(stream=stream, status=O.LIVE).order_by("pk").values_list("pk", flat=True))
    return sum(1 for pk in ids if offer_end(offer_id=pk, reason=Offer.EndReason.STREAM_ENDED))


def offers_expire_due(*, limit: int = 200) -> int:
    """End the live offers whose time is up (a bounded batch; the beat sweep and ETA tasks call it)."""
    ids = list(Offer.objects.filter(status=O.LIVE, ends_at__lte=timezone.now())
               .order_by("ends_at", "pk").values_list("pk", flat=True)[:limit])
    return sum(1 for pk in ids if offer_end(offer_id=pk, reason=Offer.EndReason.EXPIRED))
