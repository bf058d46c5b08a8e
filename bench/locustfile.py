"""Cunbo under a realistic mix of people, for locust (headless, loopback only).

Run by ``bench/load.py`` (and ``tests/test_load_smoke.py``), which starts the production stack,
prepares the data and writes it to the JSON file named by ``CUNBO_LOAD_DATA``: the live stream and
its flash offer, listed products and trace codes, the consumers (a refresh token and an address
each), the merchant and operators who sign in, and the payment provider's webhook secret.

Who does what (weights; merchant and operators are fixed counts):

* ``Browser`` (6): anonymous; the catalogue, search, a product, its trace page, the live streams.
* ``Viewer`` (4): a signed-in consumer in the live room: opens the stream, watches it over
  ``/ws/streams/<id>/`` and chats (``chat.send``; the round trip until the same line comes back
  as ``chat.message`` is recorded as ``WS chat round trip``).
* ``Buyer`` (3): a signed-in consumer in the room who buys from the live flash offer the room
  announced (``offer.started``; and now and
  then a regular product) with an ``Idempotency-Key``, opens a payment and, acting as the provider,
  sends the signed ``payment.succeeded`` webhook. Some checkouts are retried with the same key and
  some notices delivered twice, as clients and providers do.
* ``Merchant`` (1): the stream's shop; its sub-orders, ships the paid ones, and puts up the next
  flash offer (same size and limit) when one has sold out, so a run sees several sell-outs.
* ``Operator`` (2): one operator of each demo county scanning parcels along their route.

Business refusals the product promises (sold out, over the buyer's limit, a replayed key) are
successes here; every 4xx that is not one of them and every 5xx is a failure. Each answer's status
is tallied per request name and written to ``CUNBO_LOAD_STATUS`` at the end.
"""

from __future__ import annotations

import collections
import hashlib
import hmac
import itertools
import json
import logging
import os
import random
import time
import uuid

import gevent
import gevent.lock
import websocket
from locust import HttpUser, between, events, task
from urllib3.util.retry import Retry

DATA = json.loads(open(os.environ["CUNBO_LOAD_DATA"], encoding="utf-8").read())  # noqa: SIM115
STATUS_FILE = os.environ.get("CUNBO_LOAD_STATUS")
SEARCH_TERMS = ["黄瓜", "番茄", "茶", "寿光", "云雾", "彩椒"]
ECHO_GRACE_S = 10.0
EXPECTED_REFUSALS = {"sold_out", "over_buyer_limit", "offer_not_live", "out_of_stock"}
_consumers = itertools.cycle(DATA["consumers"])
# A refresh token is good for one refresh (it rotates; a reused one ends every token of its user): users
# sharing a consumer take turns and keep the rotated one, as one app on one phone does.
_refresh_turns: collections.defaultdict = collections.defaultdict(gevent.lock.Semaphore)
_operators = itertools.cycle(DATA["operators"])
statuses: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)


@events.request.add_listener
def _tally(request_type, name, response=None, exception=None, **_kwargs):
    if request_type == "WS":
        statuses[name]["error" if exception else "ok"] += 1
    elif response is not None:
        statuses[name][str(response.status_code or "no answer")] += 1


@events.quitting.add_listener
def _write_statuses(environment, **_kwargs):
    if STATUS_FILE:
        with open(STATUS_FILE, "w", encoding="utf-8") as out:
            json.dump({name: dict(counts) for name, counts in statuses.items()}, out)


class _RetryCounter(logging.Handler):
    """Makes each reset-and-retry visible in the stats (see ``_retry_stale_connections``)."""

    def emit(self, record):
        if record.getMessage().startswith("Retrying"):
            events.request.fire(request_type="HTTP", name="keep-alive connection reset, retried once",
                                response_time=0, response_length=0, exception=None, context={})


_urllib3_log = logging.getLogger("urllib3.connectionpool")
_urllib3_log.addHandler(_RetryCounter(level=logging.WARNING))
_urllib3_log.propagate = False


def _retry_stale_connections(client) -> None:
    """Retry once a request whose reused keep-alive connection the server closed as it was sent.

    uvicorn closes a connection idle for 5 s; a person who thinks for about that long races it and
    gets a reset before any answer. Browsers and mobile HTTP stacks (OkHttp) retry that case;
    requests does not. Every write here is safe to repeat (Idempotency-Key, webhook event id) or
    answers a clear 409. Counted as "keep-alive connection reset, retried once".
    """
    client.adapters["http://"].max_retries = Retry(total=1, connect=1, read=1, status=0, other=0, redirect=0,
                                                   allowed_methods=None, raise_on_status=False)


def _ws_event(name: str, started: float, *, length: int = 0, exception: Exception | None = None) -> None:
    events.request.fire(request_type="WS", name=name, response_time=(time.perf_counter() - started) * 1000,
                        response_length=length, exception=exception, context={})


def _error_code(response) -> str:
    try:
        return response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return ""


class ConsumerUser(HttpUser):
    """A signed-in consumer: the app keeps a refresh token and trades it for an access token."""

    abstract = True

    def on_start(self):
        _retry_stale_connections(self.client)
        self.consumer = next(_consumers)
        with _refresh_turns[self.consumer["username"]], self.client.post(
                "/api/auth/token/refresh", json={"refresh": self.consumer["refresh"]},
                name="POST /api/auth/token/refresh", catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"refresh: {response.status_code}")
                self.stop()
                return
            self.access = response.json()["access"]
            self.consumer["refresh"] = response.json()["refresh"]
        self.client.headers["Authorization"] = f"Bearer {self.access}"
        self.client.get(f"/api/streams/{DATA['stream']}/", name="GET /api/streams/[id]/")
        self.room = LiveRoom(self.host, DATA["stream"], self.access, DATA["origin"])
        self.room.open()

    def on_stop(self):
        if getattr(self, "room", None):
            self.room.close()


class LiveRoom:
    """One watcher's socket: a reader greenlet records the chat round trip and follows the live offer."""

    def __init__(self, host: str, stream_id: int, token: str, origin: str):
        self.url = host.replace("http://", "ws://", 1) + f"/ws/streams/{stream_id}/?token={token}"
        self.origin = origin
        self.ws = None
        self.reader = None
        self.pending: dict[str, float] = {}
        self.offer: dict | None = None  # the live flash offer, as the room announced it

    def open(self) -> None:
        started = time.perf_counter()
        try:
            self.ws = websocket.create_connection(self.url, origin=self.origin, timeout=30,
                                                  enable_multithread=False)
            first = self.ws.recv()  # the room's snapshot starts with stream.status
        except Exception as exc:  # noqa: BLE001 - recorded as a failed connect
            _ws_event("WS connect + snapshot", started, exception=exc)
            self.ws = None
            return
        _ws_event("WS connect + snapshot", started, length=len(first))
        self.reader = gevent.spawn(self._read)

    def _read(self) -> None:
        while self.ws is not None:
            try:
                raw = self.ws.recv()
            except Exception:  # noqa: BLE001 - closed by us or the server
                if self.ws is not None and self.ws.connected:
                    continue
                return
            if not raw:
                continue
            frame = json.loads(raw)
            kind = frame.get("type")
            if kind == "chat.message":
                started = self.pending.pop(frame.get("text", ""), None)
                if started is not None:
                    _ws_event("WS chat round trip", started, length=len(raw))
            elif kind == "offer.started":
                self.offer = {"id": frame["offer"], "product": frame["product"]}
            elif kind == "offer.ended" and self.offer and self.offer["id"] == frame.get("offer"):
                self.offer = None
            elif kind == "error":
                _ws_event(f"WS error {frame.get('code')}", time.perf_counter(),
                          exception=RuntimeError(frame.get("message", "")))

    def chat(self, text: str) -> None:
        if self.ws is None:
            return
        line = f"{text} #{uuid.uuid4().hex[:8]}"
        self.pending[line] = time.perf_counter()
        try:
            self.ws.send(json.dumps({"type": "chat.send", "text": line}))
        except Exception as exc:  # noqa: BLE001
            _ws_event("WS chat round trip", self.pending.pop(line), exception=exc)

    def close(self) -> None:
        ws, self.ws = self.ws, None
        if ws is not None:
            try:
                ws.close()
            except Exception:  # noqa: BLE001,S110 - closing at the end of the run
                pass
        if self.reader is not None:
            self.reader.kill(block=False)
        now = time.perf_counter()
        for started in self.pending.values():  # lines that never came back (recent ones may be in flight)
            if now - started > ECHO_GRACE_S:
                _ws_event("WS chat round trip", started, exception=RuntimeError("no echo"))


class Browser(HttpUser):
    weight = 6
    wait_time = between(1, 4)

    def on_start(self):
        _retry_stale_connections(self.client)

    @task(4)
    def catalogue(self):
        ordering = random.choice(["price", "-price", "-created", "sales"])
        self.client.get(f"/api/products/?page_size=20&ordering={ordering}", name="GET /api/products/")

    @task(3)
    def search(self):
        self.client.get(f"/api/products/?search={random.choice(SEARCH_TERMS)}&ordering=price",
                        name="GET /api/products/?search=")

    @task(4)
    def product(self):
        self.client.get(f"/api/products/{random.choice(DATA['products'])}/", name="GET /api/products/[id]/")

    @task(2)
    def trace(self):
        self.client.get(f"/api/trace/{random.choice(DATA['trace_codes'])}/", name="GET /api/trace/[code]/")

    @task(2)
    def streams(self):
        self.client.get("/api/streams/?status=live", name="GET /api/streams/?status=live")
        self.client.get(f"/api/streams/{DATA['stream']}/", name="GET /api/streams/[id]/")


class Viewer(ConsumerUser):
    weight = 4
    # The room allows 5 lines per user per 10 s; a viewer says something every few seconds at most.
    wait_time = between(3, 8)

    @task(5)
    def chat(self):
        self.room.chat(random.choice(["多少钱一斤？", "发货快吗", "看着很新鲜", "主播好", "还有货吗"]))

    @task(1)
    def recent_chat(self):
        self.client.get(f"/api/streams/{DATA['stream']}/messages/", name="GET /api/streams/[id]/messages/")

    @task(1)
    def stream(self):
        self.client.get(f"/api/streams/{DATA['stream']}/", name="GET /api/streams/[id]/")


class Buyer(ConsumerUser):
    weight = 3
    wait_time = between(2, 6)

    def _checkout(self, items: list[dict], name: str) -> dict | None:
        key = uuid.uuid4().hex
        body = {"items": items, "address": self.consumer["address"], "stream": DATA["stream"]}
        with self.client.post("/api/orders/", json=body, headers={"Idempotency-Key": key}, name=name,
                              catch_response=True) as response:
            if response.status_code == 409 and _error_code(response) in EXPECTED_REFUSALS:
                response.success()
                return None
            if response.status_code != 201:
                response.failure(f"{response.status_code} {_error_code(response)}")
                return None
            order = response.json()
        if random.random() < 0.1:  # the app retries (a lost answer): the same key replays the order
            with self.client.post("/api/orders/", json=body, headers={"Idempotency-Key": key},
                                  name="POST /api/orders/ (retry, same key)", catch_response=True) as response:
                replayed = response.headers.get("Idempotent-Replayed") == "true"
                if response.status_code != 201 or not replayed or response.json().get("id") != order["id"]:
                    response.failure(f"retry: {response.status_code}, replayed={replayed}")
        return order

    def _pay(self, order: dict) -> None:
        with self.client.post(f"/api/orders/{order['id']}/pay/", json={}, headers={"Idempotency-Key": uuid.uuid4().hex},
                              name="POST /api/orders/[id]/pay/", catch_response=True) as response:
            if response.status_code != 201:
                response.failure(f"{response.status_code} {_error_code(response)}")
                return
            payment = response.json()
        gevent.sleep(random.uniform(0.2, 1.0))  # the buyer confirms in the wallet; the provider notifies
        body = json.dumps({"event_id": f"evt_{uuid.uuid4().hex}", "type": "payment.succeeded",
                           "payment_id": payment["id"], "amount": payment["amount"], "currency": "CNY"}).encode()
        deliveries = 2 if random.random() < 0.1 else 1  # providers deliver at least once
        for attempt in range(deliveries):
            timestamp = int(time.time())
            signature = hmac.new(DATA["webhook_secret"].encode(), f"{timestamp}.".encode() + body,
                                 hashlib.sha256).hexdigest()
            name = "POST /api/payments/webhook/sandbox/" + (" (repeat)" if attempt else "")
            with self.client.post("/api/payments/webhook/sandbox/", data=body, name=name, catch_response=True,
                                  headers={"Content-Type": "application/json", "Authorization": None,
                                           "X-Cunbo-Signature": f"t={timestamp},v1={signature}"}) as response:
                if response.status_code != 200:
                    response.failure(f"{response.status_code} {_error_code(response)}")

    @task(6)
    def buy_from_offer(self):
        offer = self.room.offer
        if offer is None:  # between offers: look at the stream instead
            self.client.get(f"/api/streams/{DATA['stream']}/", name="GET /api/streams/[id]/")
            return
        order = self._checkout([{"product": offer["product"], "quantity": 1, "offer": offer["id"]}],
                               "POST /api/orders/ (flash offer)")
        if order:
            self._pay(order)

    @task(2)
    def buy_regular(self):
        product = random.choice(DATA["regular_products"])
        self.client.get(f"/api/products/{product}/", name="GET /api/products/[id]/")
        order = self._checkout([{"product": product, "quantity": random.randint(1, 3)}],
                               "POST /api/orders/ (regular)")
        if order:
            self._pay(order)

    @task(2)
    def my_orders(self):
        response = self.client.get("/api/orders/", name="GET /api/orders/")
        if response.status_code == 200 and response.json()["results"]:
            order = random.choice(response.json()["results"])
            self.client.get(f"/api/orders/{order['id']}/", name="GET /api/orders/[id]/")

    @task(2)
    def chat(self):
        self.room.chat(random.choice(["抢到了！", "已下单", "什么时候发货"]))


class StaffUser(HttpUser):
    abstract = True

    def _sign_in(self, account: dict) -> None:
        _retry_stale_connections(self.client)
        response = self.client.post("/api/auth/token", json=account, name="POST /api/auth/token")
        self.client.headers["Authorization"] = f"Bearer {response.json()['access']}"


class Merchant(StaffUser):
    fixed_count = 1
    wait_time = between(1, 3)

    def on_start(self):
        self._sign_in(DATA["merchant"])

    @task(3)
    def ship_paid(self):
        response = self.client.get("/api/merchant-orders/?status=paid", name="GET /api/merchant-orders/?status=paid")
        if response.status_code != 200 or not response.json()["results"]:
            return
        merchant_order = response.json()["results"][-1]
        self.client.post(f"/api/merchant-orders/{merchant_order['id']}/ship/", json={"weight_kg": "2.50"},
                         name="POST /api/merchant-orders/[id]/ship/")

    @task(1)
    def relaunch_offer(self):
        """When the flash offer has sold out (or expired), the host puts up the next one."""
        response = self.client.get(f"/api/streams/{DATA['stream']}/", name="GET /api/streams/[id]/ (owner)")
        if response.status_code != 200 or any(o["status"] == "live" for o in response.json()["offers"]):
            return
        offer = DATA["offer"]
        self.client.post(f"/api/streams/{DATA['stream']}/offers/", name="POST /api/streams/[id]/offers/",
                         headers={"Idempotency-Key": uuid.uuid4().hex},
                         json={"product": offer["product"], "price": offer["price"], "quantity": offer["quantity"],
                               "per_buyer_limit": offer["per_buyer_limit"], "duration_s": offer["duration_s"]})

    @task(1)
    def all_orders(self):
        self.client.get("/api/merchant-orders/", name="GET /api/merchant-orders/")



# Which scan follows from a parcel's status and the kind of its next hub (docs/logistics-notifications.md).
NEXT_SCAN = {
    ("created", "village_point"): "picked_up",
    ("picked_up", "township_station"): "picked_up",
    ("picked_up", "county_centre"): "at_county_centre",
    ("at_county_centre", "county_centre"): "at_county_centre",
    ("at_county_centre", "township_station"): "at_township_station",
    ("at_township_station", "village_point"): "out_for_delivery",
}


class Operator(StaffUser):
    """A county operator working through the queue: the next scan of each parcel at its next hub."""

    fixed_count = 2
    wait_time = between(1, 3)

    def on_start(self):
        account = next(_operators)
        self._sign_in({"username": account["username"], "password": account["password"]})
        self.county_code = account["county_code"]

    @task
    def scan_next(self):
        response = self.client.get("/api/logistics/shipments/?page_size=50", name="GET /api/logistics/shipments/")
        if response.status_code != 200:
            return
        work = []
        for shipment in response.json()["results"]:
            hub = shipment["next_hub"]
            # A parcel waiting for another county's scan is in both queues; only its next hub's county scans it.
            if hub is None or not hub["code"].startswith(f"HUB-{self.county_code}"):
                continue
            status = NEXT_SCAN.get((shipment["status"], hub["kind"]))
            if status:
                work.append((shipment["id"], status, hub["id"]))
        if not work:
            return
        shipment_id, status, hub_id = random.choice(work)
        body = {"status": status, "note": "load test"}
        if status != "out_for_delivery":
            body["hub"] = hub_id
        self.client.post(f"/api/shipments/{shipment_id}/events/", json=body, name="POST /api/shipments/[id]/events/")
