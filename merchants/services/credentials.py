"""Credentials: upload, verification by the county, and the daily expiry run.

Expiry rule (docs/merchants-catalog.md): a credential is valid through its
``expires_at`` day (Asia/Shanghai). The daily run marks past ones ``expired``
and withdraws what depended on them, unless the shop holds another valid
credential of the same kind; it reminds the shop 30 and 7 days before, once each.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import InvalidTransition, ValidationFailed
from core.masking import mask_number
from core.uploads import check_upload
from notifications.services import notify

from ..domain_events import credential_lapsed
from ..models import Credential, CredentialEvent, Merchant
from ..selectors import today, valid_credentials
from ..status import CREDENTIAL_TRANSITIONS, CREDENTIAL_WORKFLOW  # noqa: F401 - the table is public
from ..validators import normalise_number, number_error
from .shops import label

C = Credential.Status

CREDENTIAL_DECISIONS = {"approve": C.APPROVED, "reject": C.REJECTED, "revoke": C.REVOKED}

# Documents that always carry an expiry date.
EXPIRY_REQUIRED = {Credential.Kind.FOOD_LICENSE, Credential.Kind.ORGANIC_CERT, Credential.Kind.GREEN_FOOD_CERT}

REMINDER_DAYS = (30, 7)


def _params(credential: Credential, user, **extra) -> dict:
    return {"credential": credential.pk, "kind": label(Credential.Kind, credential.kind, user),
            "number": mask_number(credential.number), **extra}


def credential_transition(*, credential: Credential, to: str, actor=None, reason: str = "") -> Credential:
    return CREDENTIAL_WORKFLOW.transition(credential, to, actor=actor, reason=reason)


@transaction.atomic
def credential_add(*, merchant: Merchant, actor, kind: str, number: str, issuer: str = "",
                   issued_at: datetime.date | None = None, expires_at: datetime.date | None = None,
                   file=None) -> Credential:
    """The owner uploads a document; it waits for the county to verify it."""
    errors: dict[str, list] = {}
    number = normalise_number(kind, number)
    problem = number_error(kind, number)
    if problem:
        errors["number"] = [problem]
    day = today()
    if expires_at is None and kind in EXPIRY_REQUIRED:
        errors["expires_at"] = [_("This document has an expiry date; enter it.")]
    elif expires_at is not None and expires_at < day:
        errors["expires_at"] = [_("This document has already expired.")]
    if issued_at is not None and issued_at > day:
        errors["issued_at"] = [_("The issue date is in the future.")]
    if issued_at and expires_at and issued_at >= expires_at:
        errors["expires_at"] = [_("The expiry date must come after the issue date.")]
    checked = None
    if file:
        try:
            checked = check_upload(file, field="file", allow_pdf=True)
        except ValidationFailed as exc:
            errors.update(exc.fields)
    if errors:
        raise ValidationFailed(fields=errors)
    credential = Credential(merchant=merchant, kind=kind, number=number, issuer=issuer.strip(), issued_at=issued_at,
                            expires_at=expires_at)
    if checked:
        credential.file = checked.file
        credential.file_content_type = checked.content_type
    credential.save()
    CredentialEvent.objects.create(credential=credential, actor=actor, from_status="", to_status=C.PENDING,
                                   reason="uploaded")
    return credential


@transaction.atomic
def credential_review(*, credential: Credential, actor, decision: str, reason: str = "") -> Credential:
    """County staff verify, reject or revoke a credential (the caller has checked they may)."""
    credential = Credential.objects.select_for_update().select_related("merchant__user").get(pk=credential.pk)
    if decision not in CREDENTIAL_DECISIONS:
        raise ValidationFailed(fields={"decision": [_("Choose approve, reject or revoke.")]})
    reason = (reason or "").strip()
    if decision in ("reject", "revoke") and not reason:
        raise ValidationFailed(fields={"reason": [_("Give the shop a reason.")]})
    target = CREDENTIAL_DECISIONS[decision]
    if target == C.APPROVED and credential.expires_at is not None and credential.expires_at < today():
        raise InvalidTransition(_("This credential has expired; it cannot be verified."), code="credential_expired")
    credential_transition(credential=credential, to=target, actor=actor, reason=reason)
    user = credential.merchant.user
    products = 0
    if target == C.REVOKED:
        products = _withdraw_dependents(credential, reason=f"{credential.kind} revoked: {reason}")
    notify(user=user, kind=f"credential.{target if target != C.APPROVED else 'approved'}",
           params=_params(credential, user, reason=reason, products=products))
    return credential


def _withdraw_dependents(credential: Credential, *, reason: str) -> int:
    """Withdraw what relied on ``credential`` unless another valid one of its kind remains."""
    if valid_credentials(merchant_id=credential.merchant_id).filter(kind=credential.kind).exclude(
        pk=credential.pk
    ).exists():
        return 0
    return sum(credential_lapsed.send(merchant_id=credential.merchant_id, credential_kind=credential.kind,
                                      reason=reason))


def credential_expire(*, credential_id: int, day: datetime.date | None = None) -> bool:
    """Mark one past-date credential expired and withdraw its dependents. False if there was nothing to do."""
    day = day or today()
    with transaction.atomic():
        credential = (Credential.objects.select_for_update(of=("self",)).select_related("merchant__user")
                      .filter(pk=credential_id, status__in=[C.PENDING, C.APPROVED], expires_at__lt=day).first())
        if credential is None:
            return False
        was_valid = credential.status == C.APPROVED
        credential_transition(credential=credential, to=C.EXPIRED, reason=f"expired on {credential.expires_at}")
        products = _withdraw_dependents(credential, reason=f"{credential.kind} expired on {credential.expires_at}") \
            if was_valid else 0
        user = credential.merchant.user
        notify(user=user, kind="credential.expired",
               params=_params(credential, user, date=credential.expires_at.isoformat(), products=products))
    return True


def credentials_expire_due(*, day: datetime.date | None = None, limit: int = 200) -> int:
    """Expire up to ``limit`` credentials whose date has passed; returns how many were expired."""
    day = day or today()
    ids = list(Credential.objects.filter(status__in=[C.PENDING, C.APPROVED], expires_at__lt=day)
               .order_by("expires_at", "pk").values_list("pk", flat=True)[:limit])
    return sum(credential_expire(credential_id=pk, day=day) for pk in ids)


def credentials_remind_due(*, day: datetime.date | None = None, limit: int = 200) -> int:
    """Send the 30- and 7-day reminders that are due, each exactly once; returns how many were sent.

    A credential with 8 to 30 days left gets the 30-day reminder; with 0 to 7 days left, the
    7-day one (and its 30-day reminder is then skipped, not sent late).
    """
    day = day or today()
    sent = 0
    live = Credential.objects.filter(status__in=[C.PENDING, C.APPROVED], expires_at__gte=day)
    due_30 = live.filter(reminded_30_at__isnull=True, expires_at__lte=day + datetime.timedelta(days=30),
                         expires_at__gt=day + datetime.timedelta(days=7))
    due_7 = live.filter(reminded_7_at__isnull=True, expires_at__lte=day + datetime.timedelta(days=7))
    for field, queryset in (("reminded_30_at", due_30), ("reminded_7_at", due_7)):
        for pk in queryset.order_by("expires_at", "pk").values_list("pk", flat=True)[: max(0, limit - sent)]:
            sent += _remind(credential_id=pk, field=field, day=day)
    return sent


def _remind(*, credential_id: int, field: str, day: datetime.date) -> int:
    now = timezone.now()
    updates = {field: now}
    if field == "reminded_7_at":
        # Once the 7-day reminder is out, a late 30-day one would only confuse.
        updates["reminded_30_at"] = Coalesce(F("reminded_30_at"), Value(now))
    with transaction.atomic():
        # The conditional UPDATE claims the reminder: a second run (or a concurrent one) finds it taken.
        if not Credential.objects.filter(pk=credential_id, **{f"{field}__isnull": True}).update(**updates):
            return 0
        credential = Credential.objects.select_related("merchant__user").get(pk=credential_id)
        user = credential.merchant.user
        days = (credential.expires_at - day).days
        notify(user=user, kind="credential.expiring",
               params=_params(credential, user, days=days, date=credential.expires_at.isoformat()))
    return 1
