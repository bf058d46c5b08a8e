"""The ledger under real parallel transactions on PostgreSQL: nothing posted twice, nothing lost."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from ledger import chart
from ledger.models import Posting, Settlement
from ledger.postings import balance
from ledger.services import releases_due, settlement_release
from orders.models import MerchantOrder
from orders.services import merchant_order_refund
from orders.services.errors import RefundExceedsPaid
from payments.models import Payment
from payments.providers.sandbox import sandbox_notice
from payments.signature import sign
from tests import factories
from tests.orders.conftest import checkout_body, run_parallel, ship_and_deliver

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
D = Decimal


def _completed(paid_order, consumer, client_for):
    mo = ship_and_deliver(paid_order.merchant_orders.get())
    assert client_for(consumer).post(f"/api/merchant-orders/{mo.pk}/confirm/").status_code == 200
    return mo


def test_twenty_notices_of_one_payment_at_once_post_it_once(client_for, consumer, product, address):
    order_id = client_for(consumer).post("/api/orders/", checkout_body(address, {"product": product.pk, "quantity": 2}),
                                         format="json").json()["id"]
    payment = Payment.objects.get(pk=client_for(consumer).post(f"/api/orders/{order_id}/pay/", {},
                                                               format="json").json()["id"])

    def notice(n):
        body = sandbox_notice(payment=payment, event_id=f"evt-{n % 3}")
        return lambda: client_for(None).post("/api/payments/webhook/sandbox/", body, content_type="application/json",
                                             HTTP_X_CUNBO_SIGNATURE=sign(body)).json()["outcome"]

    outcomes = run_parallel([notice(n) for n in range(20)], workers=20)
    assert outcomes.count("paid") == 1
    assert Posting.objects.filter(kind="payment").count() == 1 and Settlement.objects.count() == 1


def test_two_release_runs_at_once_release_each_order_once(client_for, consumer, paid_order, shop):
    _completed(paid_order, consumer, client_for)
    with time_machine.travel(timezone.now() + timedelta(days=8), tick=False):
        done = run_parallel([releases_due, releases_due, releases_due], workers=3)
    assert sorted(done) == [0, 0, 1]
    assert Posting.objects.filter(kind="release").count() == 1
    assert -balance(chart.merchant_available(shop.pk)) == D("23.50")


def test_a_release_racing_refunds_never_loses_or_doubles_money(client_for, consumer, paid_order, shop):
    """The release and five 5.00 refunds at once: whichever commits first, the shop ends with its
    share of what was not refunded, split between pending (nothing) and available."""
    mo = _completed(paid_order, consumer, client_for)

    def refund():
        try:
            merchant_order_refund(merchant_order=MerchantOrder.objects.select_related("order__buyer").get(pk=mo.pk),
                                  amount=D("5.00"), reason="t")
            return "refund"
        except RefundExceedsPaid:
            return "refused"

    with time_machine.travel(timezone.now() + timedelta(days=8), tick=True):
        results = run_parallel([refund] * 5 + [lambda: settlement_release(merchant_order_id=mo.pk)], workers=6)
    assert results[:5].count("refund") == 5  # 25.00 of 28.00 refunded: all the goods
    pending = -balance(chart.merchant_pending(shop.pk))
    available = -balance(chart.merchant_available(shop.pk))
    assert (pending, available) == (0, 0)
    assert -balance(chart.COMMISSION) == 0
    assert Posting.objects.filter(kind="refund").count() == 5


def test_a_release_racing_one_partial_refund(client_for, consumer, paid_order, shop):
    mo = _completed(paid_order, consumer, client_for)
    refund = lambda: merchant_order_refund(  # noqa: E731
        merchant_order=MerchantOrder.objects.select_related("order__buyer").get(pk=mo.pk), amount=D("10.00"),
        reason="t")
    with time_machine.travel(timezone.now() + timedelta(days=8), tick=True):
        run_parallel([refund, lambda: settlement_release(merchant_order_id=mo.pk)], workers=2)
    # 15.00 of goods left: commission 0.75 and fee 0.15 of them, 14.10 the shop's, wherever it sits.
    pending = -balance(chart.merchant_pending(shop.pk))
    available = -balance(chart.merchant_available(shop.pk))
    assert pending + available == D("14.10")
    settlement = Settlement.objects.get(merchant_order=mo)
    assert (settlement.state, pending) in (("available", 0), ("pending", D("14.10")))


def test_parallel_paid_orders_of_one_shop_take_no_shared_lock(client_for, address, shop):
    """Twenty buyers' orders of one shop paid at once: all post, the shop's pending is their sum."""
    product = factories.ProductFactory(merchant=shop, stock=100)
    buyers = factories.ConsumerFactory.create_batch(20)
    payments = []
    for buyer in buyers:
        order_id = client_for(buyer).post("/api/orders/", checkout_body(address, {"product": product.pk,
                                                                                  "quantity": 1}),
                                          format="json").json()["id"]
        payments.append(Payment.objects.get(pk=client_for(buyer).post(f"/api/orders/{order_id}/pay/", {},
                                                                      format="json").json()["id"]))

    def notice(payment):
        body = sandbox_notice(payment=payment)
        return lambda: client_for(None).post("/api/payments/webhook/sandbox/", body, content_type="application/json",
                                             HTTP_X_CUNBO_SIGNATURE=sign(body)).json()["outcome"]

    assert run_parallel([notice(p) for p in payments], workers=20) == ["paid"] * 20
    # 12.50 each, less 5 % (0.625 → 0.63) and 1 % (0.125 → 0.13), half-up per line: 11.74 × 20.
    assert -balance(chart.merchant_pending(shop.pk)) == D("234.80")
