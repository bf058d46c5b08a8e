"""Target times: each leg of a route has one (settings.LOGISTICS_SLA_HOURS), shorter for perishables."""

from __future__ import annotations

import datetime

from django.conf import settings

from .models import Leg, Shipment

S = Shipment.Status


def leg_duration(leg: str, *, perishable: bool) -> datetime.timedelta:
    normal, fresh = settings.LOGISTICS_SLA_HOURS[leg]
    return datetime.timedelta(hours=fresh if perishable else normal)


def shipment_schedule(shipment: Shipment, stops: list, now: datetime.datetime) -> bool:
    """Set ``due_at`` (end of the current leg) and ``expected_delivery_at``; True if the leg changed.

    Out for delivery keeps the leg that brought it to the station; after a failed
    attempt the next attempt gets a fresh last-mile target.
    """
    if shipment.status in Shipment.TERMINAL:
        shipment.due_at = None
        shipment.expected_delivery_at = None
        return True
    if shipment.status == S.OUT_FOR_DELIVERY:
        return False
    fresh = shipment.perishable
    if shipment.status == S.FAILED:
        shipment.due_at = now + leg_duration(Leg.LAST_MILE, perishable=fresh)
        shipment.expected_delivery_at = shipment.due_at
        return True
    following = stops[shipment.stop_index + 1:]
    shipment.due_at = now + leg_duration(following[0].leg, perishable=fresh)
    shipment.expected_delivery_at = shipment.due_at + sum(
        (leg_duration(stop.leg, perishable=fresh) for stop in following[1:]), datetime.timedelta())
    return True
