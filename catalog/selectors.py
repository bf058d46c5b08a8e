"""Reads of the catalog, scoped by who asks, each at a fixed number of queries."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.postgres.search import SearchQueryField
from django.db import connection
from django.db.models import BooleanField, F, FloatField, Func, Prefetch, Q, QuerySet, Value

from core.errors import NotFound
from merchants.models import Credential, Merchant
from merchants.selectors import is_county_staff, valid_credentials_by_kind

from .claims import CLAIM_CREDENTIAL, LICENSED_CATEGORY_ROOTS
from .models import Category, Claim, HarvestBatch, Product, ProductImage
from .search import parse_query

ORDERINGS = {
    "price": ("price", "pk"),
    "-price": ("-price", "pk"),
    "created": ("created_at", "pk"),
    "-created": ("-created_at", "-pk"),
    "sales": ("-sales_count", "-created_at", "-pk"),  # best sellers first
}


class _TsQuery(Func):
    """A tsquery given verbatim (its lexemes are already segmented by catalog.search)."""

    template = "%(expressions)s::tsquery"
    output_field = SearchQueryField()


class _Matches(Func):
    template = "%(expressions)s"
    arg_joiner = " @@ "
    output_field = BooleanField()


# --- categories ----------------------------------------------------------------------


def category_tree() -> list[Category]:
    return list(Category.objects.order_by("position", "slug"))


def category_descendant_ids(category_id: int) -> list[int]:
    """The category and everything under it (one query over the small category table)."""
    children: dict[int | None, list[int]] = {}
    known = set()
    for pk, parent in Category.objects.values_list("pk", "parent_id"):
        children.setdefault(parent, []).append(pk)
        known.add(pk)
    if category_id not in known:
        return []
    found, stack = [], [category_id]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(children.get(current, []))
    return found


def licensed_categories() -> dict[int, str]:
    """Category id -> the credential kind needed to sell in it (processed food: food_license)."""
    result: dict[int, str] = {}
    for root in Category.objects.filter(slug__in=LICENSED_CATEGORY_ROOTS).values_list("pk", "slug"):
        for pk in category_descendant_ids(root[0]):
            result[pk] = LICENSED_CATEGORY_ROOTS[root[1]]
    return result


# --- products --------------------------------------------------------------------------


def _for_output(qs: QuerySet[Product]) -> QuerySet[Product]:
    return qs.select_related(
        "merchant", "merchant__county", "category", "origin", "origin__parent", "origin__county"
    ).prefetch_related(Prefetch("images", queryset=ProductImage.objects.order_by("position", "pk")))


def public_products() -> QuerySet[Product]:
    """Listed products of approved shops: a suspended shop's products vanish at once."""
    return Product.objects.filter(status=Product.Status.LISTED, merchant__status=Merchant.Status.APPROVED)


@dataclass
class ProductFilters:
    search: str = ""
    category: int | None = None
    county: int | None = None
    merchant: int | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    claim: str | None = None
    perishable: bool | None = None
    ordering: str | None = None
    status: str | None = None


def product_list(*, user=None, mine: bool = False, filters: ProductFilters | None = None) -> QuerySet[Product]:
    """The public catalogue, or with ``mine`` the shop owner's products in every status."""
    f = filters or ProductFilters()
    if mine:
        qs = Product.objects.filter(merchant__user_id=getattr(user, "pk", None))
        if f.status:
            qs = qs.filter(status=f.status)
    else:
        qs = public_products()
    if f.category:
        qs = qs.filter(category_id__in=category_descendant_ids(f.category))
    if f.county:
        qs = qs.filter(merchant__county_id=f.county)
    if f.merchant:
        qs = qs.filter(merchant_id=f.merchant)
    if f.min_price is not None:
        qs = qs.filter(price__gte=f.min_price)
    if f.max_price is not None:
        qs = qs.filter(price__lte=f.max_price)
    if f.claim:
        qs = _with_claim(qs, f.claim)
    if f.perishable is not None:
        qs = qs.filter(perishable=f.perishable)
    ranked = False
    if f.search:
        qs, ranked = _search(qs, f.search)
    if f.ordering in ORDERINGS:
        qs = qs.order_by(*ORDERINGS[f.ordering])
    elif ranked:
        qs = qs.order_by("-rank", "-sales_count", "-pk")
    else:
        qs = qs.order_by("-created_at", "-pk")
    return _for_output(qs)


def _with_claim(qs: QuerySet[Product], claim: str) -> QuerySet[Product]:
    if connection.vendor == "postgresql":
        return qs.filter(claims__contains=[claim])  # jsonb @>, GIN-indexed
    return qs.filter(claims__icontains=f'"{claim}"')


def _search(qs: QuerySet[Product], text: str) -> tuple[QuerySet[Product], bool]:
    query = parse_query(text)
    if query is None:
        return qs, False
    if connection.vendor == "postgresql":
        tsquery = _TsQuery(Value(query.tsquery))
        rank = Func(F("search_vector"), _TsQuery(Value(query.tsquery)), function="ts_rank", output_field=FloatField())
        return qs.filter(_Matches(F("search_vector"), tsquery)).annotate(rank=rank), True
    for term in query.terms:
        qs = qs.filter(Q(title__icontains=term) | Q(description__icontains=term) | Q(search_document__icontains=term))
    return qs, False


def product_get_visible(*, product_id: int, user) -> Product:
    """A public product to anyone; any status to its owner and its county's staff; 404 otherwise."""
    product = _for_output(Product.objects.filter(pk=product_id)).first()
    if product is None:
        raise NotFound()
    public = product.status == Product.Status.LISTED and product.merchant.status == Merchant.Status.APPROVED
    if not (public or product_is_managed_by(product, user)):
        raise NotFound()
    return product


def product_is_owned_by(product: Product, user) -> bool:
    return bool(user and user.is_authenticated and product.merchant.user_id == user.pk)


def product_is_managed_by(product: Product, user) -> bool:
    return product_is_owned_by(product, user) or is_county_staff(user, product.merchant.county_id)


def product_get_owned(*, product_id: int, user, for_update: bool = False) -> Product:
    qs = Product.objects.filter(pk=product_id, merchant__user_id=getattr(user, "pk", None))
    product = (qs.select_for_update(of=("self",)) if for_update else qs).select_related("merchant").first()
    if product is None:
        raise NotFound()
    return product


def product_get_for_staff(*, product_id: int, user, for_update: bool = False) -> Product:
    qs = Product.objects.filter(pk=product_id).select_related("merchant", "merchant__user")
    product = (qs.select_for_update(of=("self",)) if for_update else qs).first()
    if product is None or not is_county_staff(user, product.merchant.county_id):
        raise NotFound()
    return product


def product_review_queue(*, user, status: str | None = Product.Status.PENDING_REVIEW,
                         county: int | None = None) -> QuerySet[Product]:
    qs = Product.objects.all()
    if user.is_platform_admin:
        if county:
            qs = qs.filter(merchant__county_id=county)
    elif user.is_operator:
        qs = qs.filter(merchant__county_id=user.county_id)
    else:
        return qs.none()
    if status:
        qs = qs.filter(status=status)
    return _for_output(qs.order_by("updated_at", "pk"))


# --- evidence behind claims ------------------------------------------------------------------


@dataclass
class ClaimEvidence:
    claim: str
    backed: bool
    credential: Credential | None = None
    batch: HarvestBatch | None = None

    @property
    def label(self) -> str:
        return str(Claim(self.claim).label)


def claim_evidence(*, product: Product, batch: HarvestBatch | None = None,
                   day: datetime.date | None = None) -> list[ClaimEvidence]:
    """What stands behind each claim of ``product`` today (two queries at most)."""
    credentials = valid_credentials_by_kind(merchant_id=product.merchant_id, day=day) if product.claims else {}
    evidence = []
    for claim in product.claims:
        kind = CLAIM_CREDENTIAL.get(claim)
        if kind:
            credential = credentials.get(kind)
            evidence.append(ClaimEvidence(claim, credential is not None, credential=credential))
        elif claim == Claim.PESTICIDE_TESTED:
            inspected = batch if batch is not None else passed_batch(product_id=product.pk)
            ok = inspected is not None and inspected.passed_inspection
            evidence.append(ClaimEvidence(claim, ok, batch=inspected if ok else None))
    return evidence


def passed_batch(*, product_id: int) -> HarvestBatch | None:
    return (HarvestBatch.objects.filter(product_id=product_id, inspection_result=HarvestBatch.InspectionResult.PASS)
            .order_by("-inspected_at", "-pk").first())


# --- batches and trace ------------------------------------------------------------------------


def batch_get_by_code(*, code: str) -> HarvestBatch:
    batch = (HarvestBatch.objects.select_related(
        "product", "product__category", "product__merchant", "product__merchant__county",
        "product__origin", "product__origin__parent", "product__origin__county",
    ).filter(trace_code=(code or "").upper()).first())
    if batch is None:
        raise NotFound()
    return batch


def batches_of(*, product: Product) -> QuerySet[HarvestBatch]:
    return product.batches.order_by("-harvested_at", "-pk")
