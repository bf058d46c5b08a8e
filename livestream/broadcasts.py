"""The live room's broadcasts through the notification outbox: a shop going live tells its followers."""

from __future__ import annotations

from merchants.models import Follow
from notifications.services import AudienceBatch, broadcast_register

from .models import Stream

STREAM_LIVE = "stream.live"


def stream_live_audience(*, key: str, after: int, limit: int) -> AudienceBatch | None:
    """The next followers (by follow id) of a live stream's shop; None once it ended or was cancelled."""
    stream = Stream.objects.select_related("merchant").filter(pk=int(key)).first()
    if stream is None or stream.status in (Stream.Status.ENDED, Stream.Status.CANCELLED):
        return None
    follows = list(Follow.objects.filter(merchant_id=stream.merchant_id, pk__gt=after)
                   .select_related("user").order_by("pk")[:limit])
    return AudienceBatch(members=[(follow.pk, follow.user) for follow in follows],
                         params={"stream": stream.pk, "shop": stream.merchant.shop_name, "title": stream.title},
                         dedupe_key=f"{STREAM_LIVE}:{stream.pk}")


broadcast_register(STREAM_LIVE, stream_live_audience)
