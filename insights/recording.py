"""Interactions from the buffer to the database, in batches (core/interactions.py notes them).

With Redis the sink appends each batch to one list (one RPUSH); ``interactions_drain`` (a beat task
every INSIGHTS_DRAIN_SECONDS) pops a bounded batch, completes it (an order's or review's products,
a stream's shop, a payment's buyer: one query per kind, never per row), drops what buyers who
turned personalisation off did, and writes it in one INSERT. Without Redis (the embedded single
process) the sink drains at once.
"""

from __future__ import annotations

import datetime
import json
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from catalog.models import Product
from core import interactions
from core.redis import REDIS_ERRORS, shared_client
from livestream.models import Stream
from orders.models import OrderLine

from .models import BuyerProfile, InteractionEvent

logger = logging.getLogger(__name__)

QUEUE_KEY = "insights:interactions"
DRAIN_BATCH = 5000


def _client():
    return shared_client(settings.REDIS_URL, role="interactions")


def _redis_sink(rows: list[dict]) -> None:
    _client().rpush(QUEUE_KEY, *[json.dumps(row, separators=(",", ":")) for row in rows])


def _local_sink(rows: list[dict]) -> None:
    _write(rows)


def sink_install() -> None:
    interactions.interaction_sink_register(_redis_sink if settings.REDIS_URL else _local_sink)


def _pop(limit: int) -> list[dict]:
    client = _client()
    pipe = client.pipeline(transaction=True)
    pipe.lrange(QUEUE_KEY, 0, limit - 1)
    pipe.ltrim(QUEUE_KEY, limit, -1)
    raw, _trimmed = pipe.execute()
    return [json.loads(item) for item in raw]


def interactions_drain(*, limit: int = DRAIN_BATCH) -> int:
    """Keep what the buffers and the queue hold (a bounded batch); returns the rows written."""
    interactions.interactions_flush()
    if not settings.REDIS_URL:
        return 0
    try:
        rows = _pop(limit)
    except REDIS_ERRORS:
        logger.warning("interaction queue unreachable; drained next time", exc_info=True)
        return 0
    return _write(rows)


def _when(row: dict) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(row["at"], tz=datetime.UTC)


def _expanded(rows: list[dict]) -> list[InteractionEvent]:
    """One event per product for orders, payments and reviews; the shop of a stream or product."""
    order_ids = {row["ref"] for row in rows if row["kind"] in ("order", "paid") and row.get("ref")}
    mo_ids = {row["ref"] for row in rows if row["kind"] == "review" and row.get("ref")}
    lines_by_order: dict[int, list[tuple]] = {}
    buyers: dict[int, int] = {}
    if order_ids:
        for order_id, buyer_id, product_id, merchant_id, quantity in OrderLine.objects.filter(
                merchant_order__order_id__in=order_ids).values_list(
                "merchant_order__order_id", "merchant_order__order__buyer_id", "product_id",
                "merchant_order__merchant_id", "quantity"):
            lines_by_order.setdefault(order_id, []).append((product_id, merchant_id, quantity))
            buyers[order_id] = buyer_id
    lines_by_mo: dict[int, list[tuple]] = {}
    if mo_ids:
        for mo_id, product_id, merchant_id in OrderLine.objects.filter(merchant_order_id__in=mo_ids).values_list(
                "merchant_order_id", "product_id", "merchant_order__merchant_id"):
            lines_by_mo.setdefault(mo_id, []).append((product_id, merchant_id, 0))
    stream_shops = dict(Stream.objects.filter(
        pk__in={row["stream"] for row in rows if row.get("stream")}).values_list("pk", "merchant_id"))
    product_shops = dict(Product.objects.filter(
        pk__in={row["product"] for row in rows if row.get("product")}).values_list("pk", "merchant_id"))
    events = []
    for row in rows:
        kind, at = row["kind"], _when(row)
        if kind in ("order", "paid", "review"):
            user_id = row["user"] or buyers.get(row["ref"])
            lines = (lines_by_mo if kind == "review" else lines_by_order).get(row["ref"], [])
            events += [InteractionEvent(user_id=user_id, kind=kind, product_id=product_id, merchant_id=merchant_id,
                                        value=row["value"] if kind == "review" else quantity, at=at)
                       for product_id, merchant_id, quantity in lines if user_id]
            continue
        if not row["user"]:
            continue
        stream_id, product_id = row.get("stream"), row.get("product")
        if (stream_id and stream_id not in stream_shops) or (product_id and product_id not in product_shops):
            continue  # deleted meanwhile
        merchant_id = row.get("merchant") or stream_shops.get(stream_id) or product_shops.get(product_id)
        events.append(InteractionEvent(user_id=row["user"], kind=kind, product_id=product_id, merchant_id=merchant_id,
                                       stream_id=stream_id, value=row["value"], at=at))
    return events


def _write(rows: list[dict]) -> int:
    if not rows:
        return 0
    events = _expanded(rows)
    user_ids = {event.user_id for event in events}
    kept = set(get_user_model().objects.filter(pk__in=user_ids).values_list("pk", flat=True)) - set(
        BuyerProfile.objects.filter(user_id__in=user_ids, personalised=False).values_list("user_id", flat=True))
    events = [event for event in events if event.user_id in kept]
    with transaction.atomic():
        InteractionEvent.objects.bulk_create(events, batch_size=1000)
    return len(events)



