"""Consumers following shops (they are told when the shop goes live)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError, NotFound
from core.interactions import interaction_note

from ..models import Follow, Merchant


def _public_merchant(merchant_id: int) -> Merchant:
    merchant = Merchant.objects.filter(pk=merchant_id, status=Merchant.Status.APPROVED).first()
    if merchant is None:
        raise NotFound()
    return merchant


def _require_consumer(user) -> None:
    if not user.is_consumer:
        raise DomainError(_("Only consumers follow shops."), code="permission_denied", status=403)


def follow_create(*, user, merchant_id: int) -> tuple[Follow, bool]:
    """Follow an approved shop; following it again changes nothing. Returns (follow, created)."""
    _require_consumer(user)
    merchant = _public_merchant(merchant_id)
    try:
        with transaction.atomic():
            follow, created = Follow.objects.get_or_create(user=user, merchant=merchant)
    except IntegrityError:  # a concurrent identical request created it first
        return Follow.objects.get(user=user, merchant=merchant), False
    if created:
        interaction_note(kind="follow", user_id=user.pk, merchant_id=merchant.pk)
    return follow, created


def follow_delete(*, user, merchant_id: int) -> bool:
    """Stop following; returns whether a follow was removed (unfollowing twice is harmless)."""
    _require_consumer(user)
    deleted, _counts = Follow.objects.filter(user=user, merchant_id=merchant_id).delete()
    return bool(deleted)


def followers_count(*, merchant_id: int) -> int:
    return Follow.objects.filter(merchant_id=merchant_id).count()
