from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db.models import BooleanField, Case, Count, F, Prefetch, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import NotFound, ValidationFailed

from .models import Courier, Dispatch, Hub, Shipment, ShipmentEvent, ShipmentStop, Vehicle
from .status import DISPATCHABLE


def hub_list(*, county: int | None = None, kind: str | None = None, region: int | None = None) -> QuerySet[Hub]:
    qs = Hub.objects.filter(is_active=True).select_related("region")
    if county:
        qs = qs.filter(region__county_id=county)
    if kind:
        qs = qs.filter(kind=kind)
    if region:
        qs = qs.filter(region_id=region)
    return qs


# --- shipments -------------------------------------------------------------------------------

def shipments_passing_county(county_id: int) -> QuerySet[Shipment]:
    """A shipment belongs to the counties it passes through: where it starts and where it ends."""
    return Shipment.objects.filter(Q(origin_county_id=county_id) | Q(destination_county_id=county_id))


def shipments_visible_to(user) -> QuerySet[Shipment]:
    if user.is_platform_admin:
        return Shipment.objects.all()
    if user.works_in_county:
        return shipments_passing_county(user.county_id)
    if user.is_merchant:
        return Shipment.objects.filter(merchant__user=user)
    return Shipment.objects.filter(buyer=user)


def shipment_get(*, user, shipment_id: int) -> Shipment:
    """One shipment with its route and events in order; anyone it does not concern gets 404."""
    shipment = (
        shipments_visible_to(user)
        .select_related("current_hub__region", "next_hub__region", "merchant", "merchant_order__order",
                        "destination_village", "current_dispatch")
        .prefetch_related(
            Prefetch("events", queryset=ShipmentEvent.objects.select_related("hub", "actor").order_by("created_at", "pk")),
            Prefetch("stops", queryset=ShipmentStop.objects.select_related("hub").order_by("index")),
        )
        .filter(pk=shipment_id).first()
    )
    if shipment is None:
        raise NotFound()
    return shipment


def _overdue_flag(now) -> Case:
    return Case(When(due_at__lt=now, then=Value(True)), default=Value(False), output_field=BooleanField())


def _in_township(township: int) -> Q:
    return (Q(current_hub__region_id=township) | Q(current_hub__region__parent_id=township)
            | Q(next_hub__region_id=township) | Q(next_hub__region__parent_id=township))


def shipment_queue(*, user, status: str | None = None, township: int | None = None, perishable: bool | None = None,
                   overdue: bool | None = None, county: int | None = None) -> QuerySet[Shipment]:
    """The county's work queue: perishables first, then overdue, then by how soon each leg is due."""
    if user.is_operator:
        qs = shipments_passing_county(user.county_id)
    elif user.is_platform_admin:
        qs = shipments_passing_county(county) if county else Shipment.objects.all()
    else:
        return Shipment.objects.none()
    now = timezone.now()
    qs = qs.select_related("current_hub", "next_hub", "merchant", "merchant_order__order", "destination_village",
                           "current_dispatch")
    qs = qs.filter(status=status) if status else qs.exclude(status__in=Shipment.TERMINAL)
    if township:
        qs = qs.filter(_in_township(township))
    if perishable is not None:
        qs = qs.filter(perishable=perishable)
    qs = qs.annotate(is_overdue=_overdue_flag(now))
    if overdue is not None:
        qs = qs.filter(is_overdue=overdue)
    return qs.order_by("-perishable", "-is_overdue", F("due_at").asc(nulls_last=True), "pk")


# --- runs ----------------------------------------------------------------------------------------

def dispatches_visible_to(user):
    """Runs of the operator's (or courier's) county, and runs heading into it from another county."""
    if user.is_platform_admin:
        return Dispatch.objects.all()
    if user.works_in_county:
        return Dispatch.objects.filter(Q(county_id=user.county_id) | Q(destination_hub__region__county_id=user.county_id))
    return Dispatch.objects.none()


def dispatches_for(*, user, status: str | None = None) -> QuerySet[Dispatch]:
    qs = dispatches_visible_to(user).select_related("destination_hub", "township", "vehicle", "courier__user")
    qs = qs.annotate(shipment_count=Count("items", distinct=True),
                     on_board_count=Count("on_board", distinct=True))
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-pk")


def dispatch_get(*, user, dispatch_id: int) -> Dispatch:
    dispatch = (dispatches_for(user=user).prefetch_related(
        Prefetch("items__shipment", queryset=Shipment.objects.select_related("current_hub", "next_hub")))
        .filter(pk=dispatch_id).first())
    if dispatch is None:
        raise NotFound()
    return dispatch


def _suggest_vehicle(vehicles: list[Vehicle], weight: Decimal, cold: bool) -> Vehicle | None:
    fitting = [v for v in vehicles if v.capacity_kg >= weight and (v.cold_chain or not cold)]
    # The smallest that fits; a cold-chain truck is kept for runs that need one.
    return min(fitting, key=lambda v: (v.cold_chain and not cold, v.capacity_kg), default=None)


def dispatch_suggestions(*, user, county: int | None = None) -> list[dict]:
    """The runs an operator could send now: waiting parcels grouped by where they go next.

    Each group carries the exact ``POST /api/logistics/dispatches/`` body to send it.
    """
    if user.is_operator:
        county = user.county_id
    elif not county:
        raise ValidationFailed(fields={"county": [_("Name the county.")]})
    now = timezone.now()
    waiting = list(
        Shipment.objects.filter(current_hub__region__county_id=county, status__in=DISPATCHABLE,
                                current_dispatch__isnull=True, next_hub__isnull=False)
        .exclude(status=Shipment.Status.FAILED, failure_reason=Shipment.FailureReason.REFUSED)
        .select_related("next_hub__region", "current_hub").order_by("pk")
    )
    groups: dict[tuple, list[Shipment]] = defaultdict(list)
    for shipment in waiting:
        target = shipment.next_hub
        if target.kind == Hub.Kind.VILLAGE_POINT:
            groups[("township", target.region.parent_id, shipment.current_hub_id)].append(shipment)
        else:
            groups[("hub", target.pk, target.pk)].append(shipment)
    vehicles = list(Vehicle.objects.filter(county_id=county, is_active=True))
    suggestions = []
    for (by, target_id, _where), shipments in groups.items():
        weight = sum((s.weight_kg for s in shipments), Decimal("0"))
        cold = any(s.cold_chain for s in shipments)
        vehicle = _suggest_vehicle(vehicles, weight, cold)
        first = shipments[0].next_hub
        suggestions.append({
            "kind": Dispatch.Kind.LAST_MILE if by == "township" else Dispatch.Kind.TRUNK,
            "hub": target_id if by == "hub" else None,
            "township": target_id if by == "township" else None,
            "destination": first.region.name if by == "township" else first.name,
            "from_hub": shipments[0].current_hub.name if by == "township" else "",
            "shipments": [s.pk for s in shipments],
            "count": len(shipments),
            "weight_kg": weight,
            "perishable": sum(1 for s in shipments if s.perishable),
            "cold_chain": sum(1 for s in shipments if s.cold_chain),
            "overdue": sum(1 for s in shipments if s.due_at and s.due_at < now),
            "vehicle": vehicle.pk if vehicle else None,
        })
    suggestions.sort(key=lambda g: (-g["cold_chain"], -g["perishable"], -g["overdue"], -g["count"]))
    return suggestions


# --- fleet --------------------------------------------------------------------------------------------

def couriers_for(*, user) -> QuerySet[Courier]:
    qs = Courier.objects.select_related("user", "township")
    return qs.filter(county_id=user.county_id) if user.is_operator else qs


def vehicles_for(*, user) -> QuerySet[Vehicle]:
    return Vehicle.objects.filter(county_id=user.county_id) if user.is_operator else Vehicle.objects.all()
