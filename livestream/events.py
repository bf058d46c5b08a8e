"""What the live room hears, and the one way it is published: after commit.

Every service that changes something a room shows calls one of these; the event
reaches the sockets only if (and when) the surrounding transaction commits.
Each event is serialized here, once, into the frame every socket receives
(``{"type": …, **payload}``), and handed to the room's fan-out:

- ``hub`` (production, ``REDIS_URL`` set): one ``PUBLISH`` on the stream's Redis
  channel; every server process holding sockets of that stream is subscribed once
  and writes the frame to them (``livestream/realtime/hub.py``);
- ``layer`` (embedded default without Redis, and the benchmark's comparison):
  a Channels ``group_send`` to ``stream_group(stream_id)``.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time

import redis
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction

from core.json import ClientJSONEncoder

from .realtime import redis as room_redis

logger = logging.getLogger(__name__)


def stream_group(stream_id: int) -> str:
    return f"stream.{stream_id}"


def frame(event_type: str, **payload) -> str:
    """The text frame of one event: ``type`` first (the hub reads it), compact, UTF-8."""
    return json.dumps({"type": event_type, **payload}, cls=ClientJSONEncoder, ensure_ascii=False,
                      separators=(",", ":"))


def send_frames_now(frames: list[tuple[int, str]]) -> None:
    """Fan serialized frames ``(stream_id, text)`` out to their rooms at once, in one Redis round
    trip (sync callers; after commit). Raises a Redis error if Redis did not take them, or at once
    while the room's breaker is open (Redis failed moments ago: ``realtime.redis.breaker``)."""
    if not frames:
        return
    if settings.LIVE_ROOM_FANOUT != "hub":
        for stream_id, text in frames:
            async_to_sync(get_channel_layer().group_send)(stream_group(stream_id),
                                                          {"type": "room.frame", "frame": text})
        return
    breaker = room_redis.breaker
    if not breaker.available():
        raise redis.ConnectionError("skipped: Redis was unreachable moments ago")
    try:
        pipe = room_redis.sync_client().pipeline(transaction=False)
        for stream_id, text in frames:
            pipe.publish(room_redis.room_channel(stream_id), text)
        pipe.execute()
    except room_redis.REDIS_ERRORS as exc:
        breaker.failed(exc)
        raise
    breaker.succeeded()


def send_frame_now(stream_id: int, text: str) -> None:
    """Fan one serialized frame out to the room at once (see ``send_frames_now``)."""
    send_frames_now([(stream_id, text)])


async def send_frame_async(stream_id: int, text: str, *, client=None) -> None:
    """The same from the event loop (the viewer counter), without a thread hop."""
    if settings.LIVE_ROOM_FANOUT == "hub":
        await client.publish(room_redis.room_channel(stream_id), text)
    else:
        await get_channel_layer().group_send(stream_group(stream_id), {"type": "room.frame", "frame": text})


def _send_many_logged(frames: list[tuple[int, str]]) -> None:
    try:
        send_frames_now(frames)
    except room_redis.REDIS_ERRORS:
        # The write is committed; a room event lost while Redis is away must not fail it (the
        # breaker logged the outage once; sockets get a fresh snapshot when they reconnect).
        pass
    except Exception:  # noqa: BLE001 - see above
        logger.exception("live room events not published")


def _send_logged(stream_id: int, text: str) -> None:
    _send_many_logged([(stream_id, text)])


class _SoonPublisher:
    """Room events that may wait a moment, sent by one background thread of this process.

    A hot flash offer sells many times a second: the checkout hands its ``offer.updated`` and
    ``sale.made`` here (after commit) instead of waiting for Redis itself. Every ``interval`` the
    thread sends what is pending in one pipeline, in the order it came; an event with a
    ``coalesce`` key replaces the pending one of the same key (an offer's remaining units: at most
    one per interval, the latest). An event sent at once (``publish``) first sends whatever is
    pending, so it never overtakes them (``offer.ended`` after the last ``offer.updated``)."""

    def __init__(self, interval: float):
        self.interval = interval
        self._lock = threading.Lock()  # the pending frames
        self._send_lock = threading.Lock()  # one sender at a time: frames leave in order
        self._pending: dict[object, tuple[int, str]] = {}
        self._wake = threading.Event()
        self._pid = None

    def add(self, stream_id: int, text: str, coalesce: tuple | None = None) -> None:
        with self._lock:
            self._pending[coalesce if coalesce is not None else object()] = (stream_id, text)
            if self._pid != os.getpid():  # first use in this process (or after a fork)
                self._pid = os.getpid()
                threading.Thread(target=self._run, name="room-soon-publisher", daemon=True).start()
        self._wake.set()

    def _take(self) -> list[tuple[int, str]]:
        with self._lock:
            frames, self._pending = list(self._pending.values()), {}
        return frames

    def send_now(self, frames: list[tuple[int, str]]) -> None:
        with self._send_lock:
            pending = self._take()
            if pending:
                _send_many_logged(pending + frames)
            else:
                for stream_id, text in frames:
                    _send_logged(stream_id, text)

    def flush(self) -> None:
        with self._send_lock:
            frames = self._take()
            if frames:
                _send_many_logged(frames)

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            self.flush()
            time.sleep(self.interval)  # what arrives meanwhile goes in the next batch


_soon = _SoonPublisher(interval=0.2)


def publish(stream_id: int, event_type: str, **payload) -> None:
    """Queue ``{"type": event_type, **payload}`` for the room, sent on commit."""
    text = frame(event_type, **payload)
    transaction.on_commit(lambda: _soon.send_now([(stream_id, text)]))


def publish_soon(stream_id: int, event_type: str, *, coalesce: tuple | None = None, **payload) -> None:
    """Queue an event for the room's background publisher (within about 0.2 s of the commit)."""
    text = frame(event_type, **payload)
    transaction.on_commit(lambda: _soon.add(stream_id, text, coalesce))


def publish_many(events: list[tuple[int, str, dict]]) -> None:
    """Queue several ``(stream_id, event_type, payload)`` at once: one Redis round trip on commit."""
    frames = [(stream_id, frame(event_type, **payload)) for stream_id, event_type, payload in events]
    if frames:
        transaction.on_commit(lambda: _send_many_logged(frames))


# --- the room's events (contract: "The live room") ------------------------------------------


def stream_status(*, stream_id: int, status: str) -> None:
    publish(stream_id, "stream.status", status=status)


def product_pinned(*, stream_id: int, product: dict | None) -> None:
    """``product`` is the pinned product's card ({"product": id, title, price, …}), or None: unpinned."""
    publish(stream_id, "product.pinned", **(product or {"product": None}))


def offer_started(*, stream_id: int, offer: dict) -> None:
    publish(stream_id, "offer.started", **offer)


def offer_updated(*, stream_id: int, offer_id: int, remaining: int) -> None:
    """Coalesced: at most one per offer every 0.2 s per process, with the latest count."""
    publish_soon(stream_id, "offer.updated", coalesce=("offer.updated", offer_id), offer=offer_id,
                 remaining=remaining)


def offer_ended(*, stream_id: int, offer_id: int, remaining: int, reason: str) -> None:
    publish(stream_id, "offer.ended", offer=offer_id, remaining=remaining, reason=reason)


def sale_made(*, stream_id: int, product_id: int, quantity: int, buyer_masked: str) -> None:
    """A paid sale of the stream's own shop (the orders app calls it when an order placed in the stream is
    paid, never at checkout), sent by the background publisher (batched with the others of the moment)."""
    publish_soon(stream_id, "sale.made", product=product_id, quantity=quantity, buyer=buyer_masked)


def chat_message(*, stream_id: int, message: dict) -> None:
    publish(stream_id, "chat.message", **message)


def chat_deleted(*, stream_id: int, message_id: int) -> None:
    publish(stream_id, "chat.deleted", id=message_id)


def viewers_frame(count: int) -> str:
    return frame("stream.viewers", count=count)


def error_frame(code: str, message: str) -> str:
    return frame("error", code=code, message=message)
