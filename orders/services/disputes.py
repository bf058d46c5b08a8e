"""Disputes: opened by the buyer, answered by the merchant, escalated to and settled by the county.

Timeline (docs/orders-payments.md): open → the merchant answers by ``respond_by``
(``ORDERS_DISPUTE_RESPONSE_WINDOW``): *accept* refunds what was asked (capped by what is left to
refund) and closes it; *contest* hands it to the county at once. Unanswered at ``respond_by``, the
beat task escalates it. An operator of the merchant's county (or an admin) resolves an escalated
dispute with a refund between 0 and what was paid minus earlier refunds.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, User
from core.errors import Conflict, NotFound, ValidationFailed
from core.uploads import check_uploads
from notifications.services import notify

from ..models import Dispute, DisputeEvent, DisputePhoto, MerchantOrder
from ..status import DISPUTE_TRANSITIONS, DISPUTE_WORKFLOW, MERCHANT_ORDER_WORKFLOW, merchant_order_transition  # noqa: F401
from .lifecycle import merchant_order_refund, order_settle, refundable_amount
from .locks import merchant_order_lock

D = Dispute.Status
MO = MerchantOrder.Status

DISPUTABLE = {MO.PAID, MO.SHIPPED, MO.DELIVERED, MO.COMPLETED}


def _transition(dispute: Dispute, to: str, *, actor=None, reason: str = "") -> None:
    """Check and record the move; the caller saves the dispute with the fields it changes too."""
    DISPUTE_WORKFLOW.transition(dispute, to, actor=actor, reason=reason, save=False)


def _params(dispute: Dispute, **extra) -> dict:
    return {"dispute": dispute.pk, "merchant_order": dispute.merchant_order_id, **extra}


def _refund(dispute: Dispute, mo: MerchantOrder, amount: Decimal, *, actor, reason: str) -> None:
    """Refund through the provider; a merchant order refunded in full becomes ``refunded``."""
    if amount <= 0:
        return
    merchant_order_refund(merchant_order=mo, amount=amount, reason=reason, actor=actor, dispute=dispute)
    if mo.refunded_amount >= mo.total and MERCHANT_ORDER_WORKFLOW.allowed(mo.status, MO.REFUNDED):
        merchant_order_transition(mo, MO.REFUNDED, actor=actor, reason=f"dispute #{dispute.pk}")

        order_settle(order=mo.order)


@transaction.atomic
def dispute_open(*, buyer, merchant_order_id: int, reason: str, requested_refund: Decimal, text: str,
                 photos=()) -> Dispute:
    checked = check_uploads(photos, field="photos")  # before anything is written
    mo = merchant_order_lock(merchant_order_id=merchant_order_id, queryset=MerchantOrder.objects.select_related(
        "merchant__user").filter(order__buyer=buyer))
    if mo is None:
        raise NotFound(_("No such order."))
    if mo.status not in DISPUTABLE:
        raise Conflict(_("Only a paid order can be disputed."), code="not_disputable",
                       fields={"status": [mo.status]})
    if requested_refund > refundable_amount(mo):
        raise ValidationFailed(fields={"requested_refund": [
            _("At most %(amount)s can still be refunded.") % {"amount": refundable_amount(mo)}]})
    if Dispute.objects.filter(merchant_order=mo, status__in=Dispute.ACTIVE).exists():
        raise Conflict(_("A dispute on this order is already open."), code="dispute_already_open")
    now = timezone.now()
    respond_by = now + settings.ORDERS_DISPUTE_RESPONSE_WINDOW
    dispute = Dispute.objects.create(merchant_order=mo, buyer=buyer, county_id=mo.merchant.county_id, reason=reason,
                                     requested_refund=requested_refund, text=text, respond_by=respond_by,
                                     escalate_at=respond_by)
    for photo in checked:
        DisputePhoto.objects.create(dispute=dispute, image=photo.file)
    DisputeEvent.objects.create(dispute=dispute, actor=buyer, to_status=D.OPEN, reason=reason)
    notify(user=mo.merchant.user, kind="dispute.opened",
           params=_params(dispute, requested=str(requested_refund), reason=str(Dispute.Reason(reason).label),
                          respond_by=timezone.localtime(respond_by).strftime("%Y-%m-%d %H:%M")))
    return dispute


def _locked_dispute(queryset, dispute_id: int) -> tuple[Dispute, MerchantOrder]:
    """A dispute ``queryset`` lets the caller see, with its merchant order, locked in the lock order
    (orders/services/locks.py): the order, the merchant order, then the dispute."""
    merchant_order_id = queryset.filter(pk=dispute_id).values_list("merchant_order_id", flat=True).first()
    if merchant_order_id is None:
        raise NotFound(_("No such dispute."))
    mo = merchant_order_lock(merchant_order_id=merchant_order_id,
                             queryset=MerchantOrder.objects.select_related("order__buyer", "merchant"))
    dispute = (queryset.select_for_update(of=("self",)).select_related("buyer", "merchant_order__merchant__user")
               .filter(pk=dispute_id).first())
    if dispute is None:
        raise NotFound(_("No such dispute."))
    return dispute, mo


@transaction.atomic
def dispute_respond(*, merchant_user, dispute_id: int, accept: bool, text: str = "") -> Dispute:
    """The merchant accepts (refund issued now) or contests (to the county at once)."""
    dispute, mo = _locked_dispute(Dispute.objects.filter(merchant_order__merchant__user=merchant_user), dispute_id)
    if dispute.status == D.OPEN and timezone.now() > dispute.respond_by:
        raise Conflict(_("The time to answer this dispute has passed; the county will decide."),
                       code="response_window_closed")
    dispute.merchant_response = text
    if accept:
        _transition(dispute, D.ACCEPTED, actor=merchant_user, reason=text)
        amount = min(dispute.requested_refund, refundable_amount(mo))
        _refund(dispute, mo, amount, actor=merchant_user, reason=_("dispute accepted by the shop"))
        dispute.refund_amount, dispute.resolved_at = amount, timezone.now()
        notify(user=dispute.buyer, kind="dispute.accepted", params=_params(dispute, amount=str(amount)))
    else:
        _transition(dispute, D.CONTESTED, actor=merchant_user, reason=text)
        dispute.escalate_at = timezone.now()
        notify(user=dispute.buyer, kind="dispute.contested", params=_params(dispute))
        dispute.save()
        _escalate(dispute, why="contested by the shop")  # to the county at once, not on the next sweep
    dispute.save()
    return dispute


@transaction.atomic
def dispute_escalate(*, dispute_id: int) -> bool:
    """Hand a due dispute (unanswered past its deadline, or contested) to the county's operators."""
    dispute = (Dispute.objects.select_for_update(of=("self",)).select_related("buyer", "merchant_order__merchant__user")
               .filter(pk=dispute_id).first())
    if dispute is None or dispute.status not in (D.OPEN, D.CONTESTED) or dispute.escalate_at > timezone.now():
        return False
    _escalate(dispute, why="no answer from the shop in time" if dispute.status == D.OPEN else "contested by the shop")
    return True


def _escalate(dispute: Dispute, *, why: str) -> None:
    """Hand ``dispute`` (locked) to its county's operators and tell everyone concerned."""
    _transition(dispute, D.ESCALATED, reason=why)
    dispute.escalated_at = timezone.now()
    dispute.save(update_fields=["status", "escalated_at"])
    merchant = dispute.merchant_order.merchant
    notify(user=dispute.buyer, kind="dispute.escalated", params=_params(dispute))
    notify(user=merchant.user, kind="dispute.escalated", params=_params(dispute))
    for operator in User.objects.filter(role=Role.OPERATOR, county_id=dispute.county_id, is_active=True):
        notify(user=operator, kind="dispute.escalated.operator",
               params=_params(dispute, shop=merchant.shop_name, requested=str(dispute.requested_refund)))


def disputes_escalate_due(*, limit: int | None = None) -> int:
    ids = list(Dispute.objects.filter(status__in=(D.OPEN, D.CONTESTED), escalate_at__lte=timezone.now())
               .order_by("escalate_at").values_list("pk", flat=True)[:limit or settings.ORDERS_SWEEP_BATCH])
    return sum(1 for pk in ids if dispute_escalate(dispute_id=pk))


@transaction.atomic
def dispute_resolve(*, staff_user, dispute_id: int, refund_amount: Decimal, decision: str) -> Dispute:
    """An operator of the merchant's county (or an admin) decides an escalated dispute."""
    queryset = Dispute.objects.all()
    if not staff_user.is_platform_admin:
        queryset = queryset.filter(county_id=staff_user.county_id)
    dispute, mo = _locked_dispute(queryset, dispute_id)
    if dispute.status == D.OPEN:
        raise Conflict(_("The shop may still answer this dispute until %(respond_by)s; the county decides it "
                         "once the shop contests it or the time passes.")
                       % {"respond_by": timezone.localtime(dispute.respond_by).strftime("%Y-%m-%d %H:%M")},
                       code="dispute_not_escalated", fields={"status": [dispute.status]})
    _transition(dispute, D.RESOLVED, actor=staff_user, reason=decision)
    if refund_amount < 0 or refund_amount > refundable_amount(mo):
        raise ValidationFailed(fields={"refund_amount": [
            _("Between 0 and %(amount)s (paid minus earlier refunds).") % {"amount": refundable_amount(mo)}]})
    _refund(dispute, mo, refund_amount, actor=staff_user, reason=_("county decision on dispute #%(id)s")
            % {"id": dispute.pk})
    dispute.refund_amount, dispute.decision = refund_amount, decision
    dispute.resolved_at, dispute.resolved_by = timezone.now(), staff_user
    dispute.save()
    params = _params(dispute, amount=str(refund_amount), decision=decision)
    notify(user=dispute.buyer, kind="dispute.resolved", params=params)
    notify(user=dispute.merchant_order.merchant.user, kind="dispute.resolved", params=params)
    return dispute
