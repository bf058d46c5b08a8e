"""Webhook benchmark: a burst of signed ``payment.succeeded`` notices, with and without the ledger's posting.

Migrates a database of its own and creates in it N orders pending payment (a share of them with
several merchant orders, shops spread over several counties, several products each so no product
row is hot) with their sandbox Payment rows open. Then, phase after phase, interleaved A/B/A/B…:

- **A, with postings**: the product as it is (the ledger posts ``payment:<id>`` and the
  settlements inside the webhook's transaction);
- **B, without postings**: the same server with ``BENCH_LEDGER=0`` (bench/settings.py adds
  bench/apps.py's config, which disconnects ``ledger.receivers.post_the_payment`` from
  ``payments.domain_events.payment_received`` in every server process; the product has no switch).

Each phase starts a fresh server (gunicorn with deploy/gunicorn.conf.py, the production HTTP server:
2 workers × 8 threads; or ``--server uvicorn`` as bench/checkout.py starts it) on bench/settings.py,
PostgreSQL (Django's psycopg pool) and Redis, warms it up with a few notices, then posts one signed
notice (``payments.signature.sign``, ``payments.providers.sandbox.sandbox_notice``) for each of its
share of the payments to ``/api/payments/webhook/sandbox/`` from an aiohttp load generator (several
processes, ``--concurrency`` requests in flight in all, keep-alive). Rate = paid answers ÷ (last
answer − first send).

Afterwards it checks: every notice answered 200 ``{"outcome": "paid"}``; every payment succeeded;
each paid payment of an A phase has exactly one ``payment:<id>`` posting (and settlements), none of a
B phase; ``ledger.checks.ledger_check()`` is ok. It also counts the SQL statements of one webhook
each way in-process (Django's test client, ``CaptureQueriesContext``).

    .venv/bin/python bench/webhook.py --orders 4000 --rounds 2 --concurrency 32

Prints a Markdown table and one line of JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import ensure_database, proc_cpu_seconds, raise_nofile, start_server, stop_server  # noqa: E402

URL = "/api/payments/webhook/sandbox/"
SIGNATURE_HEADER = "X-Cunbo-Signature"

# --- load generator (runs in child processes) -------------------------------------------------------


async def _burst(*, base: str, notices: list[tuple[int, bytes, str]], concurrency: int, start_at: float) -> dict:
    import aiohttp

    results: list[tuple[int, int, str, float]] = []  # payment id, status, outcome, answered at
    errors: dict[str, int] = {}
    queue = list(reversed(notices))
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        async def sender():
            while queue:
                payment_id, body, header = queue.pop()
                try:
                    async with session.post(f"{base}{URL}", data=body, headers={
                            "Content-Type": "application/json", SIGNATURE_HEADER: header}) as response:
                        text = await response.read()
                        status = response.status
                except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                    errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                    results.append((payment_id, 0, type(exc).__name__, time.time()))
                    continue
                try:
                    outcome = json.loads(text).get("outcome", "")
                except ValueError:
                    outcome = text[:80].decode(errors="replace")
                results.append((payment_id, status, outcome, time.time()))

        await asyncio.sleep(max(0.0, start_at - time.time()))
        await asyncio.gather(*(sender() for _ in range(concurrency)))
    return {"results": results, "errors": errors}


def _child(args):
    base, notices, concurrency, start_at = args
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    return asyncio.run(_burst(base=base, notices=notices, concurrency=concurrency, start_at=start_at))


def burst(*, base: str, notices: list[tuple[int, bytes, str]], concurrency: int, processes: int) -> dict:
    processes = max(1, min(processes, len(notices)))
    start_at = time.time() + 1.0
    slices = [notices[i::processes] for i in range(processes)]
    per_process = [concurrency // processes + (1 if i < concurrency % processes else 0) for i in range(processes)]
    with mp.get_context("spawn").Pool(processes) as pool:
        parts = pool.map(_child, [(base, part, n, start_at) for part, n in zip(slices, per_process, strict=True)])
    results = [r for part in parts for r in part["results"]]
    errors: dict[str, int] = {}
    for part in parts:
        for key, value in part["errors"].items():
            errors[key] = errors.get(key, 0) + value
    last = max((r[3] for r in results), default=start_at)
    return {"start": start_at, "last": last, "results": results, "errors": errors}


# --- setup --------------------------------------------------------------------------------------------

def _env(args, *, ledger: bool) -> dict:
    env = dict(os.environ)
    env.update({"DJANGO_SETTINGS_MODULE": "bench.settings", "DATABASE_URL": args.database_url,
                "REDIS_URL": args.redis_url, "DATABASE_POOL": "1", "DATABASE_POOL_MAX": str(args.pool_max),
                "PYTHONPATH": str(ROOT), "BENCH_LEDGER": "1" if ledger else "0",
                "CUNBO_HOST": "127.0.0.1", "CUNBO_PORT": str(args.port), "WEB_WORKERS": str(args.workers),
                "WEB_THREADS": str(args.threads), "WEB_TIMEOUT": "120"})
    return env


def _seed(args) -> list[int]:
    """Shops in several counties, buyers, N orders pending payment with open sandbox payments.
    Returns the payments' ids, shuffled."""
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    from accounts.models import Role, User
    from catalog.models import Category, Product
    from merchants.models import Merchant
    from orders.commission import cents
    from orders.models import MerchantOrder, Order, OrderLine
    from payments.models import Payment
    from payments.providers.sandbox import SandboxProvider
    from regions.models import Region

    rng = random.Random(args.seed)
    tag = uuid.uuid4().hex[:8]
    villages = []
    for c in range(args.counties):
        county = Region.objects.create(name=f"压测县{tag}{c}", code=f"W{tag}C{c}", level="county", province="山东省")
        township = Region.objects.create(name=f"压测镇{tag}{c}", code=f"W{tag}T{c}", level="township", parent=county)
        villages.append(Region.objects.create(name=f"压测村{tag}{c}", code=f"W{tag}V{c}", level="village",
                                              parent=township))
    category, _ = Category.objects.get_or_create(slug="bench", defaults={"name": "压测"})
    sellers = User.objects.bulk_create([User(username=f"wh-seller-{tag}-{i}", role=Role.MERCHANT, password="!")
                                        for i in range(args.merchants)])
    merchants = [Merchant.objects.create(user=seller, shop_name=f"压测社{tag}{i}", kind="cooperative",
                                         village=villages[i % len(villages)], contact_phone="13700000000",
                                         status="approved") for i, seller in enumerate(sellers)]
    products: dict[int, list[Product]] = {}
    for m in merchants:
        products[m.pk] = Product.objects.bulk_create([
            Product(merchant=m, title=f"压测产品{j}", category=category, price=Decimal("12.50"), unit="斤",
                    stock=100000, origin=m.village, status="listed") for j in range(args.products)])
    buyers = User.objects.bulk_create([User(username=f"wh-buyer-{tag}-{i}", role=Role.CONSUMER, password="!")
                                       for i in range(args.buyers)])
    deadline = timezone.now() + timedelta(hours=6)
    plans = []
    for _ in range(args.orders):
        k = rng.choices((1, 2, 3), weights=(70, 20, 10))[0]
        shops = rng.sample(merchants, k)
        mos = []
        for shop in shops:
            lines = []
            for product in rng.sample(products[shop.pk], rng.choice((1, 1, 2))):
                quantity, price = rng.randint(1, 3), Decimal(rng.randint(500, 9900)) / 100
                lines.append((product, quantity, price, price * quantity))
            items = sum(line[3] for line in lines)
            delivery = rng.choice((Decimal("0.00"), Decimal("6.00"), Decimal("8.00")))
            mos.append((shop, lines, items, delivery))
        plans.append((rng.choice(buyers), mos))
    orders = Order.objects.bulk_create([
        Order(buyer=buyer, items_total=sum(m[2] for m in mos), delivery_total=sum(m[3] for m in mos),
              total=sum(m[2] + m[3] for m in mos), village=villages[0], address_detail="1号", recipient="张三",
              recipient_phone="13800001234", payment_deadline=deadline) for buyer, mos in plans], batch_size=1000)
    merchant_orders, line_plans = [], []
    for order, (_buyer, mos) in zip(orders, plans, strict=True):
        for shop, lines, items, delivery in mos:
            merchant_orders.append(MerchantOrder(order=order, merchant=shop, items_total=items, delivery_fee=delivery,
                                                 total=items + delivery, refunded_amount=Decimal("0"),
                                                 commission=cents(items * Decimal("0.05")),
                                                 service_fee=cents(items * Decimal("0.01"))))
            line_plans.append(lines)
    MerchantOrder.objects.bulk_create(merchant_orders, batch_size=1000)
    OrderLine.objects.bulk_create([
        OrderLine(merchant_order=mo, product=product, title=product.title, unit=product.unit, unit_price=price,
                  quantity=quantity, line_total=total, commission_rate=Decimal("0.05"), service_fee_rate=Decimal("0.01"))
        for mo, lines in zip(merchant_orders, line_plans, strict=True) for product, quantity, price, total in lines],
        batch_size=1000)
    provider = SandboxProvider()
    payments = Payment.objects.bulk_create(
        [Payment(order=order, provider="sandbox", amount=order.total, currency="CNY") for order in orders],
        batch_size=1000)
    for payment in payments:  # the sandbox opens its trade for a saved payment (its own books)
        charge = provider.create_charge(payment=payment)
        payment.provider_reference, payment.client_params = charge.reference, charge.client_params
    Payment.objects.bulk_update(payments, ["provider_reference", "client_params"], batch_size=1000)
    ids = [p.pk for p in payments]
    rng.shuffle(ids)
    return ids


def _notices(payment_ids: list[int]) -> list[tuple[int, bytes, str]]:
    """Signed at the phase's start (the signature's 300 s tolerance runs from here)."""
    from payments.models import Payment
    from payments.providers.sandbox import sandbox_notice
    from payments.signature import sign

    payments = Payment.objects.in_bulk(payment_ids)
    out = []
    for pk in payment_ids:
        body = sandbox_notice(payment=payments[pk])
        out.append((pk, body, sign(body)))
    return out


def _server_cmd(args) -> list[str]:
    bin_dir = Path(sys.executable).parent
    if args.server == "gunicorn":
        return [str(bin_dir / "gunicorn"), "--config", str(ROOT / "deploy" / "gunicorn.conf.py")]
    return [str(bin_dir / "uvicorn"), "marketplace.asgi:application", "--host", "127.0.0.1", "--port",
            str(args.port), "--workers", str(args.workers), "--loop", "uvloop", "--http", "httptools",
            "--no-access-log", "--log-level", "warning", "--ws", "none", "--backlog", "4096"]


def _backend_cpu(database: str) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend connected to ``database`` (the server's pool)."""
    import psycopg

    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        pids = [row[0] for row in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s AND "
                                               "pid <> pg_backend_pid()", [database])]
    return {pid: cpu for pid in pids if (cpu := proc_cpu_seconds(pid, include_descendants=False)) is not None}


def run_phase(args, *, ledger: bool, warmup_ids: list[int], ids: list[int]) -> dict:
    server, pid = start_server(_server_cmd(args), args.port, env=_env(args, ledger=ledger), cwd=str(ROOT),
                               timeout=60)
    base = f"http://127.0.0.1:{args.port}"
    database = args.database_url.rsplit("/", 1)[1]
    try:
        time.sleep(1.5)  # let every worker boot
        warm = burst(base=base, notices=_notices(warmup_ids), concurrency=min(8, len(warmup_ids)), processes=1)
        notices = _notices(ids)
        server_cpu, pg_cpu = proc_cpu_seconds(pid), _backend_cpu(database)
        phase = burst(base=base, notices=notices, concurrency=args.concurrency, processes=args.processes)
        server_cpu = proc_cpu_seconds(pid) - server_cpu
        pg_after = _backend_cpu(database)
        pg_cpu = sum(cpu - pg_cpu.get(backend, 0.0) for backend, cpu in pg_after.items())
    finally:
        stop_server(server)
    window = phase["last"] - phase["start"]
    paid = sum(1 for r in phase["results"] if r[1] == 200 and r[2] == "paid")
    return {"mode": "A" if ledger else "B", "paid": paid, "sent": len(ids), "window_s": round(window, 3),
            "paid_per_s": paid / window if window > 0 else 0.0, "errors": phase["errors"],
            "server_cpu_ms": 1000 * server_cpu / max(paid, 1), "pg_cpu_ms": 1000 * pg_cpu / max(paid, 1),
            "load_1m": os.getloadavg()[0],
            "answers": [(r[0], r[1], r[2]) for r in warm["results"] + phase["results"]]}


# --- checks ------------------------------------------------------------------------------------------

def _verify(phases: list[dict], ids_by_mode: dict[str, list[int]]) -> dict:
    from django.db.models import Count

    from ledger.checks import ledger_check
    from ledger.models import Posting, Settlement
    from orders.models import MerchantOrder
    from payments.models import Payment

    answers = [a for phase in phases for a in phase["answers"]]
    not_paid = [a for a in answers if a[1] != 200 or a[2] != "paid"]
    verify = {"notices": len(answers), "answered_200_paid": len(answers) - len(not_paid),
              "not_paid_examples": not_paid[:5]}
    for mode, ids in ids_by_mode.items():
        keys = [f"payment:{pk}" for pk in ids]
        counts = dict(Posting.objects.filter(key__in=keys).values_list("key").annotate(n=Count("pk")))
        succeeded = Payment.objects.filter(pk__in=ids, status=Payment.Status.SUCCEEDED).count()
        mos = MerchantOrder.objects.filter(order__payments__pk__in=ids).count()
        settlements = Settlement.objects.filter(merchant_order__order__payments__pk__in=ids).count()
        verify[mode] = {"payments": len(ids), "succeeded": succeeded,
                        "with_one_posting": sum(1 for k in keys if counts.get(k) == 1),
                        "with_more_than_one": sum(1 for k in keys if counts.get(k, 0) > 1),
                        "merchant_orders": mos, "settlements": settlements}
    report = ledger_check()
    verify["ledger_check"] = {"ok": report.ok, "entries": report.entries, "postings": report.postings,
                              "total": str(report.total), "problems": report.problems[:5]}
    a, b = verify["A"], verify["B"]
    verify["ok"] = (not not_paid and a["succeeded"] == a["payments"] == a["with_one_posting"]
                    and a["settlements"] == a["merchant_orders"] and b["succeeded"] == b["payments"]
                    and b["with_one_posting"] == 0 and b["with_more_than_one"] == 0 and b["settlements"] == 0
                    and report.ok)
    return verify


def _statements(spare_ids: list[int]) -> dict:
    """In-process (Django's test client, one thread, no contention), half of ``spare_ids`` with the
    posting and half without: SQL statements and wall time per webhook, the share of both inside the
    ledger's receiver, and the time of the COMMIT (where the deferred balance trigger runs)."""
    import functools

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from ledger.receivers import post_the_payment
    from payments.domain_events import payment_received

    inside = {"statements": 0, "seconds": 0.0}

    @functools.wraps(post_the_payment)
    def timed(**payload):
        before, started = len(connection.queries), time.perf_counter()
        try:
            return post_the_payment(**payload)
        finally:
            inside["seconds"] += time.perf_counter() - started
            inside["statements"] += len(connection.queries) - before

    client = Client()
    labels = ("with_postings", "without_postings")
    totals = {label: {"webhooks": 0, "statements": 0, "seconds": 0.0, "commit": 0.0, "receiver_statements": 0,
                      "receiver_seconds": 0.0, "outcomes": {}} for label in labels}
    payment_received.disconnect(post_the_payment)
    try:
        for i, (_pk, body, header) in enumerate(_notices(spare_ids)):
            label = labels[i % 2]  # alternating, so both see the same machine
            if label == "with_postings":
                payment_received.connect(timed, phase="in_transaction")
            inside.update(statements=0, seconds=0.0)
            connection.queries_log.clear()  # a deque of 9,000: keep the indexes right
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.post(URL, data=body, content_type="application/json",
                                       headers={SIGNATURE_HEADER: header}, SERVER_NAME="127.0.0.1")
                seconds = time.perf_counter() - started
            payment_received.disconnect(timed)
            if i < 4:
                continue  # warm-up
            t = totals[label]
            t["webhooks"] += 1
            t["statements"] += len(captured.captured_queries)
            t["seconds"] += seconds
            t["commit"] += sum(float(q["time"]) for q in captured.captured_queries if q["sql"] == "COMMIT")
            t["receiver_statements"] += inside["statements"]
            t["receiver_seconds"] += inside["seconds"]
            outcome = response.json().get("outcome", str(response.status_code))
            t["outcomes"][outcome] = t["outcomes"].get(outcome, 0) + 1
    finally:
        payment_received.disconnect(timed)
        payment_received.connect(post_the_payment, phase="in_transaction")
    out = {}
    for label, t in totals.items():
        n = max(t["webhooks"], 1)
        out[label] = {"webhooks": t["webhooks"], "outcomes": t["outcomes"], "statements_per_webhook": t["statements"] / n,
                      "ms_per_webhook": 1000 * t["seconds"] / n, "commit_ms": 1000 * t["commit"] / n,
                      "receiver_statements": t["receiver_statements"] / n,
                      "receiver_ms": 1000 * t["receiver_seconds"] / n}
    return out


# --- main ---------------------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=4000, help="orders pending payment (split over the phases)")
    parser.add_argument("--rounds", type=int, default=2, help="A/B rounds")
    parser.add_argument("--warmup", type=int, default=24, help="notices per phase before the measured burst")
    parser.add_argument("--concurrency", type=int, default=32, help="notices in flight (over all processes)")
    parser.add_argument("--processes", type=int, default=2, help="load generator processes")
    parser.add_argument("--server", choices=("gunicorn", "uvicorn"), default="gunicorn")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8, help="gunicorn threads per worker")
    parser.add_argument("--port", type=int, default=8741)
    parser.add_argument("--pool-max", type=int, default=20, help="psycopg pool size per worker")
    parser.add_argument("--merchants", type=int, default=60)
    parser.add_argument("--products", type=int, default=3, help="products per shop")
    parser.add_argument("--counties", type=int, default=4)
    parser.add_argument("--buyers", type=int, default=400)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--inprocess", type=int, default=104, help="orders kept for the in-process statement count")
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/cunbo_bench_webhook")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/6")
    args = parser.parse_args()

    raise_nofile(20000)
    env = _env(args, ledger=True)
    os.environ.update({k: env[k] for k in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "BENCH_LEDGER")})
    os.environ["DATABASE_POOL"] = "0"  # the driver itself needs no pool
    ensure_database(args.database_url)
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "-v", "0"], env=env, check=True,
                   cwd=ROOT)
    import django

    django.setup()
    from django.db import connection

    started = time.monotonic()
    ids = _seed(args)
    seeded_s = time.monotonic() - started
    connection.close()
    spare, ids = ids[:args.inprocess], ids[args.inprocess:]
    phases_n = 2 * args.rounds
    per_phase = len(ids) // phases_n
    if per_phase <= args.warmup:
        parser.error("too few orders for the rounds and the warm-up")
    phases, ids_by_mode = [], {"A": [], "B": []}
    for i in range(phases_n):
        ledger = i % 2 == 0
        chunk = ids[i * per_phase:(i + 1) * per_phase]
        phase = run_phase(args, ledger=ledger, warmup_ids=chunk[:args.warmup], ids=chunk[args.warmup:])
        connection.close()
        ids_by_mode[phase["mode"]] += chunk
        phases.append(phase)
        print(f"phase {i + 1}/{phases_n} {phase['mode']}: {phase['paid']}/{phase['sent']} paid in "
              f"{phase['window_s']} s = {phase['paid_per_s']:.1f}/s {phase['errors'] or ''}", file=sys.stderr)

    verify = _verify(phases, ids_by_mode)
    statements = _statements(spare)
    rates = {mode: [p["paid_per_s"] for p in phases if p["mode"] == mode] for mode in "AB"}
    rounds = []
    for r in range(args.rounds):
        a, b = phases[2 * r], phases[2 * r + 1]
        rounds.append({"round": r + 1, "A": a["paid_per_s"], "B": b["paid_per_s"],
                       "ratio": a["paid_per_s"] / max(b["paid_per_s"], 1e-9),
                       "cpu_A": a["server_cpu_ms"] + a["pg_cpu_ms"], "cpu_B": b["server_cpu_ms"] + b["pg_cpu_ms"],
                       "server_cpu_A": a["server_cpu_ms"], "server_cpu_B": b["server_cpu_ms"],
                       "pg_cpu_A": a["pg_cpu_ms"], "pg_cpu_B": b["pg_cpu_ms"], "load": (a["load_1m"], b["load_1m"])})
    mean = {mode: statistics.fmean(values) for mode, values in rates.items()}
    ratio = mean["A"] / max(mean["B"], 1e-9)
    cpu = {key: statistics.fmean(r[key] for r in rounds)
           for key in ("cpu_A", "cpu_B", "server_cpu_A", "server_cpu_B", "pg_cpu_A", "pg_cpu_B")}
    cpu_ratio = cpu["cpu_B"] / max(cpu["cpu_A"], 1e-9)

    print("| round | with postings (A) paid/s | without (B) paid/s | A ÷ B (target ≥ 0.8) | CPU ms per notice A "
          "(server + PostgreSQL) | B | B ÷ A | load 1m after A, B |\n| --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rounds:
        print(f"| {r['round']} | {r['A']:.1f} | {r['B']:.1f} | {r['ratio']:.2f} | {r['cpu_A']:.1f} "
              f"({r['server_cpu_A']:.1f} + {r['pg_cpu_A']:.1f}) | {r['cpu_B']:.1f} ({r['server_cpu_B']:.1f} + "
              f"{r['pg_cpu_B']:.1f}) | {r['cpu_B'] / max(r['cpu_A'], 1e-9):.2f} | {r['load'][0]:.1f}, {r['load'][1]:.1f} |")
    print(f"| mean | {mean['A']:.1f} | {mean['B']:.1f} | **{ratio:.2f}** | {cpu['cpu_A']:.1f} "
          f"({cpu['server_cpu_A']:.1f} + {cpu['pg_cpu_A']:.1f}) | {cpu['cpu_B']:.1f} ({cpu['server_cpu_B']:.1f} + "
          f"{cpu['pg_cpu_B']:.1f}) | **{cpu_ratio:.2f}** | |\n")
    print(f"median of the rounds' rate ratios: {statistics.median(r['ratio'] for r in rounds):.2f}")
    print(f"notices per phase: {per_phase - args.warmup} measured (+{args.warmup} warm-up), "
          f"concurrency {args.concurrency}, server {args.server}")
    w, wo = statements["with_postings"], statements["without_postings"]
    print(f"in-process, one thread ({w['webhooks']} + {wo['webhooks']} webhooks): statements per webhook "
          f"{w['statements_per_webhook']:.1f} with postings ({w['receiver_statements']:.1f} in the ledger's receiver), "
          f"{wo['statements_per_webhook']:.1f} without; ms per webhook {w['ms_per_webhook']:.1f} with "
          f"({w['receiver_ms']:.1f} in the receiver, COMMIT {w['commit_ms']:.2f}), {wo['ms_per_webhook']:.1f} without "
          f"(COMMIT {wo['commit_ms']:.2f}); ratio {wo['ms_per_webhook'] / max(w['ms_per_webhook'], 1e-9):.2f}")
    print("verify:", json.dumps(verify, ensure_ascii=False))
    results = {"rounds": rounds, "mean": mean, "ratio": ratio, "cpu_ms_per_notice": cpu, "cpu_ratio": cpu_ratio, "verify": verify, "statements": statements,
               "phases": [{k: v for k, v in p.items() if k != "answers"} for p in phases],
               "config": {**{k: v for k, v in vars(args).items() if k not in ("database_url", "redis_url")},
                          "seed_s": round(seeded_s, 1), "cpus": os.cpu_count()}}
    print(json.dumps(results, ensure_ascii=False))
    return 0 if verify["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
