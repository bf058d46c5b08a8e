"""Reads of the figures: each a fixed, small number of queries over the rollups (or, for what is
true now, one indexed aggregate of the county's parcels and credentials)."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils import timezone

from core.errors import NotFound
from insights.models import InteractionEvent
from livestream.models import ChatMessage, Stream
from logistics.models import Shipment
from merchants.models import Credential, Merchant
from orders.models import MerchantOrder, OrderLine

from .models import MerchantDay, ProductDay
from .rollups import SOLD

TOTALS = ("orders", "repeat_orders", "units", "gmv", "delivered", "delivered_on_time", "disputes")


def merchant_for_figures(*, user, merchant_id: int) -> Merchant:
    """The caller's own shop; another shop (or none) is 404."""
    merchant = Merchant.objects.filter(pk=merchant_id, user=user).first() if user.is_authenticated else None
    if merchant is None:
        raise NotFound()
    return merchant


def county_for_figures(*, user, county_id: int) -> int:
    """An operator's own county, any county for an admin; anything else 404."""
    if user.is_authenticated and (user.is_superuser or user.role == "admin"):
        return county_id
    if user.is_authenticated and user.role == "operator" and user.county_id == county_id:
        return county_id
    raise NotFound()


def _share(part, whole):
    return round(part / whole, 4) if whole else None


def _totals(rows) -> dict:
    sums = {name: sum((row[name] for row in rows), Decimal("0") if name == "gmv" else 0) for name in TOTALS}
    return {"orders": sums["orders"], "units": sums["units"], "gmv": sums["gmv"],
            "repeat_order_share": _share(sums["repeat_orders"], sums["orders"]),
            "on_time_share": _share(sums["delivered_on_time"], sums["delivered"]),
            "dispute_rate": _share(sums["disputes"], sums["orders"])}


def merchant_figures(*, merchant: Merchant, first: datetime.date, last: datetime.date) -> dict:
    """Sales by day and by product, repeat orders, on-time deliveries, disputes (two queries)."""
    days = list(MerchantDay.objects.filter(merchant=merchant, day__gte=first, day__lte=last).order_by("day")
                .values("day", *TOTALS))
    products = list(ProductDay.objects.filter(merchant=merchant, day__gte=first, day__lte=last)
                    .values("product_id", "product__title").annotate(units_sum=Sum("units"), revenue_sum=Sum("revenue"))
                    .order_by("-revenue_sum", "product_id"))
    return {"from": first, "to": last, "totals": _totals(days),
            "days": [{"day": d["day"], "orders": d["orders"], "units": d["units"], "gmv": d["gmv"]} for d in days],
            "products": [{"product": p["product_id"], "title": p["product__title"], "units": p["units_sum"],
                          "revenue": p["revenue_sum"]} for p in products]}


def county_figures(*, county_id: int, first: datetime.date, last: datetime.date) -> dict:
    """GMV of the county's shops (rollups), its parcels now by status and township, overdue parcels,
    credentials expiring within 30 days, open orders to pick up per township (five queries)."""
    days = list(MerchantDay.objects.filter(county_id=county_id, day__gte=first, day__lte=last).values("day")
                .annotate(orders=Sum("orders"), gmv=Sum("gmv"), delivered=Sum("delivered"),
                          delivered_on_time=Sum("delivered_on_time"), disputes=Sum("disputes"),
                          repeat_orders=Sum("repeat_orders"), units=Sum("units")).order_by("day"))
    parcels = list(Shipment.objects.filter(origin_county_id=county_id).exclude(status__in=Shipment.TERMINAL)
                   .values("status", "merchant__village__parent_id", "merchant__village__parent__name")
                   .annotate(n=Count("pk"), overdue=Count("pk", filter=Q(due_at__lt=timezone.now())))
                   .order_by("merchant__village__parent_id", "status"))
    today = timezone.localdate()
    expiring = list(Credential.objects.filter(merchant__county_id=county_id, expires_at__gte=today,
                                              expires_at__lte=today + datetime.timedelta(days=30))
                    .values("merchant_id", "merchant__shop_name", "kind", "expires_at").order_by("expires_at", "pk"))
    waiting = list(MerchantOrder.objects.filter(merchant__county_id=county_id, status=MerchantOrder.Status.PAID)
                   .values("merchant__village__parent_id", "merchant__village__parent__name")
                   .annotate(n=Count("pk")).order_by("merchant__village__parent_id"))
    return {
        "county": county_id, "from": first, "to": last, "totals": _totals(days),
        "days": [{"day": d["day"], "orders": d["orders"], "gmv": d["gmv"]} for d in days],
        "parcels": [{"township": p["merchant__village__parent_id"], "township_name": p["merchant__village__parent__name"],
                     "status": p["status"], "parcels": p["n"], "overdue": p["overdue"]} for p in parcels],
        "overdue_now": sum(p["overdue"] for p in parcels),
        "credentials_expiring": [{"merchant": c["merchant_id"], "shop_name": c["merchant__shop_name"],
                                  "kind": c["kind"], "expires_at": c["expires_at"]} for c in expiring],
        # Paid and not yet shipped: the parcels each township's points will hand over in the coming
        # days (open orders only; adoption deliveries and pre-sales are not counted yet).
        "expected_pickups": [{"township": w["merchant__village__parent_id"],
                              "township_name": w["merchant__village__parent__name"], "parcels": w["n"]}
                             for w in waiting],
    }


def stream_for_figures(*, user, stream_id: int) -> Stream:
    stream = (Stream.objects.filter(pk=stream_id, merchant__user=user).select_related("pinned_product").first()
              if user.is_authenticated else None)
    if stream is None:
        raise NotFound()
    return stream


def stream_funnel(*, stream: Stream) -> dict:
    """Peak and unique viewers → chatters → orders → paid orders → GMV, and per product and flash
    offer (five queries, each on the stream's own indexed rows)."""
    viewers = (InteractionEvent.objects.filter(stream=stream, kind=InteractionEvent.Kind.STREAM_JOIN)
               .values("user_id").distinct().count())
    chatters = ChatMessage.objects.filter(stream=stream).values("user_id").distinct().count()
    mos = MerchantOrder.objects.filter(order__stream=stream, merchant_id=stream.merchant_id)
    counts = mos.aggregate(orders=Count("pk"), paid=Count("pk", filter=Q(order__paid_at__isnull=False, status__in=SOLD)),
                           gmv=Sum("items_total", filter=Q(order__paid_at__isnull=False, status__in=SOLD)))
    lines = (OrderLine.objects.filter(merchant_order__in=mos, merchant_order__status__in=SOLD,
                                      merchant_order__order__paid_at__isnull=False)
             .values("product_id", "title", "offer_id").annotate(units=Sum("quantity"), revenue=Sum("line_total"))
             .order_by("-revenue", "product_id", "offer_id"))
    return {"stream": stream.pk, "peak_viewers": stream.peak_viewers, "unique_signed_in_viewers": viewers,
            "chatters": chatters, "orders": counts["orders"], "paid_orders": counts["paid"],
            "gmv": counts["gmv"] or Decimal("0.00"), "pinned_product": stream.pinned_product_id,
            "lines": [{"product": row["product_id"], "title": row["title"], "offer": row["offer_id"],
                       "units": row["units"], "revenue": row["revenue"]} for row in lines]}


OUTLOOK_HISTORY_WEEKS = 12
OUTLOOK_WINDOW = 4  # a week's forecast: the mean of the four weeks before it
OUTLOOK_AHEAD = 4


def demand_outlook(*, merchant: Merchant, today: datetime.date | None = None) -> dict:
    """Per product, units a week for the coming four weeks: the moving average of the last four
    weeks (plain and explainable), with its mean absolute error when it forecast each of the past
    eight weeks from the four before (one query over the product rollups)."""
    today = today or timezone.localdate()
    week_start = today - datetime.timedelta(days=today.weekday())  # this (partial) week is left out
    first = week_start - datetime.timedelta(weeks=OUTLOOK_HISTORY_WEEKS)
    weekly: dict[int, list[int]] = {}
    titles: dict[int, str] = {}
    for product_id, title, day, units in (ProductDay.objects.filter(merchant=merchant, day__gte=first,
                                                                    day__lt=week_start)
                                          .values_list("product_id", "product__title", "day", "units")):
        titles[product_id] = title
        weeks = weekly.setdefault(product_id, [0] * OUTLOOK_HISTORY_WEEKS)
        weeks[(day - first).days // 7] += units
    products = []
    for product_id, weeks in sorted(weekly.items()):
        errors = [abs(weeks[n] - sum(weeks[n - OUTLOOK_WINDOW:n]) / OUTLOOK_WINDOW)
                  for n in range(OUTLOOK_WINDOW, OUTLOOK_HISTORY_WEEKS)]
        forecast = round(sum(weeks[-OUTLOOK_WINDOW:]) / OUTLOOK_WINDOW, 1)
        products.append({
            "product": product_id, "title": titles[product_id],
            "history": [{"week": first + datetime.timedelta(weeks=n), "units": units} for n, units in enumerate(weeks)],
            "forecast": [{"week": week_start + datetime.timedelta(weeks=n), "units": forecast}
                         for n in range(OUTLOOK_AHEAD)],
            "mean_absolute_error": round(sum(errors) / len(errors), 2)})
    return {"method": "moving average of the last 4 full weeks", "products": products}
