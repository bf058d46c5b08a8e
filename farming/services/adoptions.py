"""Adoptions (认养): offered by a shop, adopted and paid up front by a consumer, delivered on a schedule.

- The adopter's payment is an order of its own (one line: the adoption, at its price, delivery
  included), paid through ``POST /api/orders/{id}/pay/`` like any other.
- Each scheduled delivery becomes a paid order of 0.00 of the adoption's product on its date, made by
  the beat task exactly once (the delivery's row is locked and its ``order`` set in the same
  transaction), shipped and confirmed like any other.
- Cancelling: deliveries more than ``FARMING_ADOPTION_CUTOFF_DAYS`` days away are skipped and refunded
  pro rata (price × skipped ÷ deliveries, the whole price when none was sent); with none left before
  the cut-off the cancellation is refused (409). An unpaid adoption is simply cancelled.
- Once every delivery is settled (or skipped) the paying order's merchant order completes, so the
  ledger settles the shop's share after the return window (docs/ledger.md).

Lock order: the adoption (adopt), then the subscription, then its deliveries, then orders.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import Product
from core.errors import NotFound, ValidationFailed
from core.uploads import check_upload
from merchants.models import Merchant
from notifications.services import notify, notify_many
from orders.commission import cents
from orders.models import MerchantOrder, Order
from orders.services import merchant_order_refund, order_cancel
from orders.services.direct import DirectAddress, DirectLine, address_of, order_create_direct
from orders.services.lifecycle import order_settle, refundable_amount
from orders.services.locks import merchant_order_lock, order_lock
from orders.status import merchant_order_transition
from regions.models import Region

from ..errors import AdoptionClosed, AdoptionFull, PastCutOff
from ..models import Adoption, AdoptionUpdate, Delivery, Subscription, delivery_dates
from ..status import SUBSCRIPTION_WORKFLOW

MO = MerchantOrder.Status
TAKEN = (Order.Status.PENDING_PAYMENT, Order.Status.PAID, Order.Status.COMPLETED)
MAX_DELIVERIES = 52


def _approved_shop(user) -> Merchant:
    merchant = Merchant.objects.filter(user_id=getattr(user, "pk", None)).first()
    if merchant is None or merchant.status != Merchant.Status.APPROVED:
        raise ValidationFailed(_("Only an approved shop may offer adoptions."), code="merchant_not_approved")
    return merchant


@transaction.atomic
def adoption_create(*, user, title: str, product_id: int, season_from: datetime.date, season_to: datetime.date,
                    every: str, first_delivery: datetime.date, deliveries: int, price: Decimal, cap: int,
                    quantity: int = 1, kind: str = Adoption.Kind.TREE, description: str = "") -> Adoption:
    """A shop offers an adoption of one of its products, delivered ``deliveries`` times from
    ``first_delivery`` (``every`` week or month, or once) inside the season."""
    merchant = _approved_shop(user)
    product = Product.objects.filter(pk=product_id, merchant=merchant).first()
    errors: dict = {}
    if product is None:
        errors["product"] = [_("No such product of your shop.")]
    if season_to < season_from:
        errors["season_to"] = [_("The season ends before it starts.")]
    if every == Adoption.Every.ONCE:
        deliveries = 1
    if not 1 <= deliveries <= MAX_DELIVERIES:
        errors["schedule"] = {"deliveries": [_("Between 1 and %(n)d deliveries.") % {"n": MAX_DELIVERIES}]}
    elif not errors:
        dates = delivery_dates(every=every, first=first_delivery, count=deliveries)
        if first_delivery < timezone.localdate():
            errors["schedule"] = {"first_delivery": [_("The first delivery is in the past.")]}
        elif dates[0] < season_from or dates[-1] > season_to:
            errors["schedule"] = {"first_delivery": [_("Every delivery must fall inside the season (the last is on "
                                                       "%(last)s).") % {"last": dates[-1].isoformat()}]}
    if errors:
        raise ValidationFailed(fields=errors)
    return Adoption.objects.create(
        merchant=merchant, product=product, title=title.strip(), description=(description or "").strip(), kind=kind,
        season_from=season_from, season_to=season_to, every=every, first_delivery=first_delivery,
        deliveries=deliveries, quantity=quantity, price=price, cap=cap)


def adopters_count(adoption: Adoption) -> int:
    """Places taken: active subscriptions whose paying order is not cancelled (an unpaid one holds its
    place for its payment window, as an unpaid order holds its units)."""
    return Subscription.objects.filter(adoption=adoption, status=Subscription.Status.ACTIVE,
                                       order__status__in=TAKEN).count()


@transaction.atomic
def adoption_adopt(*, buyer, adoption_id: int, address: DirectAddress, stream_id: int | None = None) -> Subscription:
    """The consumer adopts: a place is taken (never past the cap: the adoption's row is locked while
    the places are counted) and the paying order is created, pending its payment."""
    adoption = (Adoption.objects.select_for_update(of=("self",)).select_related("product__merchant", "merchant")
                .filter(pk=adoption_id, status=Adoption.Status.OPEN, merchant__status=Merchant.Status.APPROVED)
                .first())
    if adoption is None:  # a closed one is hidden like a missing one (docs/security.md)
        raise NotFound(_("No such adoption."))
    if adoption.first_delivery <= timezone.localdate():
        raise AdoptionClosed()
    if adopters_count(adoption) >= adoption.cap:
        raise AdoptionFull()
    if not Region.objects.filter(pk=address.village_id, level=Region.Level.VILLAGE).exists():
        raise ValidationFailed(fields={"address": {"village": [_("No such village.")]}})
    order = order_create_direct(
        buyer=buyer, address=address, stream_id=stream_id,
        line=DirectLine(product=adoption.product, title=_("Adoption: %(title)s") % {"title": adoption.title},
                        unit=_("adoption"), unit_price=adoption.price, quantity=1))
    subscription = Subscription.objects.create(adoption=adoption, buyer=buyer, order=order)
    Delivery.objects.bulk_create([Delivery(subscription=subscription, seq=n, due_on=day)
                                  for n, day in enumerate(adoption.delivery_dates(), start=1)])
    return subscription


# --- deliveries ----------------------------------------------------------------------------------

def _delivery_create(*, delivery_id: int) -> Order | None:
    """The delivery's order, made once: under the subscription's and the delivery's locks, only if it
    has none yet (a second run, or a concurrent one, finds it set and does nothing)."""
    with transaction.atomic():
        subscription_id = Delivery.objects.filter(pk=delivery_id).values_list("subscription_id", flat=True).first()
        subscription = (Subscription.objects.select_for_update(of=("self",))
                        .select_related("adoption__product__merchant__user", "order", "buyer")
                        .filter(pk=subscription_id, status=Subscription.Status.ACTIVE,
                                order__status=Order.Status.PAID).first())
        if subscription is None:
            return None
        delivery = Delivery.objects.select_for_update().filter(pk=delivery_id, order__isnull=True,
                                                               skipped=False).first()
        if delivery is None:
            return None
        adoption = subscription.adoption
        order = order_create_direct(
            buyer=subscription.buyer, address=address_of(subscription.order),
            prepaid_reason=f"adoption #{adoption.pk}: delivery {delivery.seq} (paid by order #{subscription.order_id})",
            line=DirectLine(product=adoption.product, title=adoption.product.title, unit=adoption.product.unit,
                            unit_price=Decimal("0.00"), quantity=adoption.quantity))
        delivery.order = order
        delivery.save(update_fields=["order"])
        params = {"adoption": adoption.title, "seq": delivery.seq, "of": adoption.deliveries, "order": order.pk}
        notify(user=subscription.buyer, kind="adoption.delivery", params=params)
        mo_id = order.merchant_orders.values_list("pk", flat=True).get()
        notify(user=adoption.merchant.user, kind="adoption.delivery.merchant",
               params={**params, "merchant_order": mo_id})
        return order


def deliveries_due_create(*, today: datetime.date | None = None, limit: int | None = None) -> int:
    """The beat task: every delivery due by today that has no order yet gets one (oldest first)."""
    today = today or timezone.localdate()
    ids = list(Delivery.objects.filter(order__isnull=True, skipped=False, due_on__lte=today,
                                       subscription__status=Subscription.Status.ACTIVE,
                                       subscription__order__status=Order.Status.PAID)
               .order_by("due_on", "pk").values_list("pk", flat=True)[:limit or settings.FARMING_SWEEP_BATCH])
    return sum(1 for pk in ids if _delivery_create(delivery_id=pk) is not None)


# --- cancelling ----------------------------------------------------------------------------------

def refund_for(*, adoption: Adoption, skipped: int, paid_left: Decimal) -> Decimal:
    """What skipping ``skipped`` of the adoption's deliveries gives back: its share of the price, all that
    is left of it when every delivery is skipped."""
    if skipped >= adoption.deliveries:
        return paid_left
    return min(paid_left, cents(adoption.price * skipped / adoption.deliveries))


@transaction.atomic
def subscription_cancel(*, buyer, subscription_id: int) -> Subscription:
    """The adopter cancels: an unpaid adoption's order is cancelled; a paid one's deliveries past the
    cut-off are skipped and refunded pro rata (409 when none is left before the cut-off)."""
    subscription = (Subscription.objects.select_for_update(of=("self",)).select_related("adoption", "order")
                    .filter(pk=subscription_id, buyer=buyer).first())
    if subscription is None:
        raise NotFound(_("No such adoption."))
    SUBSCRIPTION_WORKFLOW.check(subscription.status, Subscription.Status.CANCELLED)  # 409 once it ended
    order = order_lock(order_id=subscription.order_id)
    cut_off = timezone.localdate() + datetime.timedelta(days=settings.FARMING_ADOPTION_CUTOFF_DAYS)
    deliveries = list(Delivery.objects.select_for_update().filter(subscription=subscription).order_by("seq"))
    unused = [d for d in deliveries if d.order_id is None and not d.skipped and d.due_on > cut_off]
    if order.status == Order.Status.PENDING_PAYMENT:
        SUBSCRIPTION_WORKFLOW.transition(subscription, Subscription.Status.CANCELLED)
        Delivery.objects.filter(subscription=subscription, order__isnull=True).update(skipped=True)
        order_cancel(buyer=buyer, order_id=order.pk)
        return subscription
    if order.status != Order.Status.PAID or not unused:
        raise PastCutOff()
    mo = merchant_order_lock(merchant_order_id=order.merchant_orders.values_list("pk", flat=True).get(),
                             queryset=MerchantOrder.objects.select_related("order__buyer", "merchant__user"))
    amount = refund_for(adoption=subscription.adoption, skipped=len(unused), paid_left=refundable_amount(mo))
    Delivery.objects.filter(pk__in=[d.pk for d in unused]).update(skipped=True)
    subscription.refunded = amount
    SUBSCRIPTION_WORKFLOW.transition(subscription, Subscription.Status.CANCELLED, update_fields=("refunded",))
    if amount > 0:
        merchant_order_refund(merchant_order=mo, amount=amount, actor=buyer,
                              reason=_("adoption cancelled: %(n)d delivery(ies) not sent") % {"n": len(unused)})
    notify(user=mo.merchant.user, kind="adoption.cancelled",
           params={"adoption": subscription.adoption.title, "skipped": len(unused), "amount": str(amount)})
    _settle(subscription)
    return subscription


# --- settling ------------------------------------------------------------------------------------

_OPEN_MO = (MO.PENDING_PAYMENT, MO.PAID, MO.SHIPPED, MO.DELIVERED)


def _waiting() -> Q:
    """A delivery still to come: not made yet (nor skipped), or its order not settled."""
    return Q(order__isnull=True, skipped=False) | Q(order__merchant_orders__status__in=_OPEN_MO)


def _settle(subscription: Subscription) -> bool:
    """When every delivery is skipped or its order settled, the paying merchant order ends: refunded
    when nothing was sent, completed otherwise (the ledger then settles the shop's share). Runs under
    the subscription's lock."""
    deliveries = Delivery.objects.filter(subscription=subscription)
    if deliveries.filter(_waiting()).exists():
        return False
    mo = merchant_order_lock(merchant_order_id=subscription.order.merchant_orders.values_list("pk", flat=True).get(),
                             queryset=MerchantOrder.objects.select_related("order"))
    if mo.status == MO.PAID:
        sent = deliveries.filter(order__isnull=False).count()
        reason = f"adoption #{subscription.adoption_id}: {sent} delivery(ies) sent, the rest skipped"
        if sent == 0:
            merchant_order_transition(mo, MO.REFUNDED, reason=reason)
        else:
            for step in (MO.SHIPPED, MO.DELIVERED, MO.COMPLETED):
                merchant_order_transition(mo, step, reason=reason)
        order_settle(order=mo.order)
    if subscription.status == Subscription.Status.ACTIVE:
        SUBSCRIPTION_WORKFLOW.transition(subscription, Subscription.Status.FINISHED)
    return True


def subscriptions_settle(*, limit: int | None = None) -> int:
    """The beat task's second half: end the subscriptions whose deliveries are all settled, and mark
    cancelled those whose paying order was cancelled unpaid (its place is free again)."""
    batch = limit or settings.FARMING_SWEEP_BATCH
    Subscription.objects.filter(status__in=SUBSCRIPTION_WORKFLOW.sources(Subscription.Status.CANCELLED),
                                order__status=Order.Status.CANCELLED).update(
        status=Subscription.Status.CANCELLED, cancelled_at=timezone.now())
    waiting = Delivery.objects.filter(_waiting(), subscription=OuterRef("pk"))
    ids = list(Subscription.objects.filter(Q(status=Subscription.Status.ACTIVE) | Q(
        status=Subscription.Status.CANCELLED, order__merchant_orders__status=MO.PAID),
        order__status=Order.Status.PAID).filter(~Exists(waiting)).order_by("pk")
        .values_list("pk", flat=True)[:batch])
    done = 0
    for pk in ids:
        with transaction.atomic():
            subscription = Subscription.objects.select_for_update(of=("self",)).select_related("order").get(pk=pk)
            done += _settle(subscription)
    return done


# --- the farmer's updates ------------------------------------------------------------------------

@transaction.atomic
def adoption_update_post(*, user, adoption_id: int, note: str = "", photo=None) -> AdoptionUpdate:
    """The farmer posts news (a note, a photo); every active adopter is told."""
    adoption = Adoption.objects.filter(pk=adoption_id, merchant__user_id=getattr(user, "pk", None)).first()
    if adoption is None:
        raise NotFound(_("No such adoption."))
    note = (note or "").strip()
    if not note and photo is None:
        raise ValidationFailed(fields={"note": [_("Write a note or add a photo.")]})
    update = AdoptionUpdate(adoption=adoption, note=note)
    if photo is not None:
        update.photo = check_upload(photo, field="photo").file
    update.save()
    adopters = [s.buyer for s in Subscription.objects.filter(adoption=adoption, status=Subscription.Status.ACTIVE,
                                                              order__status=Order.Status.PAID).select_related("buyer")]
    notify_many(users=adopters, kind="adoption.updated", params={"adoption": adoption.title, "update": update.pk})
    return update
