"""Scans: the parcel walks its route one hub at a time; everything out of order is refused."""

import pytest
import time_machine
from django.utils import timezone

from logistics.models import Shipment, ShipmentEvent
from notifications.models import Notification
from orders.models import MerchantOrder, Order
from payments.models import Refund
from tests.factories import AdminFactory, OperatorFactory

pytestmark = pytest.mark.django_db


def walk_to(net, scan, shipment_id, last: str, *, operator=None):
    """Scan a shipment of net (A → A) up to and including ``last``."""
    steps = ["picked_up", "picked_up", "at_county_centre", "at_township_station", "out_for_delivery"]
    for i, status in enumerate(steps):
        hub = {"hub": net.a.station(net.t1).pk} if i == 1 else {}
        response = scan(operator or net.op_a, shipment_id, status, **hub)
        assert response.status_code == 201, (status, response.json())
        if status == last and (last != "picked_up" or i == 1):
            return response.json()
    raise AssertionError(last)


def test_a_parcel_walks_the_whole_route(net, order_to, ship, scan, client_for):
    merchant_order = order_to()
    shipment_id = ship(merchant_order)["id"]
    code = Shipment.objects.get(pk=shipment_id).pickup_code
    walk_to(net, scan, shipment_id, "out_for_delivery")
    done = scan(net.courier.user, shipment_id, "delivered", pickup_code=code, note="本人签收")
    assert done.status_code == 201, done.json()
    body = done.json()
    assert body["status"] == "delivered" and body["current_hub"]["id"] == net.a.point(net.dest).pk
    assert body["next_hub"] is None and body["expected_delivery_at"] is None and body["delivered_at"]
    assert [(e["status"], e["hub"]["id"] if e["hub"] else None) for e in body["events"]] == [
        ("created", None),
        ("picked_up", net.a.point(net.home).pk),
        ("picked_up", net.a.station(net.t1).pk),
        ("at_county_centre", net.a.centre.pk),
        ("at_township_station", net.a.station(net.t2).pk),
        ("out_for_delivery", net.a.station(net.t2).pk),
        ("delivered", net.a.point(net.dest).pk),
    ]
    assert all(stop["arrived_at"] for stop in body["route"])
    merchant_order.refresh_from_db()
    assert merchant_order.status == MerchantOrder.Status.DELIVERED and merchant_order.delivered_at

    buyer_kinds = list(Notification.objects.filter(user=net.buyer).order_by("pk").values_list("kind", flat=True))
    assert buyer_kinds == ["shipment.created", "shipment.picked_up", "shipment.in_transit", "shipment.at_county_centre",
                           "shipment.at_township_station", "shipment.out_for_delivery", "shipment.delivered"]
    merchant_kinds = set(Notification.objects.filter(user=net.merchant.user).values_list("kind", flat=True))
    assert merchant_kinds == {"shipment.merchant.picked_up", "shipment.merchant.delivered"}
    out = Notification.objects.get(user=net.buyer, kind="shipment.out_for_delivery")
    assert code in out.body and out.params["code"] == code
    # Once delivered the code is no longer shown.
    assert client_for(net.buyer).get(f"/api/shipments/{shipment_id}/").json()["pickup_code"] is None


def test_an_inter_county_parcel_is_scanned_by_each_county_at_its_own_hubs(net, order_to, ship, scan):
    shipment_id = ship(order_to(net.far))["id"]
    assert scan(net.op_a, shipment_id, "picked_up").status_code == 201
    assert scan(net.op_a, shipment_id, "picked_up", hub=net.a.station(net.t1).pk).status_code == 201
    assert scan(net.op_a, shipment_id, "at_county_centre").status_code == 201
    # A cannot scan the arrival at B's centre; B can.
    refused = scan(net.op_a, shipment_id, "at_county_centre", hub=net.b.centre.pk)
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "hub_outside_county"
    assert scan(net.op_b, shipment_id, "at_county_centre", hub=net.b.centre.pk).status_code == 201
    assert scan(net.op_b, shipment_id, "at_township_station").status_code == 201
    assert Shipment.objects.get(pk=shipment_id).current_hub == net.b.station(net.b.townships[0])


@pytest.mark.parametrize("status", ["at_county_centre", "at_township_station", "out_for_delivery", "delivered",
                                    "returned"])
def test_skipping_statuses_answers_409(net, order_to, ship, scan, status):
    shipment_id = ship(order_to())["id"]
    response = scan(net.op_a, shipment_id, status, pickup_code="000000", reason="refused")
    assert response.status_code == 409, response.json()
    assert response.json()["error"]["code"] in ("invalid_transition", "off_route")
    assert Shipment.objects.get(pk=shipment_id).status == "created"
    assert ShipmentEvent.objects.filter(shipment_id=shipment_id).count() == 1


def test_skipping_the_origin_station_is_off_route(net, order_to, ship, scan):
    shipment_id = ship(order_to())["id"]
    scan(net.op_a, shipment_id, "picked_up")
    response = scan(net.op_a, shipment_id, "at_county_centre")
    assert response.status_code == 409 and response.json()["error"]["code"] == "off_route"
    assert net.a.station(net.t1).name in response.json()["error"]["message"]


def test_a_scan_at_the_wrong_hub_is_off_route(net, order_to, ship, scan):
    shipment_id = ship(order_to())["id"]
    other_point = net.a.point(net.a.villages[net.t1.pk][1])
    response = scan(net.op_a, shipment_id, "picked_up", hub=other_point.pk)
    assert response.status_code == 409 and response.json()["error"]["code"] == "off_route"
    assert Shipment.objects.get(pk=shipment_id).status == "created"


def test_operators_of_another_county_cannot_touch_it(net, order_to, ship, scan):
    shipment_id = ship(order_to())["id"]
    response = scan(net.op_b, shipment_id, "picked_up")
    assert response.status_code == 404
    # nor by naming one of their own hubs
    response = scan(net.op_b, shipment_id, "picked_up", hub=net.b.centre.pk)
    assert response.status_code == 404
    assert Shipment.objects.get(pk=shipment_id).status == "created"


def test_naming_another_countys_hub_answers_400(net, order_to, ship, scan):
    shipment_id = ship(order_to(net.far))["id"]  # passes through both counties
    response = scan(net.op_b, shipment_id, "picked_up", hub=net.a.point(net.home).pk)
    assert response.status_code == 400 and response.json()["error"]["code"] == "hub_outside_county"
    assert Shipment.objects.get(pk=shipment_id).status == "created"


def test_buyers_and_merchants_cannot_scan(net, order_to, ship, scan):
    shipment_id = ship(order_to())["id"]
    for user in (net.buyer, net.merchant.user):
        assert scan(user, shipment_id, "picked_up").status_code == 404
    assert Shipment.objects.get(pk=shipment_id).status == "created"


def test_admins_scan_anywhere(net, order_to, ship, scan):
    shipment_id = ship(order_to())["id"]
    assert scan(AdminFactory(), shipment_id, "picked_up").status_code == 201


def test_wrong_pickup_codes_count_and_lock_for_an_hour(net, order_to, ship, scan):
    merchant_order = order_to()
    shipment_id = ship(merchant_order)["id"]
    code = Shipment.objects.get(pk=shipment_id).pickup_code
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    walk_to(net, scan, shipment_id, "out_for_delivery")
    for attempt in range(1, 5):
        response = scan(net.op_a, shipment_id, "delivered", pickup_code=wrong)
        assert response.status_code == 400, response.json()
        assert response.json()["error"]["code"] == "wrong_pickup_code"
        assert f"{5 - attempt}" in response.json()["error"]["fields"]["pickup_code"][0]
    fifth = scan(net.op_a, shipment_id, "delivered", pickup_code=wrong)
    assert fifth.status_code == 429 and fifth.json()["error"]["code"] == "pickup_code_locked"
    # Locked: even the right code waits an hour.
    assert scan(net.op_a, shipment_id, "delivered", pickup_code=code).status_code == 429
    shipment = Shipment.objects.get(pk=shipment_id)
    assert shipment.status == "out_for_delivery"
    merchant_order.refresh_from_db()
    assert merchant_order.status == "shipped"
    with time_machine.travel(timezone.now() + timezone.timedelta(minutes=61)):
        assert scan(net.op_a, shipment_id, "delivered", pickup_code=code).status_code == 201
    merchant_order.refresh_from_db()
    assert merchant_order.status == "delivered"


def test_delivered_needs_a_code(net, order_to, ship, scan):
    shipment_id = ship(order_to())["id"]
    walk_to(net, scan, shipment_id, "out_for_delivery")
    response = scan(net.op_a, shipment_id, "delivered")
    assert response.status_code == 400 and "pickup_code" in response.json()["error"]["fields"]


def test_failed_then_retry_then_deliver(net, order_to, ship, scan):
    shipment_id = ship(order_to())["id"]
    code = Shipment.objects.get(pk=shipment_id).pickup_code
    walk_to(net, scan, shipment_id, "out_for_delivery")
    assert scan(net.op_a, shipment_id, "failed").status_code == 400  # a reason is required
    failed = scan(net.op_a, shipment_id, "failed", reason="recipient_absent", note="电话未接")
    assert failed.status_code == 201
    body = failed.json()
    assert body["status"] == "failed" and body["failure_reason"] == "recipient_absent"
    assert body["current_hub"]["id"] == net.a.station(net.t2).pk  # back at the station
    assert body["events"][-1]["hub"]["id"] == net.a.point(net.dest).pk  # where the attempt was
    assert scan(net.op_a, shipment_id, "out_for_delivery").status_code == 201
    assert scan(net.op_a, shipment_id, "delivered", pickup_code=code).status_code == 201
    assert Shipment.objects.get(pk=shipment_id).delivery_attempts == 2
    assert Notification.objects.filter(user=net.buyer, kind="shipment.failed.recipient_absent").exists()
    assert Notification.objects.filter(user=net.merchant.user, kind="shipment.merchant.failed.recipient_absent").exists()


def test_refused_parcels_can_only_go_back(net, order_to, ship, scan):
    merchant_order = order_to()
    shipment_id = ship(merchant_order)["id"]
    walk_to(net, scan, shipment_id, "out_for_delivery")
    assert scan(net.op_a, shipment_id, "failed", reason="refused").status_code == 201
    retry = scan(net.op_a, shipment_id, "out_for_delivery")
    assert retry.status_code == 409 and retry.json()["error"]["code"] == "refused"
    back = scan(net.op_a, shipment_id, "returned")
    assert back.status_code == 201 and back.json()["status"] == "returned"
    assert scan(net.op_a, shipment_id, "out_for_delivery").status_code == 409
    merchant_order.refresh_from_db()
    assert merchant_order.status == "refunded" and merchant_order.refunded_amount == merchant_order.total
    refund = Refund.objects.get(merchant_order=merchant_order)
    assert refund.amount == merchant_order.total and refund.payment.order_id == merchant_order.order_id
    assert Order.objects.get(pk=merchant_order.order_id).status == "cancelled"  # nothing of it was received
    assert Notification.objects.filter(user=net.merchant.user, kind="shipment.merchant.returned").exists()
    assert Notification.objects.filter(user=net.buyer, kind="refund.issued").exists()
    assert scan(net.op_a, shipment_id, "returned").status_code == 409  # scanned twice: refunded once
    assert Refund.objects.filter(merchant_order=merchant_order).count() == 1


def test_a_return_after_a_partial_refund_gives_back_only_the_rest(net, order_to, ship, scan):
    from decimal import Decimal

    from orders.services import merchant_order_refund

    merchant_order = order_to()
    shipment_id = ship(merchant_order)["id"]
    walk_to(net, scan, shipment_id, "out_for_delivery")
    merchant_order_refund(merchant_order=merchant_order, amount=Decimal("1.00"), reason="goodwill")
    assert scan(net.op_a, shipment_id, "failed", reason="refused").status_code == 201
    assert scan(net.op_a, shipment_id, "returned").status_code == 201
    amounts = sorted(Refund.objects.filter(merchant_order=merchant_order).values_list("amount", flat=True))
    assert amounts == sorted([Decimal("1.00"), merchant_order.total - Decimal("1.00")])
    merchant_order.refresh_from_db()
    assert merchant_order.refunded_amount == merchant_order.total


def test_attempts_run_out(net, order_to, ship, scan, settings):
    settings.LOGISTICS_MAX_DELIVERY_ATTEMPTS = 2
    shipment_id = ship(order_to())["id"]
    walk_to(net, scan, shipment_id, "out_for_delivery")
    for _ in range(2):
        assert scan(net.op_a, shipment_id, "failed", reason="recipient_absent").status_code == 201
        retry = scan(net.op_a, shipment_id, "out_for_delivery")
    assert retry.status_code == 409 and retry.json()["error"]["code"] == "attempts_exhausted"


def test_another_operator_of_the_same_county_may_scan(net, order_to, ship, scan):
    shipment_id = ship(order_to())["id"]
    assert scan(OperatorFactory(county=net.a.region), shipment_id, "picked_up").status_code == 201


def test_a_double_scan_is_refused(net, order_to, ship, scan):
    shipment_id = ship(order_to())["id"]
    point = net.a.point(net.home).pk
    assert scan(net.op_a, shipment_id, "picked_up", hub=point).status_code == 201
    # The scanner fires twice: without a hub it is ambiguous, at the same hub it is out of order.
    again = scan(net.op_a, shipment_id, "picked_up")
    assert again.status_code == 400 and again.json()["error"]["code"] == "hub_required"
    assert scan(net.op_a, shipment_id, "picked_up", hub=point).status_code == 409
    assert ShipmentEvent.objects.filter(shipment_id=shipment_id, to_status="picked_up").count() == 1
