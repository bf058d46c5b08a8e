"""Reads, scoped by who asks: a forgotten filter cannot leak another person's orders."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from accounts.models import Role

from .models import Cart, CartItem, Dispute, MerchantOrder, OfferPurchase, Order, OrderLine


def _with_shipment(queryset: QuerySet) -> QuerySet:
    """Join the parcel (``shipment``: the reverse one-to-one that logistics, an app above this one,
    points at a merchant order), so rendering its id costs no extra query. Named, not imported:
    the dependency is on the relation's name only, and the product always installs logistics."""
    return queryset.select_related("shipment")


def cart_for(*, user) -> Cart:
    cart, _created = Cart.objects.get_or_create(user=user)
    items = CartItem.objects.select_related("product__merchant", "offer").order_by("added_at", "pk")
    return Cart.objects.prefetch_related(Prefetch("items", queryset=items)).get(pk=cart.pk)


def cart_item_get(*, user, item_id: int) -> CartItem:
    return CartItem.objects.select_related("product__merchant", "offer").get(pk=item_id, cart__user_id=user.pk)


def _buyer_merchant_orders() -> QuerySet:
    return _with_shipment(MerchantOrder.objects.select_related("merchant")).prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("pk"))).order_by("pk")


def orders_for(*, user) -> QuerySet[Order]:
    # ``payments``: the payments app's rows of the order, newest first (their model's ordering).
    return (Order.objects.filter(buyer_id=user.pk).select_related("village")
            .prefetch_related(Prefetch("merchant_orders", queryset=_buyer_merchant_orders()), "payments")
            .order_by("-created_at", "-pk"))


def order_get(*, user, order_id: int) -> Order | None:
    return orders_for(user=user).filter(pk=order_id).first()


def merchant_orders_for(*, user, status: str | None = None) -> QuerySet[MerchantOrder]:
    """A merchant's own sub-orders (a buyer's own, for the detail endpoints)."""
    if user.role == Role.MERCHANT:
        queryset = MerchantOrder.objects.filter(merchant__user_id=user.pk)
    else:
        queryset = MerchantOrder.objects.filter(order__buyer_id=user.pk)
    if status:
        queryset = queryset.filter(status=status)
    return (_with_shipment(queryset.select_related("order__buyer", "order__village", "merchant"))
            .prefetch_related(Prefetch("lines", queryset=OrderLine.objects.order_by("pk")))
            .order_by("-order__created_at", "-pk"))


def disputes_for(*, user, status: str | None = None) -> QuerySet[Dispute]:
    """Buyer: their own; merchant: on its sub-orders; operator: its county's; admin: all."""
    if user.is_platform_admin:
        queryset = Dispute.objects.all()
    elif user.role == Role.OPERATOR:
        queryset = Dispute.objects.filter(county_id=user.county_id)
    elif user.role == Role.MERCHANT:
        queryset = Dispute.objects.filter(merchant_order__merchant__user_id=user.pk)
    else:
        queryset = Dispute.objects.filter(buyer_id=user.pk)
    if status:
        queryset = queryset.filter(status=status)
    return (queryset.select_related("buyer", "merchant_order__merchant")
            .prefetch_related("photos", "events").order_by("-created_at", "-pk"))


def offer_buyer_units(*, offer_id: int, buyer_id: int) -> int:
    row = OfferPurchase.objects.filter(offer_id=offer_id, buyer_id=buyer_id).values_list("quantity", flat=True)
    return row.first() or 0


