"""Reviews: one per merchant order, after delivery; shop and product ratings follow."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, transaction
from django.db.models import Avg, Count
from django.utils.translation import gettext as _

from catalog.models import Product
from core.errors import Conflict, NotFound
from core.interactions import interaction_note
from merchants.models import Merchant
from notifications.services import notify

from ..models import MerchantOrder, OrderLine, Review
from .locks import merchant_order_lock

REVIEWABLE = {MerchantOrder.Status.DELIVERED, MerchantOrder.Status.COMPLETED}


def _avg(value) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@transaction.atomic
def review_create(*, buyer, merchant_order_id: int, rating: int, text: str = "") -> Review:
    mo = merchant_order_lock(merchant_order_id=merchant_order_id, queryset=MerchantOrder.objects.select_related(
        "merchant__user").filter(order__buyer=buyer))
    if mo is None:
        raise NotFound(_("No such order."))
    if mo.status not in REVIEWABLE:
        raise Conflict(_("You can review an order once it has been delivered."), code="not_delivered",
                       fields={"status": [mo.status]})
    if Review.objects.filter(merchant_order=mo).exists():
        raise Conflict(_("You have already reviewed this order."), code="already_reviewed")
    try:
        with transaction.atomic():
            review = Review.objects.create(merchant_order=mo, merchant_id=mo.merchant_id, buyer=buyer, rating=rating,
                                           text=text)
    except IntegrityError:
        raise Conflict(_("You have already reviewed this order."), code="already_reviewed") from None
    _update_ratings(merchant_id=mo.merchant_id, product_ids=sorted(set(
        OrderLine.objects.filter(merchant_order=mo).values_list("product_id", flat=True))))
    interaction_note(kind="review", user_id=buyer.pk, merchant_id=mo.merchant_id, ref=mo.pk, value=rating)
    notify(user=mo.merchant.user, kind="review.received", params={"rating": rating, "merchant_order": mo.pk})
    return review


def _update_ratings(*, merchant_id: int, product_ids: list[int]) -> None:
    """Recompute from the reviews, serialised per shop by its row lock: every statement after the
    lock sees all reviews committed before it, so concurrent reviews never lose a count."""
    Merchant.objects.select_for_update().filter(pk=merchant_id).values_list("pk", flat=True).get()
    stats = Review.objects.filter(merchant_id=merchant_id).aggregate(avg=Avg("rating"), n=Count("pk"))
    Merchant.objects.filter(pk=merchant_id).update(rating_avg=_avg(stats["avg"]), rating_count=stats["n"])
    for product_id in product_ids:
        stats = Review.objects.filter(
            merchant_order__in=OrderLine.objects.filter(product_id=product_id).values("merchant_order")
        ).aggregate(avg=Avg("rating"), n=Count("pk"))
        Product.objects.filter(pk=product_id).update(rating_avg=_avg(stats["avg"]), rating_count=stats["n"])
