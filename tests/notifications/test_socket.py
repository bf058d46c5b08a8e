"""``ws/notifications/``: a person's own socket, over the channels-redis layer."""

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from rest_framework_simplejwt.tokens import AccessToken

from marketplace.asgi import application
from notifications.services import notify
from notifications.services.outbox import outbox_drain
from tests.factories import ConsumerFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

ORIGIN = [(b"origin", b"http://testserver")]


def token_for(user) -> str:
    return str(AccessToken.for_user(user))


@sync_to_async
def make_user(**kwargs):
    return ConsumerFactory(**kwargs)


@sync_to_async
def notify_and_push(user, **params):
    notice = notify(user=user, kind="shipment.picked_up", params={"order": 1, "shop": "合作社", "hub": "服务点", **params})
    outbox_drain(channel="push")
    return notice


async def connect(path):
    socket = WebsocketCommunicator(application, path, headers=ORIGIN)
    connected, _ = await socket.connect()
    assert connected
    return socket


async def test_my_socket_hears_my_notifications_and_no_one_elses():
    me, other = await make_user(language="en"), await make_user()
    mine = await connect(f"/ws/notifications/?token={token_for(me)}")
    theirs = await connect(f"/ws/notifications/?token={token_for(other)}")
    assert await mine.receive_json_from(timeout=5) == {"type": "notifications.unread", "count": 0}
    assert await theirs.receive_json_from(timeout=5) == {"type": "notifications.unread", "count": 0}

    notice = await notify_and_push(me)
    event = await mine.receive_json_from(timeout=5)
    assert event["type"] == "notification" and event["id"] == notice.pk
    assert event["kind"] == "shipment.picked_up" and event["title"] == "Parcel collected"
    assert "合作社" in event["body"] and event["created_at"].endswith("+08:00")  # as the REST list writes it
    assert await theirs.receive_nothing(timeout=0.5)
    await mine.disconnect()
    await theirs.disconnect()


async def test_sign_in_with_a_first_message():
    me = await make_user()
    socket = await connect("/ws/notifications/")
    await socket.send_json_to({"type": "auth", "token": token_for(me)})
    assert (await socket.receive_json_from(timeout=5))["type"] == "notifications.unread"
    await notify_and_push(me)
    assert (await socket.receive_json_from(timeout=5))["type"] == "notification"
    await socket.disconnect()


async def test_anonymous_or_bad_tokens_are_refused():
    socket = await connect("/ws/notifications/?token=not-a-jwt")
    await socket.send_json_to({"type": "auth", "token": "still-not-a-jwt"})
    error = await socket.receive_json_from(timeout=5)
    assert error["type"] == "error" and error["code"] == "not_authenticated"
    closed = await socket.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": 4401}

    socket = await connect("/ws/notifications/")
    await socket.send_to(text_data="hello")
    assert (await socket.receive_json_from(timeout=5))["code"] == "malformed"
    await socket.send_json_to({"type": "chat.send", "text": "hi"})
    assert (await socket.receive_json_from(timeout=5))["code"] == "not_authenticated"
    await socket.disconnect()


async def test_unread_count_on_connect():
    me = await make_user()
    await notify_and_push(me)
    await notify_and_push(me)
    socket = await connect(f"/ws/notifications/?token={token_for(me)}")
    assert await socket.receive_json_from(timeout=5) == {"type": "notifications.unread", "count": 2}
    await socket.disconnect()
