"""Telling people things. Every domain event that concerns a person calls ``notify``.

The notification row is written in the caller's transaction, so a rollback
tells nobody and a commit loses nothing. (The logistics issue adds the outbox
that delivers each row to the user's socket and by SMS, exactly once.)
"""

from __future__ import annotations

from django.utils import translation

from .models import Notification
from .texts import render


def notify(*, user, kind: str, params: dict | None = None) -> Notification:
    params = params or {}
    with translation.override(getattr(user, "language", None) or "zh-hans"):
        title, body = render(kind, params)
    return Notification.objects.create(user=user, kind=kind, params=params, title=title, body=body)


FOLLOWER_BATCH_SIZE = 1000


def followers_notify_stream_live_batch(*, stream_id: int, after_follow_id: int, limit: int) -> int | None:
    """Notify the next ``limit`` followers (by follow id) of a live stream's shop.

    Returns the last follow id handled, or None when there are no more. Each
    follower is notified at most once per stream, so a retried batch repeats nothing.
    """
    from django.db import transaction

    from livestream.models import Stream
    from merchants.models import Follow

    stream = Stream.objects.select_related("merchant").get(pk=stream_id)
    follows = list(
        Follow.objects.filter(merchant_id=stream.merchant_id, pk__gt=after_follow_id)
        .select_related("user").order_by("pk")[:limit]
    )
    if not follows:
        return None
    already = set(
        Notification.objects.filter(
            kind="stream.live", params__stream=stream_id, user_id__in=[f.user_id for f in follows]
        ).values_list("user_id", flat=True)
    )
    with transaction.atomic():
        for follow in follows:
            if follow.user_id not in already:
                notify(user=follow.user, kind="stream.live",
                       params={"stream": stream_id, "shop": stream.merchant.shop_name, "title": stream.title})
    return follows[-1].pk
