"""What one buyer may hold in unpaid orders (issue #12, finding 2: one account emptied a 600-unit
product in 0.2 s with unpaid orders, and could again every payment window)."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from orders.models import Order, PendingHold
from orders.services import orders_expire_unpaid
from tests import factories
from tests.orders.conftest import checkout_body, pay

pytestmark = pytest.mark.django_db
URL = "/api/orders/"


@pytest.fixture(autouse=True)
def _defaults(settings):
    settings.ORDERS_PENDING_MAX_ORDERS = 5
    settings.ORDERS_PENDING_MAX_UNITS = 100
    settings.ORDERS_PENDING_MAX_SHARE = Decimal("0.25")
    settings.ORDERS_PENDING_MIN_ITEM_UNITS = 10


def _post(client, body):
    return client.post(URL, body, format="json", HTTP_ACCEPT_LANGUAGE="en")


def _refusal(response):
    assert response.status_code == 409, response.json()
    error = response.json()["error"]
    assert error["code"] == "pending_limit" and error["fields"]["items"]
    return error


def test_the_hoarding_attack_stops_at_the_buyers_unit_cap(client_for, consumer, shop, address):
    product = factories.ProductFactory(merchant=shop, stock=600)
    client = client_for(consumer)
    body = checkout_body(address, {"product": product.pk, "quantity": 99})
    codes = [_post(client, body).status_code for _ in range(7)]  # the attack: 7 × 99 units > 600
    assert codes == [201] + [409] * 6
    error = _refusal(_post(client, body))
    assert error["message"] == ("You hold 99 units in unpaid orders; with these 99 that would pass the limit "
                                "of 100. Pay or cancel an order first.")
    assert error["fields"] == {"items": ["Unpaid units: 99 held, 99 asked, at most 100."]}
    product.refresh_from_db()
    assert product.stock == 501 and Order.objects.filter(buyer=consumer).count() == 1
    assert PendingHold.objects.get(buyer=consumer, scope="").units == 99


def test_unpaid_orders_per_buyer_are_capped_and_paying_frees_a_place(client_for, consumer, shop, address):
    product = factories.ProductFactory(merchant=shop, stock=100)
    client = client_for(consumer)
    body = checkout_body(address, {"product": product.pk, "quantity": 1})
    ids = [_post(client, body).json()["id"] for _ in range(5)]
    error = _refusal(_post(client, body))
    assert error["message"] == "You have 5 unpaid orders; at most 5 are allowed. Pay or cancel one first."
    assert error["fields"] == {"items": ["Unpaid orders: 5 of at most 5."]}
    pay(client, ids[0])
    assert _post(client, body).status_code == 201
    assert _refusal(_post(client, body))
    assert client.post(f"/api/orders/{ids[1]}/cancel/", {}, format="json").status_code == 200
    assert _post(client, body).status_code == 201
    assert PendingHold.objects.get(buyer=consumer, scope="").orders == 5
    # Other buyers are not affected by this one's holds.
    assert _post(client_for(factories.ConsumerFactory()), body).status_code == 201


def test_expired_orders_free_their_holds(client_for, consumer, shop, address, settings):
    settings.ORDERS_PENDING_MAX_SHARE = 1
    product = factories.ProductFactory(merchant=shop, stock=200)
    client = client_for(consumer)
    body = checkout_body(address, {"product": product.pk, "quantity": 20})
    assert [_post(client, body).status_code for _ in range(6)] == [201] * 5 + [409]
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=16), tick=True):
        assert orders_expire_unpaid() == 5
        assert _post(client, body).status_code == 201
    assert set(PendingHold.objects.filter(buyer=consumer).values_list("scope", "orders", "units")) == {
        ("", 1, 20), (f"p{product.pk}", 1, 20)}


def test_one_buyer_holds_at_most_a_share_of_a_products_stock(client_for, consumer, shop, address, settings):
    settings.ORDERS_PENDING_MAX_UNITS = 1000
    product = factories.ProductFactory(merchant=shop, stock=100)
    client = client_for(consumer)
    assert _post(client, checkout_body(address, {"product": product.pk, "quantity": 26})).status_code == 409
    assert _post(client, checkout_body(address, {"product": product.pk, "quantity": 25})).status_code == 201
    # 75 left: a quarter is 19, fewer than the 25 + 1 this buyer would hold.
    error = _refusal(_post(client, checkout_body(address, {"product": product.pk, "quantity": 1})))
    assert error["message"] == ("You hold 25 units of this item in unpaid orders; with these 1 that would pass "
                                "the limit of 19 for one buyer.")
    product.refresh_from_db()
    assert product.stock == 75
    # A small product can still be bought: the cap never falls below the floor.
    small = factories.ProductFactory(merchant=shop, stock=8)
    assert _post(client, checkout_body(address, {"product": small.pk, "quantity": 8})).status_code == 201


@pytest.mark.parametrize("per_buyer_limit", [None, 60])
def test_one_buyer_holds_at_most_a_share_of_a_flash_offer(client_for, consumer, address, settings, per_buyer_limit):
    """The one-statement checkout (one flash-offer line): the cap is folded into its statement."""
    settings.ORDERS_PENDING_MAX_UNITS = 1000
    offer = factories.OfferFactory(quantity=100, per_buyer_limit=per_buyer_limit)
    client = client_for(consumer)

    def buy(n):
        return _post(client, checkout_body(address, {"product": offer.product_id, "quantity": n, "offer": offer.pk}))

    assert buy(25).status_code == 201
    error = _refusal(buy(1))
    assert "limit of 19" in error["message"]
    offer.refresh_from_db()
    assert offer.remaining == 75
    assert PendingHold.objects.get(buyer=consumer, scope=f"o{offer.pk}").units == 25
    assert Order.objects.filter(buyer=consumer).count() == 1


def test_a_flash_offer_order_has_the_shorter_payment_window(client_for, consumer, shop, address, settings):
    settings.ORDERS_PAYMENT_WINDOW = datetime.timedelta(minutes=15)
    settings.ORDERS_OFFER_PAYMENT_WINDOW = datetime.timedelta(minutes=5)
    offer = factories.OfferFactory(quantity=10)
    product = factories.ProductFactory(merchant=shop, stock=10)
    client = client_for(consumer)
    flash = Order.objects.get(pk=_post(client, checkout_body(
        address, {"product": offer.product_id, "quantity": 1, "offer": offer.pk})).json()["id"])
    plain = Order.objects.get(pk=_post(client, checkout_body(address, {"product": product.pk, "quantity": 1}))
                              .json()["id"])
    assert flash.payment_deadline - flash.created_at == datetime.timedelta(minutes=5)
    assert plain.payment_deadline - plain.created_at == datetime.timedelta(minutes=15)
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=6), tick=True):
        assert orders_expire_unpaid() == 1
    offer.refresh_from_db()
    assert offer.remaining == 10 and Order.objects.get(pk=plain.pk).status == "pending_payment"
