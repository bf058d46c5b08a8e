"""The room across several real server processes, and a burst of 1,000 connects and disconnects."""

import asyncio
import json
import time
import urllib.error
import urllib.request

import pytest
from django.db import connection

from livestream import services
from livestream.realtime import redis as room_redis
from tests.factories import ConsumerFactory

from .conftest import token_for
from .servers import uvicorn_servers

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
ORIGIN = "http://localhost"


def in_thread(fn, **kwargs):
    """Run a service in a worker thread with its own connection, closed afterwards."""
    def call():
        try:
            return fn(**kwargs)
        finally:
            connection.close()
    return asyncio.to_thread(call)


async def open_socket(port: int, stream_id: int, token: str | None = None, *, client: int | None = None):
    """``client``: an anonymous viewer of its own (a distinct address, as the trusted proxy on loopback
    reports it in X-Forwarded-For): a room counts distinct clients, not sockets."""
    from websockets.asyncio.client import connect

    url = f"ws://127.0.0.1:{port}/ws/streams/{stream_id}/" + (f"?token={token}" if token else "")
    headers = {"X-Forwarded-For": f"10.{client >> 16 & 255}.{client >> 8 & 255}.{client & 255}"} if client else None
    return await connect(url, origin=ORIGIN, compression=None, open_timeout=60, ping_interval=None, max_size=None,
                         additional_headers=headers)


async def next_of(ws, kind: str, timeout: float = 15.0, where=lambda e: True) -> dict:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        left = deadline - asyncio.get_running_loop().time()
        event = json.loads(await asyncio.wait_for(ws.recv(), max(left, 0.01)))
        if event["type"] == kind and where(event):
            return event


def viewers(port: int, stream_id: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/streams/{stream_id}/", timeout=10) as r:
        return json.loads(r.read())["viewers"]


def test_every_event_reaches_sockets_on_every_process(live_stream, viewer, owner, product, tmp_path):
    with uvicorn_servers(2, tmp_path) as [(a, _), (b, _)]:
        async def scenario():
            alice = await open_socket(a, live_stream.pk, token_for(viewer))
            bob = await open_socket(b, live_stream.pk, client=1)
            carol = await open_socket(b, live_stream.pk, client=2)
            everyone = (alice, bob, carol)
            for ws in everyone:
                assert (await next_of(ws, "stream.status"))["status"] == "live"
            # Presence is shared: each process counts the other's sockets.
            for ws in everyone:
                await next_of(ws, "stream.viewers", where=lambda e: e["count"] == 3)
            await alice.send(json.dumps({"type": "chat.send", "text": "两个进程都听到"}))
            for ws in everyone:
                assert (await next_of(ws, "chat.message"))["text"] == "两个进程都听到"
            await in_thread(services.stream_pin, stream_id=live_stream.pk, actor=owner, product_id=product.pk)
            for ws in everyone:
                assert (await next_of(ws, "product.pinned"))["product"] == product.pk
            assert viewers(a, live_stream.pk) == viewers(b, live_stream.pk) == 3
            await carol.close()
            await next_of(alice, "stream.viewers", where=lambda e: e["count"] == 2)
            await alice.close()
            await bob.close()

        asyncio.run(scenario())


def test_a_burst_of_1000_connects_and_disconnects(live_stream, tmp_path):
    chatter = ConsumerFactory()
    channel = room_redis.room_channel(live_stream.pk)
    client = room_redis.sync_client()
    with uvicorn_servers(2, tmp_path) as servers:
        ports = [port for port, _log in servers]

        async def scenario():
            started = time.monotonic()
            sockets = await asyncio.gather(*(open_socket(ports[i % 2], live_stream.pk, client=i + 1)
                                             for i in range(1000)),
                                           return_exceptions=True)
            failed = [s for s in sockets if isinstance(s, BaseException)]
            assert not failed, f"{len(failed)} refused handshakes, e.g. {failed[0]!r}"
            connect_s = time.monotonic() - started
            # Every socket counts (allow the batched presence writes a moment).
            deadline = time.monotonic() + 30
            while viewers(ports[0], live_stream.pk) != 1000 and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
            assert viewers(ports[0], live_stream.pk) == 1000
            assert client.pubsub_numsub(channel)[0][1] == 2  # one subscription per process
            # One line reaches all 1,000 sockets.
            sender = await open_socket(ports[0], live_stream.pk, token_for(chatter))
            await sender.send(json.dumps({"type": "chat.send", "text": "burst"}))
            got = await asyncio.gather(*(next_of(ws, "chat.message", timeout=60) for ws in sockets))
            assert all(e["text"] == "burst" for e in got)
            await sender.close()
            await asyncio.gather(*(ws.close() for ws in sockets))
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and (
                    viewers(ports[0], live_stream.pk) or client.pubsub_numsub(channel)[0][1]):
                await asyncio.sleep(0.2)
            return connect_s

        connect_s = asyncio.run(scenario())
        assert viewers(ports[0], live_stream.pk) == 0  # no stale members
        assert client.pubsub_numsub(channel)[0][1] == 0  # both processes unsubscribed
        assert client.zcard(room_redis.viewers_key(live_stream.pk)) == 0
        print(f"1000 connects in {connect_s:.1f}s")
    for _port, log in servers:
        text = log.read_text()
        assert "Traceback" not in text and "ERROR" not in text, text[-3000:]


def test_an_offer_sells_out_across_two_processes_without_oversell(live_stream, owner, product, tmp_path):
    """Buyers hit two servers at once; the gate and the conditional UPDATE are shared, not per process."""
    from concurrent.futures import ThreadPoolExecutor

    from livestream.models import Offer
    from orders.models import OrderLine

    offer = services.offer_start(stream_id=live_stream.pk, actor=owner, product_id=product.pk,
                                 price=product.price, quantity=30, duration_s=600)
    buyers = [token_for(ConsumerFactory()) for _ in range(80)]
    village = live_stream.merchant.village_id

    def buy(index_and_port):
        index, port = index_and_port
        body = json.dumps({
            "items": [{"product": product.pk, "quantity": 1, "offer": offer.pk}],
            "address": {"village": village, "detail": "1号", "recipient": "买家", "phone": "13800138000"},
            "stream": live_stream.pk,
        }).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/orders/", data=body, method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {buyers[index]}",
                     "Idempotency-Key": f"scale-{index}"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    with uvicorn_servers(2, tmp_path) as [(a, _), (b, _)]:
        with ThreadPoolExecutor(max_workers=16) as pool:
            statuses = list(pool.map(buy, [(i, a if i % 2 else b) for i in range(len(buyers))]))

    assert statuses.count(201) == 30, statuses
    assert statuses.count(409) == 50, statuses
    offer.refresh_from_db()
    assert offer.remaining == 0 and offer.status == Offer.Status.ENDED
    assert sum(OrderLine.objects.filter(offer=offer).values_list("quantity", flat=True)) == 30
