"""Broadcasts too large for one transaction (a shop going live to all its followers).

Notifications sit beside ``core``: they know people, not shops or streams. The app that owns a
broadcast's subject registers its *audience* (``broadcast_register``): given the subject's key and
a cursor, it answers the next members, ordered by a cursor id, and the texts' parameters, or None
when the subject no longer wants the broadcast (the stream ended). Livestream registers
``stream.live`` (livestream/broadcasts.py).

One task per batch of members; each batch writes its notifications and moves the broadcast's
cursor in one transaction, then queues the next batch. A retried batch finds the cursor moved and
does nothing; a broadcast whose chain broke (a worker died between commit and enqueue) is resumed
by the beat sweep from its cursor.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ..models import FanOut

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000


@dataclass(frozen=True)
class AudienceBatch:
    members: list[tuple[int, object]]  # (cursor id, user), in cursor order, at most ``limit``
    params: dict  # the notification texts' parameters
    dedupe_key: str  # each member is told once for it


Audience = Callable[..., AudienceBatch | None]  # audience(key=, after=, limit=)
_audiences: dict[str, Audience] = {}


def broadcast_register(kind: str, audience: Audience) -> None:
    _audiences[kind] = audience


def _fanout_for(kind: str, key: str) -> FanOut:
    return FanOut.objects.get_or_create(kind=kind, key=key)[0]


def broadcast_batch(*, kind: str, key: str, after: int, limit: int) -> int | None:
    """Tell the next ``limit`` members of the ``kind`` broadcast about ``key``.

    Returns the cursor for the next batch, or None when the broadcast is finished or this batch
    was already handled (a duplicate or retried task).
    """
    from . import notify_many

    audience = _audiences[kind]
    fanout = _fanout_for(kind, key)
    with transaction.atomic():
        fanout = FanOut.objects.select_for_update().get(pk=fanout.pk)
        if fanout.finished_at is not None or fanout.cursor != after:
            return None
        batch = audience(key=key, after=fanout.cursor, limit=limit)
        if batch is None:
            fanout.finished_at = timezone.now()
            fanout.save(update_fields=["finished_at", "updated_at"])
            return None
        if batch.members:
            written = notify_many(users=[user for _cursor, user in batch.members if user.is_active], kind=kind,
                                  params=batch.params, dedupe_key=batch.dedupe_key)
            fanout.cursor = batch.members[-1][0]
            fanout.notified += len(written)
        if len(batch.members) < limit:
            fanout.finished_at = timezone.now()
        fanout.save()
        return None if fanout.finished_at else fanout.cursor


def broadcast_start_on_commit(*, kind: str, key: str) -> None:
    """Start the broadcast once the caller's transaction commits (never after a rollback)."""
    from ..tasks import broadcast

    transaction.on_commit(lambda: broadcast.delay(kind, key), robust=True)


def fanouts_resume(*, limit: int = 100) -> int:
    """Queue the next batch of every broadcast that has not moved for a while."""
    from ..tasks import broadcast

    stalled = timezone.now() - settings.NOTIFICATIONS_FANOUT_STALL
    rows = list(FanOut.objects.filter(finished_at__isnull=True, updated_at__lt=stalled, kind__in=list(_audiences))
                .values_list("pk", "kind", "key", "cursor")[:limit])
    for pk, kind, key, cursor in rows:
        FanOut.objects.filter(pk=pk).update(updated_at=timezone.now())  # one resume per stall period
        logger.warning("resuming the stalled %s broadcast of %s from %s", kind, key, cursor)
        broadcast.delay(kind, key, cursor)
    return len(rows)
