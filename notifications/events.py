"""What a person's own socket hears, and the one way it is sent.

Each signed-in socket on ``ws/notifications/`` joins its user's group; the
outbox worker sends ``{"type": "notification", …}`` to that group. Sending is
done in batches with bounded concurrency, since one drain pushes hundreds.
"""

from __future__ import annotations

import asyncio

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

PUSH_CONCURRENCY = 64


def user_group(user_id: int) -> str:
    return f"notifications.user.{user_id}"


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
        "created_at": created_at.isoformat() if hasattr(created_at, "isoformat") else created_at,
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
