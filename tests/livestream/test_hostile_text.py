"""Issue #12, findings 1 and 14: a poisoned chat line cannot fail its neighbours, and the frame cap
is the application's own. Through the real ASGI application, PostgreSQL and Redis."""

import asyncio
import json
import logging

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model

from livestream.models import ChatMessage
from livestream.services.chat import ChatLine, chat_send_many
from tests.factories import ConsumerFactory

from .conftest import drain, join, next_event, token_for

pytestmark = [pytest.mark.django_db(transaction=True)]
db = database_sync_to_async

# Raw frames (JSON text as a client writes it): a NUL, a lone surrogate as a JSON escape, a bell,
# a lone low surrogate inside other text.
POISON = [
    '{"type": "chat.send", "text": "\\u0000"}',
    '{"type": "chat.send", "text": "hi \\ud800"}',
    '{"type": "chat.send", "text": "ring\\u0007"}',
    '{"type": "chat.send", "text": "\\udc00 \\u0000 ok"}',
]


async def _chat_lines(comm, count: int, *, timeout: float = 10.0) -> list[dict]:
    lines, loop = [], asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while len(lines) < count:
        event = json.loads(await comm.receive_from(timeout=max(deadline - loop.time(), 0.01)))
        if event["type"] == "chat.message":
            lines.append(event)
    return lines


async def test_a_poisoned_line_among_honest_lines_fails_only_itself(live_stream, settings):
    settings.LIVE_CHAT_RATE_LIMIT = 10
    honest_users = [await db(ConsumerFactory)() for _ in range(4)]
    poisoner = await db(ConsumerFactory)()
    honest = [await join(live_stream.pk, token=token_for(user)) for user in honest_users]
    bad = await join(live_stream.pk, token=token_for(poisoner))
    watcher = await join(live_stream.pk)
    for comm in (*honest, bad, watcher):
        await drain(comm, quiet=0.2)

    # Interleaved, nothing awaited in between: the room's chat writer batches what queues while the
    # previous batch is written, so poisoned and honest lines share batches.
    expected = []
    for round_ in range(4):
        for n, comm in enumerate(honest):
            text = f"第{round_}轮 用户{n}"
            expected.append(text)
            await comm.send_to(text_data=json.dumps({"type": "chat.send", "text": text}))
        await bad.send_to(text_data=POISON[round_])

    heard = await _chat_lines(watcher, len(expected))
    assert sorted(event["text"] for event in heard) == sorted(expected)
    errors = [await next_event(bad, "error") for _ in POISON]
    assert {error["code"] for error in errors} == {"invalid_text"}, errors
    assert all(error["message"] for error in errors)
    for comm in honest:  # no sender of an honest line was told anything went wrong
        assert not [event for event in await drain(comm, quiet=0.3) if event["type"] == "error"]
    stored = await db(lambda: sorted(ChatMessage.objects.values_list("text", flat=True)))()
    assert stored == sorted(expected)
    await bad.send_json_to({"type": "chat.send", "text": "我改了"})  # the socket stays open
    assert (await next_event(watcher, "chat.message"))["text"] == "我改了"
    for comm in (*honest, bad, watcher):
        await comm.disconnect()


def test_a_row_the_database_refuses_fails_only_itself(live_stream, caplog):
    """The batch insert's fallback: a sender deleted between the checks and the INSERT (a foreign
    key the database refuses) costs only that line; the others are stored and published."""
    users = [ConsumerFactory() for _ in range(3)]
    ghost = ConsumerFactory()
    lines = [ChatLine(stream_id=live_stream.pk, user=users[0], text="一"),
             ChatLine(stream_id=live_stream.pk, user=ghost, text="鬼"),
             ChatLine(stream_id=live_stream.pk, user=users[1], text="二"),
             ChatLine(stream_id=live_stream.pk, user=users[2], text="三")]
    get_user_model().objects.filter(pk=ghost.pk).delete()
    with caplog.at_level(logging.WARNING, logger="livestream.services.chat"):
        results = chat_send_many(lines=lines)
    assert [getattr(result, "code", None) for result in results] == [None, "not_stored", None, None]
    assert sorted(ChatMessage.objects.values_list("text", flat=True)) == ["一", "三", "二"]
    assert any("not stored" in record.getMessage() for record in caplog.records)


async def test_a_deeply_nested_frame_is_an_error_not_a_crash(live_stream, viewer):
    comm = await join(live_stream.pk, token=token_for(viewer))
    await drain(comm, quiet=0.2)
    for frame in ("[" * 2000 + "]" * 2000, '{"type": "chat.send", "text": "x", "a": ' + "[" * 40 + "]" * 40 + "}",
                  '{"type": "chat.send", "text": 1' + "0" * 30 + "}", '{"type": "chat.send", "text": NaN}'):
        await comm.send_to(text_data=frame)
        assert (await next_event(comm, "error"))["code"] == "malformed", frame[:60]
    await comm.send_json_to({"type": "chat.send", "text": "还在"})
    assert (await next_event(comm, "chat.message"))["text"] == "还在"
    await comm.disconnect()


async def test_the_application_caps_frames_whatever_the_server_allows(live_stream, viewer, settings):
    """WS_MAX_FRAME_BYTES holds even where a consumer's own cap (or the server's flag) is larger."""
    settings.WS_MAX_FRAME_BYTES = 8192
    settings.LIVE_ROOM_MAX_FRAME_BYTES = 1024 * 1024
    comm = await join(live_stream.pk, token=token_for(viewer))
    await drain(comm, quiet=0.2)
    await comm.send_to(text_data=json.dumps({"type": "chat.send", "text": "x" * 8000}))  # under the cap
    assert (await next_event(comm, "error"))["code"] == "too_long"
    await comm.send_to(text_data=json.dumps({"type": "chat.send", "text": "x" * 9000}))
    assert (await next_event(comm, "error"))["code"] == "too_large"
    assert await comm.receive_output(timeout=2) == {"type": "websocket.close", "code": 1009}
    # multi-byte text is measured in bytes: 3,000 characters of Chinese are 9,000 bytes
    comm = await join(live_stream.pk, token=token_for(viewer))
    await drain(comm, quiet=0.2)
    await comm.send_to(text_data=json.dumps({"type": "chat.send", "text": "字" * 3000}, ensure_ascii=False))
    assert (await next_event(comm, "error"))["code"] == "too_large"
    assert await comm.receive_output(timeout=2) == {"type": "websocket.close", "code": 1009}
