"""Hear a live room from a test without a socket: the frames ``livestream.events`` publishes.

Works in both fan-out modes (hub: the stream's Redis channel; layer: a channel in the group).
"""

from __future__ import annotations

import asyncio
import json
import time

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings

from livestream.events import stream_group
from livestream.realtime import redis as room_redis


class RoomListener:
    def __init__(self, stream_id: int):
        self.hub = settings.LIVE_ROOM_FANOUT == "hub"
        if self.hub:
            self.pubsub = room_redis.sync_client().pubsub(ignore_subscribe_messages=False)
            self.pubsub.subscribe(room_redis.room_channel(stream_id))
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:  # wait for Redis to confirm the subscription
                message = self.pubsub.get_message(timeout=0.5)
                if message and message["type"] == "subscribe":
                    break
        else:
            layer = get_channel_layer()
            self.channel = async_to_sync(layer.new_channel)()
            async_to_sync(layer.group_add)(stream_group(stream_id), self.channel)

    def drain(self, *, wait: float) -> list[dict]:
        """Every event heard until the room stays quiet for ``wait`` seconds."""
        if self.hub:
            events = []
            while True:
                message = self.pubsub.get_message(ignore_subscribe_messages=True, timeout=wait)
                if message is None:
                    return events
                events.append(json.loads(message["data"]))

        layer = get_channel_layer()

        async def receive_all():
            events = []
            while True:
                try:
                    message = await asyncio.wait_for(layer.receive(self.channel), timeout=wait)
                except asyncio.TimeoutError:
                    return events
                events.append(json.loads(message["frame"]))

        return async_to_sync(receive_all)()

    def close(self) -> None:
        if self.hub:
            self.pubsub.close()
