import asyncio
import datetime
import json

import pytest
from channels.testing import WebsocketCommunicator
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken

from livestream.models import Stream
from tests.factories import ConsumerFactory, MerchantFactory, ProductFactory, StreamFactory

HOOK_SECRET = "hook-secret-for-tests"


@pytest.fixture
def shop(db):
    return MerchantFactory()


@pytest.fixture
def owner(shop):
    return shop.user


@pytest.fixture
def product(shop):
    return ProductFactory(merchant=shop, stock=100)


@pytest.fixture
def scheduled_stream(shop, product):
    stream = StreamFactory(merchant=shop)
    stream.products.add(product)
    return stream


@pytest.fixture
def live_stream(shop, product):
    stream = StreamFactory(merchant=shop, status=Stream.Status.LIVE, started_at=timezone.now())
    stream.products.add(product)
    return stream


@pytest.fixture
def viewer(db):
    return ConsumerFactory()


@pytest.fixture
def hook_secret(settings):
    settings.MEDIA_HOOK_SECRET = HOOK_SECRET
    return HOOK_SECRET


def soon(minutes=60) -> str:
    return (timezone.now() + datetime.timedelta(minutes=minutes)).isoformat()


def token_for(user) -> str:
    return str(AccessToken.for_user(user))


def room(stream_id: int, *, token: str | None = None, origin: str | None = "http://testserver",
         language: str | None = None) -> WebsocketCommunicator:
    """A socket to the real ASGI application (Origin check, JWT middleware, routing)."""
    from marketplace.asgi import application

    path = f"/ws/streams/{stream_id}/" + (f"?token={token}" if token else "")
    headers = [(b"host", b"testserver")]
    if origin:
        headers.append((b"origin", origin.encode()))
    if language:
        headers.append((b"accept-language", language.encode()))
    return WebsocketCommunicator(application, path, headers=headers)


async def next_event(comm: WebsocketCommunicator, kind: str | None = None, *, timeout: float = 3.0) -> dict:
    """The next frame (of type ``kind``, skipping others) as a dict."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        left = deadline - loop.time()
        if left <= 0:
            raise AssertionError(f"no {kind or 'event'} within {timeout}s")
        event = json.loads(await comm.receive_from(timeout=left))
        if kind is None or event["type"] == kind:
            return event


async def drain(comm: WebsocketCommunicator, *, quiet: float = 0.3) -> list[dict]:
    """Everything received until the socket stays quiet for ``quiet`` seconds.

    (``receive_nothing`` polls without timing out: asgiref cancels the application
    when ``receive_output`` times out.)
    """
    events = []
    while not await comm.receive_nothing(timeout=quiet, interval=0.02):
        events.append(json.loads(await comm.receive_from()))
    return events


async def join(stream_id: int, **kwargs) -> WebsocketCommunicator:
    comm = room(stream_id, **kwargs)
    connected, _ = await comm.connect()
    assert connected
    return comm


@pytest.fixture(autouse=True)
def _orders_gate_remembers_no_failure():
    from orders.checkout.gate import gate_reset_breaker

    gate_reset_breaker()


@pytest.fixture
def address(village):
    return {"village": village.pk, "detail": "3排5号", "recipient": "王小明", "phone": "13800001234"}


def buy(client, address, product, quantity: int, *, stream=None, offer=None, pay: bool = False):
    """A checkout through the orders API (and, if ``pay``, a signed sandbox payment notice)."""
    from payments.models import Payment
    from payments.providers.sandbox import sandbox_notice
    from payments.signature import sign

    item = {"product": product.pk, "quantity": quantity, **({"offer": offer.pk} if offer else {})}
    body = {"items": [item], "address": address, **({"stream": stream.pk} if stream else {})}
    response = client.post("/api/orders/", body, format="json")
    if response.status_code != 201 or not pay:
        return response
    order_id = response.json()["id"]
    payment = Payment.objects.get(pk=client.post(f"/api/orders/{order_id}/pay/", {}, format="json").json()["id"])
    notice = sandbox_notice(payment=payment)
    paid = client.post("/api/payments/webhook/sandbox/", notice, content_type="application/json",
                       HTTP_X_CUNBO_SIGNATURE=sign(notice))
    assert paid.json() == {"outcome": "paid"}, paid.json()
    return response
