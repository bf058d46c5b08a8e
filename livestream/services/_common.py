"""Lookups the services share: a stream as its owner sees it (404 for anyone else)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from core.errors import DomainError, NotFound
from merchants.models import Merchant

from ..models import Stream


class MerchantNotApproved(DomainError):
    status = 403
    code = "merchant_not_approved"
    default_message = _("Only an approved shop may do this.")


def owned_stream(*, stream_id: int, actor, for_update: bool = False, allow_admin: bool = False) -> Stream:
    """The stream if ``actor`` owns it (or is a platform admin where allowed); else 404."""
    qs = Stream.objects.select_related("merchant")
    if for_update:
        qs = qs.select_for_update(of=("self",))
    stream = qs.filter(pk=stream_id).first()
    if stream is None or actor is None or not actor.is_authenticated:
        raise NotFound(_("No such stream."))
    if stream.merchant.user_id == actor.pk or (allow_admin and actor.is_platform_admin):
        return stream
    raise NotFound(_("No such stream."))


def approved_merchant_of(user) -> Merchant:
    merchant = Merchant.objects.filter(user_id=user.pk).first() if user and user.is_authenticated else None
    if merchant is None or merchant.status != Merchant.Status.APPROVED:
        raise MerchantNotApproved()
    return merchant
