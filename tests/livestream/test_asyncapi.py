"""docs/asyncapi.yaml is the sockets' protocol: it validates with the AsyncAPI parser (npm), and the
consumers send and accept exactly the message types it describes, each frame matching its payload
schema (the live room and the notification socket, through the real ASGI application)."""

from __future__ import annotations

import asyncio
import subprocess
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest
import yaml
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from livestream import events, services
from livestream.consumers import LiveRoomConsumer
from livestream.models import Offer
from tests.factories import ConsumerFactory

from .conftest import buy, drain, join, next_event, token_for

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "asyncapi.yaml"
NODE_MODULES = ROOT / "clients" / "node_modules"
db = database_sync_to_async


def _document() -> dict:
    return yaml.safe_load(DOC.read_text(encoding="utf-8"))


def _inline(node, components: dict):
    if isinstance(node, dict):
        if set(node) == {"$ref"}:
            return _inline(components[node["$ref"].rsplit("/", 1)[1]], components)
        return {key: _inline(value, components) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(item, components) for item in node]
    return node


def _payloads(channel: str, action: str) -> dict[str, dict]:
    """``type`` → payload schema of the channel's messages in operations of ``action`` (send: the
    server sends them; receive: the server receives them)."""
    doc = _document()
    schemas, messages = doc["components"]["schemas"], doc["components"]["messages"]
    channel_messages = doc["channels"][channel]["messages"]
    found = {}
    for operation in doc["operations"].values():
        if operation["channel"]["$ref"] != f"#/channels/{channel}" or operation["action"] != action:
            continue
        for ref in operation["messages"]:
            message_ref = channel_messages[ref["$ref"].rsplit("/", 1)[1]]["$ref"]
            message = messages[message_ref.rsplit("/", 1)[1]]
            found[message["name"]] = _inline(message["payload"], schemas)
    return found


def _check(frames: list[dict], payloads: dict[str, dict]) -> set[str]:
    for frame in frames:
        assert frame["type"] in payloads, f"{frame['type']} is not in docs/asyncapi.yaml"
        jsonschema.validate(frame, payloads[frame["type"]], cls=jsonschema.Draft202012Validator,
                            format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    return {frame["type"] for frame in frames}


@pytest.mark.slow
@pytest.mark.skipif(not (NODE_MODULES / "@asyncapi" / "parser").exists(),
                    reason="clients/node_modules missing: bash scripts/node-tools.sh")
def test_the_document_validates_with_the_asyncapi_parser():
    run = subprocess.run(["node", "validate-asyncapi.mjs", str(DOC)], cwd=ROOT / "clients", capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "valid: 2 channels" in run.stdout


def test_the_client_messages_are_the_consumers():
    assert set(_payloads("liveRoom", "receive")) == set(LiveRoomConsumer.HANDLERS)
    assert set(_payloads("notifications", "receive")) == {"auth"}


@pytest.mark.django_db(transaction=True)
async def test_every_live_room_message_type_is_sent_as_documented(live_stream, product, owner, viewer, client_for,
                                                                  address, settings):
    sent, accepted = _payloads("liveRoom", "send"), _payloads("liveRoom", "receive")
    host = await join(live_stream.pk, token=token_for(owner))
    fan = await join(live_stream.pk)
    frames = await drain(host, quiet=0.2) + await drain(fan, quiet=0.2)

    client_messages = [{"type": "auth", "token": token_for(viewer)}, {"type": "chat.send", "text": "多少钱一斤？"}]
    for message in client_messages:
        jsonschema.validate(message, accepted[message["type"]])
        await fan.send_json_to(message)
    line = await next_event(host, "chat.message")
    frames.append(line)
    for message in ({"type": "chat.mute", "user": viewer.pk}, {"type": "chat.unmute", "user": viewer.pk},
                    {"type": "chat.delete", "id": line["id"]}):
        jsonschema.validate(message, accepted[message["type"]])
        await host.send_json_to(message)
    frames.append(await next_event(host, "chat.deleted"))
    await fan.send_json_to({"type": "no.such.type"})
    frames.append(await next_event(fan, "error"))

    client = client_for(owner)
    assert (await db(client.post)(f"/api/streams/{live_stream.pk}/pin/", {"product": product.pk})).status_code == 200
    response = await db(client.post)(f"/api/streams/{live_stream.pk}/offers/", {
        "product": product.pk, "price": "9.90", "quantity": 2, "per_buyer_limit": 2, "duration_s": 60})
    assert response.status_code == 201, response.json()
    offer = await db(Offer.objects.get)(pk=response.json()["id"])
    buyer = await db(lambda: client_for(ConsumerFactory(last_name="王")))()
    assert (await db(buy)(buyer, address, product, 2, stream=live_stream, offer=offer, pay=True)).status_code == 201
    await db(events.sale_made)(stream_id=live_stream.pk, product_id=product.pk, quantity=1, buyer_masked="王**")
    await db(services.offer_start)(stream_id=live_stream.pk, actor=owner, product_id=product.pk,
                                   price=Decimal("8.00"), quantity=5, duration_s=30)
    await asyncio.sleep(1.2)  # the viewer count is coalesced to about once a second
    await db(services.stream_end)(stream_id=live_stream.pk, actor=owner)
    frames += await drain(host, quiet=0.5)

    seen = _check(frames, sent)
    assert seen == set(sent), f"never sent: {set(sent) - seen}"
    await host.disconnect()
    await fan.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_every_notification_socket_message_type_is_sent_as_documented():
    from marketplace.asgi import application
    from notifications.services import notify
    from notifications.services.outbox import outbox_drain

    sent, accepted = _payloads("notifications", "send"), _payloads("notifications", "receive")
    me = await db(ConsumerFactory)()
    socket = WebsocketCommunicator(application, "/ws/notifications/", headers=[(b"origin", b"http://testserver")])
    assert (await socket.connect())[0]
    signed_in = {"type": "auth", "token": token_for(me)}
    jsonschema.validate(signed_in, accepted["auth"])
    await socket.send_json_to(signed_in)
    frames = [await socket.receive_json_from(timeout=5)]

    def push():
        notify(user=me, kind="shipment.picked_up", params={"order": 1, "shop": "合作社", "hub": "服务点"})
        outbox_drain(channel="push")

    await db(push)()
    frames.append(await socket.receive_json_from(timeout=5))
    await socket.send_json_to({"type": "chat.send", "text": "hello"})
    frames.append(await socket.receive_json_from(timeout=5))
    assert _check(frames, sent) == set(sent)
    await socket.disconnect()
