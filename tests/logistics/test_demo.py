import pytest
from django.core.management import call_command

from accounts.models import User
from catalog.models import Product
from logistics.models import Courier, Shipment, Vehicle

pytestmark = pytest.mark.django_db


def test_seed_demo_adds_the_fleet_and_parcels_in_flight(client_for):
    call_command("seed_demo")
    assert Courier.objects.count() == 2 and Vehicle.objects.filter(cold_chain=True).count() == 2
    assert Product.objects.filter(status="listed").exists()  # the catalog's demo seeds listed products
    shipments = list(Shipment.objects.order_by("pk"))
    assert 1 <= len(shipments) <= 3
    assert [s.status for s in shipments] == ["created", "picked_up", "at_county_centre"][:len(shipments)]
    assert {s.merchant_order.status for s in shipments} == {"shipped"}
    assert {s.merchant_order.order.status for s in shipments} == {"paid"}

    counts = (Shipment.objects.count(), Courier.objects.count(), Vehicle.objects.count())
    call_command("seed_demo")
    assert (Shipment.objects.count(), Courier.objects.count(), Vehicle.objects.count()) == counts

    operator = User.objects.get(username="shouguang_operator")
    queue = client_for(operator).get("/api/logistics/shipments/").json()
    assert queue["count"] == len([s for s in shipments if s.origin_county.code == "370783"
                                  or s.destination_county.code == "370783"]) > 0
    courier = User.objects.get(username="shouguang_courier")
    assert courier.role == "courier"  # scans and carries: sees the county's runs, does not plan them
    assert client_for(courier).get("/api/logistics/dispatches/").status_code == 200
    assert client_for(courier).get("/api/logistics/dispatches/suggestions/").status_code == 403


def test_without_listed_products_seed_demo_ships_nothing():
    call_command("seed_demo")
    Shipment.objects.all().delete()
    Product.objects.update(status="delisted")
    call_command("seed_demo")
    assert not Shipment.objects.exists()
