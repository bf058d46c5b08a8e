"""Keeping each product's search words up to date (called by every write that changes them)."""

from __future__ import annotations

from django.contrib.postgres.search import SearchVectorField
from django.db import connection
from django.db.models import Value
from django.db.models.functions import Cast

from ..models import Product
from ..search import build_document

SEARCHED_FIELDS = {"title", "description", "category", "origin"}


def product_search_index(*, product_id: int) -> None:
    product = (Product.objects.select_related("category", "origin", "origin__parent", "origin__county", "merchant")
               .get(pk=product_id))
    origin = product.origin
    places = [origin.name, origin.parent.name if origin.parent_id else "", origin.county.name if origin.county_id else "",
              product.merchant.shop_name]
    literal, text = build_document(title=product.title, description=product.description,
                                   category=product.category.name, places=[p for p in places if p])
    updates = {"search_document": text}
    if connection.vendor == "postgresql":
        updates["search_vector"] = Cast(Value(literal), SearchVectorField())
    Product.objects.filter(pk=product_id).update(**updates)


def products_reindex(*, product_ids) -> int:
    count = 0
    for pk in product_ids:
        product_search_index(product_id=pk)
        count += 1
    return count


def products_reindex_for_merchant(*, merchant_id: int) -> int:
    return products_reindex(product_ids=Product.objects.filter(merchant_id=merchant_id).values_list("pk", flat=True))


def products_reindex_for_category(*, category_id: int) -> int:
    return products_reindex(product_ids=Product.objects.filter(category_id=category_id).values_list("pk", flat=True))
