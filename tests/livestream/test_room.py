"""The live room socket through the real ASGI application on the channels-redis setup."""

import asyncio
import datetime
import json
from decimal import Decimal

import pytest
from channels.db import database_sync_to_async
from django.db import transaction
from django.utils import timezone

from livestream import services
from livestream.models import ChatMessage, ChatMute, Offer, Stream

from .conftest import buy, drain, join, next_event, room, token_for

pytestmark = [pytest.mark.django_db(transaction=True)]
db = database_sync_to_async


async def test_anyone_may_watch_and_gets_the_room_state(live_stream, product, owner):
    await db(services.stream_pin)(stream_id=live_stream.pk, actor=owner, product_id=product.pk)
    offer = await db(services.offer_start)(stream_id=live_stream.pk, actor=owner, product_id=product.pk,
                                           price=Decimal("9.90"), quantity=10, duration_s=60)
    comm = await join(live_stream.pk)
    events = await drain(comm)
    assert events[0] == {"type": "stream.status", "status": "live"}
    assert events[1]["type"] == "product.pinned" and events[1]["product"] == product.pk
    assert events[2]["type"] == "offer.started"
    assert (events[2]["offer"], events[2]["remaining"], events[2]["price"]) == (offer.pk, 10, "9.90")
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
        assert event["at"].endswith("+08:00")  # the API's convention: local time (TIME_ZONE) with its offset
    stored = await db(lambda: list(ChatMessage.objects.values_list("text", flat=True)))()
    assert stored == ["多少钱一斤？"]
    await alice.disconnect()
    await bob.disconnect()


async def _refused(comm, message: dict, code: str):
    await comm.send_json_to(message)
    error = await next_event(comm, "error")
    assert error["code"] == code, error
    assert error["message"]
    return error


async def test_every_chat_refusal_answers_an_error_and_keeps_the_socket(live_stream, viewer, settings):
    settings.LIVE_CHAT_RATE_LIMIT = 2
    anonymous = await join(live_stream.pk)
    await _refused(anonymous, {"type": "chat.send", "text": "hi"}, "not_authenticated")

    comm = await join(live_stream.pk, token=token_for(viewer))
    await _refused(comm, {"type": "chat.send", "text": "x" * 201}, "too_long")
    await _refused(comm, {"type": "chat.send", "text": "   "}, "empty")
    await _refused(comm, {"type": "chat.send"}, "empty")
    await _refused(comm, {"type": "chat.send", "text": "便宜点，加微信聊"}, "banned_word")
    comm_raw = comm
    await comm_raw.send_to(text_data="{not json")
    assert (await next_event(comm, "error"))["code"] == "malformed"
    await comm_raw.send_to(text_data="[1, 2]")
    assert (await next_event(comm, "error"))["code"] == "malformed"
    await _refused(comm, {"type": "dance"}, "unknown_type")
    await _refused(comm, {"type": "chat.delete", "id": 1}, "forbidden")
    await comm.send_json_to({"type": "chat.send", "text": "x" * 200})  # exactly the limit is fine
    await comm.send_json_to({"type": "chat.send", "text": "second"})
    assert (await next_event(comm, "chat.message"))["text"] == "x" * 200
    assert (await next_event(comm, "chat.message"))["text"] == "second"
    await _refused(comm, {"type": "chat.send", "text": "third"}, "rate_limited")
    assert await db(ChatMessage.objects.count)() == 2
    await anonymous.disconnect()
    await comm.disconnect()


async def test_errors_speak_the_client_language(live_stream):
    comm = await join(live_stream.pk, language="en-US,en;q=0.9")
    error = await _refused(comm, {"type": "chat.send", "text": "hi"}, "not_authenticated")
    assert error["message"] == "Sign in to chat."
    await comm.disconnect()


async def test_a_bad_or_expired_token_may_watch_but_not_chat_until_it_signs_in(live_stream, viewer):
    from rest_framework_simplejwt.tokens import AccessToken

    expired = AccessToken.for_user(viewer)
    expired.set_exp(from_time=timezone.now() - datetime.timedelta(hours=1))
    for token in ("garbage", str(expired)):
        comm = await join(live_stream.pk, token=token)
        assert (await next_event(comm))["type"] == "stream.status"
        await _refused(comm, {"type": "chat.send", "text": "hi"}, "not_authenticated")
        await _refused(comm, {"type": "auth", "token": "still-garbage"}, "not_authenticated")
        await comm.send_json_to({"type": "auth", "token": token_for(viewer)})
        await comm.send_json_to({"type": "chat.send", "text": "now I can"})
        assert (await next_event(comm, "chat.message"))["user"]["id"] == viewer.pk
        await comm.disconnect()


async def test_muted_users_and_closed_rooms_are_refused(live_stream, viewer, owner):
    await db(services.chat_mute)(stream_id=live_stream.pk, user_id=viewer.pk, actor=owner)
    comm = await join(live_stream.pk, token=token_for(viewer))
    await _refused(comm, {"type": "chat.send", "text": "hello"}, "muted")
    await db(services.chat_unmute)(stream_id=live_stream.pk, user_id=viewer.pk, actor=owner)
    await db(services.stream_end)(stream_id=live_stream.pk, actor=owner)
    assert (await next_event(comm, "stream.status"))["status"] == "ended"
    await _refused(comm, {"type": "chat.send", "text": "hello"}, "chat_closed")
    await comm.disconnect()


async def test_an_oversized_frame_closes_the_socket(live_stream, settings):
    comm = await join(live_stream.pk)
    await drain(comm, quiet=0.2)
    await comm.send_to(text_data=json.dumps({"type": "chat.send", "text": "长" * 2000}))
    assert (await next_event(comm, "error"))["code"] == "too_large"
    closed = await comm.receive_output(timeout=2)
    assert closed == {"type": "websocket.close", "code": 1009}


async def test_origin_is_checked_against_allowed_hosts(live_stream):
    comm = room(live_stream.pk, origin="http://evil.example")
    connected, _ = await comm.connect()
    assert not connected
    # a browser's own origin, and a native client that sends none (browsers always send one)
    for origin in ("http://localhost:8000", None):
        comm = room(live_stream.pk, origin=origin)
        assert (await comm.connect())[0]
        await comm.disconnect()


async def test_an_unknown_stream_says_so_and_closes(db_ready=None):
    comm = await join(999999)
    assert (await next_event(comm, "error"))["code"] == "not_found"
    assert await comm.receive_output(timeout=2) == {"type": "websocket.close", "code": 4404}


async def test_the_owner_mutes_and_deletes_from_the_socket(live_stream, viewer, owner):
    host = await join(live_stream.pk, token=token_for(owner))
    fan = await join(live_stream.pk, token=token_for(viewer))
    await fan.send_json_to({"type": "chat.send", "text": "rude words"})
    line = await next_event(host, "chat.message")
    await next_event(fan, "chat.message")
    await host.send_json_to({"type": "chat.delete", "id": line["id"]})
    for comm in (host, fan):
        assert await next_event(comm, "chat.deleted") == {"type": "chat.deleted", "id": line["id"]}
    await host.send_json_to({"type": "chat.mute", "user": viewer.pk})
    await asyncio.sleep(0.2)
    assert await db(ChatMute.objects.filter(stream=live_stream, user=viewer).exists)()
    await _refused(fan, {"type": "chat.send", "text": "again"}, "muted")
    await _refused(fan, {"type": "chat.mute", "user": owner.pk}, "forbidden")
    await _refused(host, {"type": "chat.mute", "user": "x"}, "malformed")
    await _refused(host, {"type": "chat.delete", "id": 123456}, "not_found")
    await host.send_json_to({"type": "chat.unmute", "user": viewer.pk})
    await asyncio.sleep(0.2)
    await fan.send_json_to({"type": "chat.send", "text": "sorry"})
    assert (await next_event(host, "chat.message"))["text"] == "sorry"
    assert await db(lambda: ChatMessage.objects.get(pk=line["id"]).deleted)()
    await host.disconnect()
    await fan.disconnect()


async def test_pin_and_an_offer_from_start_to_sold_out(live_stream, product, owner, client_for, address):
    from tests.factories import ConsumerFactory

    comm = await join(live_stream.pk)
    await drain(comm, quiet=0.2)
    client = client_for(owner)
    response = await db(client.post)(f"/api/streams/{live_stream.pk}/pin/", {"product": product.pk}, format="json")
    assert response.status_code == 200
    pinned = await next_event(comm, "product.pinned")
    assert (pinned["product"], pinned["title"], pinned["price"]) == (product.pk, product.title, "12.50")

    response = await db(client.post)(f"/api/streams/{live_stream.pk}/offers/", {
        "product": product.pk, "price": "9.90", "quantity": 3, "per_buyer_limit": 2, "duration_s": 60,
    }, format="json")
    assert response.status_code == 201, response.json()
    offer = await db(Offer.objects.get)(pk=response.json()["id"])
    started = await next_event(comm, "offer.started")
    assert (started["offer"], started["remaining"], started["quantity"]) == (offer.pk, 3, 3)

    # Real checkouts (the orders app) sell the offer's units; the room hears each one after commit.
    first, second = await db(lambda: [client_for(ConsumerFactory(last_name="王")) for _ in range(2)])()
    assert (await db(buy)(first, address, product, 2, stream=live_stream, offer=offer, pay=True)).status_code == 201
    assert await next_event(comm, "offer.updated") == {"type": "offer.updated", "offer": offer.pk, "remaining": 1}
    assert (await next_event(comm, "sale.made"))["quantity"] == 2  # once paid
    assert (await db(buy)(second, address, product, 1, stream=live_stream, offer=offer)).status_code == 201
    assert (await next_event(comm, "offer.updated"))["remaining"] == 0
    assert await next_event(comm, "offer.ended") == {"type": "offer.ended", "offer": offer.pk, "remaining": 0,
                                                     "reason": "sold_out"}
    late = await db(buy)(second, address, product, 1, stream=live_stream, offer=offer)
    assert late.status_code == 409
    await comm.disconnect()


async def test_offers_end_by_expiry_and_with_the_stream(live_stream, product, owner):
    comm = await join(live_stream.pk)
    await drain(comm, quiet=0.2)
    offer = await db(services.offer_start)(stream_id=live_stream.pk, actor=owner, product_id=product.pk,
                                           price=Decimal("9.90"), quantity=10, duration_s=30)
    await next_event(comm, "offer.started")
    await db(lambda: Offer.objects.filter(pk=offer.pk).update(ends_at=timezone.now()))()
    assert await db(services.offers_expire_due)() == 1
    assert await next_event(comm, "offer.ended") == {"type": "offer.ended", "offer": offer.pk, "remaining": 10,
                                                     "reason": "expired"}
    second = await db(services.offer_start)(stream_id=live_stream.pk, actor=owner, product_id=product.pk,
                                            price=Decimal("8.00"), quantity=5, duration_s=30)
    await next_event(comm, "offer.started")
    await db(services.stream_end)(stream_id=live_stream.pk, actor=owner)
    events = await drain(comm)
    assert {"type": "offer.ended", "offer": second.pk, "remaining": 5, "reason": "stream_ended"} in events
    assert {"type": "stream.status", "status": "ended"} in events
    await comm.disconnect()


async def test_sale_made_from_the_orders_side_reaches_the_room(live_stream, product):
    from livestream import events

    comm = await join(live_stream.pk)
    await drain(comm, quiet=0.2)
    await db(events.sale_made)(stream_id=live_stream.pk, product_id=product.pk, quantity=2, buyer_masked="王**")
    assert await next_event(comm, "sale.made") == {"type": "sale.made", "product": product.pk, "quantity": 2,
                                                   "buyer": "王**"}
    await comm.disconnect()


async def test_nothing_is_sent_when_the_transaction_rolls_back(live_stream, product, owner):
    comm = await join(live_stream.pk)
    await drain(comm, quiet=0.2)

    def pin_then_fail():
        with transaction.atomic():
            services.stream_pin(stream_id=live_stream.pk, actor=owner, product_id=product.pk)
            services.chat_send(stream_id=live_stream.pk, user=owner, text="never seen")
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        await db(pin_then_fail)()
    assert [e for e in await drain(comm, quiet=0.8) if e["type"] != "stream.viewers"] == []
    assert await db(lambda: Stream.objects.get(pk=live_stream.pk).pinned_product_id)() is None
    await comm.disconnect()


async def test_viewer_counts_are_coalesced_and_the_peak_recorded(live_stream):
    first = await join(live_stream.pk)
    others = [await join(live_stream.pk) for _ in range(4)]
    counts = [e["count"] for e in await drain(first, quiet=1.6) if e["type"] == "stream.viewers"]
    # Five joins within a fraction of a second: at most one broadcast per second, ending on 5.
    assert counts and counts[-1] == 5 and len(counts) <= 2, counts
    assert await db(lambda: Stream.objects.get(pk=live_stream.pk).peak_viewers)() == 5
    for comm in others[:3]:
        await comm.disconnect()
    assert (await next_event(first, "stream.viewers", timeout=3))["count"] == 2
    assert await db(lambda: Stream.objects.get(pk=live_stream.pk).peak_viewers)() == 5
    await first.disconnect()
    await others[3].disconnect()


async def test_the_layer_fan_out_delivers_the_same_events(live_stream, viewer, settings):
    settings.LIVE_ROOM_FANOUT = "layer"
    alice = await join(live_stream.pk, token=token_for(viewer))
    bob = await join(live_stream.pk)
    await alice.send_json_to({"type": "chat.send", "text": "via the layer"})
    for comm in (alice, bob):
        assert (await next_event(comm, "chat.message"))["text"] == "via the layer"
    await alice.disconnect()
    await bob.disconnect()


async def test_lines_sent_back_to_back_arrive_in_order(live_stream, viewer, settings):
    settings.LIVE_CHAT_RATE_LIMIT = 100
    sender = await join(live_stream.pk, token=token_for(viewer))
    watcher = await join(live_stream.pk)
    for i in range(15):  # without waiting: several lines in flight through the chat writer
        await sender.send_json_to({"type": "chat.send", "text": f"line {i}"})
    texts = [(await next_event(watcher, "chat.message"))["text"] for _ in range(15)]
    assert texts == [f"line {i}" for i in range(15)]
    ids = await db(lambda: list(ChatMessage.objects.order_by("pk").values_list("text", flat=True)))()
    assert ids == texts
    await sender.disconnect()
    await watcher.disconnect()
