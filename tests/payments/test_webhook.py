"""Paying an order: the sandbox provider and the signed webhook."""

import json
import time

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import timezone

from notifications.models import Notification
from orders.models import Order, OrderEvent
from orders.services import orders_expire_unpaid
from payments.models import Payment, Refund, WebhookEvent
from payments.providers.sandbox import sandbox_notice
from payments.signature import sign
from tests import factories
from tests.payments.conftest import post_notice


@pytest.mark.django_db
def test_a_signed_notice_marks_the_order_paid(api_client, order, payment):
    response = post_notice(api_client, sandbox_notice(payment=payment))
    assert response.status_code == 200 and response.json() == {"outcome": "paid"}
    order.refresh_from_db()
    payment.refresh_from_db()
    assert order.status == "paid" and payment.status == "succeeded"
    assert set(order.merchant_orders.values_list("status", flat=True)) == {"paid"}
    merchant_user = order.merchant_orders.get().merchant.user
    assert Notification.objects.filter(user=merchant_user, kind="merchant_order.paid").exists()
    product = order.merchant_orders.get().lines.get().product
    assert product.sales_count == 2


@pytest.mark.django_db
def test_a_replayed_event_changes_nothing_more(api_client, order, payment):
    body = sandbox_notice(payment=payment, event_id="evt-1")
    assert post_notice(api_client, body).status_code == 200
    events = OrderEvent.objects.count()
    replay = post_notice(api_client, body)
    assert replay.status_code == 200 and replay.json() == {"outcome": "duplicate"}
    assert OrderEvent.objects.count() == events and WebhookEvent.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("header", ["", "t=123", "t=1,v1=deadbeef", "garbage"])
def test_a_bad_signature_is_400_and_changes_nothing(api_client, order, payment, header):
    body = sandbox_notice(payment=payment)
    if header == "t=1,v1=deadbeef":
        header = f"t={int(time.time())},v1=" + "0" * 64
    response = post_notice(api_client, body, header=header)
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_signature"
    assert Payment.objects.get(pk=payment.pk).status == "pending" and not WebhookEvent.objects.exists()


@pytest.mark.django_db
def test_a_signature_over_another_body_or_secret_is_refused(api_client, order, payment):
    body = sandbox_notice(payment=payment)
    assert post_notice(api_client, body, header=sign(body, secret="other")).status_code == 400
    tampered = body.replace(str(payment.amount).encode(), b"0.01")
    assert post_notice(api_client, tampered, header=sign(body)).status_code == 400
    assert Order.objects.get(pk=order.pk).status == "pending_payment"


@pytest.mark.django_db
@pytest.mark.parametrize("skew", [-301, 301])
def test_a_stale_timestamp_is_refused(api_client, order, payment, skew):
    body = sandbox_notice(payment=payment)
    response = post_notice(api_client, body, header=sign(body, timestamp=int(time.time()) + skew))
    assert response.status_code == 400 and response.json()["error"]["code"] == "stale_signature"
    assert Order.objects.get(pk=order.pk).status == "pending_payment" and not WebhookEvent.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("change", [{"amount": "0.01"}, {"currency": "USD"}])
def test_an_amount_or_currency_mismatch_flags_the_payment(api_client, order, payment, change):
    response = post_notice(api_client, sandbox_notice(payment=payment, **change))
    assert response.status_code == 400 and response.json()["error"]["code"] == "amount_mismatch"
    payment.refresh_from_db()
    assert payment.status == "flagged" and payment.flag_reason
    assert Order.objects.get(pk=order.pk).status == "pending_payment"
    # A correct notice afterwards does not pay a flagged payment: a person looks at it first.
    assert post_notice(api_client, sandbox_notice(payment=payment)).json() == {"outcome": "ignored"}
    assert Order.objects.get(pk=order.pk).status == "pending_payment"


@pytest.mark.django_db
def test_an_unknown_payment_is_400_and_records_nothing(api_client, order, payment):
    body = json.dumps({"event_id": "evt-x", "type": "payment.succeeded", "payment_id": payment.pk + 1000,
                       "amount": str(payment.amount), "currency": "CNY"}).encode()
    response = post_notice(api_client, body)
    assert response.status_code == 400 and response.json()["error"]["code"] == "unknown_payment"
    assert not WebhookEvent.objects.exists()
    assert api_client.post("/api/payments/webhook/nope/", body, content_type="application/json",
                           HTTP_X_CUNBO_SIGNATURE=sign(body)).status_code == 404


@pytest.mark.django_db
def test_a_malformed_body_is_400(api_client):
    body = b'{"event_id": "e", "type": "payment.succeeded"}'
    assert post_notice(api_client, body).status_code == 400


@pytest.mark.django_db
def test_a_failed_payment_leaves_the_order_payable(api_client, client_for, consumer, order, payment):
    assert post_notice(api_client, sandbox_notice(payment=payment, event_type="payment.failed")).json() == {
        "outcome": "failed"}
    assert Order.objects.get(pk=order.pk).status == "pending_payment"
    again = client_for(consumer).post(f"/api/orders/{order.pk}/pay/", {}, format="json")
    assert again.status_code == 201 and again.json()["id"] != payment.pk


@pytest.mark.django_db
def test_paying_an_order_not_pending_or_not_yours(api_client, client_for, consumer, order, payment):
    assert client_for(factories.ConsumerFactory()).post(f"/api/orders/{order.pk}/pay/", {},
                                                        format="json").status_code == 404
    post_notice(api_client, sandbox_notice(payment=payment))
    response = client_for(consumer).post(f"/api/orders/{order.pk}/pay/", {}, format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "order_not_payable"
    bad = client_for(consumer).post(f"/api/orders/{order.pk}/pay/", {"provider": "bitcoin"}, format="json")
    assert bad.status_code == 400


@pytest.mark.django_db
def test_payment_window_closed(client_for, consumer, order):
    with time_machine.travel(timezone.now() + timezone.timedelta(minutes=16)):
        response = client_for(consumer).post(f"/api/orders/{order.pk}/pay/", {}, format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "payment_window_closed"


@pytest.mark.django_db
def test_late_payment_with_stock_still_held_is_accepted(api_client, order, payment):
    with time_machine.travel(timezone.now() + timezone.timedelta(minutes=20)):
        assert post_notice(api_client, sandbox_notice(payment=payment)).json() == {"outcome": "paid"}
        assert orders_expire_unpaid() == 0
    assert Order.objects.get(pk=order.pk).status == "paid"


@pytest.mark.django_db(transaction=True)
def test_late_payment_after_the_sweep_is_refunded_through_the_provider(api_client, order, payment, product):
    with time_machine.travel(timezone.now() + timezone.timedelta(minutes=20)):
        assert orders_expire_unpaid() == 1
        assert post_notice(api_client, sandbox_notice(payment=payment)).json() == {"outcome": "refunded_late"}
    payment.refresh_from_db()
    assert payment.status == "refunded"
    refund = Refund.objects.get(payment=payment)
    assert refund.amount == payment.amount and refund.status == "succeeded" and refund.provider_reference
    assert Order.objects.get(pk=order.pk).status == "cancelled"
    product.refresh_from_db()
    assert product.stock == 100


@pytest.mark.django_db
def test_sandbox_pay_command_is_debug_only_and_pays(order, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("sandbox_pay", str(order.pk))
    settings.DEBUG = True
    call_command("sandbox_pay", str(order.pk))
    assert Order.objects.get(pk=order.pk).status == "paid"


@pytest.mark.django_db
def test_the_webhook_is_documented_in_the_schema(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()
    assert "X-Cunbo-Signature" in schema and "HMAC-SHA256" in schema
