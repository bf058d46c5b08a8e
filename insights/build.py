"""The nightly build (beat task ``insights.build``): profiles, recommendations, similar products
and the cold start, from the interactions kept (docs/insights.md)."""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from catalog.selectors import public_products

from .models import BuyerProfile, InteractionEvent, PopularProduct, Recommendation, SimilarProduct
from .recommender.data import load_catalogue, load_interactions
from .recommender.model import Recommender
from .recommender.types import Catalogue, Interaction

FOR_YOU = 50
SIMILAR = 12
TOP = 3


def _interests(catalogue: Catalogue, rows: list[Interaction]) -> dict:
    """What a buyer's weighted interactions say: top categories, counties of origin, price band, claims."""
    tallies: dict[str, Counter] = defaultdict(Counter)
    for row in rows:
        item = catalogue.items.get(row.item)
        if item is None:
            continue
        tallies["categories"][item.category] += row.weight
        tallies["counties"][item.county] += row.weight
        tallies["price_bands"][item.price_band] += row.weight
        for claim in item.claims:
            tallies["claims"][claim] += row.weight
    return {name: [key for key, _n in tallies[name].most_common(1 if name == "price_bands" else TOP) if key]
            for name in ("categories", "counties", "price_bands", "claims")}


def insights_build(*, now: datetime.datetime | None = None) -> dict:
    now = now or timezone.now()
    catalogue = load_catalogue()
    log = load_interactions(since=now - datetime.timedelta(days=settings.INSIGHTS_RETENTION_DAYS))
    model = Recommender().fit(catalogue, log, now=now.timestamp())
    allowed = set(public_products().filter(stock__gt=0).values_list("pk", flat=True))
    opted_out = set(BuyerProfile.objects.filter(personalised=False).values_list("user_id", flat=True))
    consumers = set(get_user_model().objects.filter(role="consumer", is_active=True).values_list("pk", flat=True))
    by_user: dict[int, list[Interaction]] = defaultdict(list)
    for row in log:
        if row.user in consumers and row.user not in opted_out:
            by_user[row.user].append(row)
    users = sorted(by_user)
    recommended = model.recommend(users, k=FOR_YOU, allowed=allowed)
    with transaction.atomic():
        Recommendation.objects.all().delete()
        Recommendation.objects.bulk_create([Recommendation(user_id=user, product_id=item, score=score)
                                            for user in users for item, score in recommended[user]], batch_size=2000)
        SimilarProduct.objects.all().delete()
        SimilarProduct.objects.bulk_create([SimilarProduct(product_id=item, neighbour_id=other, score=score)
                                            for item in sorted(allowed)
                                            for other, score in model.similar(item, k=SIMILAR, allowed=allowed)],
                                           batch_size=2000)
        PopularProduct.objects.filter(month=now.month).delete()
        provinces = {""} | {province for province in catalogue.provinces.values() if province}
        PopularProduct.objects.bulk_create([
            PopularProduct(province=province, month=now.month, product_id=item, score=score)
            for province in sorted(provinces) for item, score in model.cold_start(province=province, k=FOR_YOU,
                                                                                   allowed=allowed)
            if score > 0 or province == ""], batch_size=2000)
        existing = set(BuyerProfile.objects.filter(user_id__in=users).values_list("user_id", flat=True))
        BuyerProfile.objects.bulk_create([BuyerProfile(user_id=user) for user in users if user not in existing])
        profiles = list(BuyerProfile.objects.filter(user_id__in=users))
        for profile in profiles:
            profile.interests, profile.built_at = _interests(catalogue, by_user[profile.user_id]), now
        BuyerProfile.objects.bulk_update(profiles, ["interests", "built_at"], batch_size=1000)
        # A buyer who cleared (or switched off) while the model was fitting keeps nothing from it.
        still_kept = set(InteractionEvent.objects.filter(user_id__in=users).values_list("user_id", flat=True)
                         .distinct()) - set(BuyerProfile.objects.filter(personalised=False).values_list("user_id",
                                                                                                        flat=True))
        gone = set(users) - still_kept
        Recommendation.objects.filter(user_id__in=gone).delete()
        BuyerProfile.objects.filter(user_id__in=gone).update(interests={}, built_at=None)
    return {"buyers": len(users), "products": len(allowed), "interactions": len(log)}
