"""Listing products: create, change, delist and relist, stock, images."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from core.errors import Conflict, NotFound, ValidationFailed
from core.uploads import check_upload
from merchants.models import Merchant
from merchants.services import merchant_require_approved
from regions.models import Region

from ..models import Category, Claim, Product, ProductImage
from ..selectors import product_get_for_staff, product_get_owned, product_is_owned_by
from ..stock import product_stock_return, product_stock_set, product_stock_take
from .indexing import SEARCHED_FIELDS, product_search_index
from .status import P, product_transition

# Changing any of these sends a listed (or rejected) product back to review. Price goes back
# only beyond CATALOG_PRICE_REVIEW_THRESHOLD of the last *reviewed* price (not of the current one,
# which repeated small steps could walk anywhere); claims only when one is added. Stock never.
REVIEWED_FIELDS = ("title", "description", "category", "origin", "unit")
EDITABLE_FIELDS = REVIEWED_FIELDS + ("price", "stock", "claims", "perishable", "cold_chain_required",
                                     "shelf_life_days")


def _category(value) -> Category:
    category = Category.objects.filter(pk=getattr(value, "pk", value)).first()
    if category is None:
        raise ValidationFailed(fields={"category": [_("Unknown category.")]})
    return category


def _origin(value, merchant: Merchant) -> Region:
    village = Region.objects.filter(pk=getattr(value, "pk", value), level=Region.Level.VILLAGE).first()
    if village is None:
        raise ValidationFailed(fields={"origin": [_("Choose a village (a region of level village).")]})
    if village.county_id != merchant.county_id:
        raise ValidationFailed(fields={"origin": [_("The origin must be a village in your shop's county.")]})
    return village


def clean_claims(claims) -> list[str]:
    """Known claims only, each once, in the catalogue's order."""
    unknown = [c for c in claims if c not in Claim.values]
    if unknown:
        raise ValidationFailed(fields={"claims": [_("Unknown claim “%(claim)s”.") % {"claim": c} for c in unknown]})
    return [c for c in Claim.values if c in set(claims)]


def _resolve(changes: dict, merchant: Merchant) -> dict:
    """Turn ids into objects and check them; collect every field error at once."""
    errors: dict[str, list] = {}
    resolved = dict(changes)
    for name, resolver in (("category", _category), ("origin", lambda v: _origin(v, merchant)),
                           ("claims", clean_claims)):
        if name in changes:
            try:
                resolved[name] = resolver(changes[name])
            except ValidationFailed as exc:
                errors.update(exc.fields)
    if "title" in changes:
        resolved["title"] = changes["title"].strip()
        if not resolved["title"]:
            errors["title"] = [_("Give the product a title.")]
    if errors:
        raise ValidationFailed(fields=errors)
    return resolved


@transaction.atomic
def product_create(*, user, title: str, category, price: Decimal, unit: str, origin, stock: int = 0,
                   description: str = "", perishable: bool = False, cold_chain_required: bool = False,
                   shelf_life_days: int | None = None, claims=()) -> Product:
    """An approved shop lists a product; it waits for its county's review."""
    merchant = merchant_require_approved(user=user)
    fields = _resolve({"title": title, "category": category, "origin": origin, "claims": list(claims)}, merchant)
    product = Product.objects.create(
        merchant=merchant, description=description, price=price, unit=unit.strip(), stock=stock,
        perishable=perishable, cold_chain_required=cold_chain_required, shelf_life_days=shelf_life_days,
        status=P.PENDING_REVIEW, **fields,
    )
    product_search_index(product_id=product.pk)
    product.refresh_from_db()
    return product


def price_baseline(product: Product) -> Decimal:
    """The price a change is measured against: the last approved one (the current one for a product
    listed before approvals recorded it)."""
    return product.reviewed_price if product.reviewed_price is not None else product.price


def _price_moved(baseline: Decimal, new: Decimal) -> bool:
    return abs(new - baseline) > baseline * settings.CATALOG_PRICE_REVIEW_THRESHOLD


def _review_reasons(product: Product, changes: dict) -> list[str]:
    reasons = [name for name in REVIEWED_FIELDS if name in changes and changes[name] != getattr(product, name)]
    if "price" in changes and _price_moved(price_baseline(product), changes["price"]):
        reasons.append("price")
    added = set(changes.get("claims", product.claims)) - set(product.claims)
    if added:
        reasons.append("claims+" + ",".join(sorted(added)))
    return reasons


@transaction.atomic
def product_update(*, product_id: int, user, **changes) -> Product:
    """The owner changes its product; a change a buyer relies on goes back to review."""

    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed(fields={name: [_("This field cannot be written.")] for name in sorted(unknown)})
    product = product_get_owned(product_id=product_id, user=user, for_update=True)
    changes = _resolve(changes, product.merchant)
    stock = changes.pop("stock", None)
    reasons = _review_reasons(product, changes)
    if "price" in changes and product.reviewed_price is None and product.status == P.LISTED:
        changes["reviewed_price"] = product.price  # pin the baseline before the first change moves it
    for name, value in changes.items():
        setattr(product, name, value)
    if changes:
        product.save(update_fields=[*changes, "updated_at"])
    if stock is not None:
        product_stock_set(product_id=product.pk, stock=stock)
    if reasons and product.status in (P.LISTED, P.REJECTED):
        product_transition(product=product, to=P.PENDING_REVIEW, actor=user,
                           reason="changed: " + ", ".join(reasons))
    if SEARCHED_FIELDS & set(changes):
        product_search_index(product_id=product.pk)
    product.refresh_from_db()
    return product


@transaction.atomic
def product_stock_adjust(*, product_id: int, user, delta: int) -> Product:
    """Add (restock) or remove units without overwriting sales made meanwhile."""

    product = product_get_owned(product_id=product_id, user=user)
    if delta > 0:
        product_stock_return(product_id=product.pk, quantity=delta)
    elif delta < 0 and not product_stock_take(product_id=product.pk, quantity=-delta):
        raise Conflict(_("There are fewer units in stock than you asked to remove."), code="insufficient_stock",
                       fields={"delta": [_("Not enough stock.")]})
    product.refresh_from_db()
    return product


@transaction.atomic
def product_delist(*, product_id: int, user, reason: str = "") -> Product:
    """The owner (or its county's staff) takes a listed product off sale."""

    try:
        product = product_get_owned(product_id=product_id, user=user, for_update=True)
    except NotFound:
        product = product_get_for_staff(product_id=product_id, user=user, for_update=True)
    if not product_is_owned_by(product, user) and not (reason or "").strip():
        raise ValidationFailed(fields={"reason": [_("Give the shop a reason.")]})
    return product_transition(product=product, to=P.DELISTED, actor=user, reason=reason or "delisted by the shop")


@transaction.atomic
def product_relist(*, product_id: int, user) -> Product:
    """The owner asks for a delisted or rejected product to be reviewed for sale again."""

    product = product_get_owned(product_id=product_id, user=user, for_update=True)
    return product_transition(product=product, to=P.PENDING_REVIEW, actor=user, reason="relist requested")


@transaction.atomic
def product_image_add(*, product_id: int, user, image, position: int | None = None) -> ProductImage:
    product = product_get_owned(product_id=product_id, user=user, for_update=True)
    count = product.images.count()
    if count >= settings.CATALOG_MAX_IMAGES:
        raise ValidationFailed(fields={"image": [_("A product has at most %(n)s images.") % {
            "n": settings.CATALOG_MAX_IMAGES}]})
    checked = check_upload(image, field="image")
    return ProductImage.objects.create(product=product, image=checked.file,
                                       position=count if position is None else position)


@transaction.atomic
def product_image_delete(*, product_id: int, image_id: int, user) -> None:
    product = product_get_owned(product_id=product_id, user=user, for_update=True)
    image = product.images.filter(pk=image_id).first()
    if image is None:
        raise NotFound()
    stored = image.image.name
    image.delete()
    storage = image.image.storage
    transaction.on_commit(lambda: storage.delete(stored))
