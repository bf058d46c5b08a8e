import pytest

from orders.models import Order
from payments.models import Payment
from payments.signature import sign
from tests.orders.conftest import _eager_celery_and_gate, address, checkout_body, product  # noqa: F401

HOOK = "/api/payments/webhook/sandbox/"


@pytest.fixture
def order(client_for, consumer, product, address):  # noqa: F811 - the fixtures imported above
    response = client_for(consumer).post("/api/orders/", checkout_body(address, {"product": product.pk, "quantity": 2}),
                                         format="json")
    return Order.objects.get(pk=response.json()["id"])


@pytest.fixture
def payment(client_for, consumer, order):
    response = client_for(consumer).post(f"/api/orders/{order.pk}/pay/", {}, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert set(data) >= {"id", "provider", "amount", "status", "client_params"}
    assert data["provider"] == "sandbox" and data["amount"] == str(order.total) and data["status"] == "pending"
    return Payment.objects.get(pk=data["id"])


def post_notice(api_client, body: bytes, *, header=None):
    """POST ``body`` to the sandbox webhook, signed unless ``header`` says otherwise."""
    return api_client.post(HOOK, body, content_type="application/json",
                           HTTP_X_CUNBO_SIGNATURE=header if header is not None else sign(body))


@pytest.fixture
def wechatpay(settings):
    """The WeChat Pay stand-in, running, with the adapter pointed at it and enabled."""
    from payments.providers import wechatpay as adapter
    from tests.payments.wechatpay_server import WechatPayStandIn

    stand_in = WechatPayStandIn()
    settings.WECHATPAY = stand_in.settings(stand_in.start())
    settings.PAYMENT_PROVIDERS = {**settings.PAYMENT_PROVIDERS, "wechatpay": "payments.providers.wechatpay.WechatPayProvider"}
    adapter._KEYS.clear()
    adapter._LAST_REFRESH[0] = -1e9
    yield stand_in
    stand_in.stop()
    adapter._KEYS.clear()


@pytest.fixture
def alipay(settings):
    """The Alipay stand-in, running, with the adapter pointed at it and enabled."""
    from tests.payments.alipay_server import AlipayStandIn

    stand_in = AlipayStandIn()
    settings.ALIPAY = stand_in.settings(stand_in.start() + "/gateway.do")
    settings.PAYMENT_PROVIDERS = {**settings.PAYMENT_PROVIDERS, "alipay": "payments.providers.alipay.AlipayProvider"}
    yield stand_in
    stand_in.stop()


def pay_with(client, order, provider: str, **extra):
    return client.post(f"/api/orders/{order.pk}/pay/", {"provider": provider, **extra}, format="json")


def post_channel_notice(provider: str, headers: dict, body: bytes, content_type: str = "application/json"):
    from django.test import Client

    return Client().post(f"/api/payments/webhook/{provider}/", body, content_type=content_type, headers=headers)
