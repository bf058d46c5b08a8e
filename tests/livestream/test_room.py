"""The live room socket through the real ASGI application on the channels-redis setup."""

import asyncio

import pytest
from channels.db import database_sync_to_async

from livestream import services
from livestream.models import ChatMessage, ChatMute, Offer, Stream
from tests.factories import ConsumerFactory

from .conftest import drain, join, next_event, room, token_for

pytestmark = [pytest.mark.django_db(transaction=True)]


async def test_anyone_may_watch_and_gets_the_room_state(live_stream):
    comm = await join(live_stream.pk)
    status = await next_event(comm)
    assert status == {"type": "stream.status", "status": "live"}
    await comm.disconnect()


async def test_chat_reaches_every_socket_and_is_stored(live_stream, viewer):
    alice = await join(live_stream.pk, token=token_for(viewer))
    bob = await join(live_stream.pk)
    await alice.send_json_to({"type": "chat.send", "text": "多少钱一斤？"})
    for comm in (alice, bob):
        event = await next_event(comm, "chat.message")
        assert event["text"] == "多少钱一斤？"
        assert event["user"] == {"id": viewer.pk, "name": viewer.username, "host": False}
        assert set(event) == {"type", "id", "user", "text", "at"}
    stored = await database_sync_to_async(lambda: list(ChatMessage.objects.values_list("text", flat=True)))()
    assert stored == ["多少钱一斤？"]
    await alice.disconnect()
    await bob.disconnect()
