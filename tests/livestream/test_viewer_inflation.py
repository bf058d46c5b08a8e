"""Viewer inflation (issue #12, finding 10): sockets per client address are capped, and a room counts
distinct clients (signed-in users, anonymous addresses), so one client cannot inflate its figures."""

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from rest_framework.test import APIClient

from livestream.models import Stream
from tests.factories import ConsumerFactory

from .conftest import drain, next_event, token_for

pytestmark = [pytest.mark.django_db(transaction=True)]
db = database_sync_to_async


def socket_from(address: str, path: str, *, forwarded: str | None = None) -> WebsocketCommunicator:
    from marketplace.asgi import application

    headers = [(b"host", b"testserver"), (b"origin", b"http://testserver")]
    if forwarded:
        headers.append((b"x-forwarded-for", forwarded.encode()))
    comm = WebsocketCommunicator(application, path, headers=headers)
    comm.scope["client"] = (address, 40000)  # what uvicorn puts there (after its trusted-proxy rule)
    return comm


async def open_all(comms):
    return await asyncio.gather(*(comm.connect() for comm in comms))


async def test_sockets_past_the_per_address_limit_are_refused_and_released_on_close(live_stream, settings):
    assert settings.WS_MAX_SOCKETS_PER_ADDRESS == 20  # the default
    path = f"/ws/streams/{live_stream.pk}/"
    flood = [socket_from("203.0.113.7", path) for _ in range(40)]
    results = await open_all(flood)
    accepted = [comm for comm, (ok, _code) in zip(flood, results, strict=True) if ok]
    assert len(accepted) == 20
    assert {code for ok, code in results if not ok} == {4429}
    # Another address is not affected; the notifications socket shares the address's budget.
    other = socket_from("198.51.100.9", path)
    assert (await other.connect())[0]
    assert await socket_from("203.0.113.7", "/ws/notifications/").connect() == (False, 4429)
    # A closed socket gives its place back.
    await accepted.pop().disconnect()
    again = socket_from("203.0.113.7", path)
    assert (await again.connect())[0]
    assert await socket_from("203.0.113.7", path).connect() == (False, 4429)
    for comm in [*accepted, other, again]:
        await comm.disconnect()


async def test_the_address_is_the_throttles_address_behind_counted_proxies(live_stream, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    settings.WS_MAX_SOCKETS_PER_ADDRESS = 2
    path = f"/ws/streams/{live_stream.pk}/"
    # Behind one proxy, the proxy's address is shared; the client is the last X-Forwarded-For entry.
    first = [socket_from("10.0.0.1", path, forwarded="203.0.113.7") for _ in range(3)]
    assert [ok for ok, _ in await open_all(first)].count(True) == 2
    # A client cannot pick a fresh address by prepending its own entries.
    spoofed = socket_from("10.0.0.1", path, forwarded="1.2.3.4, 203.0.113.7")
    assert await spoofed.connect() == (False, 4429)
    other = socket_from("10.0.0.1", path, forwarded="198.51.100.9")
    assert (await other.connect())[0]
    for comm in [*first, other]:
        await comm.disconnect()


async def test_a_room_counts_distinct_clients_not_sockets(live_stream, settings):
    settings.LIVE_VIEWERS_INTERVAL_S = 0.2
    path = f"/ws/streams/{live_stream.pk}/"
    fan = await db(ConsumerFactory)()
    late = await db(ConsumerFactory)()
    flood = [socket_from("203.0.113.7", path) for _ in range(20)]  # one anonymous address, many tabs
    signed_in = [socket_from("198.51.100.9", path + f"?token={token_for(fan)}") for _ in range(3)]  # one person
    first_message = socket_from("198.51.100.10", path)  # signs in with its first message
    neighbour = socket_from("198.51.100.11", path)
    everyone = [*flood, *signed_in, first_message, neighbour]
    assert all(ok for ok, _ in await open_all(everyone))
    await first_message.send_json_to({"type": "auth", "token": token_for(late)})
    # 25 sockets, 4 clients: the flooding address, the fan, the late user (first as its address), the neighbour.
    counts = []
    for _ in range(20):
        counts += [e["count"] for e in await drain(neighbour, quiet=0.3) if e["type"] == "stream.viewers"]
        if counts and counts[-1] == 4:
            break
    assert counts and counts[-1] == 4 and max(counts) <= 4, counts
    listed = await db(lambda: APIClient().get(f"/api/streams/{live_stream.pk}/").json())()
    assert listed["viewers"] == 4
    # Half the flood leaves: the address still watches, so nothing changes.
    for comm in flood[:10]:
        await comm.disconnect()
    await asyncio.sleep(0.5)
    listed = await db(lambda: APIClient().get(f"/api/streams/{live_stream.pk}/").json())()
    assert listed["viewers"] == 4
    # The flood and the fan leave: the late user and the neighbour remain.
    for comm in [*flood[10:], *signed_in]:
        await comm.disconnect()
    while (count := (await next_event(neighbour, "stream.viewers", timeout=5))["count"]) != 2:
        assert count <= 4
    await first_message.disconnect()
    await neighbour.disconnect()
    assert await db(lambda: Stream.objects.get(pk=live_stream.pk).peak_viewers)() == 4
