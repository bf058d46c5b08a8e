"""Shipping a paid sub-order, its route, tracking, and every way a ship request is refused."""

import datetime

import pytest
from django.utils import timezone

from logistics.models import Hub, Shipment
from notifications.models import Delivery, Notification
from orders.models import MerchantOrder, MerchantOrderEvent
from tests.factories import ConsumerFactory, MerchantFactory

pytestmark = pytest.mark.django_db


def route_hubs(body):
    return [(stop["hub"]["kind"], stop["arrival_status"], stop["leg"]) for stop in body["route"]]


def test_ship_creates_a_shipment_routed_through_the_county(net, order_to, ship, client_for):
    merchant_order = order_to(net.dest)
    body = ship(merchant_order, weight="3.20", parcels=2)

    assert body["status"] == "created" and body["merchant_order"] == merchant_order.pk
    assert body["parcel_count"] == 2 and body["weight_kg"] == "3.20"
    assert route_hubs(body) == [
        ("village_point", "picked_up", "pickup"),
        ("township_station", "picked_up", "first_mile"),
        ("county_centre", "at_county_centre", "to_county_centre"),
        ("township_station", "at_township_station", "to_township_station"),
        ("village_point", "delivered", "last_mile"),
    ]
    assert [s["hub"]["id"] for s in body["route"]] == [
        net.a.point(net.home).pk, net.a.station(net.t1).pk, net.a.centre.pk, net.a.station(net.t2).pk,
        net.a.point(net.dest).pk]
    assert body["next_hub"]["id"] == net.a.point(net.home).pk and body["current_hub"] is None
    assert body["carrier"] == "" and body["tracking_number"] == ""
    assert body["pickup_code"] is None  # the merchant never sees it
    assert [e["status"] for e in body["events"]] == ["created"]

    merchant_order.refresh_from_db()
    assert merchant_order.status == MerchantOrder.Status.SHIPPED and merchant_order.shipped_at
    assert MerchantOrderEvent.objects.filter(merchant_order=merchant_order, to_status="shipped").count() == 1

    # Expected delivery: the sum of every leg's target time (normal goods: 24+12+12+12+24 h).
    created = datetime.datetime.fromisoformat(body["created_at"])
    expected = datetime.datetime.fromisoformat(body["expected_delivery_at"])
    assert abs((expected - created) - datetime.timedelta(hours=84)) < datetime.timedelta(minutes=1)

    # The buyer is told, in the outbox, in their language (English here).
    notice = Notification.objects.get(user=net.buyer)
    assert notice.kind == "shipment.created" and notice.title == f"Order #{merchant_order.order_id} has shipped"
    assert set(Delivery.objects.filter(notification=notice).values_list("channel", flat=True)) == {"push", "sms"}


def test_buyer_alone_sees_the_pickup_code(net, order_to, ship, client_for):
    body = ship(order_to())
    shipment = Shipment.objects.get(pk=body["id"])
    mine = client_for(net.buyer).get(f"/api/shipments/{body['id']}/").json()
    assert mine["pickup_code"] == shipment.pickup_code and len(shipment.pickup_code) == 6
    assert shipment.pickup_code.isdigit()
    for viewer in (net.merchant.user, net.op_a):
        seen = client_for(viewer).get(f"/api/shipments/{body['id']}/")
        assert seen.status_code == 200 and seen.json()["pickup_code"] is None


def test_strangers_get_404(net, order_to, ship, client_for):
    body = ship(order_to())
    for stranger in (ConsumerFactory(), MerchantFactory().user, net.op_b):
        assert client_for(stranger).get(f"/api/shipments/{body['id']}/").status_code == 404
    assert client_for(None).get(f"/api/shipments/{body['id']}/").status_code == 401


def test_inter_county_route_hands_over_to_a_carrier(net, order_to, ship, client_for, settings):
    body = ship(order_to(net.far))
    b_township = net.b.townships[0]
    assert [s["hub"]["id"] for s in body["route"]] == [
        net.a.point(net.home).pk, net.a.station(net.t1).pk, net.a.centre.pk, net.b.centre.pk,
        net.b.station(b_township).pk, net.b.point(net.far).pk]
    assert body["route"][3]["leg"] == "inter_county" and body["route"][3]["arrival_status"] == "at_county_centre"
    assert body["carrier"] == settings.LOGISTICS_INTER_COUNTY_CARRIER
    assert body["tracking_number"] == f"CB{body['id']:010d}"
    # Both counties' operators may follow it.
    assert client_for(net.op_b).get(f"/api/shipments/{body['id']}/").status_code == 200


def test_perishable_and_cold_chain_come_from_the_products(net, order_to, ship):
    plain = ship(order_to())
    fresh = ship(order_to(perishable=True))
    cold = ship(order_to(cold=True))
    assert (plain["perishable"], plain["cold_chain"]) == (False, False)
    assert (fresh["perishable"], fresh["cold_chain"]) == (True, False)
    assert (cold["perishable"], cold["cold_chain"]) == (True, True)
    # Perishables get the shorter targets: 6+4+4+4+8 h.
    created = datetime.datetime.fromisoformat(fresh["created_at"])
    expected = datetime.datetime.fromisoformat(fresh["expected_delivery_at"])
    assert abs((expected - created) - datetime.timedelta(hours=26)) < datetime.timedelta(minutes=1)


@pytest.mark.parametrize("status", ["pending_payment", "cancelled", "refunded"])
def test_only_a_paid_order_ships(net, order_to, client_for, status):
    merchant_order = order_to(status=status)
    response = client_for(net.merchant.user).post(f"/api/merchant-orders/{merchant_order.pk}/ship/",
                                                  {"weight_kg": "1.00"}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_paid"
    merchant_order.refresh_from_db()
    assert merchant_order.status == status
    assert not Shipment.objects.exists() and not Notification.objects.exists()


def test_shipping_twice_is_refused_and_a_replayed_key_returns_the_first(net, order_to, client_for):
    merchant_order = order_to()
    client = client_for(net.merchant.user)
    url = f"/api/merchant-orders/{merchant_order.pk}/ship/"
    first = client.post(url, {"weight_kg": "1.00"}, format="json", HTTP_IDEMPOTENCY_KEY="ship-1")
    replay = client.post(url, {"weight_kg": "1.00"}, format="json", HTTP_IDEMPOTENCY_KEY="ship-1")
    again = client.post(url, {"weight_kg": "1.00"}, format="json")
    assert first.status_code == 201 and replay.status_code == 201 and replay.json()["id"] == first.json()["id"]
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_shipped"
    assert Shipment.objects.count() == 1


def test_foreign_or_unknown_orders_answer_404(net, order_to, client_for):
    merchant_order = order_to()
    other_shop = MerchantFactory(village=net.home)
    for user in (other_shop.user, net.buyer, net.op_a):
        response = client_for(user).post(f"/api/merchant-orders/{merchant_order.pk}/ship/", {"weight_kg": "1.00"},
                                         format="json")
        assert response.status_code == 404, user
    assert client_for(net.merchant.user).post("/api/merchant-orders/999999/ship/", {"weight_kg": "1"},
                                              format="json").status_code == 404
    merchant_order.refresh_from_db()
    assert merchant_order.status == "paid" and not Shipment.objects.exists()


@pytest.mark.parametrize("body", [{}, {"weight_kg": "0"}, {"weight_kg": "-1"}, {"weight_kg": "abc"},
                                  {"weight_kg": "1.00", "parcel_count": 0}])
def test_bad_parcels_answer_400(net, order_to, client_for, body):
    merchant_order = order_to()
    response = client_for(net.merchant.user).post(f"/api/merchant-orders/{merchant_order.pk}/ship/", body,
                                                  format="json")
    assert response.status_code == 400 and response.json()["error"]["fields"]
    assert not Shipment.objects.exists()


def test_a_village_without_a_service_point_cannot_be_routed(net, order_to, client_for):
    Hub.objects.filter(region=net.dest).update(is_active=False)
    merchant_order = order_to(net.dest)
    response = client_for(net.merchant.user).post(f"/api/merchant-orders/{merchant_order.pk}/ship/",
                                                  {"weight_kg": "1.00"}, format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "route_unavailable"
    assert net.dest.name in response.json()["error"]["message"]
    merchant_order.refresh_from_db()
    assert merchant_order.status == "paid" and not Shipment.objects.exists()


def test_tracking_shows_the_expected_delivery_and_current_hub_after_a_scan(net, order_to, ship, scan, client_for):
    body = ship(order_to())
    assert scan(net.op_a, body["id"], "picked_up").status_code == 201
    tracked = client_for(net.buyer).get(f"/api/shipments/{body['id']}/").json()
    assert tracked["status"] == "picked_up"
    assert tracked["current_hub"]["id"] == net.a.point(net.home).pk
    assert tracked["next_hub"]["id"] == net.a.station(net.t1).pk
    assert [e["status"] for e in tracked["events"]] == ["created", "picked_up"]
    assert tracked["events"][1]["actor"] == {"role": "operator", "name": "李**"}
    assert timezone.now() < datetime.datetime.fromisoformat(tracked["expected_delivery_at"])


def test_tracking_costs_a_fixed_number_of_queries(net, order_to, ship, scan, client_for,
                                                    django_assert_max_num_queries):
    shipment_id = ship(order_to())["id"]
    client = client_for(net.buyer)
    with django_assert_max_num_queries(5):  # user, shipment, events, stops
        client.get(f"/api/shipments/{shipment_id}/")
    for status, extra in [("picked_up", {}), ("picked_up", {"hub": net.a.station(net.t1).pk}),
                          ("at_county_centre", {})]:
        scan(net.op_a, shipment_id, status, **extra)
    with django_assert_max_num_queries(5):
        body = client.get(f"/api/shipments/{shipment_id}/").json()
    assert len(body["events"]) == 4
