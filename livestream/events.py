"""What the live room hears, and the one way it is published: after commit.

Every service that changes something a room shows calls one of these; the
event reaches the sockets only if (and when) the surrounding transaction commits.
"""

from __future__ import annotations

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction


def stream_group(stream_id: int) -> str:
    return f"stream.{stream_id}"


def _send_now(stream_id: int, event: dict) -> None:
    layer = get_channel_layer()
    async_to_sync(layer.group_send)(stream_group(stream_id), {"type": "room.event", "event": event})


def publish(stream_id: int, event_type: str, **payload) -> None:
    """Queue ``{"type": event_type, **payload}`` for the room, sent on commit."""
    event = {"type": event_type, **payload}
    transaction.on_commit(lambda: _send_now(stream_id, event))


def sale_made(*, stream_id: int, product_id: int, quantity: int, buyer_masked: str) -> None:
    publish(stream_id, "sale.made", product=product_id, quantity=quantity, buyer=buyer_masked)


def offer_updated(*, stream_id: int, offer_id: int, remaining: int) -> None:
    publish(stream_id, "offer.updated", offer=offer_id, remaining=remaining)


def offer_ended(*, stream_id: int, offer_id: int, remaining: int, reason: str) -> None:
    publish(stream_id, "offer.ended", offer=offer_id, remaining=remaining, reason=reason)
