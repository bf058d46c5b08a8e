"""Applying for a shop, changing it, and the county's vetting decisions."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from accounts.services import user_revoke_tokens
from core.errors import Conflict, DomainError, InvalidTransition, ValidationFailed
from core.uploads import check_upload
from notifications.services import notify
from regions.models import Region

from ..domain_events import merchant_renamed, merchant_stopped_selling
from ..models import Credential, Merchant, MerchantEvent
from ..selectors import IDENTITY_CREDENTIAL, merchant_get_for_staff, valid_credentials
from ..status import MERCHANT_TRANSITIONS, MERCHANT_WORKFLOW  # noqa: F401 - the table is public

S = Merchant.Status

# A reviewer's decision names one edge of the table.
DECISIONS: dict[str, tuple[str, str]] = {
    "approve": (S.SUBMITTED, S.APPROVED),
    "reject": (S.SUBMITTED, S.REJECTED),
    "suspend": (S.APPROVED, S.SUSPENDED),
    "reinstate": (S.SUSPENDED, S.APPROVED),
}
DECISIONS_NEEDING_REASON = {"reject", "suspend"}

# Fields a shop may no longer change by itself once its county has approved it.
LOCKED_AFTER_APPROVAL = ("shop_name", "kind", "village")


class AlreadyApplied(ValidationFailed):
    code = "already_applied"
    default_message = _("You already have a shop; a merchant account runs one shop.")


class MerchantNotApproved(DomainError):
    status = 403
    code = "merchant_not_approved"
    default_message = _("Only a shop approved by its county may do this.")


def merchant_transition(*, merchant: Merchant, to: str, actor=None, reason: str = "") -> Merchant:
    """Move ``merchant`` (locked by the caller) to ``to`` and record who, when, from, to and why."""
    was_selling = merchant.status == S.APPROVED
    MERCHANT_WORKFLOW.transition(merchant, to, actor=actor, reason=reason)
    if was_selling and to != S.APPROVED:
        merchant_stopped_selling.send(merchant_id=merchant.pk, actor=actor, reason=reason)
    return merchant


def _village(village) -> Region:
    village_id = getattr(village, "pk", village)
    region = Region.objects.filter(pk=village_id, level=Region.Level.VILLAGE).first()
    if region is None:
        raise ValidationFailed(fields={"village": [_("Choose a village (a region of level village).")]})
    return region


def _logo(logo):
    return check_upload(logo, field="logo").file if logo else logo


def _notify_county_operators(merchant: Merchant, kind: str) -> None:
    operators = get_user_model().objects.filter(role="operator", county_id=merchant.county_id, is_active=True)
    for operator in operators:
        notify(user=operator, kind=kind, params={"merchant": merchant.pk, "shop": merchant.shop_name})


@transaction.atomic
def merchant_apply(*, user, shop_name: str, village, kind: str, contact_phone: str, description: str = "",
                   logo=None) -> Merchant:
    """A merchant user applies for its one shop; the shop's county reviews it."""
    if not user.is_merchant:
        raise DomainError(_("Only merchant accounts can apply for a shop."), code="permission_denied", status=403)
    if Merchant.objects.filter(user=user).exists():
        raise AlreadyApplied()
    merchant = Merchant(user=user, shop_name=shop_name.strip(), village=_village(village), kind=kind,
                        contact_phone=contact_phone, description=description, status=S.SUBMITTED)
    if logo:
        merchant.logo = _logo(logo)
    try:
        with transaction.atomic():
            merchant.save()
    except IntegrityError:  # a concurrent second application lost the race on the one-to-one
        raise AlreadyApplied() from None
    MerchantEvent.objects.create(merchant=merchant, actor=user, from_status="", to_status=S.SUBMITTED,
                                 reason="application")
    _notify_county_operators(merchant, "merchant.submitted")
    return merchant


@transaction.atomic
def merchant_update(*, merchant: Merchant, actor, **changes) -> Merchant:
    """The owner changes its application or profile. Name, kind and village are fixed once approved."""
    merchant = Merchant.objects.select_for_update().get(pk=merchant.pk)
    if merchant.status in (S.APPROVED, S.SUSPENDED):
        locked = {name: [_("This can no longer be changed by the shop; ask your county operator.")]
                  for name in LOCKED_AFTER_APPROVAL if name in changes}
        if locked:
            raise ValidationFailed(fields=locked)
    if "village" in changes:
        changes["village"] = _village(changes["village"])
    if changes.get("logo"):
        changes["logo"] = _logo(changes["logo"])
    for name, value in changes.items():
        setattr(merchant, name, value.strip() if name == "shop_name" else value)
    merchant.save()  # recomputes the county from the village
    if "shop_name" in changes:
        merchant_renamed.send(merchant_id=merchant.pk)
    return merchant


@transaction.atomic
def merchant_resubmit(*, merchant: Merchant, actor, note: str = "") -> Merchant:
    """A rejected shop asks for another review after changing its application."""
    merchant = Merchant.objects.select_for_update().get(pk=merchant.pk)
    merchant_transition(merchant=merchant, to=S.SUBMITTED, actor=actor, reason=note or "resubmitted")
    _notify_county_operators(merchant, "merchant.resubmitted")
    return merchant


def _require_identity(merchant: Merchant) -> None:
    kind = IDENTITY_CREDENTIAL[merchant.kind]
    if not valid_credentials(merchant_id=merchant.pk).filter(kind=kind).exists():
        label = Credential.Kind(kind).label
        raise Conflict(
            _("A %(kind)s must be verified before the shop can be approved.") % {"kind": label},
            code="credential_required",
            fields={"credentials": [_("No verified, unexpired %(kind)s (%(code)s).") % {"kind": label, "code": kind}]},
        )


@transaction.atomic
def merchant_review(*, merchant_id: int, actor, decision: str, reason: str = "") -> Merchant:
    """A vetting decision by the shop's county operator or an admin (others: 404)."""

    if decision not in DECISIONS:
        raise ValidationFailed(fields={"decision": [_("Choose approve, reject, suspend or reinstate.")]})
    reason = (reason or "").strip()
    if decision in DECISIONS_NEEDING_REASON and not reason:
        raise ValidationFailed(fields={"reason": [_("Give the shop a reason.")]})
    merchant = merchant_get_for_staff(merchant_id=merchant_id, user=actor, for_update=True)
    source, target = DECISIONS[decision]
    MERCHANT_WORKFLOW.check(merchant.status, target)
    if merchant.status != source:
        raise InvalidTransition(
            _("“%(decision)s” applies to a %(source)s shop; this one is %(status)s.")
            % {"decision": decision, "source": S(source).label, "status": S(merchant.status).label},
            fields={"status": [merchant.status]},
        )
    if target == S.APPROVED:
        _require_identity(merchant)
    merchant_transition(merchant=merchant, to=target, actor=actor, reason=reason)
    if target == S.SUSPENDED:
        user_revoke_tokens(merchant.user)  # a suspended shop's sessions end (API and sockets)
    kind = {"approve": "merchant.approved", "reject": "merchant.rejected", "suspend": "merchant.suspended",
            "reinstate": "merchant.reinstated"}[decision]
    notify(user=merchant.user, kind=kind, params={"merchant": merchant.pk, "shop": merchant.shop_name,
                                                  "reason": reason})
    return merchant


def merchant_require_approved(*, user):
    """The user's shop if it is approved (for listing products and going live)."""
    merchant = Merchant.objects.filter(user_id=getattr(user, "pk", None)).first()
    if merchant is None:
        raise MerchantNotApproved(_("Apply for a shop first."), code="no_shop")
    if not merchant.is_approved:
        raise MerchantNotApproved()
    return merchant


def label(choice_cls, value: str, user) -> str:
    with translation.override(getattr(user, "language", None) or "zh-hans"):
        return str(choice_cls(value).label)


