"""The money events' postings and the merchant's settlement timeline (docs/ledger.md).

- a payment received: the buyer's money at the provider, split per merchant order into the
  merchant's *pending* share, the platform's commission, the county's service fee and the
  county's delivery income (the rates copied at checkout), less the provider's fee;
- a refund booked: the amount owed back to the buyer, taken from the goods first (the merchant's
  share, the commission and the service fee back in proportion) and then from delivery; from
  *pending* before the release, from *available* after it (which may go below zero: the next
  payouts recover it);
- a refund paid by the provider: the debt to the buyer is settled from the provider's funds;
- a release: a completed merchant order with no active dispute whose return window has passed
  moves its pending share to *available* (the beat task ``ledger.release_due``);
- an adjustment: an admin credits or debits a merchant's available balance, with a reason.

Everything runs inside the transaction of the fact it records; every posting has a key, so a
replayed fact posts nothing twice.
"""

from __future__ import annotations

import logging
import uuid
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, User
from core.errors import ValidationFailed
from notifications.services import notify
from orders.commission import cents
from orders.models import Dispute, MerchantOrder
from orders.services.locks import merchant_order_lock

from . import chart
from .models import Adjustment, NegativeBalance, Posting, Settlement
from .postings import ZERO, Leg, balance, merchant_lock, post

logger = logging.getLogger(__name__)

MAX_ADJUSTMENT = Decimal("1000000.00")


def provider_fee(*, provider: str, amount: Decimal) -> Decimal:
    """What the payment provider keeps of a payment (``PAYMENT_FEE_RATES``, half-up to the cent)."""
    return cents(amount * settings.PAYMENT_FEE_RATES.get(provider, ZERO))


# --- money in ------------------------------------------------------------------------------------

def payment_post(*, payment_id: int, order_id: int, provider: str, amount: Decimal, kept: bool) -> Posting | None:
    """The posting of a payment that succeeded, and a pending settlement per merchant order."""
    cash = chart.provider_cash(provider)
    fee = provider_fee(provider=provider, amount=amount)
    fee_legs = [Leg(chart.PROVIDER_FEES, fee), Leg(cash, -fee)]  # the provider keeps it either way
    if not kept:  # paid after the order closed: all of it is owed back (the refund pays it)
        return post(key=f"payment:{payment_id}", kind=Posting.Kind.PAYMENT, memo=f"payment {payment_id}, returned",
                    legs=[Leg(cash, amount), Leg(chart.REFUNDS_PAYABLE, -amount), *fee_legs])
    merchant_orders = list(MerchantOrder.objects.filter(order_id=order_id).select_related("merchant")
                           .order_by("pk"))
    legs = [Leg(cash, amount)]
    for mo in merchant_orders:
        county = mo.merchant.county_id
        share = mo.items_total - mo.commission - mo.service_fee
        legs += [Leg(chart.merchant_pending(mo.merchant_id), -share, mo.pk),
                 Leg(chart.COMMISSION, -mo.commission, mo.pk),
                 Leg(chart.county_service_fees(county), -mo.service_fee, mo.pk),
                 Leg(chart.county_delivery(county), -mo.delivery_fee, mo.pk)]
    legs += fee_legs
    posting = post(key=f"payment:{payment_id}", kind=Posting.Kind.PAYMENT, memo=f"payment {payment_id}",
                   legs=legs)
    if posting is not None:
        Settlement.objects.bulk_create([
            Settlement(merchant_order=mo, merchant_id=mo.merchant_id, goods=mo.items_total, delivery=mo.delivery_fee,
                       commission=mo.commission, service_fee=mo.service_fee, paid_at=posting.created_at)
            for mo in merchant_orders])
    return posting


# --- money back ----------------------------------------------------------------------------------

def refund_post(*, refund_id: int, merchant_order_id: int, amount: Decimal) -> Posting | None:
    """The posting of a refund booked against a merchant order (called with the merchant order
    locked by the booking's conditional UPDATE, so refunds of one order are posted one by one)."""
    # of=self: the shop's row is not locked here (a payout holding the shop's lock writes rows naming it)
    settlement = (Settlement.objects.select_for_update(of=("self",)).select_related("merchant")
                  .filter(merchant_order_id=merchant_order_id).first())
    if settlement is None:
        raise RuntimeError(f"merchant order {merchant_order_id} has no settlement: it was never posted as paid")
    goods_left = settlement.goods - settlement.goods_refunded
    goods = min(amount, goods_left)
    delivery = amount - goods
    before, after = settlement.goods_refunded, settlement.goods_refunded + goods
    commission = _share(settlement.commission, after, settlement.goods) - _share(settlement.commission, before,
                                                                                 settlement.goods)
    service = _share(settlement.service_fee, after, settlement.goods) - _share(settlement.service_fee, before,
                                                                              settlement.goods)
    merchant_part = goods - commission - service
    released = settlement.state == Settlement.State.AVAILABLE
    if released:
        merchant_lock(settlement.merchant_id)
    county = settlement.merchant.county_id
    account = (chart.merchant_available if released else chart.merchant_pending)(settlement.merchant_id)
    posting = post(key=f"refund:{refund_id}", kind=Posting.Kind.REFUND, merchant_id=settlement.merchant_id,
                   memo=f"refund {refund_id} of merchant order {merchant_order_id}", legs=[
                       Leg(account, merchant_part, merchant_order_id),
                       Leg(chart.COMMISSION, commission, merchant_order_id),
                       Leg(chart.county_service_fees(county), service, merchant_order_id),
                       Leg(chart.county_delivery(county), delivery, merchant_order_id),
                       Leg(chart.REFUNDS_PAYABLE, -amount, merchant_order_id)])
    if posting is None:
        return None
    settlement.goods_refunded, settlement.delivery_refunded = after, settlement.delivery_refunded + delivery
    fields = ["goods_refunded", "delivery_refunded"]
    if not released and after >= settlement.goods:
        settlement.state = Settlement.State.CLOSED  # nothing of the merchant's share is left to release
        fields.append("state")
    settlement.save(update_fields=fields)
    if released:
        negative_track(merchant_id=settlement.merchant_id)
    return posting


def _share(total: Decimal, part: Decimal, whole: Decimal) -> Decimal:
    """``total``'s share for ``part`` of ``whole``, rounded the same way every time, so the shares of
    successive refunds add up to exactly ``total`` once everything is refunded."""
    return cents(total * part / whole) if whole else ZERO


def refund_paid_post(*, refund_id: int, provider: str, amount: Decimal) -> Posting | None:
    return post(key=f"refund_paid:{refund_id}", kind=Posting.Kind.REFUND_PAID, memo=f"refund {refund_id} paid",
                legs=[Leg(chart.REFUNDS_PAYABLE, amount), Leg(chart.provider_cash(provider), -amount)])


# --- release -------------------------------------------------------------------------------------

def _due(queryset, *, now):
    active = Dispute.objects.filter(merchant_order_id=OuterRef("merchant_order_id"), status__in=Dispute.ACTIVE)
    return (queryset.filter(state=Settlement.State.PENDING, merchant_order__status=MerchantOrder.Status.COMPLETED,
                            merchant_order__completed_at__lte=now - settings.LEDGER_RETURN_WINDOW)
            .exclude(Exists(active)))


@transaction.atomic
def settlement_release(*, merchant_order_id: int, now=None) -> Posting | None:
    """Move one due merchant order's pending share to available; None if it is not due (any more)."""
    now = now or timezone.now()
    merchant_order_lock(merchant_order_id=merchant_order_id)  # the lock order: the merchant order first
    settlement = _due(Settlement.objects.select_for_update(of=("self",)), now=now).filter(
        merchant_order_id=merchant_order_id).first()
    if settlement is None:
        return None
    merchant_lock(settlement.merchant_id)
    pending = chart.merchant_pending(settlement.merchant_id)
    share = -balance(pending, merchant_order_id=merchant_order_id)
    posting = post(key=f"release:{merchant_order_id}", kind=Posting.Kind.RELEASE, merchant_id=settlement.merchant_id,
                   memo=f"merchant order {merchant_order_id} released", at=now, legs=[
                       Leg(pending, share, merchant_order_id),
                       Leg(chart.merchant_available(settlement.merchant_id), -share, merchant_order_id)])
    settlement.state, settlement.released_at = Settlement.State.AVAILABLE, now
    settlement.save(update_fields=["state", "released_at"])
    negative_track(merchant_id=settlement.merchant_id)
    return posting


def releases_due(*, limit: int | None = None) -> int:
    """The beat task: release every due merchant order (each in its own transaction)."""
    ids = list(_due(Settlement.objects.all(), now=timezone.now()).order_by("merchant_order__completed_at")
               .values_list("merchant_order_id", flat=True)[:limit or settings.ORDERS_SWEEP_BATCH])
    return sum(1 for pk in ids if settlement_release(merchant_order_id=pk) is not None)


# --- balances below zero ---------------------------------------------------------------------------

def negative_track(*, merchant_id: int) -> Decimal:
    """Record (or clear) the merchant's negative available balance; called, under the merchant's
    lock, by everything that moves its available money. Returns the balance owed to the merchant."""
    owed = -balance(chart.merchant_available(merchant_id))
    if owed < 0:
        flag, created = NegativeBalance.objects.get_or_create(merchant_id=merchant_id,
                                                              defaults={"since": timezone.now(), "amount": owed})
        if not created and flag.amount != owed:
            flag.amount = owed
            flag.save(update_fields=["amount"])
    else:
        NegativeBalance.objects.filter(merchant_id=merchant_id).delete()
    return owed


def negative_balances_flag(*, now=None) -> int:
    """The daily beat task: tell the admins of merchants negative for longer than
    ``LEDGER_NEGATIVE_FLAG_AFTER`` (once per stretch below zero)."""
    now = now or timezone.now()
    flags = list(NegativeBalance.objects.select_related("merchant").filter(
        flagged_at__isnull=True, since__lte=now - settings.LEDGER_NEGATIVE_FLAG_AFTER))
    admins = list(User.objects.filter(role=Role.ADMIN, is_active=True))
    for flag in flags:
        for admin in admins:
            notify(user=admin, kind="ledger.negative_balance",
                   params={"shop": flag.merchant.shop_name, "merchant": flag.merchant_id, "amount": str(flag.amount),
                           "since": flag.since.date().isoformat()})
    NegativeBalance.objects.filter(pk__in=[f.pk for f in flags]).update(flagged_at=now)
    return len(flags)


# --- adjustments ---------------------------------------------------------------------------------

def adjustment_validate(*, amount, reason: str) -> tuple[Decimal, str]:
    """The amount (non-zero yuan, two places, at most 1,000,000 either way) and the reason (required)."""
    try:
        amount = Decimal(str(amount))
    except ArithmeticError:
        amount = None
    if amount is None or not amount.is_finite() or amount != amount.quantize(Decimal("0.01")) or amount == 0 \
            or abs(amount) > MAX_ADJUSTMENT:
        raise ValidationFailed(fields={"amount": [_("Give a non-zero amount in yuan with at most two decimal places, "
                                                    "at most 1,000,000.")]})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(fields={"reason": [_("Say why the balance is adjusted.")]})
    return amount, reason[:300]


@transaction.atomic
def adjustment_create(*, merchant, amount, reason: str, actor) -> Adjustment:
    """An admin's correction of a merchant's available balance (positive: owed to the merchant)."""
    amount, reason = adjustment_validate(amount=amount, reason=reason)
    merchant_lock(merchant.pk)
    posting = post(key=f"adjustment:{uuid.uuid4().hex}", kind=Posting.Kind.ADJUSTMENT, merchant_id=merchant.pk,
                   actor=actor, memo=reason, legs=[Leg(chart.ADJUSTMENTS, amount),
                                                   Leg(chart.merchant_available(merchant.pk), -amount)])
    adjustment = Adjustment.objects.create(merchant=merchant, amount=amount, reason=reason, posting=posting,
                                           created_by=actor)
    negative_track(merchant_id=merchant.pk)
    return adjustment
