"""The socket half of the fuzz layer (issue #12, finding 8; see test_input_fuzz.py): both sockets'
frames with NUL, lone surrogates, deep nesting, huge integers and non-ASCII digits, and hostile
handshake paths. Every frame must get an ``error`` answer with the socket left open; no traceback.

(Its own module: it needs committed data, flushed after it, which the HTTP half's module-wide
world transaction would not allow.)
"""

from __future__ import annotations

import json
import logging

import pytest

from tests.security.conftest import FIGURES

SOCKET_FRAMES = [
    '{"type": "chat.send", "text": "\\u0000"}',
    '{"type": "chat.send", "text": "\\ud800"}',
    '{"type": "chat.send", "text": "a\\udfff"}',
    '{"type": "chat.send", "text": "\\u001b[2J"}',
    '{"type": "chat.send\\u0000", "text": "x"}',
    '{"\\ud800": 1, "type": "chat.send", "text": "x"}',
    '{"type": "auth", "token": "\\u0000"}',
    '{"type": "auth", "token": ' + "[" * 100 + "]" * 100 + "}",
    "[" * 2000 + "]" * 2000,  # as deep as the frame cap (4 KiB) lets a frame be
    '{"type": "chat.send", "text": ' + "{\"a\": " * 500 + "1" + "}" * 500 + "}",
    '{"type": "chat.delete", "id": 100000000000000000000000000000}',
    '{"type": "chat.mute", "user": 9223372036854775808}',
    '{"type": "chat.mute", "user": "١٢"}',
    '{"type": "chat.delete", "id": 1e400}',
    '{"type": "chat.send", "text": 1' + "0" * 4000 + "}",
    '{"type": "chat.send", "text": NaN}',
    '{"type": 12}',
    "\x00",
]


async def _socket_round(comm, frames) -> list[dict]:
    answers = []
    for frame in frames:
        await comm.send_to(text_data=frame)
        output = await comm.receive_output(timeout=5)
        assert output["type"] == "websocket.send", (frame[:60], output)
        answers.append(json.loads(output["text"]))
        FIGURES["fuzz"]["socket frames"] += 1
    return answers


@pytest.mark.django_db(transaction=True)
async def test_both_sockets_survive_hostile_frames(caplog):
    from channels.db import database_sync_to_async
    from channels.testing import WebsocketCommunicator
    from rest_framework_simplejwt.tokens import AccessToken

    from marketplace.asgi import application
    from tests.factories import MerchantFactory, StreamFactory

    caplog.set_level(logging.WARNING)

    @database_sync_to_async
    def setup():
        shop = MerchantFactory()
        return StreamFactory(merchant=shop, status="live"), shop.user

    stream, owner = await setup()
    token = str(AccessToken.for_user(owner))
    headers = [(b"host", b"testserver"), (b"origin", b"http://testserver")]

    async def open_socket(path):
        comm = WebsocketCommunicator(application, path, headers=headers)
        assert (await comm.connect())[0], path
        while not await comm.receive_nothing(timeout=0.3, interval=0.02):
            await comm.receive_from()
        return comm

    room = await open_socket(f"/ws/streams/{stream.pk}/?token={token}")
    answers = await _socket_round(room, SOCKET_FRAMES)
    assert all(answer["type"] == "error" and answer["code"] and answer["message"] for answer in answers), answers
    await room.send_json_to({"type": "chat.send", "text": "还在"})  # the socket survived it all
    assert json.loads((await room.receive_output(timeout=5))["text"])["text"] == "还在"
    await room.disconnect()

    notifications = await open_socket(f"/ws/notifications/?token={token}")
    answers = await _socket_round(notifications, SOCKET_FRAMES[:15])
    assert all(answer["type"] == "error" for answer in answers), answers
    await notifications.disconnect()

    for path in ("/ws/streams/99999999999999999999999/", "/ws/streams/9223372036854775808/",
                 "/ws/streams/1/?token=%00", "/ws/streams/1/?token=%ED%A0%80", "/ws/notifications/?token=%00"):
        comm = WebsocketCommunicator(application, path, headers=headers)
        connected, _ = await comm.connect()
        FIGURES["fuzz"]["socket frames"] += 1
        if connected:
            while not await comm.receive_nothing(timeout=0.3, interval=0.02):
                output = await comm.receive_output()
                if output["type"] == "websocket.close":
                    assert output.get("code") != 1011, (path, output)
                    break
            await comm.disconnect()
    traced = [f"{r.name}: {r.getMessage()[:200]}" for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not traced, traced
