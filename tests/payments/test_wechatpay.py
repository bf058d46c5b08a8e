"""WeChat Pay API v3 through its stand-in (tests/payments/wechatpay_server.py): prepay, the signed and
encrypted notification, queries, refunds and their notification, certificate rotation, every refusal."""

import base64
import json
from datetime import timedelta

import pytest
import time_machine
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from django.conf import settings
from django.utils import timezone

from orders.models import Order
from orders.services import orders_expire_unpaid
from payments.models import ChannelExchange, Payment, PaymentEvent, Refund, WebhookEvent, WechatPayCertificate
from payments.services import payments_query_stuck, refunds_retry
from tests.orders.conftest import run_parallel
from tests.payments.conftest import pay_with, post_channel_notice
from tests.payments.wechatpay_server import APPID, MCHID


def paid_events(payment):
    return PaymentEvent.objects.filter(payment=payment, to_status="succeeded").count()


@pytest.fixture
def wx_payment(client_for, consumer, order, wechatpay):
    response = pay_with(client_for(consumer), order, "wechatpay", method="native")
    assert response.status_code == 201, response.json()
    return Payment.objects.get(pk=response.json()["id"])


def notify(wechatpay, payment, **overrides):
    trade = wechatpay.pay(payment.provider_reference)
    resource = {**trade, **overrides}
    return post_channel_notice("wechatpay", *wechatpay.notice(resource))


@pytest.mark.django_db
def test_native_pay_and_its_notification_pay_the_order(client_for, consumer, order, wechatpay):
    response = pay_with(client_for(consumer), order, "wechatpay", method="native")
    assert response.status_code == 201, response.json()
    data = response.json()
    params = data["client_params"]
    assert params["method"] == "native" and params["code_url"].startswith("weixin://wxpay/bizpayurl")
    payment = Payment.objects.get(pk=data["id"])
    out_trade_no = params["out_trade_no"]
    assert int(out_trade_no) == payment.pk and len(out_trade_no) >= 8
    (method, path, body), = [r for r in wechatpay.requests if r[1] != "/v3/certificates"]
    assert (method, path) == ("POST", "/v3/pay/transactions/native")
    assert body["amount"] == {"total": int(payment.amount * 100), "currency": "CNY"}
    assert body["appid"] == APPID and body["mchid"] == MCHID and body["out_trade_no"] == out_trade_no
    answer = notify(wechatpay, payment)
    assert answer.status_code == 200 and answer.json() == {"outcome": "paid"}
    assert Order.objects.get(pk=order.pk).status == "paid" and paid_events(payment) == 1
    # Every call and notice is kept for support, with no secret in it.
    exchanges = list(ChannelExchange.objects.filter(provider="wechatpay").order_by("pk"))
    assert [(e.direction, e.operation, e.outcome) for e in exchanges if e.operation != "GET /v3/certificates"] == [
        ("out", "POST /v3/pay/transactions/native", "ok"), ("in", "notice", "paid")]
    stored = json.dumps([[e.request, e.response] for e in exchanges])
    assert wechatpay.apiv3_key not in stored and "WECHATPAY2-SHA256" not in stored and "[redacted]" in stored
    assert exchanges[-1].payment_id == payment.pk and exchanges[-1].response["trade_state"] == "SUCCESS"


@pytest.mark.django_db
def test_jsapi_returns_the_signed_pay_bundle(client_for, consumer, order, wechatpay):
    client = client_for(consumer)
    missing = pay_with(client, order, "wechatpay", method="jsapi")
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "openid_required"
    assert Order.objects.get(pk=order.pk).status == "pending_payment" and not Payment.objects.exists()
    response = pay_with(client, order, "wechatpay", method="jsapi", openid="oUpF8uMuAJO_M2pxb1Q9zNjWeS6o")
    assert response.status_code == 201, response.json()
    bundle = response.json()["client_params"]
    assert bundle["appId"] == APPID and bundle["signType"] == "RSA" and bundle["package"].startswith("prepay_id=wx")
    message = f"{bundle['appId']}\n{bundle['timeStamp']}\n{bundle['nonceStr']}\n{bundle['package']}\n".encode()
    wechatpay.merchant_key.public_key().verify(base64.b64decode(bundle["paySign"]), message, padding.PKCS1v15(),
                                               hashes.SHA256())  # raises if the paySign is wrong
    h5 = pay_with(client, order, "wechatpay", method="h5")
    assert h5.status_code == 201 and h5.json()["client_params"]["h5_url"].startswith("https://")


@pytest.mark.django_db
def test_paying_again_reuses_the_payment_and_the_trade(client_for, consumer, order, wechatpay):
    client = client_for(consumer)
    first = pay_with(client, order, "wechatpay", method="native").json()
    again = pay_with(client, order, "wechatpay", method="native").json()
    assert first["id"] == again["id"] and len(wechatpay.trades) == 1 and Payment.objects.count() == 1


@pytest.mark.django_db
def test_an_outage_is_503_with_retry_after_and_the_order_stays_payable(client_for, consumer, order, wechatpay):
    client = client_for(consumer)
    wechatpay.down = True
    response = pay_with(client, order, "wechatpay", method="native")
    assert response.status_code == 503 and response["Retry-After"] == str(settings.PAYMENT_CHANNEL_RETRY_AFTER_S)
    assert response.json()["error"]["code"] == "payment_channel_unavailable"
    assert Order.objects.get(pk=order.pk).status == "pending_payment" and not wechatpay.trades
    wechatpay.down = False
    retry = pay_with(client, order, "wechatpay", method="native")
    assert retry.status_code == 201 and Payment.objects.count() == 1 and len(wechatpay.trades) == 1
    assert ChannelExchange.objects.filter(outcome="unavailable").count() == 1


@pytest.mark.django_db
def test_every_refused_notification_changes_nothing(wechatpay, wx_payment, order):
    trade = wechatpay.pay(wx_payment.provider_reference)
    headers, body = wechatpay.notice(trade)
    cases = {
        "tampered body": (headers, body.replace(b'"id"', b'"Id"')),
        "no signature": ({**headers, "Wechatpay-Signature": ""}, body),
        "probe signature": ({**headers, "Wechatpay-Signature": "WECHATPAY/SIGNTEST/abc"}, body),
        "unknown serial": ({**headers, "Wechatpay-Serial": "ABCDEF"}, body),
        "stale": wechatpay.notice(trade, timestamp=wechatpay.now() - 330),
        "future": wechatpay.notice(trade, timestamp=wechatpay.now() + 330),
        "another APIv3 key": wechatpay.notice(trade, apiv3_key="0" * 32),
        "another mchid": wechatpay.notice({**trade, "mchid": "1900000999"}),
        "another appid": wechatpay.notice({**trade, "appid": "wx0000000000000000"}),
        "unknown payment": wechatpay.notice({**trade, "out_trade_no": "99999999"}),
    }
    codes = {name: post_channel_notice("wechatpay", *case).json()["error"]["code"] for name, case in cases.items()}
    assert codes == {"tampered body": "invalid_signature", "no signature": "invalid_signature",
                     "probe signature": "invalid_signature", "unknown serial": "invalid_signature",
                     "stale": "stale_signature", "future": "stale_signature",
                     "another APIv3 key": "invalid_signature", "another mchid": "foreign_merchant",
                     "another appid": "foreign_merchant", "unknown payment": "unknown_payment"}
    assert Payment.objects.get(pk=wx_payment.pk).status == "pending" and not WebhookEvent.objects.exists()
    assert ChannelExchange.objects.filter(direction="in", outcome__startswith="refused").count() == len(cases)
    # Then the real one pays, once; its replay and a resend under a new id change nothing more.
    assert post_channel_notice("wechatpay", headers, body).json() == {"outcome": "paid"}
    assert post_channel_notice("wechatpay", headers, body).json() == {"outcome": "duplicate"}
    assert post_channel_notice("wechatpay", *wechatpay.notice(trade)).json() == {"outcome": "ignored"}
    assert paid_events(wx_payment) == 1 and Order.objects.get(pk=order.pk).status == "paid"


@pytest.mark.django_db
@pytest.mark.parametrize("amount", [{"total": 1, "payer_total": 1, "currency": "CNY"},
                                    {"total": 9900, "payer_total": 9900, "currency": "USD"}])
def test_a_notification_with_another_amount_flags_the_payment(wechatpay, wx_payment, order, amount):
    response = notify(wechatpay, wx_payment, amount=amount)
    assert response.status_code == 400 and response.json()["error"]["code"] == "amount_mismatch"
    assert Payment.objects.get(pk=wx_payment.pk).status == "flagged"
    assert Order.objects.get(pk=order.pk).status == "pending_payment"


@pytest.mark.django_db
def test_certificate_rotation(wechatpay, wx_payment, order):
    assert WechatPayCertificate.objects.count() == 1  # downloaded when the prepay answer named it
    old = wechatpay.serial
    wechatpay.rotate()  # WeChat Pay starts signing with a new certificate; the old one stays valid a while
    response = notify(wechatpay, wx_payment)
    assert response.status_code == 200 and response.json() == {"outcome": "paid"}
    assert set(WechatPayCertificate.objects.values_list("serial_no", flat=True)) == {old, wechatpay.serial}
    # A notice still signed by the old certificate (in flight during the rotation) is checked with it.
    trade = wechatpay.trades[wx_payment.provider_reference]
    assert post_channel_notice("wechatpay", *wechatpay.notice(trade, key_index=0)).json() == {"outcome": "ignored"}
    # The beat task stores what the channel lists.
    from payments.tasks import wechatpay_certificates

    wechatpay.rotate(keep_old=False)
    assert wechatpay_certificates() == [wechatpay.serial]
    assert WechatPayCertificate.objects.count() == 3


@pytest.mark.django_db
def test_clock_skew(client_for, consumer, order, wechatpay):
    client = client_for(consumer)
    wechatpay.clock_offset = 200  # within the 5 minutes both sides allow
    assert pay_with(client, order, "wechatpay", method="native").status_code == 201
    wechatpay.clock_offset = 400  # the channel refuses our signature's timestamp
    refused = pay_with(client, order, "wechatpay", method="h5")
    assert refused.status_code == 502 and refused.json()["error"]["code"] == "payment_channel_refused"
    assert Order.objects.get(pk=order.pk).status == "pending_payment"


@pytest.mark.django_db
def test_a_stuck_payment_is_settled_by_the_query(wechatpay, wx_payment, order):
    wechatpay.pay(wx_payment.provider_reference)  # paid; the notification was lost
    with time_machine.travel(timezone.now() + settings.PAYMENT_QUERY_AFTER + timedelta(seconds=1)):
        assert payments_query_stuck() == {"paid": 1}
    assert Order.objects.get(pk=order.pk).status == "paid" and paid_events(wx_payment) == 1
    get, = [r for r in wechatpay.requests if r[0] == "GET" and "out-trade-no" in r[1]]
    assert get[1] == f"/v3/pay/transactions/out-trade-no/{wx_payment.provider_reference}?mchid={MCHID}"


@pytest.mark.django_db
def test_an_unpaid_or_unknown_trade_is_left_pending(wechatpay, wx_payment):
    with time_machine.travel(timezone.now() + settings.PAYMENT_QUERY_AFTER + timedelta(seconds=1)):
        assert payments_query_stuck() == {"pending": 1}
        wechatpay.trades.clear()
        assert payments_query_stuck() == {"unknown": 1}
        wechatpay.down = True
        assert payments_query_stuck() == {"error": 1}
    assert Payment.objects.get(pk=wx_payment.pk).status == "pending"


@pytest.mark.django_db
def test_paid_late_after_the_stock_went_back_is_refunded_through_wechat_pay(wechatpay, wx_payment, order,
                                                                            django_capture_on_commit_callbacks):
    wechatpay.pay(wx_payment.provider_reference)
    with time_machine.travel(timezone.now() + timedelta(minutes=20)):
        assert orders_expire_unpaid() == 1
        with django_capture_on_commit_callbacks(execute=True):
            assert payments_query_stuck() == {"refunded_late": 1}
    refund = Refund.objects.get(payment=wx_payment)
    assert refund.status == "pending" and refund.provider_reference  # PROCESSING at the channel
    sent = wechatpay.refunds[str(refund.pk).zfill(8)]
    assert sent["amount"] == {"total": int(wx_payment.amount * 100), "refund": int(refund.amount * 100),
                              "currency": "CNY"}
    done = wechatpay.finish_refund(sent["out_refund_no"])
    headers, body = wechatpay.notice(wechatpay.refund_resource(done), event_type="REFUND.SUCCESS")
    assert post_channel_notice("wechatpay", headers, body).json() == {"outcome": "refunded"}
    assert post_channel_notice("wechatpay", headers, body).json() == {"outcome": "duplicate"}
    refund.refresh_from_db()
    assert refund.status == "succeeded" and refund.provider_reference == done["refund_id"]


@pytest.mark.django_db
def test_a_refund_without_its_notification_is_settled_by_the_query(wechatpay, wx_payment, order,
                                                                  django_capture_on_commit_callbacks):
    wechatpay.pay(wx_payment.provider_reference)
    with time_machine.travel(timezone.now() + timedelta(minutes=20)):
        orders_expire_unpaid()
        with django_capture_on_commit_callbacks(execute=True):
            payments_query_stuck()
    refund = Refund.objects.get(payment=wx_payment)
    with time_machine.travel(timezone.now() + timedelta(minutes=22)):
        assert refunds_retry() == 1  # still PROCESSING: asked, left pending
        assert Refund.objects.get(pk=refund.pk).status == "pending"
        wechatpay.finish_refund(str(refund.pk).zfill(8), "ABNORMAL")
        refunds_retry()
    refund.refresh_from_db()
    assert refund.status == "pending" and "ABNORMAL" in refund.last_error  # a refusal is retried, then failed
    wechatpay.finish_refund(str(refund.pk).zfill(8), "SUCCESS")
    with time_machine.travel(timezone.now() + timedelta(minutes=22)):
        refunds_retry()
    assert Refund.objects.get(pk=refund.pk).status == "succeeded"
    posts = [r for r in wechatpay.requests if r[:2] == ("POST", "/v3/refund/domestic/refunds")]
    assert len(posts) == 1  # asked about, never sent twice


@pytest.mark.django_db(transaction=True)
def test_a_notification_before_the_prepay_answer(client_for, consumer, order, wechatpay):
    """The buyer pays and WeChat Pay notifies us while our prepay call is still waiting for its answer."""
    answers = []

    def buyer_pays_at_once(trade):
        wechatpay.pay(trade["out_trade_no"])
        answers.append(post_channel_notice("wechatpay", *wechatpay.notice(trade)).json())

    wechatpay.on_prepay = buyer_pays_at_once
    response = pay_with(client_for(consumer), order, "wechatpay", method="native")
    assert response.status_code == 201 and answers == [{"outcome": "paid"}]
    payment = Payment.objects.get(pk=response.json()["id"])
    assert payment.status == "succeeded" and payment.client_params["code_url"]
    assert Order.objects.get(pk=order.pk).status == "paid"


@pytest.mark.django_db(transaction=True)
def test_two_pay_requests_at_once_make_one_payment(client_for, consumer, order, wechatpay):
    client = client_for(consumer)
    answers = run_parallel([lambda: pay_with(client, order, "wechatpay", method="native")] * 2, workers=2)
    assert [a.status_code for a in answers] == [201, 201], [(a.json(), list(ChannelExchange.objects.values_list("operation", "outcome"))) for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1 and Payment.objects.count() == 1
    assert len(wechatpay.trades) == 1
