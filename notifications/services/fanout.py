"""Broadcasts too large for one transaction: a shop going live to all its followers.

One task per batch of followers (by follow id); each batch writes its
notifications and moves the broadcast's cursor in one transaction, then queues
the next batch. A retried batch finds the cursor moved and does nothing; a
broadcast whose chain broke (a worker died between commit and enqueue) is
resumed by the beat sweep from its cursor.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ..models import FanOut

logger = logging.getLogger(__name__)

FOLLOWER_BATCH_SIZE = 1000
STREAM_LIVE = "stream.live"


def _fanout_for(kind: str, key: str) -> FanOut:
    return FanOut.objects.get_or_create(kind=kind, key=key)[0]


def followers_notify_stream_live_batch(*, stream_id: int, after_follow_id: int, limit: int) -> int | None:
    """Tell the next ``limit`` followers (by follow id) that the shop is live.

    Returns the cursor for the next batch, or None when the broadcast is finished
    or this batch was already handled (a duplicate or retried task).
    """
    from livestream.models import Stream
    from merchants.models import Follow

    from . import notify_many

    fanout = _fanout_for(STREAM_LIVE, str(stream_id))
    with transaction.atomic():
        fanout = FanOut.objects.select_for_update().get(pk=fanout.pk)
        if fanout.finished_at is not None or fanout.cursor != after_follow_id:
            return None
        stream = Stream.objects.select_related("merchant").filter(pk=stream_id).first()
        if stream is None or stream.status in (Stream.Status.ENDED, Stream.Status.CANCELLED):
            fanout.finished_at = timezone.now()
            fanout.save(update_fields=["finished_at", "updated_at"])
            return None
        follows = list(
            Follow.objects.filter(merchant_id=stream.merchant_id, pk__gt=fanout.cursor)
            .select_related("user").order_by("pk")[:limit]
        )
        if follows:
            written = notify_many(
                users=[f.user for f in follows if f.user.is_active], kind=STREAM_LIVE,
                params={"stream": stream_id, "shop": stream.merchant.shop_name, "title": stream.title},
                dedupe_key=f"{STREAM_LIVE}:{stream_id}",
            )
            fanout.cursor = follows[-1].pk
            fanout.notified += len(written)
        if len(follows) < limit:
            fanout.finished_at = timezone.now()
        fanout.save()
        return None if fanout.finished_at else fanout.cursor


def fanouts_resume(*, limit: int = 100) -> int:
    """Queue the next batch of every broadcast that has not moved for a while."""
    from ..tasks import followers_notify_stream_live

    stalled = timezone.now() - settings.NOTIFICATIONS_FANOUT_STALL
    rows = list(FanOut.objects.filter(finished_at__isnull=True, updated_at__lt=stalled, kind=STREAM_LIVE)
                .values_list("pk", "key", "cursor")[:limit])
    for pk, key, cursor in rows:
        FanOut.objects.filter(pk=pk).update(updated_at=timezone.now())  # one resume per stall period
        logger.warning("resuming the stalled go-live broadcast of stream %s from follow %s", key, cursor)
        followers_notify_stream_live.delay(int(key), cursor)
    return len(rows)
