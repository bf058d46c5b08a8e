"""What a person's own socket hears, and the one way it is sent.

Each signed-in socket on ``ws/notifications/`` joins its user's group and counts
itself in the user's presence counter; the outbox worker sends
``{"type": "notification", …}`` to the groups of users with a socket open, in
batches with bounded concurrency. A user with no socket open is skipped without
touching the channel layer: the notification waits in their in-app list, and the
unread count a socket hears when it connects includes it.
"""

from __future__ import annotations

import asyncio
import datetime

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.cache import cache

from core.json import client_time

PUSH_CONCURRENCY = 64
PRESENCE_KEY = "notifications:online:{user_id}"
# A counter outliving its sockets (a server killed) only costs needless sends until it expires.
PRESENCE_TTL = int(datetime.timedelta(days=7).total_seconds())


def user_group(user_id: int) -> str:
    return f"notifications.user.{user_id}"


def presence_join(user_id: int) -> None:
    """A socket of ``user_id`` opened (call after joining the group)."""
    key = PRESENCE_KEY.format(user_id=user_id)
    cache.add(key, 0, timeout=PRESENCE_TTL)
    try:
        cache.incr(key)
    except ValueError:  # expired in between
        cache.set(key, 1, timeout=PRESENCE_TTL)


def presence_leave(user_id: int) -> None:
    try:
        cache.decr(PRESENCE_KEY.format(user_id=user_id))
    except ValueError:
        pass  # already expired


def users_online(user_ids) -> set[int]:
    """Which of ``user_ids`` have a notification socket open (one round trip)."""
    keys = {PRESENCE_KEY.format(user_id=user_id): user_id for user_id in set(user_ids)}
    counts = cache.get_many(list(keys))
    return {keys[key] for key, count in counts.items() if count and int(count) > 0}


def notification_event(*, notification_id: int, kind: str, title: str, body: str, params: dict,
                       created_at) -> dict:
    """The flat JSON object a client receives for one notification."""
    return {
        "type": "notification",
        "id": notification_id,
        "kind": kind,
        "title": title,
        "body": body,
        "params": params,
        "created_at": client_time(created_at) if isinstance(created_at, datetime.datetime) else created_at,
    }


async def _send_all(items: list[tuple[int, dict]]) -> list[bool]:
    layer = get_channel_layer()
    gate = asyncio.Semaphore(PUSH_CONCURRENCY)

    async def one(user_id: int, event: dict) -> bool:
        async with gate:
            try:
                await layer.group_send(user_group(user_id), {"type": "notification.push", "event": event})
                return True
            except Exception:  # noqa: BLE001 - reported per item; the outbox retries it
                return False

    return list(await asyncio.gather(*(one(user_id, event) for user_id, event in items)))


def push_to_users(items: list[tuple[int, dict]]) -> list[bool]:
    """Send each ``(user_id, event)``; returns per item whether the channel layer took it."""
    if not items:
        return []
    return async_to_sync(_send_all)(items)
