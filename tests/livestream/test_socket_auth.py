"""Socket sign-in (issue #12, findings 3, 8 and 11): one parser for ``?token=``, one token rule, and
a signed-in socket that stops trusting its token once it expires or its user is revoked."""

import asyncio
import datetime

import jwt
import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User
from accounts.services import user_revoke_tokens
from livestream.models import ChatMessage

from .conftest import drain, join, next_event, token_for

pytestmark = [pytest.mark.django_db(transaction=True)]
db = database_sync_to_async


def short_token(user, seconds: float) -> str:
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=datetime.timedelta(seconds=seconds))
    return str(token)


def expired_token(user) -> str:
    token = AccessToken.for_user(user)
    token.set_exp(from_time=timezone.now() - datetime.timedelta(hours=1))
    return str(token)


async def closed_with(comm, code: int) -> dict:
    """The error frame, then the close with ``code``."""
    error = await next_event(comm, "error")
    assert await comm.receive_output(timeout=3) == {"type": "websocket.close", "code": code}
    return error


async def test_a_duplicated_token_parameter_is_refused_at_the_handshake(live_stream, viewer):
    for pair in ((expired_token(viewer), token_for(viewer)), (token_for(viewer), expired_token(viewer)),
                 (token_for(viewer), "")):
        comm = WebsocketCommunicator(*_room_args(live_stream.pk, f"?token={pair[0]}&token={pair[1]}"))
        connected, code = await comm.connect()
        assert (connected, code) == (False, 4400)
    notifications = WebsocketCommunicator(*_room_args(None, f"?token={token_for(viewer)}&token=x"))
    assert await notifications.connect() == (False, 4400)


def _room_args(stream_id, query: str):
    from marketplace.asgi import application

    path = f"/ws/streams/{stream_id}/" if stream_id else "/ws/notifications/"
    return application, path + query, [(b"host", b"testserver"), (b"origin", b"http://testserver")]


async def test_a_chat_line_after_the_token_expired_is_refused_and_the_socket_closed(live_stream, viewer):
    for first_message in (False, True):
        token = short_token(viewer, 2)
        comm = await join(live_stream.pk, token=None if first_message else token)
        if first_message:
            await comm.send_json_to({"type": "auth", "token": token})
        await comm.send_json_to({"type": "chat.send", "text": "还来得及"})
        assert (await next_event(comm, "chat.message"))["text"] == "还来得及"
        await asyncio.sleep(2.2)
        await comm.send_json_to({"type": "chat.send", "text": "过期了"})
        error = await closed_with(comm, 4401)
        assert error["code"] == "auth_expired"
    assert await db(lambda: list(ChatMessage.objects.values_list("text", flat=True)))() == ["还来得及", "还来得及"]


@pytest.mark.parametrize("revoke", ["deactivate", "password", "revoke"])
async def test_a_revoked_user_is_closed_at_the_next_message_after_the_recheck(live_stream, viewer, settings, revoke):
    settings.WS_AUTH_RECHECK_S = 0.3
    comm = await join(live_stream.pk, token=token_for(viewer))
    await comm.send_json_to({"type": "chat.send", "text": "第一句"})
    await next_event(comm, "chat.message")

    def act():
        user = User.objects.get(pk=viewer.pk)
        if revoke == "deactivate":
            user.is_active = False
            user.save()
        elif revoke == "password":
            user.set_password("An0ther-pass-村播")
            user.save()
        else:
            user_revoke_tokens(user)

    await db(act)()
    await asyncio.sleep(0.4)
    await comm.send_json_to({"type": "chat.send", "text": "第二句"})
    assert (await closed_with(comm, 4401))["code"] == "auth_expired"
    assert await db(ChatMessage.objects.count)() == 1


async def test_a_token_of_a_revoked_user_does_not_sign_a_socket_in(live_stream, viewer):
    token = token_for(viewer)
    await db(lambda: user_revoke_tokens(User.objects.get(pk=viewer.pk)))()
    comm = await join(live_stream.pk, token=token)
    await drain(comm, quiet=0.2)
    await comm.send_json_to({"type": "chat.send", "text": "hi"})
    assert (await next_event(comm, "error"))["code"] == "not_authenticated"
    await comm.send_json_to({"type": "auth", "token": token})
    assert (await next_event(comm, "error"))["code"] == "not_authenticated"
    await comm.disconnect()


def forged(**claims) -> str:
    now = int(timezone.now().timestamp())
    payload = {"token_type": "access", "exp": now + 600, "iat": now, "jti": "f" * 32} | claims
    return jwt.encode(payload, django_settings.SIMPLE_JWT.get("SIGNING_KEY", django_settings.SECRET_KEY),
                      algorithm="HS256")


WRONG = [{"user_id": [1]}, {"user_id": {"a": 1}}, {"user_id": "١"}, {"exp": "9999999999"}, {"exp": [1]},
         {"ver": "0"}, {"iat": [1]}, {"user_id": 2**70}]


async def test_claims_of_the_wrong_type_leave_a_socket_anonymous_never_broken(live_stream, viewer):
    for claims in WRONG:
        token = forged(**({"user_id": str(viewer.pk)} | claims))
        comm = await join(live_stream.pk, token=token)
        await drain(comm, quiet=0.1)
        await comm.send_json_to({"type": "auth", "token": token})
        assert (await next_event(comm, "error"))["code"] == "not_authenticated", claims
        await comm.send_json_to({"type": "chat.send", "text": "hi"})
        assert (await next_event(comm, "error"))["code"] == "not_authenticated", claims
        await comm.disconnect()
        notifications = WebsocketCommunicator(*_room_args(None, ""))
        assert (await notifications.connect())[0]
        await notifications.send_json_to({"type": "auth", "token": token})
        assert (await notifications.receive_json_from(timeout=3))["code"] == "not_authenticated"
        assert await notifications.receive_output(timeout=3) == {"type": "websocket.close", "code": 4401}
    well_formed = await join(live_stream.pk, token=forged(user_id=str(viewer.pk)))
    await well_formed.send_json_to({"type": "chat.send", "text": "the rule accepts a good token"})
    assert (await next_event(well_formed, "chat.message"))["user"]["id"] == viewer.pk
    await well_formed.disconnect()


async def test_the_notification_socket_closes_itself_when_the_user_is_revoked(viewer, settings):
    settings.WS_AUTH_RECHECK_S = 0.3
    socket = WebsocketCommunicator(*_room_args(None, ""))
    assert (await socket.connect())[0]
    await socket.send_json_to({"type": "auth", "token": token_for(viewer)})
    assert (await socket.receive_json_from(timeout=3))["type"] == "notifications.unread"

    def deactivate():
        user = User.objects.get(pk=viewer.pk)
        user.is_active = False
        user.save()

    await db(deactivate)()
    # No client message: the socket's own timer notices within the re-check interval.
    assert (await socket.receive_json_from(timeout=3))["code"] == "auth_expired"
    assert await socket.receive_output(timeout=3) == {"type": "websocket.close", "code": 4401}


async def test_the_notification_socket_closes_itself_when_the_token_expires(viewer):
    socket = WebsocketCommunicator(*_room_args(None, f"?token={short_token(viewer, 1.5)}"))
    assert (await socket.connect())[0]
    assert (await socket.receive_json_from(timeout=3))["type"] == "notifications.unread"
    assert (await socket.receive_json_from(timeout=4))["code"] == "auth_expired"
    assert await socket.receive_output(timeout=3) == {"type": "websocket.close", "code": 4401}

