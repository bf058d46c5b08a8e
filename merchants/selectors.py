"""Reads of shops and credentials, scoped by who is asking."""

from __future__ import annotations

import datetime

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from core.errors import NotFound

from .models import Credential, Follow, Merchant, MerchantEvent

# The documents that prove who runs a shop of each kind; one must be verified before approval.
IDENTITY_CREDENTIAL = {
    Merchant.Kind.INDIVIDUAL: Credential.Kind.ID_CARD,
    Merchant.Kind.COOPERATIVE: Credential.Kind.BUSINESS_LICENSE,
    Merchant.Kind.COMPANY: Credential.Kind.BUSINESS_LICENSE,
}


def is_county_staff(user, county_id: int | None) -> bool:
    """An admin, or the operator of ``county_id``."""
    if not (user and user.is_authenticated):
        return False
    return user.is_platform_admin or (user.is_operator and user.county_id is not None and user.county_id == county_id)


def may_see_everything(user, merchant: Merchant) -> bool:
    """The shop's owner and its county's staff see unmasked numbers and every status."""
    return bool(user and user.is_authenticated and (merchant.user_id == user.pk or is_county_staff(user, merchant.county_id)))


def _with_profile(qs: QuerySet[Merchant], user=None) -> QuerySet[Merchant]:
    qs = qs.select_related("village", "village__parent", "county").annotate(
        followers_count=Count("followers", distinct=True)
    )
    if user is not None and user.is_authenticated:
        qs = qs.annotate(is_following=Exists(Follow.objects.filter(merchant=OuterRef("pk"), user=user)))
    return qs


def merchant_get_visible(*, merchant_id: int, user) -> Merchant:
    """A shop as its profile shows it: approved ones to anyone, others to owner and county staff."""
    merchant = _with_profile(Merchant.objects.filter(pk=merchant_id), user).first()
    if merchant is None or not (merchant.is_approved or may_see_everything(user, merchant)):
        raise NotFound()
    return merchant


def merchant_get_owned(*, merchant_id: int, user, for_update: bool = False) -> Merchant:
    qs = Merchant.objects.filter(pk=merchant_id, user_id=getattr(user, "pk", None))
    merchant = (qs.select_for_update() if for_update else qs).first()
    if merchant is None:
        raise NotFound()
    return merchant


def merchant_get_for_staff(*, merchant_id: int, user, for_update: bool = False) -> Merchant:
    """The shop if ``user`` is its county's operator or an admin; 404 for anyone else."""
    qs = Merchant.objects.filter(pk=merchant_id)
    merchant = (qs.select_for_update(of=("self",)) if for_update else qs).select_related("user").first()
    if merchant is None or not is_county_staff(user, merchant.county_id):
        raise NotFound()
    return merchant


def merchant_get_owned_or_staff(*, merchant_id: int, user) -> Merchant:
    merchant = Merchant.objects.filter(pk=merchant_id).first()
    if merchant is None or not may_see_everything(user, merchant):
        raise NotFound()
    return merchant


def merchant_list_public(*, user=None, county: int | None = None, kind: str | None = None, search: str = "",
                         following: bool = False) -> QuerySet[Merchant]:
    qs = _with_profile(Merchant.objects.filter(status=Merchant.Status.APPROVED), user)
    if county:
        qs = qs.filter(county_id=county)
    if kind:
        qs = qs.filter(kind=kind)
    if search:
        qs = qs.filter(shop_name__icontains=search)
    if following:
        qs = qs.filter(followers__user=user) if user is not None and user.is_authenticated else qs.none()
    return qs.order_by("-created_at", "pk")


def merchant_review_queue(*, user, status: str | None = None, county: int | None = None) -> QuerySet[Merchant]:
    """The shops a reviewer may act on: an operator's county, or every county for an admin."""
    qs = _with_profile(Merchant.objects.all(), user)
    if user.is_platform_admin:
        if county:
            qs = qs.filter(county_id=county)
    elif user.is_operator:
        qs = qs.filter(county_id=user.county_id)
    else:
        return qs.none()
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("created_at", "pk")


def merchant_events(*, merchant: Merchant) -> QuerySet[MerchantEvent]:
    return merchant.events.select_related("actor").order_by("created_at", "pk")


def merchant_last_decision(*, merchant: Merchant) -> MerchantEvent | None:
    return merchant.events.order_by("-created_at", "-pk").first()


def today() -> datetime.date:
    return timezone.localdate()


def valid_credentials(*, merchant_id: int, day: datetime.date | None = None) -> QuerySet[Credential]:
    day = day or today()
    return Credential.objects.filter(merchant_id=merchant_id, status=Credential.Status.APPROVED).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gte=day)
    )


def valid_credentials_by_kind(*, merchant_id: int, day: datetime.date | None = None) -> dict[str, Credential]:
    """For each kind, the valid credential that lasts longest (long-term ones first)."""
    best: dict[str, Credential] = {}
    for credential in valid_credentials(merchant_id=merchant_id, day=day):
        current = best.get(credential.kind)
        if current is None or _lasts_longer(credential, current):
            best[credential.kind] = credential
    return best


def _lasts_longer(a: Credential, b: Credential) -> bool:
    if a.expires_at is None:
        return b.expires_at is not None or a.pk > b.pk
    return b.expires_at is not None and (a.expires_at, a.pk) > (b.expires_at, b.pk)


def credentials_visible(*, merchant: Merchant, user) -> QuerySet[Credential]:
    """Owner and county staff: every credential. Anyone else: the valid ones (numbers masked by the serializer)."""
    if may_see_everything(user, merchant):
        return merchant.credentials.order_by("-created_at", "-pk")
    return valid_credentials(merchant_id=merchant.pk).order_by("kind", "-pk")


def credential_get(*, merchant: Merchant, credential_id: int, for_update: bool = False) -> Credential:
    qs = Credential.objects.filter(pk=credential_id, merchant=merchant)
    credential = (qs.select_for_update() if for_update else qs).first()
    if credential is None:
        raise NotFound()
    return credential


def followed_merchants(*, user) -> QuerySet[Merchant]:
    """The approved shops ``user`` follows (none for anyone signed out), most recently followed first."""
    if not (user and user.is_authenticated):
        return Merchant.objects.none()
    return (Merchant.objects.filter(followers__user=user, status=Merchant.Status.APPROVED)
            .select_related("county").order_by("-followers__created_at", "-pk"))
