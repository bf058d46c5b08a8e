"""Faults the product must survive: a killed database connection, a paused or lost Redis.

Each test drives real processes (``tests/stack.py``): the ASGI server on a database of its own, and
for the Redis pause a ``redis-server`` the test starts on a port of its own, so that pausing it
cannot disturb anything else on the machine. The figures they print go to docs/security.md ("Faults").
"""

import asyncio
import json
import shutil
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from tests.stack import Stack, _server_dsn, free_port, running_stack, stop_process, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

REQUEST_BOUND_S = 20.0  # no request may take longer than this, fault or not
SOLD_OUT = ("sold_out", "offer_not_live")  # the small offer's last units gone: it ended as sold out


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback only
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def _post(url: str, body: dict, *, token: str, key: str | None = None, timeout: float = 30) -> tuple[int, dict, dict]:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    if key:
        headers["Idempotency-Key"] = key
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback only
            return response.status, json.load(response), {k.lower(): v for k, v in response.headers.items()}
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            data = json.loads(raw)
        except ValueError:
            data = {"raw": raw.decode(errors="replace")[:500]}
        return error.code, data, {k.lower(): v for k, v in error.headers.items()}


@pytest.fixture(scope="module")
def stack(django_db_blocker):
    with django_db_blocker.unblock(), running_stack("faults") as stack:
        stack.base = stack.start_server(workers=1)
        yield stack


# --- the world each test buys in: a live stream with two flash offers and its buyers ----------------

_WORLD = """
import json
from decimal import Decimal
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken
from accounts.models import User
from catalog.models import Product
from livestream.models import Stream
from livestream.services import offer_start
from merchants.models import Merchant

tag, buyers, quantities = {tag!r}, {buyers}, {quantities!r}
merchant = Merchant.objects.filter(status="approved").order_by("pk").first()
template = Product.objects.filter(merchant=merchant, status="listed").order_by("pk").first()
products = []
for index in range(len(quantities)):
    product = Product.objects.get(pk=template.pk)
    product.pk = None
    product.title, product.stock = f"{{tag}}-{{index}}", 10000
    product.save()
    products.append(product)
now = timezone.now()
stream = Stream.objects.create(merchant=merchant, title=tag, scheduled_at=now, status="live", started_at=now)
stream.products.set(products)
offers = [offer_start(stream_id=stream.pk, actor=merchant.user, product_id=p.pk, price=Decimal("9.90"), quantity=q,
                      duration_s=1800, per_buyer_limit=1) for p, q in zip(products, quantities)]
users = User.objects.bulk_create([User(username=f"{{tag}}-{{i}}", role="consumer") for i in range(buyers)])
print(json.dumps({{
    "stream": stream.pk, "village": merchant.village_id,
    "products": [p.pk for p in products], "offers": [o.pk for o in offers],
    "buyers": [{{"id": u.pk, "token": str(AccessToken.for_user(u))}} for u in users],
}}))
"""


def make_world(stack: Stack, *, buyers: int, quantities: list[int]) -> dict:
    tag = f"fault-{uuid.uuid4().hex[:8]}"
    out = stack.manage("shell", "-c", _WORLD.format(tag=tag, buyers=buyers, quantities=quantities))
    return json.loads(out.strip().splitlines()[-1])


def checkout_body(world: dict, offer_index: int) -> dict:
    return {
        "items": [{"product": world["products"][offer_index], "quantity": 1, "offer": world["offers"][offer_index]}],
        "address": {"village": world["village"], "detail": "村口第3户", "recipient": "王小明", "phone": "13800001234"},
        "stream": world["stream"],
    }


def _db(stack: Stack) -> psycopg.Connection:
    return psycopg.connect(_server_dsn(stack.database), autocommit=True)


def consistency(stack: Stack, world: dict) -> dict:
    """What the database holds for the world's offers, and every invariant that must hold."""
    with _db(stack) as db:
        offers = {}
        for offer_id in world["offers"]:
            quantity, remaining, status = db.execute(
                "SELECT quantity, remaining, status FROM livestream_offer WHERE id = %s", [offer_id]).fetchone()
            sold = db.execute("SELECT coalesce(sum(quantity), 0) FROM orders_orderline WHERE offer_id = %s",
                              [offer_id]).fetchone()[0]
            counted = db.execute("SELECT coalesce(sum(quantity), 0) FROM orders_offerpurchase WHERE offer_id = %s",
                                 [offer_id]).fetchone()[0]
            assert remaining >= 0, "oversold"
            assert sold == quantity - remaining, (offer_id, sold, quantity, remaining)
            assert counted == sold, ("per-buyer counters disagree with the order lines", counted, sold)
            offers[offer_id] = {"quantity": quantity, "remaining": remaining, "status": status, "sold": sold}
        buyer_ids = [b["id"] for b in world["buyers"]]
        empty = db.execute(
            "SELECT count(*) FROM orders_order o WHERE o.buyer_id = ANY(%s) AND NOT EXISTS ("
            " SELECT 1 FROM orders_merchantorder mo JOIN orders_orderline l ON l.merchant_order_id = mo.id"
            " WHERE mo.order_id = o.id)", [buyer_ids]).fetchone()[0]
        assert empty == 0, "an order without lines"
        per_buyer = dict(db.execute(
            "SELECT buyer_id, count(*) FROM orders_order WHERE buyer_id = ANY(%s) GROUP BY buyer_id",
            [buyer_ids]).fetchall())
    return {"offers": offers, "orders_per_buyer": per_buyer}


def assert_clean_503(status: int, body: dict) -> None:
    assert status == 503, (status, body)
    assert body["error"]["code"] == "service_unavailable" and body["error"]["message"], body


# --- WebSocket helpers ----------------------------------------------------------------------------


async def open_socket(base: str, stream_id: int, token: str | None = None):
    from websockets.asyncio.client import connect

    url = base.replace("http://", "ws://") + f"/ws/streams/{stream_id}/" + (f"?token={token}" if token else "")
    socket = await connect(url, origin=base, compression=None, open_timeout=20, ping_interval=None)
    assert (await next_event(socket, "stream.status"))["status"] == "live"
    return socket


async def next_event(socket, kind: str | None = None, *, timeout: float = 10.0, where=lambda e: True) -> dict:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        left = deadline - loop.time()
        if left <= 0:
            raise TimeoutError(f"no {kind} event within {timeout}s")
        event = json.loads(await asyncio.wait_for(socket.recv(), left))
        if (kind is None or event["type"] == kind) and where(event):
            return event


async def chat_outcome(socket, text: str, *, timeout: float = 15.0) -> str:
    """Send one line; "delivered" when it comes back through the room, else the error's code."""
    await socket.send(json.dumps({"type": "chat.send", "text": text}))
    event = await next_event(socket, timeout=timeout, where=lambda e: e["type"] == "error"
                             or (e["type"] == "chat.message" and e["text"] == text))
    return "delivered" if event["type"] == "chat.message" else event["code"]


# --- (a) Redis paused during checkouts and chat ---------------------------------------------------


class OwnRedis:
    """A redis-server of the test's own, on a free port, nothing persisted; it can be killed and
    started again on the same port."""

    def __init__(self, binary: str, workdir):
        import redis

        self.binary, self.workdir, self.port = binary, workdir, free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.admin = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)
        self.process = None

    def _up(self) -> bool:
        import redis

        try:
            return self.admin.ping()
        except redis.RedisError:
            return False

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir), "--protected-mode", "no"],
            stdout=(self.workdir / "redis.log").open("a"), stderr=subprocess.STDOUT, start_new_session=True)
        wait_until(self._up, timeout=10, what="redis-server", process=self.process)

    def kill(self) -> None:
        stop_process(self.process, sig=signal.SIGKILL)

    def stop(self) -> None:
        self.admin.close()
        if self.process is not None:
            stop_process(self.process)


@pytest.fixture
def own_redis(tmp_path):
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (scripts/system-packages.sh installs it)")
    server = OwnRedis(binary, tmp_path)
    try:
        server.start()
        yield server
    finally:
        server.stop()


def _on_own_redis(stack: Stack, server: OwnRedis, scenario) -> dict:
    """Run ``scenario(product)`` with a product whose REDIS_URL is ``server``; its log must stay clean."""
    product = Stack(database=stack.database, redis_db=stack.redis_db, extra_env={"REDIS_URL": server.url})
    try:
        figures = scenario(product)
    except BaseException:
        print(product.log_text())
        raise
    finally:
        log = product.log_text()
        product.stop()
    assert " 500 " not in log and "Internal Server Error" not in log, log
    assert "Traceback" not in log, log
    return figures


def test_redis_paused_during_checkouts_and_chat(stack, own_redis):
    figures = _on_own_redis(stack, own_redis, lambda product: _redis_pause_scenario(product, own_redis.admin))
    print("redis pause figures:", json.dumps(figures))


def _redis_pause_scenario(paused: Stack, admin) -> dict:
    world = make_world(paused, buyers=110, quantities=[25, 200])
    base = paused.start_server(workers=1)
    orders_url = f"{base}/api/orders/"
    buyers = world["buyers"]
    sold_out_offer, big_offer = world["offers"]
    figures: dict = {}

    def buy(index: int, offer_index: int, key: str) -> dict:
        started = time.monotonic()
        status, body, headers = _post(orders_url, checkout_body(world, offer_index), token=buyers[index]["token"],
                                      key=key)
        return {"index": index, "offer_index": offer_index, "key": key, "status": status, "body": body,
                "headers": headers, "started": started, "took": time.monotonic() - started}

    def buy_impatiently(index: int) -> dict:
        """A client that gives up after a second (a phone losing its signal) and retries later."""
        key = f"impatient-{index}"
        try:
            status = _post(orders_url, checkout_body(world, 1), token=buyers[index]["token"], key=key, timeout=1)[0]
        except OSError:  # timed out: the client does not know whether its order was placed
            status = None
        return {"index": index, "offer_index": 1, "key": key, "status": status}

    def timed_get(path: str) -> tuple[int, dict, float]:
        started = time.monotonic()
        status, body = _get(f"{base}{path}")
        return status, body, time.monotonic() - started

    def check(result: dict) -> None:
        assert result["took"] < REQUEST_BOUND_S, result
        status, body = result["status"], result["body"]
        if status == 201:
            return
        if status == 409:  # the small offer sold out: a business answer, not a fault
            assert body["error"]["code"] in SOLD_OUT and result["offer_index"] == 0, result
            return
        assert_clean_503(status, body)

    def burst(indices: list[int], *, phase: str, spread_s: float) -> list[dict]:
        """Checkouts from ``indices`` (alternating the two offers), started over ``spread_s`` seconds."""
        with ThreadPoolExecutor(max_workers=16) as pool:
            futures = []
            for n, index in enumerate(indices):
                futures.append(pool.submit(buy, index, n % 2, f"{phase}-{index}"))
                time.sleep(spread_s / len(indices))
            return [future.result() for future in futures]

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        loop.set_default_executor(ThreadPoolExecutor(max_workers=32))
        talker = await open_socket(base, world["stream"], buyers[-1]["token"])
        watcher = await open_socket(base, world["stream"])
        assert await chat_outcome(talker, "暂停之前") == "delivered"
        await next_event(watcher, "chat.message", where=lambda e: e["text"] == "暂停之前")

        # Before the fault: the gate answers (its keys exist once a checkout passed through it).
        warm = await loop.run_in_executor(None, buy, 0, 1, "warm-0")
        assert warm["status"] == 201, warm
        assert admin.hexists(f"gate:o:{big_offer}:buyers", buyers[0]["id"])

        results, chats = [], []
        for mode, pause_ms, indices in (("ALL", 8000, list(range(1, 49))), ("WRITE", 5000, list(range(49, 73)))):
            admin.execute_command("CLIENT", "PAUSE", pause_ms, mode)
            pause_started = time.monotonic()
            if mode == "ALL":
                impatient_task = asyncio.gather(*(loop.run_in_executor(None, buy_impatiently, i)
                                                  for i in range(98, 104)))
            burst_task = loop.run_in_executor(
                None, lambda i=indices, m=mode, p=pause_ms: burst(i, phase=m, spread_s=p / 2000))
            await asyncio.sleep(0.5)
            # Reads answer: health says what is wrong (bounded), the stream page still serves.
            health, _body, took = await loop.run_in_executor(None, timed_get, "/api/health/")
            assert health == 503 and took < 10, (health, took)
            page, body, took = await loop.run_in_executor(None, timed_get, f"/api/streams/{world['stream']}/")
            assert page == 200 and isinstance(body["viewers"], int) and took < 10, (page, body, took)
            for n in range(3):
                chats.append(await chat_outcome(talker, f"{mode} 暂停中 {n}"))
                await asyncio.sleep(0.3)
            phase_results = await burst_task
            if mode == "ALL":
                impatient = await impatient_task
            for result in phase_results:
                result["during_pause"] = result["started"] - pause_started < pause_ms / 1000
            results.extend(phase_results)
            while time.monotonic() - pause_started < pause_ms / 1000:  # let the pause run out
                await asyncio.sleep(0.1)
            figures[mode] = {
                "checkouts": len(phase_results),
                "started_during_pause": sum(r["during_pause"] for r in phase_results),
                "201": sum(r["status"] == 201 for r in phase_results),
                "409": sum(r["status"] == 409 for r in phase_results),
                "503": sum(r["status"] == 503 for r in phase_results),
                "slowest_s": round(max(r["took"] for r in phase_results), 2),
            }
        unpaused_at = time.monotonic()
        for result in results:
            check(result)
        assert all(outcome in ("delivered", "service_unavailable") for outcome in chats), chats
        figures["chat_during_pause"] = {o: chats.count(o) for o in set(chats)}

        # Recovery, by itself: health, then a checkout the gate serves again, then chat to watchers.
        while _get(f"{base}/api/health/")[0] != 200:
            assert time.monotonic() - unpaused_at < 20, "health did not recover"
            await asyncio.sleep(0.2)
        figures["health_recovered_s"] = round(time.monotonic() - unpaused_at, 2)
        index = 73
        while True:
            again = await loop.run_in_executor(None, buy, index, 1, f"after-{index}")
            assert again["status"] == 201, again
            if admin.hexists(f"gate:o:{big_offer}:buyers", buyers[index]["id"]):
                break  # admitted by the gate, not by the database path alone
            index += 1
            assert index < 98 and time.monotonic() - unpaused_at < 30, "the gate did not come back"
            await asyncio.sleep(0.5)
        figures["gate_recovered_s"] = round(time.monotonic() - unpaused_at, 2)
        assert await chat_outcome(talker, "恢复了") == "delivered"
        await next_event(watcher, "chat.message", where=lambda e: e["text"] == "恢复了")
        figures["chat_recovered_s"] = round(time.monotonic() - unpaused_at, 2)

        # A retry of every failed checkout with its Idempotency-Key: exactly one order each.
        failed = [r for r in results if r["status"] == 503]
        retried = await asyncio.gather(*(loop.run_in_executor(None, buy, r["index"], r["offer_index"], r["key"])
                                         for r in failed))
        for result in retried:
            assert result["status"] in (201, 409), result
            if result["status"] == 409:
                assert result["body"]["error"]["code"] in SOLD_OUT and result["offer_index"] == 0, result
        figures["retried_after_recovery"] = {"201": sum(r["status"] == 201 for r in retried),
                                             "409": sum(r["status"] == 409 for r in retried)}
        # The clients that gave up during the pause retry with their keys: one order each, whether
        # the first attempt had placed it (replayed) or not (placed now).
        retried = await asyncio.gather(*(loop.run_in_executor(None, buy, r["index"], 1, r["key"]) for r in impatient))
        assert all(r["status"] == 201 for r in retried), retried
        figures["gave_up_during_pause"] = {
            "clients": len(impatient), "timed_out": sum(r["status"] is None for r in impatient),
            "retry_replayed": sum(r["headers"].get("idempotent-replayed") == "true" for r in retried)}
        # ... and a replay of an order made during the pause is that order, not a new one.
        made = [r for r in results if r["status"] == 201][:3]
        for first in made:
            replay = await loop.run_in_executor(None, buy, first["index"], first["offer_index"], first["key"])
            assert replay["status"] == 201 and replay["headers"].get("idempotent-replayed") == "true", replay
            assert replay["body"]["id"] == first["body"]["id"]
        await talker.close()
        await watcher.close()

    asyncio.run(scenario())

    state = consistency(paused, world)
    assert all(count == 1 for count in state["orders_per_buyer"].values()), state["orders_per_buyer"]
    small = state["offers"][sold_out_offer]
    assert small["remaining"] == 0 and small["sold"] == 25, small  # sold out exactly, never over
    figures["offers"] = {str(k): v for k, v in state["offers"].items()}
    return figures


def test_redis_restarted_the_room_resubscribes_and_the_gate_reloads(stack, own_redis):
    """Redis killed (-9) and started again empty: the live room's subscription comes back by itself
    and the gate reloads from PostgreSQL, without restarting the server."""
    figures = _on_own_redis(stack, own_redis, lambda product: _redis_restart_scenario(product, own_redis))
    print("redis restart figures:", json.dumps(figures))


def _redis_restart_scenario(product: Stack, server: OwnRedis) -> dict:
    world = make_world(product, buyers=10, quantities=[50])
    base = product.start_server(workers=1)
    orders_url = f"{base}/api/orders/"
    offer_id, buyers = world["offers"][0], world["buyers"]
    figures: dict = {}

    def buy(index: int) -> tuple[int, dict]:
        status, body, _headers = _post(orders_url, checkout_body(world, 0), token=buyers[index]["token"],
                                       key=f"restart-{index}")
        return status, body

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        talker = await open_socket(base, world["stream"], buyers[-1]["token"])
        watcher = await open_socket(base, world["stream"])
        assert await chat_outcome(talker, "重启之前") == "delivered"
        await next_event(watcher, "chat.message", where=lambda e: e["text"] == "重启之前")
        assert (await loop.run_in_executor(None, buy, 0))[0] == 201

        server.kill()
        # Redis is gone (refused at once): chat is refused, checkout goes on through PostgreSQL.
        assert await chat_outcome(talker, "Redis 不在") == "service_unavailable"
        status, body = await loop.run_in_executor(None, buy, 1)
        assert status == 201, body
        server.start()  # empty: no gate keys, no subscriptions, no presence
        back = time.monotonic()

        n = 0
        while True:  # the socket stays open; lines are refused until the room has Redis again
            n += 1
            text = f"回来了 {n}"
            outcome = await chat_outcome(talker, text)
            assert outcome in ("delivered", "service_unavailable"), outcome
            if outcome == "delivered":
                await next_event(watcher, "chat.message", where=lambda e, t=text: e["text"] == t)
                break
            assert time.monotonic() - back < 20, "the room did not get Redis back"
            await asyncio.sleep(0.5)
        figures["chat_recovered_s"] = round(time.monotonic() - back, 2)

        index = 2
        while True:
            status, body = await loop.run_in_executor(None, buy, index)
            assert status == 201, body
            if server.admin.hexists(f"gate:o:{offer_id}:buyers", buyers[index]["id"]):
                break  # the gate reloaded from the database and admitted this buyer
            index += 1
            assert index < 9 and time.monotonic() - back < 20, "the gate did not come back"
            await asyncio.sleep(1)
        figures["gate_recovered_s"] = round(time.monotonic() - back, 2)
        # The reloaded gate holds exactly what PostgreSQL says is left.
        with _db(product) as db:
            remaining = db.execute("SELECT remaining FROM livestream_offer WHERE id = %s", [offer_id]).fetchone()[0]
        assert int(server.admin.get(f"gate:o:{offer_id}:left")) == remaining
        await talker.close()
        await watcher.close()

    asyncio.run(scenario())
    state = consistency(product, world)
    assert all(count == 1 for count in state["orders_per_buyer"].values())
    figures["offer"] = state["offers"][offer_id]
    return figures


# --- (b) a PostgreSQL connection killed in the middle of a transaction ----------------------------


def test_connections_killed_between_requests_are_replaced_before_a_request_sees_them(stack):
    url = f"{stack.base}/api/regions/?level=county"
    assert _get(url)[0] == 200
    with psycopg.connect(_server_dsn(), autocommit=True) as admin:
        killed = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            [stack.database],
        ).fetchone()[0]
    assert killed >= 1  # the pool's idle connections were there and are now dead
    statuses = [_get(url)[0] for _ in range(6)]
    assert statuses == [200] * 6  # the pool checked each connection out and replaced the dead ones
    assert "Traceback" not in stack.log_text()


def _kill_the_waiting_backend(stack: Stack, db: psycopg.Connection, *, timeout: float = 15) -> int:
    """The backend of the product waiting on our row lock: terminate it; returns its pid."""
    found: list[int] = []

    def waiting() -> bool:
        found[:] = [pid for (pid,) in db.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock' "
            "AND pid <> pg_backend_pid()", [stack.database]).fetchall()]
        return len(found) == 1

    wait_until(waiting, timeout=timeout, what="a backend waiting on the row lock", interval=0.05)
    assert db.execute("SELECT pg_terminate_backend(%s)", [found[0]]).fetchone()[0]
    return found[0]


def test_a_checkout_whose_connection_is_killed_mid_transaction_fails_cleanly(stack):
    world = make_world(stack, buyers=3, quantities=[10])
    offer_id, buyer = world["offers"][0], world["buyers"][0]
    orders_url = f"{stack.base}/api/orders/"
    before = consistency(stack, world)
    with _db(stack) as db:
        stock_before = db.execute("SELECT stock FROM catalog_product WHERE id = %s",
                                  [world["products"][0]]).fetchone()[0]
    key = f"killed-{uuid.uuid4().hex[:8]}"
    answer: dict = {}

    def send():
        started = time.monotonic()
        answer["status"], answer["body"], _headers = _post(orders_url, checkout_body(world, 0), token=buyer["token"],
                                                          key=key)
        answer["took"] = time.monotonic() - started

    with _db(stack) as locker:
        # Hold the offer's row (not its key: the order's foreign keys still pass), so the checkout
        # writes its order and lines and then waits on the offer's UPDATE, its last statement.
        with locker.transaction():
            locker.execute("SELECT 1 FROM livestream_offer WHERE id = %s FOR NO KEY UPDATE", [offer_id])
            sender = threading.Thread(target=send)
            sender.start()
            with _db(stack) as admin:
                _kill_the_waiting_backend(stack, admin)
            sender.join(REQUEST_BOUND_S)
            assert not sender.is_alive(), "the checkout hung after its connection was killed"
        # the lock is released here
    assert_clean_503(answer["status"], answer["body"])

    # Nothing was written: no order, the offer, the counters and the stock as they were.
    after = consistency(stack, world)
    assert after == before, (before, after)
    with _db(stack) as db:
        assert db.execute("SELECT stock FROM catalog_product WHERE id = %s",
                          [world["products"][0]]).fetchone()[0] == stock_before

    # The same key again: served (the claim of the killed request does not block it), one order.
    status, body, headers = _post(orders_url, checkout_body(world, 0), token=buyer["token"], key=key)
    assert status == 201, body
    assert "idempotent-replayed" not in headers
    # And the next request of someone else too.
    other = _post(orders_url, checkout_body(world, 0), token=world["buyers"][1]["token"], key=f"{key}-next")
    assert other[0] == 201, other
    state = consistency(stack, world)
    assert state["orders_per_buyer"] == {buyer["id"]: 1, world["buyers"][1]["id"]: 1}
    assert state["offers"][offer_id]["remaining"] == 8
    log = stack.log_text()
    assert "Traceback" not in log and " 500 " not in log, log


def test_a_chat_line_whose_connection_is_killed_gets_an_error_and_the_socket_stays_usable(stack):
    world = make_world(stack, buyers=1, quantities=[1])
    stream_id = world["stream"]

    async def scenario():
        talker = await open_socket(stack.base, stream_id, world["buyers"][0]["token"])
        watcher = await open_socket(stack.base, stream_id)
        loop = asyncio.get_running_loop()
        with _db(stack) as locker, _db(stack) as admin:
            with locker.transaction():
                # The chat line's foreign key to the stream waits on this lock.
                locker.execute("SELECT 1 FROM livestream_stream WHERE id = %s FOR UPDATE", [stream_id])
                outcome = asyncio.ensure_future(chat_outcome(talker, "断线中的一句"))
                await loop.run_in_executor(None, _kill_the_waiting_backend, stack, admin)
                assert await outcome == "service_unavailable"
        assert await chat_outcome(talker, "再说一遍") == "delivered"
        await next_event(watcher, "chat.message", where=lambda e: e["text"] == "再说一遍")
        await talker.close()
        await watcher.close()

    asyncio.run(scenario())
    with _db(stack) as db:
        texts = [t for (t,) in db.execute("SELECT text FROM livestream_chatmessage WHERE stream_id = %s",
                                          [stream_id]).fetchall()]
    assert texts == ["再说一遍"]
    log = stack.log_text()
    assert "Traceback" not in log, log
