"""Every write of the live room: streams, offers, chat. REST views, the socket consumer,
Celery tasks and the admin all call these."""

from .chat import chat_message_delete, chat_mute, chat_send, chat_unmute
from .offers import (
    offer_cancel,
    offer_end,
    offer_start,
    offers_expire_due,
)
from .streams import (
    merchant_streams_stop,
    stream_cancel,
    stream_create,
    stream_end,
    stream_key_rotate,
    stream_peak_record,
    stream_pin,
    stream_publish,
    stream_start,
    stream_unpublish,
    stream_update,
    streams_sweep,
)

__all__ = [
    "chat_message_delete", "chat_mute", "chat_send", "chat_unmute",
    "offer_cancel", "offer_end", "offer_start",
    "offers_expire_due",
    "merchant_streams_stop", "stream_cancel", "stream_create", "stream_end", "stream_key_rotate",
    "stream_peak_record", "stream_pin", "stream_publish", "stream_start", "stream_unpublish", "stream_update",
    "streams_sweep",
]
