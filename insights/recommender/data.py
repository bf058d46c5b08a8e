"""A deployment's own log and catalogue in the recommender's shapes (a few queries, streamed)."""

from __future__ import annotations

import datetime

from catalog.models import Product
from orders.models import Order

from ..models import InteractionEvent
from .types import WEIGHTS, Catalogue, Interaction, Item


def price_bands(prices: dict[int, tuple[str, float]]) -> dict[int, str]:
    """low / mid / high: the product's price among its category's (terciles)."""
    by_category: dict[str, list[float]] = {}
    for category, price in prices.values():
        by_category.setdefault(category, []).append(price)
    cuts = {}
    for category, values in by_category.items():
        values.sort()
        cuts[category] = (values[len(values) // 3], values[(2 * len(values)) // 3])
    return {pk: "low" if price < cuts[c][0] else "mid" if price < cuts[c][1] else "high"
            for pk, (c, price) in prices.items()}


def load_catalogue() -> Catalogue:
    rows = list(Product.objects.values_list("pk", "title", "description", "category__slug", "origin__county__name",
                                            "origin__county__province", "claims", "price").iterator())
    bands = price_bands({pk: (category, float(price)) for pk, _t, _d, category, _c, _p, _cl, price in rows})
    items = {pk: Item(id=pk, text=f"{title} {description[:500]}", category=category, county=county or "",
                      province=province or "", claims=tuple(claims or ()), price_band=bands[pk])
             for pk, title, description, category, county, province, claims, _price in rows}
    provinces = {}
    for buyer_id, province in Order.objects.order_by("buyer_id", "created_at").values_list(
            "buyer_id", "village__county__province").iterator():
        provinces[buyer_id] = province or ""
    return Catalogue(items=items, provinces=provinces)


def load_interactions(*, since: datetime.datetime | None = None) -> list[Interaction]:
    qs = InteractionEvent.objects.filter(product__isnull=False, kind__in=list(WEIGHTS))
    if since is not None:
        qs = qs.filter(at__gte=since)
    return [Interaction(user, product, kind, at.timestamp())
            for user, product, kind, at in qs.order_by("at").values_list("user_id", "product_id", "kind", "at")
            .iterator(chunk_size=5000)]
