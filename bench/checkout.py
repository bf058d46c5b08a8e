"""Checkout benchmark: many buyers on one hot flash offer, against the real ASGI app.

Starts uvicorn (2 workers, uvloop, httptools) on the product's code with bench/settings.py
(the product's settings + two baseline views), on PostgreSQL (Django's psycopg pool,
CONN_MAX_AGE=0) and Redis, then runs three phases with the same async load generator
(aiohttp, several processes, every virtual buyer on its own keep-alive connection):

1. ``GET /bench/constant/``: a bare Django view returning constant JSON;
2. ``POST /bench/insert/``: a bare Django view inserting one row;
3. ``POST /api/orders/``: N buyers (own JWT each, a fresh Idempotency-Key per attempt) buying one
   unit at a time of one live offer of M units, until the phase ends. Successful checkouts/s is
   measured from the phase start to the M-th sale; sold-out rejections/s after it.

It then checks the database: exactly M units sold, remaining 0, never negative.

    .venv/bin/python bench/checkout.py --buyers 500 --units 3000 --seconds 15

Prints a Markdown table and one line of JSON. Uses the database named by --database-url
(created if missing; its orders are the bench's own) and Redis --redis-url (keys of the offer only).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import ensure_database, raise_nofile, start_server, stop_server  # noqa: E402

# --- load generator (runs in child processes) -------------------------------------------------------

async def _phase(*, base: str, kind: str, users: list[dict], start_at: float, end_at: float) -> dict:
    import aiohttp

    try:
        import uvloop  # noqa: F401
    except ImportError:
        pass
    ok_times: list[float] = []
    rejected_times: list[float] = []
    other: dict[str, int] = {}
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        async def user_loop(user):
            await asyncio.sleep(max(0.0, start_at - time.time()))
            while time.time() < end_at:
                try:
                    if kind == "constant":
                        async with session.get(f"{base}/bench/constant/") as response:
                            await response.read()
                            status = response.status
                    elif kind == "insert":
                        async with session.post(f"{base}/bench/insert/", data=b"one row") as response:
                            await response.read()
                            status = response.status
                    else:
                        headers = {"Authorization": f"Bearer {user['token']}", "Content-Type": "application/json",
                                   "Idempotency-Key": uuid.uuid4().hex}
                        async with session.post(f"{base}/api/orders/", data=user["body"], headers=headers) as response:
                            await response.read()
                            status = response.status
                except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                    other[type(exc).__name__] = other.get(type(exc).__name__, 0) + 1
                    continue
                now = time.time()
                if now > end_at:
                    break
                if status in (200, 201):
                    ok_times.append(now)
                elif status == 409:
                    rejected_times.append(now)
                    if kind == "checkout":  # sold out: this buyer's selling phase is over
                        break
                else:
                    other[str(status)] = other.get(str(status), 0) + 1

        await asyncio.gather(*(user_loop(user) for user in users))
    return {"ok": ok_times, "rejected": rejected_times, "other": other}


def _child(args):
    base, kind, users, start_at, end_at = args
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    return asyncio.run(_phase(base=base, kind=kind, users=users, start_at=start_at, end_at=end_at))


def run_phase(*, base: str, kind: str, users: list[dict], seconds: float, processes: int) -> dict:
    start_at = time.time() + 1.5
    end_at = start_at + seconds
    slices = [users[i::processes] for i in range(processes)]
    with mp.get_context("spawn").Pool(processes) as pool:
        parts = pool.map(_child, [(base, kind, part, start_at, end_at) for part in slices])
    ok = sorted(t for part in parts for t in part["ok"])
    rejected = sorted(t for part in parts for t in part["rejected"])
    other: dict[str, int] = {}
    for part in parts:
        for key, value in part["other"].items():
            other[key] = other.get(key, 0) + value
    return {"start": start_at, "end": end_at, "ok": ok, "rejected": rejected, "other": other}


# --- setup --------------------------------------------------------------------------------------------

def _env(args) -> dict:
    env = dict(os.environ)
    env.update({"DJANGO_SETTINGS_MODULE": "bench.settings", "DATABASE_URL": args.database_url,
                "REDIS_URL": args.redis_url, "DATABASE_POOL": "1", "DATABASE_POOL_MAX": str(args.pool_max),
                "PYTHONPATH": str(ROOT)})
    return env


def _seed(args) -> dict:
    """Buyers with tokens, a live stream and an offer of ``units`` units. Returns ids and request bodies."""
    import django

    django.setup()
    from datetime import timedelta
    from decimal import Decimal

    from django.db import connection
    from django.utils import timezone
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.models import Role, User
    from bench.views import CREATE_TABLE
    from catalog.models import Category, Product
    from livestream.models import Offer, Stream
    from merchants.models import Merchant
    from orders.checkout.gate import offer_gate_reset
    from regions.models import Region

    with connection.cursor() as cursor:
        cursor.execute(CREATE_TABLE)
    tag = uuid.uuid4().hex[:8]
    county = Region.objects.create(name=f"压测县{tag}", code=f"B{tag}C", level="county", province="山东省")
    township = Region.objects.create(name=f"压测镇{tag}", code=f"B{tag}T", level="township", parent=county)
    village = Region.objects.create(name=f"压测村{tag}", code=f"B{tag}V", level="village", parent=township)
    seller = User.objects.create(username=f"bench-seller-{tag}", role=Role.MERCHANT, password="!")
    merchant = Merchant.objects.create(user=seller, shop_name=f"压测社{tag}", kind="cooperative", village=village,
                                       contact_phone="13700000000", status="approved")
    category, _ = Category.objects.get_or_create(slug="bench", defaults={"name": "压测"})
    product = Product.objects.create(merchant=merchant, title="压测西红柿", category=category, price=Decimal("12.50"),
                                     unit="斤", stock=10, origin=village, status="listed")
    stream = Stream.objects.create(merchant=merchant, title="压测直播", scheduled_at=timezone.now(), status="live",
                                   started_at=timezone.now())
    offer = Offer.objects.create(stream=stream, product=product, price=Decimal("9.90"), quantity=args.units,
                                 remaining=args.units, ends_at=timezone.now() + timedelta(hours=1))
    offer_gate_reset(offer_id=offer.pk)  # what the livestream app calls when an offer starts
    buyers = User.objects.bulk_create([User(username=f"bench-{tag}-{i}", role=Role.CONSUMER, password="!")
                                       for i in range(args.buyers)])
    body = json.dumps({"items": [{"product": product.pk, "quantity": 1, "offer": offer.pk}],
                       "address": {"village": village.pk, "detail": "1号", "recipient": "张三",
                                   "phone": "13800001234"}})
    users = [{"token": str(AccessToken.for_user(buyer)), "body": body} for buyer in buyers]
    return {"offer": offer.pk, "product": product.pk, "stock": product.stock, "users": users}


def _verify(seed: dict, checkouts: int) -> dict:
    from django.db.models import Sum

    from catalog.models import Product
    from livestream.models import Offer
    from orders.models import OrderLine

    offer = Offer.objects.get(pk=seed["offer"])
    sold = OrderLine.objects.filter(offer_id=offer.pk).aggregate(n=Sum("quantity"))["n"] or 0
    return {"offer_remaining": offer.remaining, "offer_status": offer.status, "end_reason": offer.end_reason,
            "units_sold_in_db": sold, "checkouts_answered_201": checkouts, "oversold": max(0, sold - offer.quantity),
            "product_stock_untouched": Product.objects.get(pk=seed["product"]).stock == seed["stock"]}


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--buyers", type=int, default=500)
    parser.add_argument("--units", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=15.0, help="length of the baseline and rejection phases")
    parser.add_argument("--sell-limit", type=float, default=120.0, help="longest the selling phase may take")
    parser.add_argument("--processes", type=int, default=3, help="load generator processes")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers")
    parser.add_argument("--port", type=int, default=8731)
    parser.add_argument("--pool-max", type=int, default=20, help="psycopg pool size per worker")
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/cunbo_bench_checkout")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/3")
    parser.add_argument("--profile", metavar="FILE", help="py-spy record one worker during the checkout phase")
    args = parser.parse_args()

    raise_nofile(20000)
    env = _env(args)
    os.environ.update({k: env[k] for k in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "DATABASE_POOL")})
    os.environ["DATABASE_POOL"] = "0"  # the driver itself needs no pool
    ensure_database(args.database_url)
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "-v", "0"], env=env, check=True,
                   cwd=ROOT)
    seed = _seed(args)

    cmd = [str(Path(sys.executable).parent / "uvicorn"), "marketplace.asgi:application", "--host", "127.0.0.1",
           "--port", str(args.port), "--workers", str(args.workers), "--loop", "uvloop", "--http", "httptools",
           "--no-access-log", "--log-level", "warning", "--ws", "none", "--backlog", "4096"]
    server, _pid = start_server(cmd, args.port, env=env, cwd=str(ROOT), timeout=60)
    base = f"http://127.0.0.1:{args.port}"
    results = {}
    try:
        time.sleep(2.0)  # let every worker boot
        for kind in ("constant", "insert"):
            run_phase(base=base, kind=kind, users=seed["users"][:50], seconds=1.0, processes=1)  # warm up
            phase = run_phase(base=base, kind=kind, users=seed["users"], seconds=args.seconds,
                              processes=args.processes)
            results[kind] = {"rps": _rate(len(phase["ok"]), args.seconds), "ok": len(phase["ok"]),
                             "other": phase["other"]}
        profiler = None
        if args.profile:
            workers = subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True).stdout.split()
            profiler = subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "-p", workers[0],
                                         "-o", args.profile, "--format", "raw", "-d", str(int(args.seconds) + 2),
                                         "-r", "200", "--nonblocking", "--threads"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Selling: every buyer buys one unit at a time until told "sold out" (or the time limit).
        phase = run_phase(base=base, kind="checkout", users=seed["users"], seconds=args.sell_limit,
                          processes=args.processes)
        if profiler:
            profiler.wait(timeout=60)
        # Sold out: every buyer keeps trying for the phase length.
        rejecting = run_phase(base=base, kind="reject", users=seed["users"], seconds=args.seconds,
                              processes=args.processes)
    finally:
        stop_server(server)

    sold_at = phase["ok"][-1] if phase["ok"] else phase["end"]
    checkout_window = sold_at - phase["start"]
    results["checkout"] = {
        "checkouts_per_s": _rate(len(phase["ok"]), checkout_window),
        "checkouts": len(phase["ok"]), "selling_window_s": round(checkout_window, 2),
        "sold_out": len(phase["ok"]) >= args.units, "other": phase["other"],
        "rejections_per_s": _rate(len(rejecting["rejected"]), args.seconds),
        "rejections": len(rejecting["rejected"]), "rejection_window_s": args.seconds,
        "rejection_other": {**rejecting["other"], "2xx": len(rejecting["ok"])},
    }
    results["verify"] = _verify(seed, len(phase["ok"]))
    results["ratios"] = {
        "checkouts_vs_insert": results["checkout"]["checkouts_per_s"] / max(results["insert"]["rps"], 1e-9),
        "rejections_vs_constant": results["checkout"]["rejections_per_s"] / max(results["constant"]["rps"], 1e-9),
    }
    results["config"] = {"buyers": args.buyers, "units": args.units, "seconds": args.seconds,
                         "processes": args.processes, "workers": args.workers, "cpus": os.cpu_count()}

    c, r = results["checkout"], results["ratios"]
    print(f"| measure | per second | target | ratio |\n| --- | --- | --- | --- |\n"
          f"| bare view, constant JSON (GET) | {results['constant']['rps']:.0f} | | |\n"
          f"| bare view, insert one row (POST) | {results['insert']['rps']:.0f} | | |\n"
          f"| successful checkouts ({c['checkouts']} units in {c['selling_window_s']} s) | {c['checkouts_per_s']:.0f}"
          f" | ≥ 0.5 × insert | {r['checkouts_vs_insert']:.2f} |\n"
          f"| sold-out rejections (409, {c['rejection_window_s']} s after the sell-out) | {c['rejections_per_s']:.0f}"
          f" | ≥ 0.8 × constant | {r['rejections_vs_constant']:.2f} |\n")
    print("verify:", json.dumps(results["verify"], ensure_ascii=False))
    print(json.dumps(results))
    return 0 if results["verify"]["oversold"] == 0 and results["verify"]["offer_remaining"] >= 0 else 1


if __name__ == "__main__":
    sys.exit(main())
