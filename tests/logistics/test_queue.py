"""The operator's work queue and the SLA watch."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from logistics.models import Shipment
from logistics.services import shipments_flag_overdue
from logistics.tasks import flag_overdue_shipments
from notifications.models import Delivery, Notification
from tests.factories import AdminFactory, OperatorFactory

pytestmark = pytest.mark.django_db


def ids(response):
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


def test_queue_is_the_countys_own_and_sorted_perishable_then_overdue(net, order_to, ship, client_for):
    plain = ship(order_to())["id"]
    fresh = ship(order_to(perishable=True))["id"]
    late = ship(order_to())["id"]
    far = ship(order_to(net.far))["id"]
    Shipment.objects.filter(pk=late).update(due_at=timezone.now() - datetime.timedelta(hours=1))

    queue = client_for(net.op_a).get("/api/logistics/shipments/")
    assert ids(queue) == [fresh, late, plain, far]
    row = {r["id"]: r for r in queue.json()["results"]}
    assert row[late]["overdue"] is True and row[plain]["overdue"] is False
    assert row[fresh]["perishable"] is True

    # B sees only what passes through B.
    assert ids(client_for(net.op_b).get("/api/logistics/shipments/")) == [far]
    assert set(ids(client_for(AdminFactory()).get(f"/api/logistics/shipments/?county={net.b.region.pk}"))) == {far}


def test_queue_filters(net, order_to, ship, scan, client_for):
    plain = ship(order_to())["id"]
    fresh = ship(order_to(perishable=True))["id"]
    moved = ship(order_to())["id"]
    scan(net.op_a, moved, "picked_up")
    client = client_for(net.op_a)
    assert ids(client.get("/api/logistics/shipments/?perishable=true")) == [fresh]
    assert set(ids(client.get("/api/logistics/shipments/?perishable=false"))) == {plain, moved}
    assert ids(client.get("/api/logistics/shipments/?status=picked_up")) == [moved]
    # township: parcels at or heading for a hub of that township
    assert set(ids(client.get(f"/api/logistics/shipments/?township={net.t1.pk}"))) == {plain, fresh, moved}
    assert ids(client.get(f"/api/logistics/shipments/?township={net.t2.pk}")) == []
    assert ids(client.get("/api/logistics/shipments/?overdue=true")) == []
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=7)):
        later = client_for(net.op_a)  # a fresh token for the later hour
        assert ids(later.get("/api/logistics/shipments/?overdue=true")) == [fresh]  # 6 h pickup target
    bad = client.get("/api/logistics/shipments/?status=lost")
    assert bad.status_code == 400 and "status" in bad.json()["error"]["fields"]


def test_delivered_parcels_leave_the_queue_unless_asked_for(net, order_to, ship, scan, client_for):
    shipment_id = ship(order_to())["id"]
    Shipment.objects.filter(pk=shipment_id).update(status="delivered")
    client = client_for(net.op_a)
    assert ids(client.get("/api/logistics/shipments/")) == []
    assert ids(client.get("/api/logistics/shipments/?status=delivered")) == [shipment_id]


def test_queue_is_for_staff_only(net, client_for):
    for user in (net.buyer, net.merchant.user):
        assert client_for(user).get("/api/logistics/shipments/").status_code == 403
    assert client_for(None).get("/api/logistics/shipments/").status_code == 401


def test_queue_costs_a_fixed_number_of_queries(net, order_to, ship, client_for, django_assert_max_num_queries):
    for _ in range(3):
        ship(order_to())
    client = client_for(net.op_a)
    with django_assert_max_num_queries(4):  # user, count, page (+ savepoint slack)
        first = client.get("/api/logistics/shipments/")
    for _ in range(6):
        ship(order_to(perishable=True))
    with django_assert_max_num_queries(4):
        second = client.get("/api/logistics/shipments/")
    assert first.json()["count"] == 3 and second.json()["count"] == 9


def test_the_sla_watch_flags_once_per_leg_and_tells_the_countys_operators(net, order_to, ship, scan):
    fresh = ship(order_to(perishable=True))["id"]
    plain = ship(order_to())["id"]
    far = ship(order_to(net.far))["id"]
    colleague = OperatorFactory(county=net.a.region)
    assert shipments_flag_overdue() == 0

    later = timezone.now() + datetime.timedelta(hours=7)
    with time_machine.travel(later):
        assert flag_overdue_shipments() == 1  # only the perishable's 6 h pickup has passed
    assert Shipment.objects.get(pk=fresh).overdue_flagged_at is not None
    notices = Notification.objects.filter(kind="shipment.overdue")
    assert {n.user_id for n in notices} == {net.op_a.pk, colleague.pk}  # not the courier: the queue is not its screen
    notice = notices.get(user=net.op_a)
    assert notice.params["shipments"] == [fresh] and notice.params["count"] == 1
    assert notice.params["perishable"] == 1
    assert list(Delivery.objects.filter(notification=notice).values_list("channel", flat=True)) == ["push"]

    with time_machine.travel(later + datetime.timedelta(minutes=5)):
        assert shipments_flag_overdue() == 0  # flagged once per leg

    with time_machine.travel(timezone.now() + datetime.timedelta(hours=25)):
        assert shipments_flag_overdue() == 2  # the plain ones' 24 h
        assert set(Shipment.objects.filter(overdue_flagged_at__isnull=False).values_list("pk", flat=True)) == {
            fresh, plain, far}
    assert not Notification.objects.filter(kind="shipment.overdue", user=net.op_b).exists()  # B holds nothing yet

    # A scan starts a new leg: the flag clears and the new leg may be flagged again.
    scan(net.op_a, fresh, "picked_up")
    assert Shipment.objects.get(pk=fresh).overdue_flagged_at is None


def test_the_inter_county_leg_is_watched_by_the_receiving_county(net, order_to, ship, scan):
    far = ship(order_to(net.far))["id"]
    scan(net.op_a, far, "picked_up")
    scan(net.op_a, far, "picked_up", hub=net.a.station(net.t1).pk)
    scan(net.op_a, far, "at_county_centre")
    Notification.objects.all().delete()
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=49)):
        assert shipments_flag_overdue() == 1
    assert list(Notification.objects.filter(kind="shipment.overdue").values_list("user_id", flat=True)) == [
        net.op_b.pk]
