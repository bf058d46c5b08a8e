"""Abuse limits (OWASP API4): each limit is crossed, answers 429 in the error envelope with
Retry-After (or the socket's error event and close), and someone else (another user, address or
socket) is still served. Limits count in Redis, exactly under parallel requests, and a Redis outage
does not turn them into errors. Request bodies are capped on both the WSGI path and the ASGI path
(declared and chunked); WebSocket frames by each socket and by the deployed server; foreign origins
are refused at the handshake; and the deployed server counts the real address, not a forged header."""

from __future__ import annotations

import asyncio
import copy
import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from core.throttling import outage_reset
from livestream.models import ChatMessage, Stream
from tests import factories
from tests.factories import ConsumerFactory, ProductFactory, StreamFactory
from tests.livestream.conftest import drain, join, next_event, room, token_for
from tests.security.conftest import FIGURES
from tests.security.world import png_bytes

in_db = database_sync_to_async


def rates(**changed):
    """REST_FRAMEWORK with some throttle rates changed (the others as configured)."""
    config = copy.deepcopy(settings.REST_FRAMEWORK)
    config["DEFAULT_THROTTLE_RATES"].update(changed)
    return override_settings(REST_FRAMEWORK=config)


def assert_throttled(response, *, window_s: int):
    assert response.status_code == 429, response.content
    error = response.json()["error"]
    assert error["code"] == "throttled" and error["message"]
    assert 1 <= int(response["Retry-After"]) <= window_s
    FIGURES["limits"]["limits"] += 1


@pytest.fixture
def address(village):
    return {"village": village.pk, "detail": "3排5号", "recipient": "王小明", "phone": "13800001234"}


@pytest.fixture
def product(village):
    return factories.ProductFactory(merchant=factories.MerchantFactory(village=village), stock=1000)


@pytest.fixture(autouse=True)
def _no_outage():
    outage_reset()
    yield
    outage_reset()


# --- login and registration ------------------------------------------------------------------------


@pytest.mark.django_db
def test_login_is_limited_per_address(api_client, consumer):
    body = {"username": consumer.username, "password": "wrong-password"}
    with override_settings(LOGIN_GUARD_ADDRESS_FAILURES=3, LOGIN_GUARD_FREE_FAILURES=100):
        answers = [api_client.post("/api/auth/token", body, format="json", REMOTE_ADDR="10.1.0.1")
                   for _ in range(4)]
        assert [a.status_code for a in answers[:3]] == [401] * 3
        assert_throttled(answers[3], window_s=settings.LOGIN_GUARD_ADDRESS_WINDOW_S)
        other = api_client.post("/api/auth/token", {"username": consumer.username, "password": factories.PASSWORD},
                                format="json", REMOTE_ADDR="10.1.0.2")
        assert other.status_code == 200 and "access" in other.json()


@pytest.mark.django_db
def test_login_is_limited_per_account_from_any_address(api_client, consumer):
    someone = factories.ConsumerFactory()
    with override_settings(LOGIN_GUARD_FREE_FAILURES=3):
        answers = [api_client.post("/api/auth/token", {"username": consumer.username, "password": "nope"},
                                   format="json", REMOTE_ADDR=f"10.2.0.{i}") for i in range(4)]
        assert [a.status_code for a in answers[:3]] == [401] * 3
        assert_throttled(answers[3], window_s=60)
        other = api_client.post("/api/auth/token", {"username": someone.username, "password": factories.PASSWORD},
                                format="json", REMOTE_ADDR="10.2.0.9")
        assert other.status_code == 200


@pytest.mark.django_db
def test_registration_is_limited_per_address(api_client):
    def register(n, ip):
        return api_client.post("/api/auth/register", {"username": f"newbie{n}", "password": "Str0ng-pass-村播",
                                                      "role": "consumer"}, format="json", REMOTE_ADDR=ip)

    with rates(register_ip="2/hour"):
        assert [register(n, "10.3.0.1").status_code for n in range(2)] == [201, 201]
        assert_throttled(register(2, "10.3.0.1"), window_s=3600)
        assert register(3, "10.3.0.2").status_code == 201
    from accounts.models import User

    assert set(User.objects.filter(username__startswith="newbie").values_list("username", flat=True)) == {
        "newbie0", "newbie1", "newbie3"}


# --- checkout --------------------------------------------------------------------------------------


def _checkout(client, product, address, ip):
    return client.post("/api/orders/", {"items": [{"product": product.pk, "quantity": 1}], "address": address},
                       format="json", REMOTE_ADDR=ip)


@pytest.mark.django_db
def test_checkout_is_limited_per_buyer(client_for, consumer, product, address):
    from orders.models import Order

    other = factories.ConsumerFactory()
    with rates(checkout_user="3/min", checkout_ip="100/min"):
        answers = [_checkout(client_for(consumer), product, address, "10.4.0.1") for _ in range(4)]
        assert [a.status_code for a in answers[:3]] == [201] * 3
        assert_throttled(answers[3], window_s=60)
        assert _checkout(client_for(other), product, address, "10.4.0.1").status_code == 201  # same address
    assert Order.objects.filter(buyer=consumer).count() == 3


@pytest.mark.django_db
def test_checkout_is_limited_per_address(client_for, product, address):
    from orders.models import Order

    buyers = [factories.ConsumerFactory() for _ in range(4)]
    with rates(checkout_user="100/min", checkout_ip="3/min"):
        answers = [_checkout(client_for(buyer), product, address, "10.5.0.1") for buyer in buyers]
        assert [a.status_code for a in answers[:3]] == [201] * 3
        assert_throttled(answers[3], window_s=60)
        assert _checkout(client_for(buyers[3]), product, address, "10.5.0.2").status_code == 201
    assert Order.objects.count() == 4


@pytest.mark.django_db
def test_an_anonymous_checkout_counts_against_its_address(api_client, product, address):
    with rates(checkout_ip="2/min"):
        assert [_checkout(api_client, product, address, "10.6.0.1").status_code for _ in range(2)] == [401, 401]
        assert_throttled(_checkout(api_client, product, address, "10.6.0.1"), window_s=60)


# --- trace look-ups ------------------------------------------------------------------------------------


@pytest.fixture
def batch(product):
    from catalog.models import HarvestBatch

    return HarvestBatch.objects.create(product=product, harvested_at="2026-06-01", unit="斤")


@pytest.mark.django_db
def test_trace_lookups_are_limited_per_address(api_client, batch):
    with rates(trace_ip="3/min"):
        codes = [batch.trace_code, "NOPE00000001", batch.trace_code]  # misses count: guessing is what is slowed
        assert [api_client.get(f"/api/trace/{c}/", REMOTE_ADDR="10.7.0.1").status_code for c in codes] == [
            200, 404, 200]
        assert_throttled(api_client.get(f"/api/trace/{batch.trace_code}/qr.png", REMOTE_ADDR="10.7.0.1"),
                         window_s=60)
        assert api_client.get(f"/api/trace/{batch.trace_code}/", REMOTE_ADDR="10.7.0.2").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_parallel_burst_gets_exactly_the_limit(batch):
    """Forty look-ups at once from one address with a limit of ten: exactly ten are served."""
    from rest_framework.test import APIClient

    start = threading.Barrier(20)

    def look_up(_):
        try:
            try:
                start.wait(timeout=5)
            except threading.BrokenBarrierError:
                pass
            return APIClient().get(f"/api/trace/{batch.trace_code}/", REMOTE_ADDR="10.8.0.1").status_code
        finally:
            connection.close()

    with rates(trace_ip="10/min"), ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(look_up, range(40)))
    assert statuses.count(200) == 10 and statuses.count(429) == 30, statuses
    FIGURES["limits"]["limits"] += 1


@pytest.mark.django_db
def test_an_unreachable_redis_does_not_break_the_limited_endpoints(api_client, batch, caplog):
    """The limits are not enforced while Redis is away (logged), and nothing answers 500."""
    dead = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                        "LOCATION": "redis://127.0.0.1:1/0", "OPTIONS": {"socket_connect_timeout": 0.2}}}
    with rates(trace_ip="1/min"), override_settings(CACHES=dead):
        statuses = [api_client.get(f"/api/trace/{batch.trace_code}/", REMOTE_ADDR="10.9.0.1").status_code
                    for _ in range(3)]
    assert statuses == [200, 200, 200]
    assert "rate limits are not enforced" in caplog.text


# --- request bodies ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_oversized_multipart_upload_is_refused_before_it_is_read(client_for):
    from catalog.models import ProductImage

    product = factories.ProductFactory()
    image = png_bytes((64, 64)) + b"\0" * 4096
    from django.core.files.uploadedfile import SimpleUploadedFile

    with override_settings(MAX_REQUEST_BYTES=2048):
        response = client_for(product.merchant.user).post(
            f"/api/products/{product.pk}/images/",
            {"image": SimpleUploadedFile("big.png", image, content_type="image/png")}, format="multipart")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"
    assert not ProductImage.objects.exists()
    FIGURES["limits"]["limits"] += 1


async def _asgi_call(headers: list[tuple[bytes, bytes]], chunks, *, method="POST", path="/api/schema/"):
    """Call the real ASGI application; returns (status, body, chunks the app read)."""
    from marketplace.asgi import application

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
             "root_path": "", "headers": [(b"host", b"testserver"), *headers],
             "client": ("10.10.0.1", 5000), "server": ("testserver", 80)}
    read = 0
    source = iter(chunks)
    sent: list[dict] = []

    async def receive():
        nonlocal read
        chunk = next(source, None)
        if chunk is None:
            await asyncio.sleep(3600)  # the client has nothing more to say
        read += 1
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message):
        sent.append(message)

    await asyncio.wait_for(application(scope, receive, send), timeout=30)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, body, read


def _endless(chunk: bytes, count: int):
    for _ in range(count):
        yield chunk


@override_settings(MAX_REQUEST_BYTES=64 * 1024)
async def test_asgi_refuses_a_declared_oversized_body_without_reading_it():
    headers = [(b"content-type", b"multipart/form-data; boundary=x"), (b"content-length", str(10 ** 9).encode())]
    status, body, read = await _asgi_call(headers, _endless(b"x" * 65536, 16000))
    assert status == 413 and b"request_too_large" in body
    assert read == 0
    FIGURES["limits"]["limits"] += 1


@override_settings(MAX_REQUEST_BYTES=64 * 1024)
async def test_asgi_stops_reading_a_chunked_body_past_the_limit():
    """A gigabyte sent without Content-Length: reading stops after the first 80 KiB."""
    headers = [(b"content-type", b"multipart/form-data; boundary=x"), (b"transfer-encoding", b"chunked")]
    status, body, read = await _asgi_call(headers, _endless(b"x" * 16384, 65536))
    assert status == 413 and b"request_too_large" in body
    assert read == 5  # 5 × 16 KiB is the first read past 64 KiB
    FIGURES["limits"]["limits"] += 1


@override_settings(MAX_REQUEST_BYTES=64 * 1024)
async def test_asgi_passes_a_body_under_the_limit_to_django():
    headers = [(b"content-type", b"application/json"), (b"content-length", b"2")]

    from marketplace.asgi import application

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": "/api/schema/", "raw_path": b"/api/schema/", "query_string": b"",
             "root_path": "", "headers": [(b"host", b"testserver"), *headers],
             "client": ("10.10.0.2", 5000), "server": ("testserver", 80)}
    messages = iter([{"type": "http.request", "body": b"{}", "more_body": False}])
    sent = []

    async def receive():
        message = next(messages, None)
        if message is None:
            await asyncio.sleep(3600)
        return message

    async def send(message):
        sent.append(message)

    await asyncio.wait_for(application(scope, receive, send), timeout=30)
    assert next(m["status"] for m in sent if m["type"] == "http.response.start") == 405  # Django answered


# --- WebSockets: chat rate per user, frame sizes, origins, the notifications socket -------------------


async def _chat_line(comm, text: str) -> dict:
    while True:
        event = await next_event(comm, "chat.message")
        if event["text"] == text:
            return event


@pytest.fixture
def live_stream(db):
    product = ProductFactory()
    stream = StreamFactory(merchant=product.merchant, status=Stream.Status.LIVE, started_at=timezone.now())
    stream.products.add(product)
    return stream


@pytest.fixture
def viewers(db):
    return ConsumerFactory(username="spammer"), ConsumerFactory(username="neighbour")


@pytest.mark.django_db(transaction=True)
async def test_chat_over_the_rate_limit_is_refused_on_every_socket_while_others_chat(live_stream, viewers,
                                                                                        settings):
    settings.LIVE_CHAT_RATE_LIMIT = 3
    spammer, neighbour = viewers
    first = await join(live_stream.pk, token=token_for(spammer))
    second = await join(live_stream.pk, token=token_for(spammer))  # the limit is the user's, not the socket's
    other = await join(live_stream.pk, token=token_for(neighbour))
    for comm in (first, second, other):
        await drain(comm, quiet=0.2)
    for n in range(3):
        await first.send_json_to({"type": "chat.send", "text": f"第{n}条"})
        assert (await next_event(first, "chat.message"))["text"] == f"第{n}条"
    for comm in (first, second):
        await comm.send_json_to({"type": "chat.send", "text": "还有"})
        error = await next_event(comm, "error")
        assert error["code"] == "rate_limited" and error["message"]
    await other.send_json_to({"type": "chat.send", "text": "我也说一句"})
    for comm in (first, second, other):
        assert (await _chat_line(comm, "我也说一句"))["user"]["id"] == neighbour.pk
    texts = await in_db(lambda: sorted(ChatMessage.objects.values_list("text", flat=True)))()
    assert texts == sorted(["第0条", "第1条", "第2条", "我也说一句"])
    for comm in (first, second, other):
        await comm.disconnect()
    FIGURES["limits"]["limits"] += 1


@pytest.mark.django_db(transaction=True)
async def test_an_oversized_frame_closes_that_socket_only(live_stream, viewers, settings):
    spammer, neighbour = viewers
    big = await join(live_stream.pk, token=token_for(spammer))
    other = await join(live_stream.pk, token=token_for(neighbour))
    for comm in (big, other):
        await drain(comm, quiet=0.2)
    await big.send_to(text_data=json.dumps({"type": "chat.send", "text": "x" * settings.LIVE_ROOM_MAX_FRAME_BYTES}))
    assert (await next_event(big, "error"))["code"] == "too_large"
    assert await big.receive_output(timeout=2) == {"type": "websocket.close", "code": 1009}
    await other.send_json_to({"type": "chat.send", "text": "还在"})
    assert (await _chat_line(other, "还在"))["user"]["id"] == neighbour.pk
    await other.disconnect()
    FIGURES["limits"]["limits"] += 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["/ws/streams/{stream}/", "/ws/notifications/"])
async def test_a_foreign_origin_is_refused_at_the_handshake(live_stream, path):
    url = path.format(stream=live_stream.pk)
    for origin in (b"http://evil.example", b"https://testserver.evil.example"):
        headers = [(b"host", b"testserver"), (b"origin", origin)]
        comm = WebsocketCommunicator(room(live_stream.pk).application, url, headers=headers)
        connected, _ = await comm.connect()
        assert not connected, origin
    # our own origin, and none at all (native apps; browsers always send one)
    for headers in ([(b"host", b"testserver"), (b"origin", b"http://testserver")], [(b"host", b"testserver")]):
        comm = WebsocketCommunicator(room(live_stream.pk).application, url, headers=headers)
        assert (await comm.connect())[0], headers
        await comm.disconnect()
    FIGURES["limits"]["limits"] += 1


# --- the notifications socket ------------------------------------------------------------------------

def _notifications_socket(user) -> WebsocketCommunicator:
    from marketplace.asgi import application

    return WebsocketCommunicator(application, f"/ws/notifications/?token={token_for(user)}",
                                 headers=[(b"host", b"testserver"), (b"origin", b"http://testserver")])


async def _signed_in(user) -> WebsocketCommunicator:
    comm = _notifications_socket(user)
    assert (await comm.connect())[0]
    assert (await comm.receive_json_from(timeout=5))["type"] == "notifications.unread"
    return comm


@in_db
def _notify_and_push(user):
    from notifications.services import notify
    from notifications.services.outbox import outbox_drain

    notice = notify(user=user, kind="order.paid", params={"order": 7})
    outbox_drain(channel="push")
    return notice


@pytest.mark.django_db(transaction=True)
async def test_a_flood_on_the_notifications_socket_closes_it_while_others_are_served(viewers):
    from notifications import consumers

    flooder, neighbour = viewers
    flood, other = await _signed_in(flooder), await _signed_in(neighbour)
    for _ in range(consumers.MAX_MESSAGES):
        await flood.send_json_to({"type": "ping"})
        assert (await flood.receive_json_from(timeout=5))["code"] == "unsupported"
    await flood.send_json_to({"type": "ping"})
    assert (await flood.receive_json_from(timeout=5))["code"] == "rate_limited"
    assert await flood.receive_output(timeout=5) == {"type": "websocket.close", "code": 1008}
    notice = await _notify_and_push(neighbour)
    assert (await other.receive_json_from(timeout=5))["id"] == notice.pk
    await other.disconnect()
    FIGURES["limits"]["limits"] += 1


@pytest.mark.django_db(transaction=True)
async def test_an_oversized_frame_on_the_notifications_socket_closes_it(viewers):
    from notifications import consumers

    big, neighbour = viewers
    comm, other = await _signed_in(big), await _signed_in(neighbour)
    await comm.send_to(text_data=json.dumps({"type": "auth", "token": "x" * consumers.MAX_FRAME_BYTES}))
    assert (await comm.receive_json_from(timeout=5))["code"] == "too_large"
    assert await comm.receive_output(timeout=5) == {"type": "websocket.close", "code": 1009}
    notice = await _notify_and_push(neighbour)
    assert (await other.receive_json_from(timeout=5))["id"] == notice.pk
    await other.disconnect()
    FIGURES["limits"]["limits"] += 1

# --- the deployed server ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def deployed(django_db_blocker):
    """The socket server as production runs it (deploy/serve-ws), behind a (pretend) proxy at 10.255.255.1: requests
    from loopback come straight from clients, whose X-Forwarded-For must not be believed."""
    from tests.stack import running_stack

    env = {"THROTTLE_TRACE_IP": "3/min", "FORWARDED_ALLOW_IPS": "10.255.255.1"}
    with django_db_blocker.unblock(), running_stack("limits", extra_env=env) as stack:
        base = stack.start_ws()  # deploy/serve-ws, the socket server's command in production
        code = stack.manage("shell", "-c", "from catalog.models import HarvestBatch;"
                                           "print(HarvestBatch.objects.order_by('pk').first().trace_code)").split()[-1]
        stream_id = stack.manage("shell", "-c", "from livestream.models import Stream;"
                                                "print(Stream.objects.order_by('pk').first().pk)").split()[-1]
        yield stack, base, code, int(stream_id)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_forged_forwarded_for_header_does_not_escape_the_address_limit(deployed):
    import urllib.error
    import urllib.request

    stack, base, code, _stream = deployed

    def look_up(forged: str) -> int:
        request = urllib.request.Request(f"{base}/api/trace/{code}/", headers={"X-Forwarded-For": forged})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback only
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    statuses = [look_up(f"203.0.113.{i}") for i in range(5)]
    assert statuses == [200, 200, 200, 429, 429], (statuses, stack.log_text()[-2000:])
    FIGURES["limits"]["limits"] += 1


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
async def test_the_deployed_server_refuses_big_frames_and_foreign_origins(deployed):
    import websockets

    stack, base, _code, stream_id = deployed
    url = base.replace("http://", "ws://") + f"/ws/streams/{stream_id}/"
    origin = base
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with websockets.connect(url, origin="http://evil.example", open_timeout=10):
            pass
    assert refused.value.response.status_code == 403

    async with websockets.connect(url, origin=origin, open_timeout=10, max_size=None, compression=None) as socket:
        first = json.loads(await asyncio.wait_for(socket.recv(), timeout=10))
        assert first["type"] == "stream.status"
        await socket.send(json.dumps({"type": "chat.send", "text": "x" * 100_000}))
        heard = []
        with pytest.raises(websockets.ConnectionClosed) as closed:
            for _ in range(20):
                heard.append(json.loads(await asyncio.wait_for(socket.recv(), timeout=10)))
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009, closed.value
        # The server itself refused it (over --ws-max-size): the application never saw the frame.
        assert not [event for event in heard if event.get("code") == "too_large"], heard

    async with websockets.connect(url, origin=origin, open_timeout=10) as socket:  # the server still serves
        assert json.loads(await asyncio.wait_for(socket.recv(), timeout=10))["type"] == "stream.status"
    FIGURES["limits"]["limits"] += 2
