import pytest
from django.core.management import call_command

from logistics.models import Courier, Shipment, Vehicle
from regions.models import Region
from tests.factories import MerchantFactory, ProductFactory

pytestmark = pytest.mark.django_db


def test_seed_demo_adds_the_fleet_and_parcels_in_flight_once_products_exist(client_for):
    call_command("seed_demo")
    assert Courier.objects.count() == 2 and Vehicle.objects.filter(cold_chain=True).count() == 2
    assert not Shipment.objects.exists()  # no products yet: nothing to ship

    village = Region.objects.get(code="370783004201")
    merchant = MerchantFactory(village=village)
    ProductFactory(merchant=merchant, perishable=True)
    ProductFactory(merchant=merchant)
    call_command("seed_demo")
    shipments = list(Shipment.objects.order_by("pk"))
    assert [s.status for s in shipments] == ["created", "picked_up"]
    assert {s.merchant_order.order.status for s in shipments} == {"paid"}
    assert {s.merchant_order.status for s in shipments} == {"shipped"}
    counts = (Shipment.objects.count(), Courier.objects.count(), Vehicle.objects.count())
    call_command("seed_demo")
    assert (Shipment.objects.count(), Courier.objects.count(), Vehicle.objects.count()) == counts

    from accounts.models import User
    operator = User.objects.get(username="shouguang_operator")
    queue = client_for(operator).get("/api/logistics/shipments/").json()
    assert queue["count"] == 2 and queue["results"][0]["perishable"] is True
    courier = User.objects.get(username="shouguang_courier")
    assert client_for(courier).get("/api/logistics/dispatches/suggestions/").status_code == 200
