"""One buyer's parallel checkouts (real threads, each its own PostgreSQL connection) never hold more
than the unpaid caps allow, in both write paths and with or without the offer gate."""

from decimal import Decimal

import pytest
from django.db.models import Sum

from catalog.models import Product
from livestream.models import Offer
from orders.checkout.gate import gate_left, offer_gate_reset
from orders.models import Order, OrderLine, PendingHold
from tests import factories
from tests.orders.conftest import checkout_body, run_parallel

URL = "/api/orders/"
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture(autouse=True)
def _caps(settings):
    settings.ORDERS_PENDING_MAX_ORDERS = 5
    settings.ORDERS_PENDING_MAX_UNITS = 100
    settings.ORDERS_PENDING_MAX_SHARE = Decimal("1")
    settings.ORDERS_PENDING_MIN_ITEM_UNITS = 10


@pytest.fixture(params=["gate", "no-gate"])
def gate_mode(request, settings):
    if request.param == "no-gate":
        settings.ORDERS_GATE_REDIS_URL = ""
    return request.param


def _address(village):
    return {"village": village.pk, "detail": "1号", "recipient": "李四", "phone": "13800001234"}


def _fire(client_for, buyer, body, n):
    client = lambda: client_for(buyer).post(URL, body, format="json").status_code  # noqa: E731
    return run_parallel([client] * n, workers=n)


def _held(buyer):
    return dict(PendingHold.objects.filter(buyer=buyer, scope="").values_list("orders", "units")) or {0: 0}


def test_parallel_stock_checkouts_of_one_buyer_stop_at_the_order_cap(client_for, village):
    product = factories.ProductFactory(merchant=factories.MerchantFactory(village=village), stock=600)
    buyer = factories.ConsumerFactory()
    codes = _fire(client_for, buyer, checkout_body(_address(village), {"product": product.pk, "quantity": 1}), 20)
    assert codes.count(201) == 5 and codes.count(409) == 15
    assert Order.objects.filter(buyer=buyer).count() == 5 and _held(buyer) == {5: 5}
    assert Product.objects.get(pk=product.pk).stock == 595


def test_parallel_stock_checkouts_of_one_buyer_stop_at_the_unit_cap(client_for, village, settings):
    settings.ORDERS_PENDING_MAX_ORDERS = 100
    product = factories.ProductFactory(merchant=factories.MerchantFactory(village=village), stock=600)
    buyer = factories.ConsumerFactory()
    codes = _fire(client_for, buyer, checkout_body(_address(village), {"product": product.pk, "quantity": 30}), 12)
    assert codes.count(201) == 3 and codes.count(409) == 9
    assert OrderLine.objects.filter(merchant_order__order__buyer=buyer).aggregate(n=Sum("quantity"))["n"] == 90
    assert _held(buyer) == {3: 90} and Product.objects.get(pk=product.pk).stock == 510


def test_parallel_flash_offer_checkouts_of_one_buyer_stop_at_the_caps(client_for, village, gate_mode):
    offer = factories.OfferFactory(quantity=2000)
    offer_gate_reset(offer_id=offer.pk)  # as the livestream app does when an offer starts
    buyer = factories.ConsumerFactory()
    body = checkout_body(_address(village), {"product": offer.product_id, "quantity": 1, "offer": offer.pk})
    codes = _fire(client_for, buyer, body, 20)
    assert codes.count(201) == 5 and codes.count(409) == 15
    offer.refresh_from_db()
    assert offer.remaining == 1995 and _held(buyer) == {5: 5}
    assert OrderLine.objects.filter(offer=offer).aggregate(n=Sum("quantity"))["n"] == 5
    if gate_mode == "gate":  # the refused checkouts gave the gate its units back
        assert gate_left(offer_id=offer.pk) == 1995
    # Many buyers at once are each held to their own caps, and the offer still never oversells.
    others = factories.ConsumerFactory.create_batch(10)
    codes = run_parallel([lambda b=b: client_for(b).post(URL, checkout_body(
        _address(village), {"product": offer.product_id, "quantity": 30, "offer": offer.pk}),
        format="json").status_code for b in others for _ in range(4)], workers=20)
    assert codes.count(201) == 30 and codes.count(409) == 10  # 3 × 30 units each: the unit cap of 100
    assert Offer.objects.get(pk=offer.pk).remaining == 1995 - 900
    assert set(PendingHold.objects.filter(buyer__in=others, scope="").values_list("orders", "units")) == {(3, 90)}
