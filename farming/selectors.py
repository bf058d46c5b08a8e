"""Reads of adoptions, scoped by the caller: anyone sees open offers, the owner its own, an adopter
their subscriptions and the updates of what they adopted."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from core.errors import NotFound
from merchants.models import Merchant
from orders.models import Order

from .models import Adoption, AdoptionUpdate, Subscription

TAKEN = (Order.Status.PENDING_PAYMENT, Order.Status.PAID, Order.Status.COMPLETED)


def _with_taken(queryset: QuerySet[Adoption]) -> QuerySet[Adoption]:
    return queryset.select_related("merchant", "product").annotate(taken=Count(
        "subscriptions", filter=Q(subscriptions__status=Subscription.Status.ACTIVE,
                                  subscriptions__order__status__in=TAKEN)))


def adoption_list(*, user=None, merchant: int | None = None, status: str | None = None) -> QuerySet[Adoption]:
    """Open adoptions of approved shops for anyone; a merchant also sees its own closed ones."""
    visible = Q(status=Adoption.Status.OPEN, merchant__status=Merchant.Status.APPROVED)
    if getattr(user, "is_authenticated", False):
        visible |= Q(merchant__user_id=user.pk)
    queryset = Adoption.objects.filter(visible)
    if merchant:
        queryset = queryset.filter(merchant_id=merchant)
    if status:
        queryset = queryset.filter(status=status)
    return _with_taken(queryset).order_by("-created_at", "-pk")


def adoption_get(*, adoption_id: int, user=None) -> Adoption:
    adoption = adoption_list(user=user).filter(pk=adoption_id).first()
    if adoption is None:
        raise NotFound()
    return adoption


def subscriptions_for(*, user) -> QuerySet[Subscription]:
    return (Subscription.objects.filter(buyer_id=user.pk).select_related("adoption", "order")
            .prefetch_related("deliveries").order_by("-created_at", "-pk"))


def adoption_updates(*, adoption_id: int, user) -> QuerySet[AdoptionUpdate]:
    """The farmer's news, for its owner and the adoption's adopters; 404 for anyone else."""
    allowed = Adoption.objects.filter(Q(merchant__user_id=user.pk) | Q(
        subscriptions__buyer_id=user.pk, subscriptions__order__status__in=TAKEN), pk=adoption_id).exists()
    if not allowed:
        raise NotFound()
    return AdoptionUpdate.objects.filter(adoption_id=adoption_id).order_by("-created_at", "-pk")
