"""``sale.made`` means paid, and only the stream's own shop sells in its room (issue #12, finding 7:
an unpaid order for another shop's product showed as a sale in someone else's room)."""

import pytest
from django.utils import timezone

from livestream.models import Stream
from orders.models import Order
from tests import factories
from tests.livestream.listen import RoomListener
from tests.orders.conftest import checkout_body, pay

pytestmark = pytest.mark.django_db(transaction=True)
URL = "/api/orders/"


def _sales(events):
    return [e for e in events if e["type"] == "sale.made"]


@pytest.fixture
def stream(shop):
    return factories.StreamFactory(merchant=shop, status=Stream.Status.LIVE)


def test_a_sale_is_announced_when_paid_not_when_ordered(client_for, stream, shop, address):
    buyer = factories.ConsumerFactory(last_name="王", first_name="小明")
    own = factories.ProductFactory(merchant=shop, stock=10)
    foreign = factories.ProductFactory(stock=10)  # another shop's product in the same order
    room = RoomListener(stream.pk)
    client = client_for(buyer)
    response = client.post(URL, checkout_body(address, {"product": own.pk, "quantity": 2},
                                              {"product": foreign.pk, "quantity": 1}, stream=stream.pk), format="json")
    assert response.status_code == 201 and response.json()["stream"] == stream.pk
    assert _sales(room.drain(wait=0.6)) == []  # ordered, not paid: nothing for the room
    pay(client, response.json()["id"])
    assert _sales(room.drain(wait=0.6)) == [{"type": "sale.made", "product": own.pk, "quantity": 2, "buyer": "王**"}]


def test_an_order_of_another_shops_products_is_not_the_streams(client_for, stream, address):
    foreign = factories.ProductFactory(stock=10)
    room = RoomListener(stream.pk)
    client = client_for(factories.ConsumerFactory())
    response = client.post(URL, checkout_body(address, {"product": foreign.pk, "quantity": 3}, stream=stream.pk),
                           format="json")
    assert response.status_code == 201 and response.json()["stream"] is None
    assert Order.objects.get(pk=response.json()["id"]).stream_id is None
    pay(client, response.json()["id"])
    assert _sales(room.drain(wait=0.6)) == []


def test_unpaid_and_cancelled_orders_count_for_nothing(client_for, stream, shop, address):
    own = factories.ProductFactory(merchant=shop, stock=500)
    room = RoomListener(stream.pk)
    client = client_for(factories.ConsumerFactory())

    def order(quantity):
        return client.post(URL, checkout_body(address, {"product": own.pk, "quantity": quantity}, stream=stream.pk),
                           format="json").json()["id"]

    unpaid, cancelled, paid, paid_then_cancelled = order(1), order(2), order(4), order(8)
    assert client.post(f"{URL}{cancelled}/cancel/", {}, format="json").status_code == 200
    pay(client, paid)
    pay(client, paid_then_cancelled)
    assert client.post(f"{URL}{paid_then_cancelled}/cancel/", {}, format="json").status_code == 200
    assert [e["quantity"] for e in _sales(room.drain(wait=0.6))] == [4, 8]  # each announced once, when paid
    Stream.objects.filter(pk=stream.pk).update(status=Stream.Status.ENDED, ended_at=timezone.now())
    totals = client.get(f"/api/streams/{stream.pk}/").json()["totals"]
    assert (totals["orders"], totals["units"], totals["gmv"]) == (1, 4, "50.00")
    assert Order.objects.filter(pk=unpaid).values_list("status", flat=True).get() == "pending_payment"
