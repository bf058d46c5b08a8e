"""SLA watch: flag shipments past their leg's target time and tell the county that must act."""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import Role, User
from notifications.services import notify_many
from regions.models import Region

from ..models import Shipment


def _responsible_county(shipment: Shipment) -> int:
    """Whoever holds the parcel; on the inter-county leg, the county waiting to receive it."""
    if shipment.current_hub is None:
        return shipment.origin_county_id
    here = shipment.current_hub.region.county_id
    if shipment.next_hub is not None and shipment.next_hub.region.county_id != here:
        return shipment.next_hub.region.county_id
    return here


def shipments_flag_overdue(*, now: datetime.datetime | None = None, limit: int | None = None) -> int:
    """Flag up to ``limit`` newly overdue shipments (once per leg); one notice per county's operator."""
    now = now or timezone.now()
    limit = limit or settings.LOGISTICS_OVERDUE_BATCH
    with transaction.atomic():
        shipments = list(
            Shipment.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(due_at__lt=now, overdue_flagged_at__isnull=True).exclude(status__in=Shipment.TERMINAL)
            .select_related("current_hub__region", "next_hub__region").order_by("due_at")[:limit]
        )
        if not shipments:
            return 0
        Shipment.objects.filter(pk__in=[s.pk for s in shipments]).update(overdue_flagged_at=now)
        by_county: dict[int, list[Shipment]] = defaultdict(list)
        for shipment in shipments:
            by_county[_responsible_county(shipment)].append(shipment)
        names = dict(Region.objects.filter(pk__in=by_county).values_list("pk", "name"))
        operators = defaultdict(list)
        for operator in User.objects.filter(role=Role.OPERATOR, county_id__in=by_county, is_active=True):
            operators[operator.county_id].append(operator)
        for county_id, overdue in by_county.items():
            notify_many(users=operators[county_id], kind="shipment.overdue", params={
                "county": names.get(county_id, ""), "count": len(overdue),
                "perishable": sum(1 for s in overdue if s.perishable),
                "shipments": [s.pk for s in overdue][:100],
            })
    return len(shipments)
