"""Real parallel transactions on PostgreSQL: nothing oversells, limits hold, retries make one order."""

import pytest
import time_machine
from django.db.models import Sum
from django.utils import timezone

from catalog.models import Product
from livestream.models import Offer
from orders.models import OfferPurchase, Order, OrderLine
from orders.services import orders_expire_unpaid
from tests import factories
from tests.orders.conftest import checkout_body, run_parallel

URL = "/api/orders/"
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture(params=["gate", "no-gate"])
def gate_mode(request, settings):
    if request.param == "no-gate":
        settings.ORDERS_GATE_REDIS_URL = ""
    return request.param


def _buy(client_for, buyer, body, **headers):
    return lambda: client_for(buyer).post(URL, body, format="json", **headers).status_code


def test_200_buyers_on_50_units_of_stock(client_for, village):
    product = factories.ProductFactory(merchant=factories.MerchantFactory(village=village), stock=50)
    address = {"village": village.pk, "detail": "1号", "recipient": "李四", "phone": "13800001234"}
    buyers = factories.ConsumerFactory.create_batch(200)
    body = checkout_body(address, {"product": product.pk, "quantity": 1})
    codes = run_parallel([_buy(client_for, b, body) for b in buyers])
    assert codes.count(201) == 50 and codes.count(409) == 150
    product.refresh_from_db()
    assert product.stock == 0
    assert OrderLine.objects.aggregate(n=Sum("quantity"))["n"] == 50 == Order.objects.count()


def test_200_buyers_on_a_flash_offer_of_50(client_for, village, gate_mode):
    offer = factories.OfferFactory(quantity=50, per_buyer_limit=1)
    address = {"village": village.pk, "detail": "1号", "recipient": "李四", "phone": "13800001234"}
    buyers = factories.ConsumerFactory.create_batch(200)
    body = checkout_body(address, {"product": offer.product_id, "quantity": 1, "offer": offer.pk})
    codes = run_parallel([_buy(client_for, b, body) for b in buyers])
    assert codes.count(201) == 50 and codes.count(409) == 150
    offer.refresh_from_db()
    assert (offer.remaining, offer.status, offer.end_reason) == (0, "ended", "sold_out")
    assert OrderLine.objects.filter(offer=offer).aggregate(n=Sum("quantity"))["n"] == 50


def test_one_buyer_firing_10_parallel_requests_gets_the_limit(client_for, village, gate_mode):
    offer = factories.OfferFactory(quantity=50, per_buyer_limit=2)
    buyer = factories.ConsumerFactory()
    address = {"village": village.pk, "detail": "1号", "recipient": "李四", "phone": "13800001234"}
    body = checkout_body(address, {"product": offer.product_id, "quantity": 1, "offer": offer.pk})
    codes = run_parallel([_buy(client_for, buyer, body) for _ in range(10)], workers=10)
    assert codes.count(201) == 2 and codes.count(409) == 8
    offer.refresh_from_db()
    assert offer.remaining == 48
    assert OfferPurchase.objects.get(offer=offer, buyer=buyer).quantity == 2
    assert Order.objects.filter(buyer=buyer).count() == 2


def test_parallel_idempotent_retries_make_one_order(client_for, village, gate_mode):
    offer = factories.OfferFactory(quantity=5)
    buyer = factories.ConsumerFactory()
    address = {"village": village.pk, "detail": "1号", "recipient": "李四", "phone": "13800001234"}
    body = checkout_body(address, {"product": offer.product_id, "quantity": 1, "offer": offer.pk})
    codes = run_parallel([_buy(client_for, buyer, body, HTTP_IDEMPOTENCY_KEY="k-1") for _ in range(8)], workers=8)
    assert 201 in codes and set(codes) <= {201, 409}
    assert Order.objects.filter(buyer=buyer).count() == 1
    replay = client_for(buyer).post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert replay.status_code == 201 and replay.json()["id"] == Order.objects.get(buyer=buyer).pk
    offer.refresh_from_db()
    assert offer.remaining == 4


def test_a_retry_of_a_successful_checkout_replays_even_once_sold_out(client_for, village):
    offer = factories.OfferFactory(quantity=1)
    buyer = factories.ConsumerFactory()
    address = {"village": village.pk, "detail": "1号", "recipient": "李四", "phone": "13800001234"}
    body = checkout_body(address, {"product": offer.product_id, "quantity": 1, "offer": offer.pk})
    first = client_for(buyer).post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="once")
    again = client_for(buyer).post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="once")
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    other = client_for(factories.ConsumerFactory()).post(URL, body, format="json")
    assert other.status_code == 409


def test_expiry_sweep_twice_at_once_returns_stock_once(client_for, village):
    product = factories.ProductFactory(merchant=factories.MerchantFactory(village=village), stock=10)
    offer = factories.OfferFactory(quantity=10, ends_at=timezone.now() + timezone.timedelta(hours=2))
    address = {"village": village.pk, "detail": "1号", "recipient": "李四", "phone": "13800001234"}
    for _ in range(4):
        response = client_for(factories.ConsumerFactory()).post(URL, checkout_body(
            address, {"product": product.pk, "quantity": 2}, {"product": offer.product_id, "quantity": 1,
                                                               "offer": offer.pk}), format="json")
        assert response.status_code == 201
    product.refresh_from_db()
    offer.refresh_from_db()
    assert (product.stock, offer.remaining) == (2, 6)
    with time_machine.travel(timezone.now() + timezone.timedelta(minutes=16), tick=True):
        results = run_parallel([orders_expire_unpaid, orders_expire_unpaid, orders_expire_unpaid], workers=3)
    assert sum(results) == 4
    product.refresh_from_db()
    offer.refresh_from_db()
    assert (product.stock, offer.remaining) == (10, 10)
    assert set(Order.objects.values_list("status", flat=True)) == {"cancelled"}
    assert not OfferPurchase.objects.filter(quantity__gt=0).exists()
    assert orders_expire_unpaid() == 0


def test_expired_units_of_an_ended_offer_go_back_to_product_stock(client_for, village):
    offer = factories.OfferFactory(quantity=3)
    stock = offer.product.stock
    address = {"village": village.pk, "detail": "1号", "recipient": "李四", "phone": "13800001234"}
    client_for(factories.ConsumerFactory()).post(URL, checkout_body(
        address, {"product": offer.product_id, "quantity": 3, "offer": offer.pk}), format="json")
    offer.refresh_from_db()
    assert offer.status == Offer.Status.ENDED
    with time_machine.travel(timezone.now() + timezone.timedelta(minutes=16)):
        assert orders_expire_unpaid() == 1
    offer.refresh_from_db()
    assert offer.remaining == 0
    assert Product.objects.get(pk=offer.product_id).stock == stock + 3
