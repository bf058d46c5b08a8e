"""Reads of insights, scoped by who asks: a buyer reads only what is kept of the buyer."""

from __future__ import annotations

import datetime

from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone

from catalog.models import Product
from catalog.selectors import product_get_visible, product_list
from livestream.models import Stream
from merchants.models import Follow, Merchant
from orders.models import Order

from .models import BuyerProfile, InteractionEvent, PopularProduct, Recommendation, SimilarProduct


def my_interactions(*, user) -> QuerySet[InteractionEvent]:
    return InteractionEvent.objects.filter(user=user).select_related("product", "merchant", "stream")


def my_insights(*, user) -> dict:
    """The buyer's own profile and a summary of what is kept (three queries)."""
    profile = BuyerProfile.objects.filter(user=user).first() or BuyerProfile(user=user)
    kept = dict(InteractionEvent.objects.filter(user=user).values_list("kind").annotate(n=Count("pk")).order_by())
    oldest = InteractionEvent.objects.filter(user=user).aggregate(at=Min("at"))["at"]
    return {"personalised": profile.personalised, "match_alerts": profile.match_alerts,
            "interests": profile.interests, "built_at": profile.built_at, "kept": kept, "oldest": oldest}


FOR_YOU_SIZE = 20


def _for_sale():
    """What may be recommended: listed, of an approved shop, in stock (catalog's public list)."""
    return product_list().filter(stock__gt=0)


def buyer_province(*, user) -> str:
    """Where the buyer's latest order went (one query); '' when unknown."""
    if not (user and user.is_authenticated):
        return ""
    return (Order.objects.filter(buyer=user).order_by("-created_at").values_list(
        "village__county__province", flat=True).first() or "")


def cold_start_products(*, province: str, exclude: set[int] = frozenset(), size: int = FOR_YOU_SIZE) -> list[Product]:
    """Popular in the province this month (the nightly build's), else in the country; two queries."""
    month = timezone.localdate().month
    ranked = (PopularProduct.objects.filter(month=month, province__in=[province, ""])
              .exclude(product_id__in=exclude).order_by("-score", "pk").values_list("province", "product_id"))
    ordered = [pk for where, pk in ranked[:size * 4] if where == province] + \
              [pk for where, pk in ranked[:size * 4] if where != province]
    ids = list(dict.fromkeys(ordered))
    products = {p.pk: p for p in _for_sale().filter(pk__in=ids[:size * 2])}
    return [products[pk] for pk in ids if pk in products][:size]


def for_you_products(*, user, province: str = "") -> tuple[list[Product], str]:
    """(products, source): the buyer's recommendations still for sale (delisted, suspended and sold
    out products are filtered here, at read time), topped up with the cold start."""
    picked: list[Product] = []
    personalised = user.is_authenticated and not BuyerProfile.objects.filter(user=user, personalised=False).exists()
    if personalised:
        ids = list(Recommendation.objects.filter(user=user).order_by("-score", "pk")
                   .values_list("product_id", flat=True)[:FOR_YOU_SIZE * 3])
        products = {p.pk: p for p in _for_sale().filter(pk__in=ids)}
        picked = [products[pk] for pk in ids if pk in products][:FOR_YOU_SIZE]
    if len(picked) >= FOR_YOU_SIZE:
        return picked, "personal"
    province = province or buyer_province(user=user)
    filler = cold_start_products(province=province, exclude={p.pk for p in picked},
                                 size=FOR_YOU_SIZE - len(picked))
    return picked + filler, "personal" if picked else "popular"


def similar_products(*, product_id: int, user) -> list[Product]:
    product_get_visible(product_id=product_id, user=user)  # 404 for what the caller may not see
    ids = list(SimilarProduct.objects.filter(product_id=product_id).order_by("-score", "pk")
               .values_list("neighbour_id", flat=True)[:FOR_YOU_SIZE])
    products = {p.pk: p for p in _for_sale().filter(pk__in=ids)}
    return [products[pk] for pk in ids if pk in products]


def for_you_streams(*, user) -> list[Stream]:
    """Live and upcoming (next 7 days) streams, the buyer's followed and matched shops first."""
    now = timezone.now()
    streams = list(Stream.objects.filter(
        merchant__status=Merchant.Status.APPROVED).filter(
        Q(status=Stream.Status.LIVE) | Q(status=Stream.Status.SCHEDULED, scheduled_at__gte=now,
                                         scheduled_at__lte=now + datetime.timedelta(days=7)))
        .select_related("merchant", "pinned_product").order_by("scheduled_at", "pk")[:200])
    affinity: dict[int, float] = {}
    if user.is_authenticated:
        for merchant_id, score in Recommendation.objects.filter(user=user).values_list("product__merchant_id",
                                                                                       "score"):
            affinity[merchant_id] = affinity.get(merchant_id, 0.0) + score
        for merchant_id in Follow.objects.filter(user=user).values_list("merchant_id", flat=True):
            affinity[merchant_id] = affinity.get(merchant_id, 0.0) + 10.0
    live_first = {Stream.Status.LIVE: 0, Stream.Status.SCHEDULED: 1}
    streams.sort(key=lambda s: (-affinity.get(s.merchant_id, 0.0), live_first.get(s.status, 2), s.scheduled_at))
    return streams[:FOR_YOU_SIZE]
