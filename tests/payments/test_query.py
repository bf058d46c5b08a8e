"""Asking the provider about stuck payments (payments.query_stuck): the answer is applied as a notice,
through the webhook's own path, so an answer and a late webhook never both count."""

import logging
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from notifications.models import Notification
from orders.models import Order, OrderEvent
from orders.services import orders_expire_unpaid
from payments.models import Payment, PaymentEvent, Refund, SandboxTransaction, WebhookEvent
from payments.providers import ProviderPaymentStatus, get_provider
from payments.providers.sandbox import SandboxProvider, sandbox_notice
from payments.services import payment_query, payments_query_stuck
from payments.tasks import query_stuck
from tests.orders.conftest import checkout_body, run_parallel
from tests.payments.conftest import post_notice


def stuck():
    """A moment at which a payment opened now is stuck (past PAYMENT_QUERY_AFTER)."""
    return time_machine.travel(timezone.now() + settings.PAYMENT_QUERY_AFTER + timedelta(seconds=1))


def paid_events(payment):
    return PaymentEvent.objects.filter(payment=payment, to_status="succeeded").count()


def order_paid_events(order):
    return OrderEvent.objects.filter(order=order, to_status="paid").count()


@pytest.mark.django_db
def test_the_sweep_pays_a_stuck_payment_whose_notice_was_lost(order, payment):
    sandbox_notice(payment=payment)  # the buyer paid at the provider; its notice never arrived
    assert payments_query_stuck() == {}  # not stuck yet: the webhook has PAYMENT_QUERY_AFTER to come
    with stuck():
        assert query_stuck() == {"paid": 1}
        assert payments_query_stuck() == {}  # settled: not asked again
    order.refresh_from_db()
    payment.refresh_from_db()
    assert order.status == "paid" and payment.status == "succeeded" and payment.succeeded_at
    assert paid_events(payment) == 1 and order_paid_events(order) == 1
    event = WebhookEvent.objects.get()
    assert (event.event_id, event.type, event.outcome, event.payment) == (
        f"query:{payment.pk}:succeeded", "payment.succeeded", "paid", payment)
    assert event.payload["source"] == "query" and event.payload["amount"] == str(payment.amount)


@pytest.mark.django_db
def test_a_webhook_after_the_answer_changes_nothing(api_client, order, payment):
    body = sandbox_notice(payment=payment)
    with stuck():
        assert payments_query_stuck() == {"paid": 1}
    merchant = order.merchant_orders.get().merchant.user
    notices = Notification.objects.filter(user=merchant, kind="merchant_order.paid").count()
    events = OrderEvent.objects.count()
    response = post_notice(api_client, body)  # the lost notice turns up after all
    assert response.status_code == 200 and response.json() == {"outcome": "ignored"}
    assert paid_events(payment) == 1 and order_paid_events(order) == 1 and OrderEvent.objects.count() == events
    assert Notification.objects.filter(user=merchant, kind="merchant_order.paid").count() == notices == 1
    assert order.merchant_orders.get().lines.get().product.sales_count == 2
    # The same answer again is the same event: recorded once.
    assert payment_query(payment=payment) == "duplicate"
    assert WebhookEvent.objects.count() == 2


@pytest.mark.django_db
def test_an_answer_after_the_webhook_changes_nothing(api_client, order, payment):
    assert post_notice(api_client, sandbox_notice(payment=payment)).json() == {"outcome": "paid"}
    with stuck():
        assert payments_query_stuck() == {}  # no longer pending: not asked
    assert payment_query(payment=Payment.objects.get(pk=payment.pk)) == "ignored"
    assert paid_events(payment) == 1 and order_paid_events(order) == 1


@pytest.mark.django_db
def test_a_failed_answer_fails_the_payment_and_the_order_stays_payable(client_for, consumer, order, payment):
    sandbox_notice(payment=payment, event_type="payment.failed")
    with stuck():
        assert payments_query_stuck() == {"failed": 1}
    assert Payment.objects.get(pk=payment.pk).status == "failed"
    assert Order.objects.get(pk=order.pk).status == "pending_payment"
    assert WebhookEvent.objects.get().event_id == f"query:{payment.pk}:failed"
    again = client_for(consumer).post(f"/api/orders/{order.pk}/pay/", {}, format="json")
    assert again.status_code == 201 and again.json()["id"] != payment.pk


@pytest.mark.django_db
def test_pending_and_unknown_answers_leave_the_payment_alone(order, payment, caplog):
    with stuck(), caplog.at_level(logging.INFO, logger="payments.services"):
        assert payments_query_stuck() == {"pending": 1}  # the sandbox opened the trade; nobody paid it
        SandboxTransaction.objects.filter(payment_id=payment.pk).delete()
        assert payments_query_stuck() == {"unknown": 1}  # the provider has no such trade
    assert Payment.objects.get(pk=payment.pk).status == "pending" and not WebhookEvent.objects.exists()
    assert f"payment {payment.pk}: the provider answered pending" in caplog.text


@pytest.mark.django_db
@pytest.mark.parametrize("change", [{"amount": "0.01"}, {"currency": "USD"}])
def test_an_answer_with_another_amount_flags_the_payment(api_client, order, payment, change):
    body = sandbox_notice(payment=payment, **change)
    with stuck():
        assert payments_query_stuck() == {"flagged": 1}
    payment.refresh_from_db()
    assert payment.status == "flagged" and f"query:{payment.pk}:succeeded" in payment.flag_reason
    assert Order.objects.get(pk=order.pk).status == "pending_payment"
    # As after a webhook's mismatch: nothing pays a flagged payment until a person looks.
    assert post_notice(api_client, body).status_code == 400
    assert post_notice(api_client, sandbox_notice(payment=payment)).json() == {"outcome": "ignored"}
    assert Order.objects.get(pk=order.pk).status == "pending_payment"


@pytest.mark.django_db
def test_a_success_without_an_amount_is_left_alone(order, payment, monkeypatch):
    monkeypatch.setattr(SandboxProvider, "query_payment",
                        lambda self, *, payment: ProviderPaymentStatus(status="succeeded", currency="CNY"))
    with stuck():
        assert payments_query_stuck() == {"unverified": 1}
    assert Payment.objects.get(pk=payment.pk).status == "pending" and not WebhookEvent.objects.exists()


@pytest.mark.django_db
def test_a_provider_failure_is_logged_and_the_sweep_goes_on(client_for, consumer, product, address, order, payment,
                                                            monkeypatch, caplog):
    other_order = client_for(consumer).post(
        "/api/orders/", checkout_body(address, {"product": product.pk, "quantity": 1}), format="json").json()["id"]
    other = Payment.objects.get(pk=client_for(consumer).post(f"/api/orders/{other_order}/pay/", {},
                                                             format="json").json()["id"])
    sandbox_notice(payment=payment)
    sandbox_notice(payment=other)
    real = SandboxProvider.query_payment

    def flaky(self, *, payment):
        if payment.pk == other.pk:
            raise TimeoutError("provider timed out")
        return real(self, payment=payment)

    monkeypatch.setattr(SandboxProvider, "query_payment", flaky)
    with stuck():
        assert payments_query_stuck() == {"paid": 1, "error": 1}
    assert Payment.objects.get(pk=other.pk).status == "pending" and "provider query failed" in caplog.text


@pytest.mark.django_db
def test_only_payments_inside_the_window_are_asked(order, payment, settings):
    sandbox_notice(payment=payment)
    too_old = timezone.now() + settings.PAYMENT_QUERY_AFTER + settings.PAYMENT_QUERY_HORIZON + timedelta(minutes=1)
    with time_machine.travel(too_old):
        assert payments_query_stuck() == {}  # left to the webhook and a person
    assert payments_query_stuck(limit=0) == {}
    with stuck():
        assert payments_query_stuck() == {"paid": 1}


@pytest.mark.django_db
def test_a_late_answer_after_the_order_was_cancelled_refunds_it(order, payment, product,
                                                               django_capture_on_commit_callbacks):
    sandbox_notice(payment=payment)
    with time_machine.travel(timezone.now() + timedelta(minutes=20)):
        assert orders_expire_unpaid() == 1
        with django_capture_on_commit_callbacks(execute=True):
            assert payments_query_stuck() == {"refunded_late": 1}
    payment.refresh_from_db()
    refund = Refund.objects.get(payment=payment)
    assert payment.status == "refunded" and refund.status == "succeeded" and refund.amount == payment.amount
    assert Order.objects.get(pk=order.pk).status == "cancelled"
    assert SandboxTransaction.objects.get(kind="refund", refund_id=refund.pk).reference == refund.provider_reference


@pytest.mark.django_db
def test_the_sandbox_answers_from_its_own_books(order, payment):
    sandbox = get_provider("sandbox")
    trade = SandboxTransaction.objects.get(kind="payment", payment_id=payment.pk)
    assert (trade.status, trade.reference) == ("pending", payment.provider_reference)
    assert sandbox.query_payment(payment=payment) == ProviderPaymentStatus(
        status="pending", currency="CNY", reference=payment.provider_reference)
    sandbox_notice(payment=payment)
    answer = sandbox.query_payment(payment=payment)
    assert (answer.status, answer.amount, answer.currency, answer.reference) == (
        "succeeded", payment.amount, "CNY", payment.provider_reference)
    assert answer.paid_at is not None
    # A paid trade stays paid: a later simulated notice is a resend, not a second charge.
    sandbox_notice(payment=payment, event_type="payment.failed")
    assert sandbox.query_payment(payment=payment).status == "succeeded"
    # Refunds are idempotent per refund id, as a provider keys them on the out-refund-no.
    first = sandbox.refund(payment=payment, amount=Decimal("5.00"), refund_id=777)
    assert sandbox.refund(payment=payment, amount=Decimal("5.00"), refund_id=777) == first
    assert SandboxTransaction.objects.filter(kind="refund").count() == 1
    with pytest.raises(ValueError):
        ProviderPaymentStatus(status="maybe")


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_a_sweep_and_a_webhook_at_once_make_one_transition(api_client, client_for, consumer, product, address,
                                                           settings):
    """Real parallel transactions: the answer and the notice of the same payment race, ten times."""
    settings.PAYMENT_QUERY_AFTER = timedelta(0)
    client = client_for(consumer)
    for _round in range(10):
        order_id = client.post("/api/orders/", checkout_body(address, {"product": product.pk, "quantity": 1}),
                               format="json").json()["id"]
        payment = Payment.objects.get(pk=client.post(f"/api/orders/{order_id}/pay/", {}, format="json").json()["id"])
        body = sandbox_notice(payment=payment)
        sweep, webhook = run_parallel([payments_query_stuck, lambda body=body: post_notice(api_client, body).json()],
                                      workers=2)
        # Whichever came second found the payment settled (or, if the webhook finished before the
        # sweep read the pending payments, was never asked).
        outcomes = [*sweep, webhook["outcome"]]
        assert outcomes.count("paid") == 1 and set(outcomes) <= {"paid", "ignored"}, outcomes
        assert paid_events(payment) == 1 and OrderEvent.objects.filter(order_id=order_id, to_status="paid").count() == 1
        assert Order.objects.get(pk=order_id).status == "paid"
        assert WebhookEvent.objects.filter(payment=payment).count() == len(outcomes)
    product.refresh_from_db()
    assert product.sales_count == 10
