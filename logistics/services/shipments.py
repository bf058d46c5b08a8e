"""Shipments: shipping a paid merchant order, and every scan that moves a parcel along its route."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import Conflict, DomainError, NotFound, ValidationFailed
from orders.models import MerchantOrder, OrderLine
from orders.services import merchant_order_returned
from orders.services.locks import merchant_order_lock
from orders.status import MERCHANT_ORDER_WORKFLOW, merchant_order_transition

from ..models import Dispatch, Hub, Shipment, ShipmentEvent, ShipmentStop
from ..routes import route_plan
from ..selectors import shipments_passing_county
from ..sla import shipment_schedule
from ..status import ARRIVALS, SHIPMENT_WORKFLOW
from .status_notify import shipment_status_notify

S = Shipment.Status
R = Shipment.FailureReason


class PickupCodeWrong(ValidationFailed):
    code = "wrong_pickup_code"


class PickupCodeLocked(DomainError):
    status = 429
    code = "pickup_code_locked"


def _new_pickup_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


# --- shipping ---------------------------------------------------------------------------

@transaction.atomic
def shipment_create(*, user, merchant_order_id: int, weight_kg: Decimal, parcel_count: int = 1,
                    note: str = "") -> Shipment:
    """Ship one of the merchant's own paid sub-orders into the county network."""
    merchant_order = merchant_order_lock(merchant_order_id=merchant_order_id, queryset=(
        MerchantOrder.objects
        .select_related("order__buyer", "order__village__parent__parent", "merchant__village__parent__parent")
        .filter(merchant__user=user)))
    if merchant_order is None:
        raise NotFound()
    if Shipment.objects.filter(merchant_order=merchant_order).exists():
        raise Conflict(_("This order has already been shipped."), code="already_shipped")
    if merchant_order.status != MerchantOrder.Status.PAID:
        raise Conflict(_("Only a paid order can be shipped."), code="not_paid",
                       fields={"status": [merchant_order.status]})
    order = merchant_order.order
    stops = route_plan(origin_village=merchant_order.merchant.village, destination_village=order.village)
    flags = list(OrderLine.objects.filter(merchant_order=merchant_order)
                 .values_list("product__perishable", "product__cold_chain_required"))
    cold_chain = any(cold for _fresh, cold in flags)
    origin_county = merchant_order.merchant.village.parent.parent
    destination_county = order.village.parent.parent
    shipment = Shipment.objects.create(
        merchant_order=merchant_order, buyer=order.buyer, merchant=merchant_order.merchant,
        origin_county=origin_county, destination_county=destination_county, destination_village=order.village,
        parcel_count=parcel_count, weight_kg=weight_kg, note=note,
        perishable=cold_chain or any(fresh for fresh, _cold in flags), cold_chain=cold_chain,
        pickup_code=_new_pickup_code(), next_hub=stops[0].hub,
    )
    if origin_county.pk != destination_county.pk:
        shipment.carrier = settings.LOGISTICS_INTER_COUNTY_CARRIER
        shipment.tracking_number = f"CB{shipment.pk:010d}"
    saved_stops = ShipmentStop.objects.bulk_create([
        ShipmentStop(shipment=shipment, index=i, hub=stop.hub, leg=stop.leg, arrival_status=stop.arrival_status)
        for i, stop in enumerate(stops)
    ])
    shipment_schedule(shipment, saved_stops, timezone.now())
    shipment.save()
    merchant_order_transition(merchant_order, MerchantOrder.Status.SHIPPED, actor=user,
                              reason=f"shipment #{shipment.pk}")
    ShipmentEvent.objects.create(shipment=shipment, actor=user, to_status=S.CREATED,
                                 action=ShipmentEvent.Action.CREATED, hub=None, note=note[:200])
    shipment_status_notify(shipment, S.CREATED, hub=stops[0].hub)
    return shipment


# --- moving along the route -------------------------------------------------------------

@dataclass
class Step:
    """Where a status change puts the parcel: the hub it happens at and the new route position."""

    hub: Hub
    stop_index: int


STOPS = Prefetch("stops", queryset=ShipmentStop.objects.select_related("hub__region").order_by("index"))


def _stops(shipment: Shipment) -> list[ShipmentStop]:
    """The route, in order (prefetched with ``STOPS`` by every query that locks shipments)."""
    return list(shipment.stops.all())


def expected_step(shipment: Shipment, stops: list[ShipmentStop], to: str) -> Step:
    """The one hub where ``to`` may happen next; 409 if the route does not lead there."""
    SHIPMENT_WORKFLOW.check(shipment.status, to)
    here = shipment.stop_index
    if to in ARRIVALS:
        following = here + 1
        if following >= len(stops) or stops[following].arrival_status != to:
            upcoming = stops[following] if following < len(stops) else None
            raise Conflict(
                _("The parcel's next stop is %(hub)s (%(status)s), not “%(target)s”.") % {
                    "hub": upcoming.hub.name if upcoming else "—",
                    "status": S(upcoming.arrival_status).label if upcoming else "—", "target": to},
                code="off_route", fields={"status": [shipment.status]})
        return Step(hub=stops[following].hub, stop_index=following)
    if to == S.FAILED:
        return Step(hub=stops[-1].hub, stop_index=here)  # the attempt was at the village point
    return Step(hub=stops[here].hub, stop_index=here)  # out for delivery / returned: from the station


def shipment_advance(shipment: Shipment, *, to: str, step: Step, stops: list[ShipmentStop], actor,
                     action: str = ShipmentEvent.Action.SCAN, note: str = "", reason: str = "",
                     dispatch: Dispatch | None = None) -> ShipmentEvent:
    """Apply a checked status change to a locked shipment: event, position, SLA, order, notices."""
    now = timezone.now()
    event = SHIPMENT_WORKFLOW.apply(shipment, to, actor=actor, reason=reason,
                                    event_fields={"hub": step.hub, "dispatch": dispatch, "note": note[:200],
                                                  "action": action})
    shipment.stop_index = step.stop_index
    if to in ARRIVALS:
        ShipmentStop.objects.filter(pk=stops[step.stop_index].pk).update(arrived_at=now)
    shipment.current_hub = stops[step.stop_index].hub if step.stop_index >= 0 else None
    following = step.stop_index + 1
    shipment.next_hub = stops[following].hub if following < len(stops) and to not in Shipment.TERMINAL else None
    if to == S.OUT_FOR_DELIVERY:
        shipment.delivery_attempts += 1
        shipment.failure_reason = ""
    elif to == S.FAILED:
        shipment.failure_reason = reason
    elif to == S.DELIVERED:
        _merchant_order_delivered(shipment, actor)
    elif to == S.RETURNED:
        merchant_order_returned(merchant_order_id=shipment.merchant_order_id, actor=actor,
                                reason=_("parcel #%(id)s returned to the shop") % {"id": shipment.pk})
    if shipment_schedule(shipment, stops, now):
        shipment.overdue_flagged_at = None
    left_dispatch = _leaves_dispatch(shipment, to, step)
    if left_dispatch:
        shipment.current_dispatch = None
    shipment.save()
    if left_dispatch:
        from .dispatches import dispatch_settle  # dispatches builds on this module

        dispatch_settle(dispatch_id=left_dispatch, actor=actor)
    # Out for delivery: the buyer is told where to collect it (the village point), not the station it leaves.
    told_hub = stops[-1].hub if to == S.OUT_FOR_DELIVERY else step.hub
    shipment_status_notify(shipment, to, hub=told_hub, passing=event.from_status == to)
    return event


def _leaves_dispatch(shipment: Shipment, to: str, step: Step) -> int | None:
    """The run a parcel gets off with this change (reaching a trunk's hub, or the end of a round)."""
    dispatch = shipment.current_dispatch
    if dispatch is None or dispatch.status != Dispatch.Status.DEPARTED:
        return None
    if dispatch.kind == Dispatch.Kind.TRUNK and to in ARRIVALS and step.hub.pk == dispatch.destination_hub_id:
        return dispatch.pk
    if dispatch.kind == Dispatch.Kind.LAST_MILE and to in (S.DELIVERED, S.FAILED):
        return dispatch.pk
    return None


def _merchant_order_delivered(shipment: Shipment, actor) -> None:
    # Locked already, before the shipment (shipment_scan): the lock order is order → merchant order → shipment.
    merchant_order = MerchantOrder.objects.select_for_update(of=("self",)).get(pk=shipment.merchant_order_id)
    # A sub-order already refunded in full keeps its status; the parcel still counts as delivered.
    if MERCHANT_ORDER_WORKFLOW.allowed(merchant_order.status, MerchantOrder.Status.DELIVERED):
        merchant_order_transition(merchant_order, MerchantOrder.Status.DELIVERED, actor=actor,
                                  reason=f"shipment #{shipment.pk} delivered")


# --- scans ----------------------------------------------------------------------------------

def shipments_scannable_by(user):
    """Shipments ``user`` may scan: those passing through an operator's or a courier's county; all
    for admins."""
    if user.is_platform_admin:
        return Shipment.objects.all()
    if user.works_in_county:
        return shipments_passing_county(user.county_id)
    return Shipment.objects.none()


# Scans that change the merchant order (and may settle the order) as well as the shipment.
MERCHANT_ORDER_SCANS = {S.DELIVERED, S.RETURNED}


def _lock(user, shipment_id: int) -> Shipment:
    shipment = (
        shipments_scannable_by(user).select_for_update(of=("self",))
        .select_related("buyer", "merchant__user", "merchant_order", "current_dispatch")
        .prefetch_related(STOPS).filter(pk=shipment_id).first()
    )
    if shipment is None:
        raise NotFound()
    return shipment


def hub_check_county(user, hub: Hub) -> None:
    """Operators and couriers act only at hubs of their own county."""
    if user.works_in_county and hub.region.county_id != user.county_id:
        raise ValidationFailed(_("This hub is in another county; scan only at your county's hubs."),
                               code="hub_outside_county", fields={"hub": [_("Not a hub of your county.")]})


def _check_pickup_code(shipment: Shipment, code: str | None) -> DomainError | None:
    """None if ``code`` is right; otherwise the error, after counting the wrong try (kept on commit)."""
    now = timezone.now()
    if shipment.pickup_code_locked_until and shipment.pickup_code_locked_until > now:
        return PickupCodeLocked(_("Too many wrong pickup codes; try again after %(time)s.") % {
            "time": timezone.localtime(shipment.pickup_code_locked_until).strftime("%H:%M")})
    if code and hmac.compare_digest(str(code), shipment.pickup_code):
        if shipment.pickup_code_failures:
            shipment.pickup_code_failures = 0
            shipment.pickup_code_locked_until = None
        return None
    failures = shipment.pickup_code_failures + 1
    limit = settings.LOGISTICS_PICKUP_CODE_MAX_TRIES
    if failures >= limit:
        Shipment.objects.filter(pk=shipment.pk).update(
            pickup_code_failures=0, pickup_code_locked_until=now + settings.LOGISTICS_PICKUP_CODE_LOCK)
        return PickupCodeLocked(_("Wrong pickup code. After %(n)s wrong tries it is locked for an hour.")
                                % {"n": limit})
    Shipment.objects.filter(pk=shipment.pk).update(pickup_code_failures=failures)
    return PickupCodeWrong(_("Wrong pickup code."), fields={"pickup_code": [
        _("Wrong code: %(left)s tries left.") % {"left": limit - failures}]})


def shipment_scan(*, user, shipment_id: int, status: str, hub_id: int | None = None, note: str = "",
                  pickup_code: str | None = None, reason: str = "") -> Shipment:
    """A hub scan by an operator (or courier) of that hub's county: the parcel's next status."""
    refusal: DomainError | None = None
    with transaction.atomic():
        if status in MERCHANT_ORDER_SCANS:
            merchant_order_id = (shipments_scannable_by(user).filter(pk=shipment_id)
                                 .values_list("merchant_order_id", flat=True).first())
            if merchant_order_id is not None:  # the lock order (orders/services/locks.py): order, its
                merchant_order_lock(merchant_order_id=merchant_order_id)  # merchant order, then the shipment
        shipment = _lock(user, shipment_id)
        dispatch = shipment.current_dispatch
        if dispatch is not None and dispatch.status == Dispatch.Status.PLANNED:
            raise Conflict(_("The parcel is loaded on planned run #%(id)s: depart or cancel the run first.")
                           % {"id": dispatch.pk}, code="on_planned_dispatch")
        stops = _stops(shipment)
        step = expected_step(shipment, stops, status)
        if hub_id is None and status == shipment.status:
            # Passing a hub without a status change: a repeated scan must not move the parcel on.
            raise ValidationFailed(_("The parcel is already “%(status)s”: name the hub it has reached.")
                                   % {"status": S(status).label}, code="hub_required",
                                   fields={"hub": [_("Required when the status does not change.")]})
        if hub_id is not None:
            hub = Hub.objects.select_related("region").filter(pk=hub_id).first()
            if hub is None:
                raise ValidationFailed(fields={"hub": [_("Unknown hub.")]})
            hub_check_county(user, hub)
            if hub.pk != step.hub.pk:
                raise Conflict(_("This parcel's %(status)s scan belongs at %(hub)s.") % {
                    "status": S(status).label, "hub": step.hub.name}, code="off_route", fields={"hub": [step.hub.pk]})
        hub_check_county(user, step.hub)
        _check_status_rules(shipment, status, reason)
        if status == S.DELIVERED:
            refusal = _check_pickup_code(shipment, pickup_code)
        if refusal is None:
            shipment_advance(shipment, to=status, step=step, stops=stops, actor=user, note=note, reason=reason,
                             dispatch=shipment.current_dispatch)
    if refusal is not None:
        raise refusal  # raised after commit: the wrong try stays counted
    return shipment


def _check_status_rules(shipment: Shipment, status: str, reason: str) -> None:
    if status == S.FAILED and reason not in R.values:
        raise ValidationFailed(_("Say why the delivery failed."), fields={"reason": [
            _("One of: %(choices)s.") % {"choices": ", ".join(R.values)}]})
    if status == S.OUT_FOR_DELIVERY and shipment.status == S.FAILED:
        if shipment.failure_reason == R.REFUSED:
            raise Conflict(_("The recipient refused the parcel: return it to the merchant."), code="refused")
        if shipment.delivery_attempts >= settings.LOGISTICS_MAX_DELIVERY_ATTEMPTS:
            raise Conflict(_("No delivery attempts left: return the parcel to the merchant."),
                           code="attempts_exhausted")
