"""Joint distribution: many merchants' parcels on one run, moved together.

Locks are always taken shipments first (by id), then the run, the same order a
single scan takes them in, so a run and a scan never deadlock.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from core.errors import Conflict, NotFound, ValidationFailed
from regions.models import Region

from ..models import Courier, Dispatch, DispatchEvent, DispatchItem, Hub, Shipment, ShipmentEvent, Vehicle
from ..selectors import dispatches_visible_to
from ..status import DISPATCH_WORKFLOW, DISPATCHABLE
from .shipments import (
    STOPS,
    _check_status_rules,
    _stops,
    expected_step,
    hub_check_county,
    shipment_advance,
    shipments_scannable_by,
)

S = Shipment.Status
D = Dispatch.Status


def _transition(dispatch: Dispatch, to: str, *, actor, reason: str = "") -> None:
    DISPATCH_WORKFLOW.transition(dispatch, to, actor=actor, reason=reason)


# --- planning a run --------------------------------------------------------------------------

def _destination(shipments: list[Shipment], hub: Hub | None, township: Region | None) -> tuple[str, Hub, Region | None]:
    """(kind, hub, township) of the run, or 400 naming the parcels whose next stop it is not."""
    if hub is not None:
        off = [s.pk for s in shipments if s.next_hub_id != hub.pk]
        if off:
            raise ValidationFailed(_("Some parcels' next stop is not %(hub)s.") % {"hub": hub.name},
                                   code="not_on_route", fields={"shipments": off})
        if hub.kind == Hub.Kind.VILLAGE_POINT:
            station = shipments[0].current_hub
            return Dispatch.Kind.LAST_MILE, station, station.region
        return Dispatch.Kind.TRUNK, hub, None
    next_hubs = {s.next_hub_id for s in shipments}
    stations = [s for s in shipments if s.next_hub.kind == Hub.Kind.TOWNSHIP_STATION
                and s.next_hub.region_id == township.pk]
    if len(stations) == len(shipments) and len(next_hubs) == 1:
        return Dispatch.Kind.TRUNK, shipments[0].next_hub, township
    points = [s for s in shipments if s.next_hub.kind == Hub.Kind.VILLAGE_POINT
              and s.next_hub.region.parent_id == township.pk]
    if len(points) == len(shipments) and len({s.current_hub_id for s in shipments}) == 1:
        return Dispatch.Kind.LAST_MILE, shipments[0].current_hub, township
    off = sorted({s.pk for s in shipments} - {s.pk for s in (stations if stations else points)})
    raise ValidationFailed(_("Some parcels are not heading for %(township)s next.") % {"township": township.name},
                           code="not_on_route", fields={"shipments": off or [s.pk for s in shipments]})


@transaction.atomic
def dispatch_create(*, user, shipment_ids: list[int], vehicle_id: int, hub_id: int | None = None,
                    township_id: int | None = None, courier_id: int | None = None, note: str = "") -> Dispatch:
    ids = sorted(set(shipment_ids))
    shipments = list(
        shipments_scannable_by(user).select_for_update(of=("self",))
        .select_related("current_hub__region", "next_hub__region").filter(pk__in=ids).order_by("pk")
    )
    missing = sorted(set(ids) - {s.pk for s in shipments})
    if missing:
        raise ValidationFailed(_("Unknown shipments."), code="unknown_shipments", fields={"shipments": missing})
    resting = [s.pk for s in shipments if s.status not in DISPATCHABLE or s.current_hub is None]
    if resting:
        raise Conflict(_("Only parcels waiting at a hub can be put on a run."), code="not_dispatchable",
                       fields={"shipments": resting})
    counties = {s.current_hub.region.county_id for s in shipments}
    home = user.county_id if user.is_operator else None
    if len(counties) > 1 or (home is not None and counties != {home}):
        foreign = [s.pk for s in shipments if home is not None and s.current_hub.region.county_id != home]
        raise ValidationFailed(_("A run carries parcels from one county's hubs only: your own."),
                               code="mixed_counties", fields={"shipments": foreign or [s.pk for s in shipments]})
    county_id = counties.pop()
    on_run = [s.pk for s in shipments if s.current_dispatch_id]
    if on_run:
        raise Conflict(_("Some parcels are already on a run."), code="already_dispatched", fields={"shipments": on_run})

    hub = township = None
    if hub_id is not None:
        hub = Hub.objects.select_related("region").filter(pk=hub_id, is_active=True).first()
        if hub is None:
            raise ValidationFailed(fields={"hub": [_("Unknown hub.")]})
    else:
        township = Region.objects.filter(pk=township_id, level=Region.Level.TOWNSHIP).first()
        if township is None:
            raise ValidationFailed(fields={"township": [_("Unknown township.")]})
    kind, destination, township = _destination(shipments, hub, township)
    if kind == Dispatch.Kind.LAST_MILE:
        for shipment in shipments:
            if shipment.status == S.FAILED:
                _check_status_rules(shipment, S.OUT_FOR_DELIVERY, "")

    vehicle = Vehicle.objects.filter(pk=vehicle_id, county_id=county_id, is_active=True).first()
    if vehicle is None:
        raise ValidationFailed(fields={"vehicle": [_("Not an active vehicle of this county.")]})
    cold = [s.pk for s in shipments if s.cold_chain]
    if cold and not vehicle.cold_chain:
        raise ValidationFailed(_("Cold-chain parcels travel only in a cold-chain vehicle."),
                               code="cold_chain_required", fields={"vehicle": [_("Not a cold-chain vehicle.")],
                                                                   "shipments": cold})
    weight = sum((s.weight_kg for s in shipments), Decimal("0"))
    if weight > vehicle.capacity_kg:
        raise ValidationFailed(_("%(weight)s kg is more than the vehicle carries (%(capacity)s kg).") % {
            "weight": weight, "capacity": vehicle.capacity_kg}, code="over_capacity", fields={"vehicle": [
                _("Too small for this run.")]})
    courier = None
    if courier_id is not None:
        courier = Courier.objects.filter(pk=courier_id, county_id=county_id, is_active=True).first()
        if courier is None:
            raise ValidationFailed(fields={"courier": [_("Not an active courier of this county.")]})

    dispatch = Dispatch.objects.create(county_id=county_id, kind=kind, destination_hub=destination, township=township,
                                       vehicle=vehicle, courier=courier, note=note, created_by=user)
    DispatchItem.objects.bulk_create([DispatchItem(dispatch=dispatch, shipment=s) for s in shipments])
    Shipment.objects.filter(pk__in=[s.pk for s in shipments]).update(current_dispatch=dispatch)
    DispatchEvent.objects.create(dispatch=dispatch, actor=user, to_status=D.PLANNED)
    return dispatch


# --- running it ------------------------------------------------------------------------------------

def _on_board(dispatch_id: int) -> list[Shipment]:
    return list(
        Shipment.objects.select_for_update(of=("self",))
        .select_related("buyer", "merchant__user", "merchant_order", "current_dispatch", "current_hub")
        .prefetch_related(STOPS).filter(current_dispatch_id=dispatch_id).order_by("pk")
    )


def _locked(user, dispatch_id: int) -> tuple[Dispatch, list[Shipment]]:
    """Lock the run's parcels, then the run (the order scans use)."""
    if not dispatches_visible_to(user).filter(pk=dispatch_id).exists():
        raise NotFound()
    shipments = _on_board(dispatch_id)
    dispatch = Dispatch.objects.select_for_update().select_related("destination_hub__region").get(pk=dispatch_id)
    return dispatch, shipments


def _own_county(user, dispatch: Dispatch) -> None:
    if user.works_in_county and dispatch.county_id != user.county_id:
        raise NotFound()


@transaction.atomic
def dispatch_depart(*, user, dispatch_id: int) -> Dispatch:
    """The run leaves: a delivery round puts every parcel out for delivery; a trunk run logs departure."""
    dispatch, shipments = _locked(user, dispatch_id)
    _own_county(user, dispatch)
    _transition(dispatch, D.DEPARTED, actor=user)
    for shipment in shipments:
        if dispatch.kind == Dispatch.Kind.LAST_MILE:
            stops = _stops(shipment)
            step = expected_step(shipment, stops, S.OUT_FOR_DELIVERY)
            _check_status_rules(shipment, S.OUT_FOR_DELIVERY, "")
            shipment_advance(shipment, to=S.OUT_FOR_DELIVERY, step=step, stops=stops, actor=user,
                             action=ShipmentEvent.Action.DEPARTED, dispatch=dispatch)
        else:
            ShipmentEvent.objects.create(
                shipment=shipment, actor=user, from_status=shipment.status, to_status=shipment.status,
                hub=shipment.current_hub, dispatch=dispatch, action=ShipmentEvent.Action.DEPARTED,
                note=str(_("Departed for %(hub)s") % {"hub": dispatch.destination_hub.name})[:200])
    return dispatch


@transaction.atomic
def dispatch_arrive(*, user, dispatch_id: int) -> Dispatch:
    """A trunk run reached its hub: every parcel still on board arrives there, one event each."""
    dispatch, shipments = _locked(user, dispatch_id)
    if dispatch.kind != Dispatch.Kind.TRUNK:
        raise Conflict(_("A delivery round ends parcel by parcel, with each recipient's pickup code."),
                       code="delivery_round")
    DISPATCH_WORKFLOW.check(dispatch.status, D.ARRIVED)
    hub_check_county(user, dispatch.destination_hub)
    for shipment in shipments:
        stops = _stops(shipment)
        arrival = stops[shipment.stop_index + 1].arrival_status
        step = expected_step(shipment, stops, arrival)
        if step.hub.pk != dispatch.destination_hub_id:
            raise Conflict(_("Parcel #%(id)s is not heading for this hub.") % {"id": shipment.pk}, code="off_route")
        shipment_advance(shipment, to=arrival, step=step, stops=stops, actor=user,
                         action=ShipmentEvent.Action.ARRIVED, dispatch=dispatch)
    dispatch.refresh_from_db()
    if dispatch.status == D.DEPARTED:  # nothing was left on board
        _transition(dispatch, D.ARRIVED, actor=user)
    return dispatch


@transaction.atomic
def dispatch_cancel(*, user, dispatch_id: int, reason: str = "") -> Dispatch:
    dispatch, shipments = _locked(user, dispatch_id)
    _own_county(user, dispatch)
    _transition(dispatch, D.CANCELLED, actor=user, reason=reason)
    Shipment.objects.filter(pk__in=[s.pk for s in shipments]).update(current_dispatch=None)
    return dispatch


def dispatch_settle(*, dispatch_id: int, actor) -> None:
    """Close a departed run once its last parcel got off (arrived, delivered or failed)."""
    dispatch = Dispatch.objects.select_for_update().get(pk=dispatch_id)
    if dispatch.status != D.DEPARTED or Shipment.objects.filter(current_dispatch_id=dispatch_id).exists():
        return
    _transition(dispatch, D.ARRIVED if dispatch.kind == Dispatch.Kind.TRUNK else D.COMPLETED, actor=actor)
