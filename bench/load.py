"""Load test: the production stack under a realistic mix of people (bench/locustfile.py), then the books.

1. Starts the product as production runs it (``tests/stack.py``): its own PostgreSQL database,
   migrated and seeded (``seed_demo``), its own Redis database, ``DEBUG=0``, uvicorn with 2 workers,
   a Celery worker and beat. The per-address limits (login, checkout, trace) are relaxed through
   the ``THROTTLE_*`` variables, because every simulated person comes from 127.0.0.1; the per-user
   limits (checkout per buyer, chat per user and room) stay as shipped.
2. Prepares the data the way the product makes it: N consumers with an address each and a refresh
   token (a script inside the stack: one password hash for all, not one each); over the API, the
   demo shop goes live, pins and puts up a flash offer of K units, and S orders are bought, paid
   through the signed webhook and shipped, so operators have parcels to scan from the first second.
3. Runs ``locust --headless`` on loopback for the given minutes.
4. Checks: no 5xx (and no failure of any kind, broken down), no oversell (per offer: units in order
   lines of orders not cancelled == quantity − remaining − returned, remaining ≥ 0, no buyer over
   the limit; no product stock below 0), every paid order paid exactly once. Prints p50/p95/count
   per endpoint as a Markdown table and one JSON line; exits 1 if a check failed.

    .venv/bin/python bench/load.py --users 60 --spawn-rate 5 --minutes 3

``DATABASE_URL`` / ``REDIS_URL`` (defaults below) only name the server: the stack's database is
``<name>_load`` and its Redis database one of 6–13 (``tests/stack.py``).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCUSTFILE = ROOT / "bench" / "locustfile.py"
DEMO_PASSWORD = "cunbo-demo-2026"
MERCHANT = "sanyuanzhu_coop"
OPERATORS = [("shouguang_operator", "370783"), ("guiding_operator", "522723")]
# Every simulated person comes from 127.0.0.1: the per-address limits would refuse them as one.
RELAXED_LIMITS = {"LOGIN_GUARD_ADDRESS_FAILURES": "100000", "THROTTLE_REGISTER_IP": "100000/min",
                  "THROTTLE_CHECKOUT_IP": "100000/min", "THROTTLE_TRACE_IP": "100000/min"}


# --- inside the stack -------------------------------------------------------------------------------

def seed_consumers(count: int, out_path: str) -> None:
    """Run by ``manage.py shell`` in the stack: ``count`` consumers, each with an address and a refresh token,
    and the trace codes of the listed products' harvest batches."""
    from django.contrib.auth.hashers import make_password
    from rest_framework_simplejwt.tokens import RefreshToken

    from accounts.models import Role, User
    from catalog.models import HarvestBatch
    from logistics.models import Hub
    from regions.models import Region

    villages = list(Region.objects.filter(
        level=Region.Level.VILLAGE, county__code__in=[code for _name, code in OPERATORS],
        pk__in=Hub.objects.filter(kind=Hub.Kind.VILLAGE_POINT, is_active=True).values("region"),
    ).order_by("code"))
    password = make_password(DEMO_PASSWORD)  # one hash for all: hashing is not what this measures
    existing = set(User.objects.filter(username__startswith="load_c").values_list("username", flat=True))
    User.objects.bulk_create([
        User(username=f"load_c{i:05d}", role=Role.CONSUMER, phone=f"137{i:08d}", password=password)
        for i in range(count) if f"load_c{i:05d}" not in existing
    ])
    people = []
    for i, user in enumerate(User.objects.filter(username__startswith="load_c").order_by("username")[:count]):
        village = villages[i % len(villages)]
        people.append({"username": user.username, "refresh": str(RefreshToken.for_user(user)),
                       "address": {"village": village.pk, "detail": f"{i % 40 + 1}号院", "recipient": f"买家{i}",
                                   "phone": user.phone}})
    # The codes printed on the parcels' labels, which consumers scan to open the trace page.
    trace_codes = list(HarvestBatch.objects.filter(product__status="listed").values_list("trace_code", flat=True))
    Path(out_path).write_text(json.dumps({"consumers": people, "trace_codes": trace_codes}, ensure_ascii=False))


# --- over the API -------------------------------------------------------------------------------------

class Api:
    def __init__(self, base: str, token: str | None = None):
        import requests

        self.base = base
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, *, expect: int = 200, **kwargs):
        response = self.session.request(method, self.base + path, timeout=60, **kwargs)
        if response.status_code != expect:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:500]}")
        return response.json() if response.content else None

    @classmethod
    def signed_in(cls, base: str, username: str, password: str = DEMO_PASSWORD) -> Api:
        token = cls(base).call("POST", "/api/auth/token", json={"username": username, "password": password})
        return cls(base, token["access"])


def _signed_webhook(api: Api, payment: dict, secret: str) -> None:
    import hashlib
    import hmac

    body = json.dumps({"event_id": f"evt_{uuid.uuid4().hex}", "type": "payment.succeeded",
                       "payment_id": payment["id"], "amount": payment["amount"], "currency": "CNY"}).encode()
    timestamp = int(time.time())
    signature = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    api.call("POST", "/api/payments/webhook/sandbox/", data=body,
             headers={"Content-Type": "application/json", "X-Cunbo-Signature": f"t={timestamp},v1={signature}"})


_refresh_turn = threading.Lock()


def _access_for(base: str, consumer: dict) -> str:
    """Trade the consumer's refresh token for an access token and keep the rotated refresh token (each is
    good for one refresh; a reused one ends every token of its user)."""
    with _refresh_turn:
        pair = Api(base).call("POST", "/api/auth/token/refresh", json={"refresh": consumer["refresh"]})
        consumer["refresh"] = pair["refresh"]
    return pair["access"]


def _shipped_order(base: str, consumer: dict, product: int, stream: int, merchant: Api, secret: str) -> int:
    buyer = Api(base, _access_for(base, consumer))
    order = buyer.call("POST", "/api/orders/", expect=201, headers={"Idempotency-Key": uuid.uuid4().hex},
                       json={"items": [{"product": product, "quantity": 1}], "address": consumer["address"],
                             "stream": stream})
    payment = buyer.call("POST", f"/api/orders/{order['id']}/pay/", expect=201, json={},
                         headers={"Idempotency-Key": uuid.uuid4().hex})
    _signed_webhook(buyer, payment, secret)
    merchant_order = order["merchant_orders"][0]["id"]
    merchant.call("POST", f"/api/merchant-orders/{merchant_order}/ship/", expect=201, json={"weight_kg": "2.50"})
    return merchant_order


def prepare(stack, base: str, workdir: Path, *, consumers: int, units: int, per_buyer_limit: int,
            shipments: int, seconds: int) -> dict:
    people_path = workdir / "consumers.json"
    stack.manage("shell", "-c", f"from bench.load import seed_consumers; seed_consumers({consumers}, {str(people_path)!r})")
    seeded = json.loads(people_path.read_text())
    people = seeded["consumers"]

    merchant = Api.signed_in(base, MERCHANT)
    shop = merchant.call("GET", "/api/me")["shop"]
    stream = next(s for s in merchant.call("GET", "/api/streams/?status=scheduled")["results"]
                  if s["merchant"] == shop or (isinstance(s["merchant"], dict) and s["merchant"].get("id") == shop))
    stream_id = stream["id"]
    merchant.call("POST", f"/api/streams/{stream_id}/start/")
    products = merchant.call("GET", f"/api/streams/{stream_id}/")["products"]
    product_ids = [p["id"] if isinstance(p, dict) else p for p in products]
    stocks = {pid: merchant.call("GET", f"/api/products/{pid}/")["stock"] for pid in product_ids}
    offer_product = max(stocks, key=stocks.get)
    regular = [pid for pid in product_ids if pid != offer_product]
    for pid in product_ids:  # enough on the shelf for the whole run: stock is not what is measured
        merchant.call("POST", f"/api/products/{pid}/stock/", json={"delta": 20000})
    merchant.call("POST", f"/api/streams/{stream_id}/pin/", json={"product": offer_product})
    price = merchant.call("GET", f"/api/products/{offer_product}/")["price"]
    offer_price = f"{float(price) * 0.8:.2f}"
    duration_s = min(3600, seconds + 600)
    offer = merchant.call("POST", f"/api/streams/{stream_id}/offers/", expect=201,
                          headers={"Idempotency-Key": uuid.uuid4().hex},
                          json={"product": offer_product, "price": offer_price, "quantity": units,
                                "per_buyer_limit": per_buyer_limit, "duration_s": duration_s})

    public = Api(base)
    all_products = [p["id"] for p in public.call("GET", "/api/products/?page_size=100")["results"]]
    trace_codes = seeded["trace_codes"]
    if not trace_codes:
        raise RuntimeError("no trace codes: seed_demo made no harvest batches")

    secret = stack.env["PAYMENT_WEBHOOK_SECRET"]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: _shipped_order(base, people[i % len(people)], regular[i % len(regular)], stream_id,
                                               merchant, secret), range(shipments)))

    return {
        "stream": stream_id,
        "offer": {"id": offer["id"], "product": offer_product, "price": offer_price, "quantity": units,
                  "per_buyer_limit": per_buyer_limit, "duration_s": duration_s},
        "products": all_products,
        "regular_products": regular,
        "trace_codes": trace_codes,
        "consumers": people,
        "merchant": {"username": MERCHANT, "password": DEMO_PASSWORD},
        "operators": [{"username": name, "password": DEMO_PASSWORD, "county_code": code} for name, code in OPERATORS],
        "webhook_secret": secret,
        "origin": base,
    }


# --- locust -------------------------------------------------------------------------------------------

def run_locust(base: str, data: dict, workdir: Path, *, users: int, spawn_rate: float, seconds: int,
               stop_timeout: int = 10) -> dict:
    data_path, status_path, prefix = workdir / "data.json", workdir / "statuses.json", workdir / "locust"
    data_path.write_text(json.dumps(data, ensure_ascii=False))
    env = dict(os.environ, CUNBO_LOAD_DATA=str(data_path), CUNBO_LOAD_STATUS=str(status_path), PYTHONPATH=str(ROOT))
    started, children = time.monotonic(), resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(
        [str(Path(sys.executable).parent / "locust"), "-f", str(LOCUSTFILE), "--headless", "--host", base,
         "-u", str(users), "-r", str(spawn_rate), "-t", f"{seconds}s", "--stop-timeout", str(stop_timeout),
         "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=seconds + 180,
    )
    elapsed = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    locust_cpu = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
    stats = list(csv.DictReader(open(f"{prefix}_stats.csv", encoding="utf-8")))  # noqa: SIM115
    failures = list(csv.DictReader(open(f"{prefix}_failures.csv", encoding="utf-8")))  # noqa: SIM115
    statuses = json.loads(status_path.read_text()) if status_path.exists() else {}
    return {"returncode": result.returncode, "elapsed_s": elapsed, "stats": stats, "failures": failures,
            "statuses": statuses, "stderr": result.stderr[-4000:], "locust_cpu_s": round(locust_cpu, 1)}


# --- the books --------------------------------------------------------------------------------------

def books_before(database_url: str) -> dict:
    """Stock of every product and the last order and offer id, just before the run."""
    import psycopg

    with psycopg.connect(database_url) as conn:
        return {"stock": dict(conn.execute("SELECT id, stock FROM catalog_product").fetchall()),
                "last_order": conn.execute("SELECT COALESCE(MAX(id), 0) FROM orders_order").fetchone()[0],
                "last_offer": conn.execute("SELECT COALESCE(MAX(id), 0) FROM livestream_offer").fetchone()[0]}


def stock_drift(conn, before: dict) -> dict:
    """Per product, units that left the shelf during the run but are not in an order line or an offer (0 = none).

    shelf before − shelf after = units in regular order lines of the run's orders (not cancelled)
    + units set aside by the run's offers − units the stream's ended offers handed back.
    """
    after = dict(conn.execute("SELECT id, stock FROM catalog_product").fetchall())
    sold = dict(conn.execute(
        """SELECT l.product_id, SUM(l.quantity) FROM orders_orderline l
           JOIN orders_merchantorder mo ON mo.id = l.merchant_order_id JOIN orders_order ord ON ord.id = mo.order_id
           WHERE l.offer_id IS NULL AND ord.id > %s AND ord.status <> 'cancelled' GROUP BY l.product_id""",
        (before["last_order"],)).fetchall())
    allocated = dict(conn.execute("SELECT product_id, SUM(quantity) FROM livestream_offer WHERE id > %s "
                                  "GROUP BY product_id", (before["last_offer"],)).fetchall())
    returned = dict(conn.execute("SELECT product_id, SUM(returned) FROM livestream_offer GROUP BY product_id").fetchall())
    drift = {}
    for pid, stock in after.items():
        expected = before["stock"].get(pid, stock) - sold.get(pid, 0) - allocated.get(pid, 0) + returned.get(pid, 0)
        if expected != stock:
            drift[pid] = stock - expected
    return drift


def check(database_url: str, stream_id: int, run: dict, server_logs: str, before: dict) -> dict:
    import psycopg

    errors_5xx = {name: sum(n for code, n in counts.items() if code.startswith("5"))
                  for name, counts in run["statuses"].items()}
    errors_5xx = {name: n for name, n in errors_5xx.items() if n}
    failures = [{"name": f["Name"], "error": f["Error"], "count": int(f["Occurrences"])} for f in run["failures"]]
    with psycopg.connect(database_url) as conn:
        offers = conn.execute(
            """SELECT o.id, o.quantity, o.remaining, o.returned, o.status, o.end_reason, o.per_buyer_limit,
                      COALESCE((SELECT SUM(l.quantity) FROM orders_orderline l
                                JOIN orders_merchantorder mo ON mo.id = l.merchant_order_id
                                JOIN orders_order ord ON ord.id = mo.order_id
                                WHERE l.offer_id = o.id AND ord.status <> 'cancelled'), 0),
                      COALESCE((SELECT MAX(per_buyer) FROM (
                                SELECT SUM(l.quantity) AS per_buyer FROM orders_orderline l
                                JOIN orders_merchantorder mo ON mo.id = l.merchant_order_id
                                JOIN orders_order ord ON ord.id = mo.order_id
                                WHERE l.offer_id = o.id AND ord.status <> 'cancelled' GROUP BY ord.buyer_id) b), 0)
               FROM livestream_offer o WHERE o.stream_id = %s ORDER BY o.id""", (stream_id,)).fetchall()
        min_stock = conn.execute("SELECT MIN(stock) FROM catalog_product").fetchone()[0]
        orders = dict(conn.execute("SELECT status, COUNT(*) FROM orders_order GROUP BY status").fetchall())
        payments = dict(conn.execute("SELECT status, COUNT(*) FROM payments_payment GROUP BY status").fetchall())
        paid_not_once = conn.execute(
            """SELECT COUNT(*) FROM orders_order ord WHERE
                 (ord.status IN ('paid', 'completed') AND (SELECT COUNT(*) FROM payments_payment p
                     WHERE p.order_id = ord.id AND p.status = 'succeeded') <> 1)
              OR (ord.status NOT IN ('paid', 'completed') AND EXISTS (SELECT 1 FROM payments_payment p
                     WHERE p.order_id = ord.id AND p.status = 'succeeded'))""").fetchone()[0]
        webhook_events = conn.execute("SELECT COUNT(*), COUNT(DISTINCT event_id) FROM payments_webhookevent").fetchone()
        drift = stock_drift(conn, before)
    oversold = []
    offer_rows = []
    for oid, quantity, remaining, returned, status, reason, limit, sold_lines, max_per_buyer in offers:
        offer_rows.append({"offer": oid, "quantity": quantity, "remaining": remaining, "returned": returned,
                           "sold_by_lines": sold_lines, "status": status, "end_reason": reason,
                           "max_per_buyer": max_per_buyer})
        if remaining < 0 or sold_lines != quantity - remaining - returned or (limit and max_per_buyer > limit):
            oversold.append(offer_rows[-1])
    log_errors = [line for line in server_logs.splitlines()
                  if " ERROR " in line or line.startswith("Traceback") or "Internal Server Error" in line]
    verdict = {
        "5xx": sum(errors_5xx.values()), "5xx_by_endpoint": errors_5xx,
        "failures": sum(f["count"] for f in failures), "failures_by_kind": failures,
        "oversold_offers": len(oversold), "oversold": oversold, "offers": offer_rows,
        "units_sold": sum(o["sold_by_lines"] for o in offer_rows), "min_product_stock": min_stock,
        "stock_drift": drift,
        "orders": orders, "payments": payments, "orders_not_paid_exactly_once": paid_not_once,
        "webhook_events": webhook_events[0], "webhook_events_distinct": webhook_events[1],
        "server_error_log_lines": len(log_errors), "server_error_log_sample": log_errors[:10],
    }
    verdict["ok"] = (verdict["5xx"] == 0 and verdict["failures"] == 0 and not oversold and min_stock >= 0
                     and not drift and paid_not_once == 0 and not log_errors and webhook_events[0] == webhook_events[1])
    return verdict


def table(stats: list[dict]) -> str:
    lines = ["| endpoint | requests | failures | p50 ms | p95 ms | p99 ms |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for row in sorted(stats, key=lambda r: (r["Name"] == "Aggregated", r["Type"] == "WS", r["Name"])):
        name = row["Name"] if row["Name"] == "Aggregated" else f"{row['Type']} {row['Name'].removeprefix(row['Type'] + ' ')}"
        lines.append(f"| {name} | {row['Request Count']} | {row['Failure Count']} | {row['50%']} | {row['95%']} | "
                     f"{row['99%']} |")
    return "\n".join(lines)


def summary(stats: list[dict]) -> dict:
    return {row["Name"]: {"count": int(row["Request Count"]), "failures": int(row["Failure Count"]),
                          "p50": float(row["50%"] or 0), "p95": float(row["95%"] or 0), "rps": float(row["Requests/s"])}
            for row in stats}


def load_run(stack, *, users: int, spawn_rate: float, seconds: int, consumers: int, units: int,
             per_buyer_limit: int, shipments: int, workdir: Path, stop_timeout: int = 10, log=print) -> dict:
    """Start the stack's processes, prepare, run locust, check. Returns everything measured."""
    from bench._common import proc_cpu_seconds

    base = stack.start_server(workers=2)
    worker = stack.start_worker(concurrency=2)
    stack.start_beat()
    log(f"stack up at {base} (database {stack.database}, redis db {stack.redis_db}); preparing")
    data = prepare(stack, base, workdir, consumers=consumers, units=units, per_buyer_limit=per_buyer_limit,
                   shipments=shipments, seconds=seconds)
    log(f"prepared {len(data['consumers'])} consumers, stream {data['stream']}, offer {data['offer']['id']} "
        f"of {units} units, {shipments} parcels; running locust: {users} users for {seconds} s")
    server_pid = stack.processes[0].pid
    before = books_before(stack.env["DATABASE_URL"])
    load_before = os.getloadavg()[0]
    cpu_before = {"server": proc_cpu_seconds(server_pid), "worker": proc_cpu_seconds(worker.pid)}
    run = run_locust(base, data, workdir, users=users, spawn_rate=spawn_rate, seconds=seconds,
                     stop_timeout=stop_timeout)
    cpu = {name: round((proc_cpu_seconds(pid) or 0) - (cpu_before[name] or 0), 1)
           for name, pid in (("server", server_pid), ("worker", worker.pid))}
    cpu["locust"] = run["locust_cpu_s"]
    run["load_average"] = {"before": load_before, "after_1min": os.getloadavg()[0], "after_5min": os.getloadavg()[1]}
    time.sleep(2)  # let the worker finish what the last requests queued
    logs = "\n".join(Path(log_file.name).read_text(errors="replace") for log_file in stack.logs)
    verdict = check(stack.env["DATABASE_URL"], data["stream"], run, logs, before)
    return {"data": data, "run": run, "verdict": verdict, "cpu_s": cpu}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=60)
    parser.add_argument("--spawn-rate", type=float, default=5)
    parser.add_argument("--minutes", type=float, default=3)
    parser.add_argument("--consumers", type=int, default=None, help="consumer accounts (default: users)")
    parser.add_argument("--units", type=int, default=30,
                        help="units of each flash offer (keep it under buyers × limit so offers sell out)")
    parser.add_argument("--per-buyer-limit", type=int, default=3)
    parser.add_argument("--shipments", type=int, default=40, help="parcels shipped before the run starts")
    args = parser.parse_args()

    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cunbo_bench")
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings")
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "load-runner-" + "l" * 40)
    os.environ.setdefault("PAYMENT_WEBHOOK_SECRET", "load-webhook-secret-" + uuid.uuid4().hex)
    sys.path.insert(0, str(ROOT))
    from tests.stack import running_stack

    seconds = max(10, int(args.minutes * 60))
    extra = {**RELAXED_LIMITS, "LOG_LEVEL": "ERROR", "JWT_ACCESS_MINUTES": str(int(args.minutes) + 30)}
    workdir = Path(tempfile.mkdtemp(prefix="cunbo-load-"))
    with running_stack("load", extra_env=extra) as stack:
        result = load_run(stack, users=args.users, spawn_rate=args.spawn_rate, seconds=seconds,
                          consumers=args.consumers or args.users, units=args.units,
                          per_buyer_limit=args.per_buyer_limit, shipments=args.shipments, workdir=workdir)
    verdict, run = result["verdict"], result["run"]
    print(table(run["stats"]))
    print()
    print("answers by endpoint:", json.dumps(run["statuses"], ensure_ascii=False, sort_keys=True))
    for key in ("5xx", "5xx_by_endpoint", "failures", "failures_by_kind", "oversold_offers", "units_sold", "offers",
                "min_product_stock", "stock_drift", "orders", "payments", "orders_not_paid_exactly_once", "webhook_events",
                "server_error_log_lines", "server_error_log_sample"):
        print(f"{key}: {verdict[key]}")
    print(f"cpu seconds during the run: {result['cpu_s']} (of {2 * run['elapsed_s']:.0f} on 2 cores); "
          f"machine load average {run['load_average']} (other engineers share the cores)")
    print(json.dumps({"users": args.users, "spawn_rate": args.spawn_rate, "seconds": seconds,
                      "ok": verdict["ok"], "5xx": verdict["5xx"], "failures": verdict["failures"],
                      "oversold_offers": verdict["oversold_offers"], "units_sold": verdict["units_sold"],
                      "orders_not_paid_exactly_once": verdict["orders_not_paid_exactly_once"],
                      "cpu_s": result["cpu_s"], "load_average": run["load_average"], "endpoints": summary(run["stats"])}, ensure_ascii=False))
    if not verdict["ok"]:
        print(f"locust stderr:\n{run['stderr']}", file=sys.stderr)
    return 0 if verdict["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
