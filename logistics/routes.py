"""The route rule: which hubs a parcel passes, in order, and the leg that leads to each.

village point → township station → county centre
  → [the destination county's centre, by the inter-county carrier]
  → township station → village point

Every parcel is sorted at its county centre, even inside one township: that is
where the county's joint distribution gathers many merchants' parcels into one
run per township.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from core.errors import Conflict
from regions.models import Region

from .models import Hub, Leg, Shipment

S = Shipment.Status


@dataclass(frozen=True)
class PlannedStop:
    hub: Hub
    leg: str
    arrival_status: str


class RouteUnavailable(Conflict):
    code = "route_unavailable"


def _hubs(regions: list[Region]) -> dict[tuple[str, int], Hub]:
    found: dict[tuple[str, int], Hub] = {}
    for hub in Hub.objects.filter(is_active=True, region__in=regions).select_related("region").order_by("code"):
        found.setdefault((hub.kind, hub.region_id), hub)
    return found


def route_plan(*, origin_village: Region, destination_village: Region) -> list[PlannedStop]:
    """The stops from the merchant's village to the buyer's; 409 if the network lacks a hub."""
    origin_township, destination_township = origin_village.parent, destination_village.parent
    origin_county, destination_county = origin_township.parent, destination_township.parent
    hubs = _hubs([origin_village, origin_township, origin_county,
                  destination_village, destination_township, destination_county])

    def hub(kind: str, region: Region) -> Hub:
        found = hubs.get((kind, region.pk))
        if found is None:
            raise RouteUnavailable(
                _("The county network has no %(kind)s in %(region)s yet, so this parcel cannot be routed.")
                % {"kind": Hub.Kind(kind).label, "region": region.name})
        return found

    stops = [
        PlannedStop(hub(Hub.Kind.VILLAGE_POINT, origin_village), Leg.PICKUP, S.PICKED_UP),
        PlannedStop(hub(Hub.Kind.TOWNSHIP_STATION, origin_township), Leg.FIRST_MILE, S.PICKED_UP),
        PlannedStop(hub(Hub.Kind.COUNTY_CENTRE, origin_county), Leg.TO_COUNTY_CENTRE, S.AT_COUNTY_CENTRE),
    ]
    if destination_county.pk != origin_county.pk:
        stops.append(PlannedStop(hub(Hub.Kind.COUNTY_CENTRE, destination_county), Leg.INTER_COUNTY,
                                 S.AT_COUNTY_CENTRE))
    stops += [
        PlannedStop(hub(Hub.Kind.TOWNSHIP_STATION, destination_township), Leg.TO_TOWNSHIP_STATION,
                    S.AT_TOWNSHIP_STATION),
        PlannedStop(hub(Hub.Kind.VILLAGE_POINT, destination_village), Leg.LAST_MILE, S.DELIVERED),
    ]
    return stops
