"""Done when: a parcel walks the whole route with a real worker telling each step once."""

import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from rest_framework_simplejwt.tokens import AccessToken

from logistics.models import Shipment
from marketplace.asgi import application
from notifications.models import Delivery
from tests.notifications.worker import Worker, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

BUYER_KINDS = ["shipment.created", "shipment.picked_up", "shipment.in_transit", "shipment.at_county_centre",
               "shipment.at_township_station", "shipment.out_for_delivery", "shipment.delivered"]


async def test_a_parcel_walks_the_route_and_every_notice_arrives_once(net, order_to, client_for, tmp_path):
    spool = tmp_path / "sms.jsonl"
    worker = Worker(tmp_path, sms_file=spool)
    await sync_to_async(worker.start)()
    socket = WebsocketCommunicator(application, f"/ws/notifications/?token={AccessToken.for_user(net.buyer)}",
                                   headers=[(b"origin", b"http://testserver")])
    try:
        assert (await socket.connect())[0]
        assert await socket.receive_json_from(timeout=5) == {"type": "notifications.unread", "count": 0}

        @sync_to_async
        def walk():
            merchant_order = order_to()
            shipped = client_for(net.merchant.user).post(f"/api/merchant-orders/{merchant_order.pk}/ship/",
                                                         {"weight_kg": "2.00"}, format="json")
            assert shipped.status_code == 201, shipped.json()
            shipment_id = shipped.json()["id"]
            code = client_for(net.buyer).get(f"/api/shipments/{shipment_id}/").json()["pickup_code"]
            steps = [("picked_up", {}), ("picked_up", {"hub": net.a.station(net.t1).pk}), ("at_county_centre", {}),
                     ("at_township_station", {}), ("out_for_delivery", {}), ("delivered", {"pickup_code": code})]
            for status, extra in steps:
                response = client_for(net.courier.user).post(f"/api/shipments/{shipment_id}/events/",
                                                             {"status": status, **extra}, format="json")
                assert response.status_code == 201, (status, response.json())
            return shipment_id

        shipment_id = await walk()
        pushed = [await socket.receive_json_from(timeout=30) for _ in BUYER_KINDS]
        # Each once; parallel worker processes may interleave them, so clients order by id.
        assert [event["kind"] for event in sorted(pushed, key=lambda e: e["id"])] == BUYER_KINDS
        assert len({event["id"] for event in pushed}) == len(BUYER_KINDS)
        assert await socket.receive_nothing(timeout=1)

        @sync_to_async
        def settled():
            wait_until(lambda: Delivery.objects.count() == 18
                       and not Delivery.objects.filter(state__in=["pending", "sending"]).exists(),
                       timeout=60, message="outbox not drained")
            pushes = dict(Delivery.objects.filter(channel="push").values_list("notification__user_id", "state")
                          .distinct())
            assert pushes == {net.buyer.pk: "sent", net.merchant.user_id: "skipped"}  # the merchant has no socket open
            assert set(Delivery.objects.filter(channel="sms").values_list("state", flat=True)) == {"sent"}
            shipment = Shipment.objects.select_related("merchant_order").get(pk=shipment_id)
            return (shipment,
                    client_for(net.buyer).get("/api/notifications/").json(),
                    set(map(str, Delivery.objects.filter(channel="sms").values_list("key", flat=True))))

        shipment, inbox, sms_keys = await settled()
    finally:
        await socket.disconnect()
        await sync_to_async(worker.stop)()

    assert shipment.status == "delivered" and shipment.merchant_order.status == "delivered"
    assert inbox["count"] == 7 and inbox["unread_count"] == 7
    assert [n["kind"] for n in inbox["results"]] == BUYER_KINDS[::-1]
    assert {n["id"] for n in inbox["results"]} == {event["id"] for event in pushed}
    lines = [json.loads(line) for line in spool.read_text(encoding="utf-8").splitlines()]
    assert sorted(line["key"] for line in lines) == sorted(sms_keys) and len(lines) == 9  # 7 buyer + 2 merchant
    assert {line["phone"] for line in lines} == {net.buyer.phone, net.merchant.user.phone}
    out = next(line for line in lines if "Pickup code" in line["text"])
    assert shipment.pickup_code in out["text"]
