"""Racing operators: real threads on real PostgreSQL rows."""

import threading

import pytest
from django.db import connection

from core.errors import DomainError
from logistics.models import Dispatch, Shipment, ShipmentEvent
from logistics.services import dispatch_create, shipment_scan

pytestmark = pytest.mark.django_db(transaction=True)


def race(*calls):
    """Run the calls at the same moment in threads; returns each one's result or DomainError."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait()
            results[i] = call()
        except DomainError as error:
            results[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_two_runs_racing_for_the_same_parcels_book_them_once(net, order_to, ship, scan):
    ids = [ship(order_to())["id"] for _ in range(3)]
    for shipment_id in ids:
        scan(net.op_a, shipment_id, "picked_up")
    station = net.a.station(net.t1).pk
    results = race(
        lambda: dispatch_create(user=net.op_a, shipment_ids=ids, vehicle_id=net.van.pk, hub_id=station),
        lambda: dispatch_create(user=net.op_a, shipment_ids=list(reversed(ids)), vehicle_id=net.cold_van.pk,
                                hub_id=station),
    )
    won = [r for r in results if isinstance(r, Dispatch)]
    lost = [r for r in results if isinstance(r, DomainError)]
    assert len(won) == 1 and len(lost) == 1 and lost[0].code == "already_dispatched"
    assert set(Shipment.objects.values_list("current_dispatch", flat=True)) == {won[0].pk}


def test_two_couriers_delivering_the_same_parcel_deliver_it_once(net, order_to, ship, scan):
    shipment_id = ship(order_to())["id"]
    for status, extra in [("picked_up", {}), ("picked_up", {"hub": net.a.station(net.t1).pk}),
                          ("at_county_centre", {}), ("at_township_station", {}), ("out_for_delivery", {})]:
        assert scan(net.op_a, shipment_id, status, **extra).status_code == 201
    code = Shipment.objects.get(pk=shipment_id).pickup_code
    deliver = lambda: shipment_scan(user=net.courier.user, shipment_id=shipment_id, status="delivered",  # noqa: E731
                                    pickup_code=code)
    results = race(deliver, deliver)
    assert sum(isinstance(r, Shipment) for r in results) == 1
    assert [r.code for r in results if isinstance(r, DomainError)] == ["invalid_transition"]
    assert ShipmentEvent.objects.filter(shipment_id=shipment_id, to_status="delivered").count() == 1
    assert Shipment.objects.get(pk=shipment_id).merchant_order.status == "delivered"
