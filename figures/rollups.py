"""Keeping the daily rollups: the beat task ``figures.refresh`` recomputes the last
FIGURES_REFRESH_DAYS days (late payments, deliveries and disputes land in them);
``figures_backfill`` recomputes any range. Each day is replaced whole in one transaction, so a
rollup is always the direct computation of some moment."""

from __future__ import annotations

import datetime
import zoneinfo
from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from merchants.models import Merchant
from orders.models import Dispute, MerchantOrder, OrderLine

from .models import MerchantDay, ProductDay

SOLD = [MerchantOrder.Status.PAID, MerchantOrder.Status.SHIPPED, MerchantOrder.Status.DELIVERED,
        MerchantOrder.Status.COMPLETED, MerchantOrder.Status.REFUNDED]
# Delivered by the time the network promised when it took the parcel.
ON_TIME = Q(shipment__expected_delivery_at__isnull=False) & Q(delivered_at__lte=F("shipment__expected_delivery_at"))


def _bounds(first: datetime.date, last: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    start = datetime.datetime.combine(first, datetime.time(), tzinfo=tz)
    return start, datetime.datetime.combine(last + datetime.timedelta(days=1), datetime.time(), tzinfo=tz)


def _local_day(field: str):
    return TruncDate(field, tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE))


def rollups_refresh(*, first: datetime.date, last: datetime.date) -> int:
    """Recompute every shop's and product's days from ``first`` to ``last``; returns the rows written."""
    start, end = _bounds(first, last)
    days: dict[tuple[int, datetime.date], dict] = defaultdict(dict)
    sold = MerchantOrder.objects.filter(status__in=SOLD, order__paid_at__gte=start, order__paid_at__lt=end)
    earlier = MerchantOrder.objects.filter(merchant_id=OuterRef("merchant_id"), order__buyer_id=OuterRef("order__buyer_id"),
                                           status__in=SOLD, order__paid_at__lt=OuterRef("order__paid_at"))
    for row in (sold.annotate(day=_local_day("order__paid_at"), repeat=Exists(earlier))
                .values("merchant_id", "day", "repeat").annotate(n=Count("pk"), gmv=Sum("items_total"))):
        cell = days[row["merchant_id"], row["day"]]
        cell["orders"] = cell.get("orders", 0) + row["n"]
        cell["repeat_orders"] = cell.get("repeat_orders", 0) + (row["n"] if row["repeat"] else 0)
        cell["gmv"] = cell.get("gmv", Decimal("0")) + row["gmv"]
    lines = (OrderLine.objects.filter(merchant_order__status__in=SOLD, merchant_order__order__paid_at__gte=start,
                                      merchant_order__order__paid_at__lt=end)
             .annotate(day=_local_day("merchant_order__order__paid_at"))
             .values("merchant_order__merchant_id", "product_id", "day")
             .annotate(units=Sum("quantity"), revenue=Sum("line_total")))
    products = []
    for row in lines:
        merchant_id = row["merchant_order__merchant_id"]
        days[merchant_id, row["day"]]["units"] = days[merchant_id, row["day"]].get("units", 0) + row["units"]
        products.append(ProductDay(merchant_id=merchant_id, product_id=row["product_id"], day=row["day"],
                                   units=row["units"], revenue=row["revenue"]))
    delivered = (MerchantOrder.objects.filter(delivered_at__gte=start, delivered_at__lt=end, shipment__isnull=False)
                 .annotate(day=_local_day("delivered_at"))
                 .values("merchant_id", "day")
                 .annotate(n=Count("pk"), on_time=Count("pk", filter=ON_TIME)))
    for row in delivered:
        cell = days[row["merchant_id"], row["day"]]
        cell["delivered"], cell["delivered_on_time"] = row["n"], row["on_time"]
    for row in (Dispute.objects.filter(created_at__gte=start, created_at__lt=end)
                .annotate(day=_local_day("created_at")).values("merchant_order__merchant_id", "day")
                .annotate(n=Count("pk"))):
        days[row["merchant_order__merchant_id"], row["day"]]["disputes"] = row["n"]
    counties = dict(Merchant.objects.filter(pk__in={m for m, _d in days}).values_list("pk", "county_id"))
    with transaction.atomic():
        MerchantDay.objects.filter(day__gte=first, day__lte=last).delete()
        ProductDay.objects.filter(day__gte=first, day__lte=last).delete()
        MerchantDay.objects.bulk_create([MerchantDay(merchant_id=m, county_id=counties[m], day=d, **cell)
                                         for (m, d), cell in sorted(days.items())], batch_size=2000)
        ProductDay.objects.bulk_create(products, batch_size=2000)
    return len(days) + len(products)


def rollups_refresh_recent(*, today: datetime.date | None = None) -> int:
    today = today or timezone.localdate()
    return rollups_refresh(first=today - datetime.timedelta(days=settings.FIGURES_REFRESH_DAYS - 1), last=today)
