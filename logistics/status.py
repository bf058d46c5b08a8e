"""The shipment and dispatch pipelines: one transition table and one workflow per model."""

from core.transitions import Workflow

from .models import Dispatch, DispatchEvent, Shipment, ShipmentEvent

S = Shipment.Status

SHIPMENT_TRANSITIONS = {
    S.CREATED: {S.PICKED_UP},
    # The first mile may pass the township station before the county centre.
    S.PICKED_UP: {S.PICKED_UP, S.AT_COUNTY_CENTRE},
    # Across counties: the origin centre hands over to the destination county's centre.
    S.AT_COUNTY_CENTRE: {S.AT_COUNTY_CENTRE, S.AT_TOWNSHIP_STATION},
    S.AT_TOWNSHIP_STATION: {S.OUT_FOR_DELIVERY},
    S.OUT_FOR_DELIVERY: {S.DELIVERED, S.FAILED},
    # After a failed attempt the parcel is back at the station: try again, or send it back.
    S.FAILED: {S.OUT_FOR_DELIVERY, S.RETURNED},
    S.DELIVERED: set(),
    S.RETURNED: set(),
}

SHIPMENT_WORKFLOW = Workflow(Shipment, SHIPMENT_TRANSITIONS, events=ShipmentEvent, timestamps={S.DELIVERED: "delivered_at"})

# Statuses that mean "reached the next stop on the route".
ARRIVALS = {S.PICKED_UP, S.AT_COUNTY_CENTRE, S.AT_TOWNSHIP_STATION, S.DELIVERED}
# Statuses a parcel rests in at a hub, ready to be put on a run.
DISPATCHABLE = {S.PICKED_UP, S.AT_COUNTY_CENTRE, S.AT_TOWNSHIP_STATION, S.FAILED}

D = Dispatch.Status

DISPATCH_TRANSITIONS = {
    D.PLANNED: {D.DEPARTED, D.CANCELLED},
    D.DEPARTED: {D.ARRIVED, D.COMPLETED},
    D.ARRIVED: set(),
    D.COMPLETED: set(),
    D.CANCELLED: set(),
}
DISPATCH_WORKFLOW = Workflow(Dispatch, DISPATCH_TRANSITIONS, events=DispatchEvent, timestamps={
    D.DEPARTED: "departed_at", D.ARRIVED: "arrived_at", D.COMPLETED: "arrived_at"})
