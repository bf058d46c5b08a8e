"""Issue #12, finding 13: the banned-word filter normalises before matching, and each room's owner
keeps a list of their own (through the stream update API)."""

import pytest
from channels.db import database_sync_to_async

from livestream.models import ChatMessage, Stream
from tests.factories import MerchantFactory

from .conftest import drain, join, next_event, token_for

db = database_sync_to_async


async def _verdict(comm, text: str) -> str:
    await comm.send_json_to({"type": "chat.send", "text": text})
    event = await next_event(comm, None)
    while event["type"] not in ("chat.message", "error"):
        event = await next_event(comm, None)
    return event["code"] if event["type"] == "error" else "sent"


@pytest.mark.django_db(transaction=True)
async def test_disguised_platform_words_are_caught(live_stream, viewer, settings):
    settings.LIVE_CHAT_RATE_LIMIT = 50
    settings.LIVE_CHAT_BANNED_WORDS = ["加微信", "加v", "wx"]
    comm = await join(live_stream.pk, token=token_for(viewer))
    await drain(comm, quiet=0.2)
    disguised = [
        "加\u200b微信聊",        # zero-width space
        "加\u200d微\ufeff信",     # zero-width joiner, BOM
        "便宜，加Ｖ",             # full-width V
        "＋ｖ 加ｖ",              # full-width plus and letters
        "加 v",                  # a plain space
        "ＷＸ：abc",              # full-width, upper case
        "w\u2060x",              # word joiner
        "加\u202ev",             # a bidi override (format character)
    ]
    for text in disguised:
        assert await _verdict(comm, text) == "banned_word", text
    assert await _verdict(comm, "西红柿多少钱一斤") == "sent"
    assert await db(ChatMessage.objects.count)() == 1
    await comm.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_the_owner_sets_the_rooms_own_words(live_stream, owner, viewer, settings):
    from rest_framework.test import APIClient

    settings.LIVE_CHAT_RATE_LIMIT = 50

    def patch(user, body):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(user)}")
        return client.patch(f"/api/streams/{live_stream.pk}/", body, format="json")

    response = await db(patch)(owner, {"banned_words": ["拼多多", "  淘宝 ", "拼多多"]})
    assert response.status_code == 200, response.json()
    assert response.json()["banned_words"] == ["拼多多", "淘宝"]
    comm = await join(live_stream.pk, token=token_for(viewer))
    await drain(comm, quiet=0.2)
    assert await _verdict(comm, "去拼\u200b多多买更便宜") == "banned_word"
    assert await _verdict(comm, "淘 宝上有") == "banned_word"
    assert await _verdict(comm, "加微信") == "banned_word"  # the platform's list still applies
    assert await _verdict(comm, "好吃") == "sent"
    public = await db(lambda: APIClient().get(f"/api/streams/{live_stream.pk}/").json())()
    assert "banned_words" not in public  # viewers are not told what to work around
    await comm.disconnect()


@pytest.mark.django_db
@pytest.mark.parametrize("words", [["\u200b"], [""], ["x" * 51], ["ok"] * 101, "拼多多", [["nested"]], [None]])
def test_a_bad_list_is_refused_and_nothing_changes(client_for, owner, live_stream, words):
    response = client_for(owner).patch(f"/api/streams/{live_stream.pk}/", {"banned_words": words}, format="json")
    assert response.status_code == 400, response.json()
    assert "banned_words" in response.json()["error"]["fields"]
    assert Stream.objects.get(pk=live_stream.pk).banned_words == []


@pytest.mark.django_db
def test_another_merchant_cannot_set_the_words(client_for, live_stream):
    stranger = MerchantFactory().user
    response = client_for(stranger).patch(f"/api/streams/{live_stream.pk}/", {"banned_words": ["好"]}, format="json")
    assert response.status_code == 404, response.json()
    assert Stream.objects.get(pk=live_stream.pk).banned_words == []
