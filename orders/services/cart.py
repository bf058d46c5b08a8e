"""The consumer's cart: one per consumer, today's prices, charged at checkout's."""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import Product
from core.errors import NotFound, ValidationFailed
from core.interactions import interaction_note
from livestream.models import Offer

from ..models import Cart, CartItem
from .errors import OfferNotLive


def cart_get_or_create(*, user) -> Cart:
    cart, _created = Cart.objects.get_or_create(user=user)
    return cart


def _check_quantity(quantity: int) -> None:
    if not 1 <= quantity <= settings.ORDERS_MAX_LINE_QUANTITY:
        raise ValidationFailed(fields={"quantity": [_("Between 1 and %(n)d.") % {"n": settings.ORDERS_MAX_LINE_QUANTITY}]})


@transaction.atomic
def cart_item_add(*, user, product_id: int, quantity: int, offer_id: int | None = None) -> CartItem:
    """Add units (to the same line if the product and offer are already there)."""
    _check_quantity(quantity)
    product = Product.objects.filter(pk=product_id, status=Product.Status.LISTED).first()
    if product is None:
        raise ValidationFailed(_("This product is not for sale."), code="product_not_listed",
                               fields={"product": [_("This product is not for sale.")]})
    if offer_id is not None:
        offer = Offer.objects.filter(pk=offer_id).first()
        if offer is None or offer.product_id != product_id:
            raise ValidationFailed(fields={"offer": [_("This offer is not for that product.")]})
        if offer.status != Offer.Status.LIVE or offer.ends_at <= timezone.now():
            raise OfferNotLive()
    cart = cart_get_or_create(user=user)
    item = CartItem.objects.select_for_update().filter(cart=cart, product_id=product_id, offer_id=offer_id).first()
    if item is not None:
        _check_quantity(item.quantity + quantity)
        item.quantity = F("quantity") + quantity
        item.save(update_fields=["quantity"])
        item.refresh_from_db()
        interaction_note(kind="cart_add", user_id=user.pk, product_id=product_id, value=quantity)  # after commit
        return item
    try:
        with transaction.atomic():
            item = CartItem.objects.create(cart=cart, product_id=product_id, offer_id=offer_id, quantity=quantity)
    except IntegrityError:  # the same line added concurrently: add to it
        return cart_item_add(user=user, product_id=product_id, quantity=quantity, offer_id=offer_id)
    interaction_note(kind="cart_add", user_id=user.pk, product_id=product_id, value=quantity)  # after commit
    return item


def _own_item(user, item_id: int) -> CartItem:
    item = CartItem.objects.select_for_update().filter(pk=item_id, cart__user=user).first()
    if item is None:
        raise NotFound(_("No such cart item."))
    return item


@transaction.atomic
def cart_item_update(*, user, item_id: int, quantity: int) -> CartItem:
    item = _own_item(user, item_id)
    _check_quantity(quantity)
    item.quantity = quantity
    item.save(update_fields=["quantity"])
    return item


@transaction.atomic
def cart_item_remove(*, user, item_id: int) -> None:
    _own_item(user, item_id).delete()
