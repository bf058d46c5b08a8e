"""One lock order (orders/services/locks.py): paths that start from a merchant order, a dispute or a
shipment lock the order first, so they never deadlock with the buyer's cancel, which locks the order
and then its merchant orders (issue #12: PostgreSQL logged "deadlock detected", the client got 503).
Real threads, each with its own PostgreSQL connection."""

import logging
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models import Sum

from catalog.models import Product
from orders.models import Dispute, Order
from payments.models import Payment, Refund
from payments.providers.sandbox import sandbox_notice
from payments.signature import sign
from tests import factories
from tests.orders.conftest import checkout_body, run_parallel

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
ROUNDS = 30
SLOW_ROUNDS = 4


def _paid_order(client, product, address) -> Order:
    order_id = client.post("/api/orders/", checkout_body(address, {"product": product.pk, "quantity": 2}),
                           format="json").json()["id"]
    payment = Payment.objects.get(pk=client.post(f"/api/orders/{order_id}/pay/", {}, format="json").json()["id"])
    body = sandbox_notice(payment=payment)
    assert client.post("/api/payments/webhook/sandbox/", body, content_type="application/json",
                       HTTP_X_CUNBO_SIGNATURE=sign(body)).json() == {"outcome": "paid"}
    return Order.objects.get(pk=order_id)


def test_accepting_a_dispute_while_the_buyer_cancels_never_deadlocks(client_for, shop, address):
    product = factories.ProductFactory(merchant=shop, stock=1000)
    buyer = factories.ConsumerFactory()
    client, merchant = client_for(buyer), client_for(shop.user)
    outcomes = []
    for _ in range(ROUNDS):
        order = _paid_order(client, product, address)
        mo = order.merchant_orders.get()
        # The whole sub-order back: accepting refunds it in full, which settles (and locks) the order.
        opened = client.post(f"/api/merchant-orders/{mo.pk}/disputes/", {
            "reason": "damaged", "requested_refund": str(mo.total), "text": "压坏了"}, format="json")
        assert opened.status_code == 201, opened.json()
        dispute_id = opened.json()["id"]
        codes = run_parallel([
            lambda dispute_id=dispute_id: merchant.post(f"/api/disputes/{dispute_id}/respond/", {"accept": True}, format="json").status_code,
            lambda order=order: client.post(f"/api/orders/{order.pk}/cancel/", {}, format="json").status_code,
        ], workers=2)
        outcomes.append(tuple(codes))
        assert 503 not in codes and 500 not in codes, codes
        mo.refresh_from_db()
        order.refresh_from_db()
        refunded = Refund.objects.filter(merchant_order=mo).aggregate(n=Sum("amount"))["n"]
        # Whoever came second found nothing left to refund: the sub-order is refunded exactly once.
        assert refunded == mo.total == mo.refunded_amount
        assert order.status == "cancelled" and mo.status in ("cancelled", "refunded")
        assert Dispute.objects.get(pk=dispute_id).status == "accepted"
    assert set(outcomes) <= {(200, 200), (200, 409)}


def test_a_transient_database_error_is_a_logged_503(client_for, consumer, product, address, caplog):
    """Another transaction holds the order's row past our lock timeout: 503 with Retry-After, and one
    WARNING line with the SQLSTATE (55P03, lock not available) instead of silence."""
    client = client_for(consumer)
    order_id = client.post("/api/orders/", checkout_body(address, {"product": product.pk, "quantity": 1}),
                           format="json").json()["id"]
    locked, release = threading.Event(), threading.Event()

    def hold_the_order():
        try:
            with transaction.atomic():
                Order.objects.select_for_update().get(pk=order_id)
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_order)
    holder.start()
    try:
        assert locked.wait(5)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '200ms'")
        with caplog.at_level(logging.WARNING, logger="core.errors"):
            response = client.post(f"/api/orders/{order_id}/cancel/", {}, format="json")
    finally:
        release.set()
        holder.join()
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    assert response.status_code == 503 and response["Retry-After"] == "1"
    assert response.json()["error"]["code"] == "service_unavailable"
    [record] = [r for r in caplog.records if r.name == "core.errors"]
    assert record.levelno == logging.WARNING and "SQLSTATE 55P03" in record.getMessage()
    assert f"/api/orders/{order_id}/cancel/" in record.getMessage() and record.exc_info is None
    assert Order.objects.get(pk=order_id).status == "pending_payment"  # nothing changed


@pytest.fixture
def no_caps(settings):
    settings.ORDERS_PENDING_MAX_ORDERS = settings.ORDERS_PENDING_MAX_UNITS = 10_000
    settings.ORDERS_PENDING_MAX_SHARE = Decimal("1")


@pytest.fixture
def slow_stock_take(monkeypatch):
    """A slow round trip after a checkout in a worker thread took a product's stock, before it takes
    the offer: wide enough for the other path to come in between, so a lock-order inversion deadlocks
    every time instead of once in a while."""
    from orders.checkout import plan as checkout

    take = checkout.product_stock_take

    def slow(**kwargs):
        taken = take(**kwargs)
        if threading.current_thread() is not threading.main_thread():
            time.sleep(0.4)
        return taken

    monkeypatch.setattr(checkout, "product_stock_take", slow)


def _later(job, delay=0.15):
    def run():
        time.sleep(delay)  # once the checkout holds the stock row
        return job()
    return run


def _mixed(address, offer):
    """A product's stock and its flash offer in one order: the checkout takes the stock, then the offer."""
    return checkout_body(address, {"product": offer.product_id, "quantity": 1},
                         {"product": offer.product_id, "quantity": 1, "offer": offer.pk})


def test_a_cancel_returning_stock_and_offer_units_never_deadlocks_with_a_checkout(client_for, address, no_caps,
                                                                                 slow_stock_take):
    offer = factories.OfferFactory(quantity=1000)
    product = offer.product
    Product.objects.filter(pk=product.pk).update(stock=1000)
    for _ in range(SLOW_ROUNDS):
        first, second = client_for(factories.ConsumerFactory()), client_for(factories.ConsumerFactory())
        order_id = first.post("/api/orders/", _mixed(address, offer), format="json").json()["id"]
        codes = run_parallel([
            _later(lambda first=first, order_id=order_id: first.post(f"/api/orders/{order_id}/cancel/", {}, format="json").status_code),
            lambda second=second: second.post("/api/orders/", _mixed(address, offer), format="json").status_code,
        ], workers=2)
        assert codes == [200, 201], codes
    held = Order.objects.filter(status="pending_payment").count()
    assert held == SLOW_ROUNDS
    assert Product.objects.get(pk=product.pk).stock == 1000 - held
    offer.refresh_from_db()
    assert offer.remaining == 1000 - held


def test_ending_an_offer_never_deadlocks_with_a_checkout_of_its_product_and_offer(client_for, address, no_caps,
                                                                                  slow_stock_take):
    stream = factories.StreamFactory(status="live")
    product = factories.ProductFactory(merchant=stream.merchant, stock=1000)
    owner = client_for(stream.merchant.user)
    sold = 0
    for _ in range(SLOW_ROUNDS):
        offer = factories.OfferFactory(stream=stream, product=product, quantity=5)
        buyer = client_for(factories.ConsumerFactory())
        codes = run_parallel([
            _later(lambda offer=offer: owner.post(f"/api/streams/{stream.pk}/offers/{offer.pk}/end/", {},
                                                  format="json").status_code),
            lambda buyer=buyer, offer=offer: buyer.post("/api/orders/", _mixed(address, offer), format="json").status_code,
        ], workers=2)
        assert codes[0] == 200 and codes[1] in (201, 409), codes
        sold += codes[1] == 201
    # Every offer handed back what it did not sell: 5 each, less the one unit of each sale.
    assert Product.objects.get(pk=product.pk).stock == 1000 - sold + SLOW_ROUNDS * 5 - sold
