from types import SimpleNamespace

import pytest

from tests.factories import ConsumerFactory, CourierUserFactory, MerchantFactory, OperatorFactory, ProductFactory

from .factories import CourierFactory, VehicleFactory, county_network, paid_merchant_order


@pytest.fixture
def net(db):
    """County A (two townships of two villages) and county B, every region with its hub;
    a merchant in A's first village, a buyer, operators of both counties and A's fleet."""
    a = county_network(name="寿光测试县")
    b = county_network(name="贵定测试县", townships=1)
    t1, t2 = a.townships
    home = a.villages[t1.pk][0]
    merchant = MerchantFactory(village=home)
    op_a = OperatorFactory(county=a.region, first_name="李", last_name="")
    op_b = OperatorFactory(county=b.region)
    return SimpleNamespace(
        a=a, b=b, t1=t1, t2=t2, home=home, merchant=merchant,
        buyer=ConsumerFactory(language="en"),
        # a buyer in the same county, another township
        dest=a.villages[t2.pk][1],
        far=b.villages[b.townships[0].pk][0],
        op_a=op_a, op_b=op_b,
        van=VehicleFactory(county=a.region, capacity_kg=500),
        cold_van=VehicleFactory(county=a.region, cold_chain=True, capacity_kg=300),
        van_b=VehicleFactory(county=b.region),
        courier=CourierFactory(user=CourierUserFactory(county=a.region), township=t2),
    )


@pytest.fixture
def order_to(net):
    """``order_to(village, perishable=False, cold=False)``: a paid sub-order of net.merchant for net.buyer."""

    def make(village=None, *, perishable=False, cold=False, buyer=None, **kwargs):
        product = ProductFactory(merchant=net.merchant, perishable=perishable or cold, cold_chain_required=cold)
        return paid_merchant_order(merchant=net.merchant, buyer=buyer or net.buyer, village=village or net.dest,
                                   products=[product, ProductFactory(merchant=net.merchant)], **kwargs)

    return make


@pytest.fixture
def ship(client_for, net):
    """``ship(merchant_order, weight="2.50")`` through the API; returns the response body."""

    def do(merchant_order, weight="2.50", parcels=1):
        response = client_for(net.merchant.user).post(
            f"/api/merchant-orders/{merchant_order.pk}/ship/", {"weight_kg": weight, "parcel_count": parcels},
            format="json")
        assert response.status_code == 201, response.json()
        return response.json()

    return do


@pytest.fixture
def scan(client_for):
    """``scan(user, shipment_id, status, **body)``: POST a scan; returns the response."""

    def do(user, shipment_id, status, **body):
        return client_for(user).post(f"/api/shipments/{shipment_id}/events/", {"status": status, **body},
                                     format="json")

    return do
