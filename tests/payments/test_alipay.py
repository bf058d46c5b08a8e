"""Alipay through its stand-in (tests/payments/alipay_server.py): signed pay parameters, the RSA2
asynchronous notification and every refusal, trade query, refund and refund query."""

import json
import urllib.parse
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from orders.models import Order
from orders.services import orders_expire_unpaid
from payments.models import ChannelExchange, Payment, PaymentEvent, Refund, WebhookEvent
from payments.services import payments_query_stuck, refunds_retry
from tests.payments.alipay_server import APP_ID, SELLER_ID, china_now
from tests.payments.conftest import pay_with, post_channel_notice
from tests.payments.stand_in import private_pem, rsa_key

FORM = "application/x-www-form-urlencoded"


def notify(body: bytes):
    return post_channel_notice("alipay", {}, body, content_type=FORM)


@pytest.fixture
def ali_trade(client_for, consumer, order, alipay):
    response = pay_with(client_for(consumer), order, "alipay", method="page")
    assert response.status_code == 201, response.json()
    url = response.json()["client_params"]["url"]
    assert url.startswith(settings.ALIPAY["gateway_url"] + "?")
    return Payment.objects.get(pk=response.json()["id"]), alipay.open_pay(urllib.parse.urlsplit(url).query)


@pytest.mark.django_db
def test_page_pay_and_its_notification_pay_the_order(alipay, ali_trade, order):
    payment, trade = ali_trade
    assert int(trade["out_trade_no"]) == payment.pk and trade["total_amount"] == f"{payment.amount:.2f}"
    assert trade["method"] == "alipay.trade.page.pay" and trade["product_code"] == "FAST_INSTANT_TRADE_PAY"
    response = notify(alipay.notice(alipay.pay(trade["out_trade_no"])))
    assert response.status_code == 200 and response.content == b"success"  # what Alipay must read
    assert Order.objects.get(pk=order.pk).status == "paid"
    event = WebhookEvent.objects.get()
    assert event.outcome == "paid" and "sign" not in event.payload
    logged = ChannelExchange.objects.get(direction="in")
    assert logged.outcome == "paid" and logged.payment_id == payment.pk
    assert "sign=" not in json.dumps(logged.response)


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "api", "code"), [("wap", "alipay.trade.wap.pay", "QUICK_WAP_WAY"),
                                                        ("app", "alipay.trade.app.pay", "QUICK_MSECURITY_PAY")])
def test_wap_and_app_parameters(client_for, consumer, order, alipay, method, api, code):
    params = pay_with(client_for(consumer), order, "alipay", method=method).json()["client_params"]
    query = params["order_string"] if method == "app" else urllib.parse.urlsplit(params["url"]).query
    trade = alipay.open_pay(query)  # the stand-in checks our RSA2 sign
    assert (trade["method"], trade["product_code"]) == (api, code)
    bad = pay_with(client_for(consumer), order, "alipay", method="native")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_method"


@pytest.mark.django_db
def test_every_refused_notification_changes_nothing(alipay, ali_trade, order):
    payment, trade = ali_trade
    paid = alipay.pay(trade["out_trade_no"])
    good = alipay.notice(paid)
    cases = {
        "tampered": good.replace(b"total_amount=", b"total_amount=1"),
        "another key": alipay.notice(paid, key=rsa_key()),
        "no sign": good.split(b"&sign=")[0],
        "another app": alipay.notice(paid, app_id="2021000000000999"),
        "another seller": alipay.notice(paid, seller_id="2088000000000999"),
        "stale": alipay.notice(paid, notify_time=china_now(-timedelta(hours=27))),
        "future": alipay.notice(paid, notify_time=china_now(timedelta(minutes=10))),
        "unknown payment": alipay.notice({**paid, "out_trade_no": "99999999"}),
        "not a form": b"\xff\xfe",
    }
    codes = {name: notify(body).json()["error"]["code"] for name, body in cases.items()}
    assert codes == {"tampered": "invalid_signature", "another key": "invalid_signature", "no sign": "invalid_signature",
                     "another app": "foreign_merchant", "another seller": "foreign_merchant",
                     "stale": "stale_signature", "future": "stale_signature", "unknown payment": "unknown_payment",
                     "not a form": "malformed_notice"}
    assert Payment.objects.get(pk=payment.pk).status == "pending" and not WebhookEvent.objects.exists()
    mismatch = notify(alipay.notice({**paid, "total_amount": "0.01"}))
    assert mismatch.status_code == 400 and mismatch.json()["error"]["code"] == "amount_mismatch"
    assert Payment.objects.get(pk=payment.pk).status == "flagged"
    assert Order.objects.get(pk=order.pk).status == "pending_payment"


@pytest.mark.django_db
def test_a_replay_and_a_resend_are_idempotent(alipay, ali_trade, order):
    payment, trade = ali_trade
    waiting = notify(alipay.notice(trade))  # WAIT_BUYER_PAY: nothing to do
    assert waiting.content == b"success" and Payment.objects.get(pk=payment.pk).status == "pending"
    body = alipay.notice(alipay.pay(trade["out_trade_no"]))
    assert notify(body).content == notify(body).content == b"success"  # the replay: "duplicate"
    assert notify(alipay.notice(trade, trade_status="TRADE_FINISHED")).content == b"success"  # ignored
    assert PaymentEvent.objects.filter(payment=payment, to_status="succeeded").count() == 1
    assert list(WebhookEvent.objects.order_by("received_at", "pk").values_list("outcome", flat=True)) == [
        "ignored", "paid", "ignored"]


@pytest.mark.django_db
def test_a_stuck_payment_is_settled_by_the_trade_query(alipay, ali_trade, order):
    payment, trade = ali_trade
    stuck = timezone.now() + settings.PAYMENT_QUERY_AFTER + timedelta(seconds=1)
    with time_machine.travel(stuck):
        assert payments_query_stuck() == {"pending": 1}
        alipay.pay(trade["out_trade_no"])
        assert payments_query_stuck() == {"paid": 1}
    assert Order.objects.get(pk=order.pk).status == "paid"
    assert alipay.requests[-1]["method"] == "alipay.trade.query"
    alipay.trades.clear()
    Payment.objects.filter(pk=payment.pk).update(status="pending")
    with time_machine.travel(stuck):
        assert payments_query_stuck() == {"unknown": 1}  # ACQ.TRADE_NOT_EXIST
        alipay.down = True
        assert payments_query_stuck() == {"error": 1}


@pytest.mark.django_db
@pytest.mark.parametrize("delayed", [False, True])
def test_a_late_payment_is_refunded_through_alipay(alipay, ali_trade, order, delayed,
                                                   django_capture_on_commit_callbacks):
    payment, trade = ali_trade
    alipay.refund_delayed = delayed
    with time_machine.travel(timezone.now() + timedelta(minutes=20)):
        assert orders_expire_unpaid() == 1
        with django_capture_on_commit_callbacks(execute=True):
            assert notify(alipay.notice(alipay.pay(trade["out_trade_no"]))).content == b"success"
    refund = Refund.objects.get(payment=payment)
    assert refund.amount == payment.amount
    assert alipay.refunds[(trade["out_trade_no"], str(refund.pk).zfill(8))]["refund_amount"] == f"{payment.amount:.2f}"
    assert refund.status == ("pending" if delayed else "succeeded")
    if delayed:
        with time_machine.travel(timezone.now() + timedelta(minutes=22)):
            refunds_retry()  # REFUND_PROCESSING: still pending
            assert Refund.objects.get(pk=refund.pk).status == "pending"
            alipay.refunds[(trade["out_trade_no"], str(refund.pk).zfill(8))]["moved"] = True
            refunds_retry()
        assert Refund.objects.get(pk=refund.pk).status == "succeeded"
        assert [r["method"] for r in alipay.requests].count("alipay.trade.refund") == 1


@pytest.mark.django_db
def test_a_refund_during_an_outage_is_retried(alipay, ali_trade, order, django_capture_on_commit_callbacks):
    payment, trade = ali_trade
    alipay.down = True
    with time_machine.travel(timezone.now() + timedelta(minutes=20)):
        orders_expire_unpaid()
        with django_capture_on_commit_callbacks(execute=True):
            notify(alipay.notice(alipay.pay(trade["out_trade_no"])))
    refund = Refund.objects.get(payment=payment)
    assert refund.status == "pending" and "ChannelUnavailable" in refund.last_error and refund.attempts == 1
    alipay.down = False
    with time_machine.travel(timezone.now() + timedelta(minutes=22)):
        assert refunds_retry() == 1
    assert Refund.objects.get(pk=refund.pk).status == "succeeded"


@pytest.mark.django_db
def test_our_request_signature_is_checked(alipay, ali_trade, settings):
    settings.ALIPAY = {**settings.ALIPAY, "private_key": private_pem(rsa_key())}  # not the key Alipay has
    with time_machine.travel(timezone.now() + settings.PAYMENT_QUERY_AFTER + timedelta(seconds=1)):
        assert payments_query_stuck() == {"error": 1}  # the gateway's error_response: refused
    assert ChannelExchange.objects.filter(operation="alipay.trade.query", outcome="unreadable").exists()


@pytest.mark.django_db
def test_a_disabled_channel_is_refused(client_for, consumer, order, settings):
    settings.PAYMENT_PROVIDERS = {"sandbox": settings.PAYMENT_PROVIDERS["sandbox"]}
    for provider in ("alipay", "wechatpay"):
        response = pay_with(client_for(consumer), order, provider)
        assert response.status_code == 400 and response.json()["error"]["code"] == "provider_disabled"
    assert not Payment.objects.exists()
    from payments.checks import payment_channels

    settings.ALIPAY = {**settings.ALIPAY, "app_id": APP_ID, "seller_id": SELLER_ID}
    messages = [m.msg for m in payment_channels(None)]
    assert any("WeChat Pay is disabled: WECHATPAY_MCHID" in m for m in messages)
    assert any("Alipay is disabled: ALIPAY_PRIVATE_KEY" in m for m in messages)
