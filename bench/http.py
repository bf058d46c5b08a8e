"""HTTP benchmark: the API on WSGI servers, driven by wrk, each endpoint against its own floor.

Starts the product (``bench.settings``: the product's settings plus the bench's baseline views) on
PostgreSQL (Django's psycopg pool, CONN_MAX_AGE=0) and Redis under each server named by
``--servers`` — gunicorn (gthread, the production config in deploy/gunicorn.conf.py), granian
(WSGI mode) and, for the old figures, uvicorn (ASGI) — and drives it with ``wrk`` (C, Debian's
package; bench/wrk.sh installs it) so the load generator is not the ceiling. In the same run,
against the same server:

- ``GET /bench/constant/`` and ``POST /bench/insert/``: bare Django views (constant JSON; one INSERT);
- the same constant view in a stock ``django-admin startproject`` served the same way, so the
  project's own middleware and settings are measured against Django with nothing added;
- each public read of the product, and its **floor**: a bare view (``bench/views.floor``) that runs the
  very SQL the endpoint ran (captured once, in-process, before the servers start) and returns the
  endpoint's JSON through ``JsonResponse``. The ratio endpoint/floor is what the framework layers
  (DRF, serializers, auth, throttles, middleware) leave of what the database and the JSON encoder
  allow.

The reads: ``GET /api/products/`` with 20 listed products, ``?search=茶``, product detail,
``GET /api/streams/?status=live``, stream detail, ``GET /api/trace/{code}/``, and, signed in,
``GET /api/cart/`` (3 items) and ``GET /api/orders/`` (5 orders). Throttles stay on with rates no
run reaches, so their Redis round trips are measured too.

    .venv/bin/python bench/http.py                      # gunicorn and granian, 10 s per figure
    .venv/bin/python bench/http.py --servers gunicorn,uvicorn --seconds 5

Prints one Markdown table per server, a summary, and one line of JSON. Uses the database named by
--database-url (created if missing; seeded on first use) and Redis --redis-url.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder is sys.path[0], and this file would be the standard library's
# ``http`` for everything imported after it (Django's cookies among them): put the project there instead.
ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]

import argparse
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.parse

from bench._common import ensure_database, raise_nofile, start_server, stop_server  # noqa: E402

BIN = Path(sys.executable).parent
READS = ("products", "products_search", "product_detail", "streams_live", "stream_detail", "trace", "cart",
         "orders")
SERVERS = ("gunicorn", "granian", "uvicorn")
# What the product's reads are measured with: the throttles run, at rates no run reaches.
BENCH_ENV = {"THROTTLE_TRACE_IP": "100000000/min", "DEBUG": "0", "LOG_LEVEL": "WARNING"}


# --- set-up: data, the captured floors, a stock project --------------------------------------------------

def _env(args, **extra) -> dict:
    env = dict(os.environ)
    env.update(BENCH_ENV)
    env.update({"DJANGO_SETTINGS_MODULE": "bench.settings", "DATABASE_URL": args.database_url,
                "REDIS_URL": args.redis_url, "DATABASE_POOL": "1", "DATABASE_POOL_MAX": str(args.threads + 2),
                "PYTHONPATH": str(ROOT)})
    env.update(extra)
    return env


def _seed() -> dict:
    """The demo data (seed_demo), brought to 20 listed products, a live stream, a buyer with a cart of
    3 items and 5 orders. Idempotent: a second run finds what the first made."""
    from django.core.management import call_command

    from accounts.models import User
    from catalog.models import HarvestBatch, Product
    from livestream.models import Stream

    call_command("seed_demo", verbosity=0)
    listed = list(Product.objects.filter(status="listed").order_by("pk"))
    for n in range(20 - len(listed)):
        _product_copy(listed[n % len(listed)], n)
    stream = Stream.objects.filter(status="live").order_by("pk").first()
    if stream is None:
        from django.utils import timezone

        stream = Stream.objects.order_by("pk").first()
        Stream.objects.filter(pk=stream.pk).update(status="live", started_at=timezone.now())
    buyer = User.objects.get(username="bench-http-buyer") if User.objects.filter(
        username="bench-http-buyer").exists() else _buyer()
    product = Product.objects.filter(status="listed", batches__isnull=False).order_by("pk").first()
    return {"buyer": buyer.pk, "product": product.pk, "stream": stream.pk,
            "trace": HarvestBatch.objects.filter(product=product).order_by("pk").first().trace_code}


def _product_copy(source, n: int):
    """Another listed product like ``source`` (its own title, stock, batch and trace code)."""
    from catalog.models import HarvestBatch, Product, new_trace_code

    batch = HarvestBatch.objects.filter(product=source).order_by("pk").first()
    product = Product.objects.get(pk=source.pk)
    product.pk = None
    product.id = None
    product.title = f"{source.title} 第{n + 2}批"
    product.save()
    for sku in source.skus.all() if hasattr(source, "skus") else ():  # SKUs, where the model has them
        sku.pk = None
        sku.id = None
        sku.product = product
        sku.save()
    if batch is not None:
        batch.pk = None
        batch.id = None
        batch.product = product
        batch.trace_code = new_trace_code()
        batch.save()
    return product


def _buyer():
    """A consumer with three cart items and five orders, made through the API like any buyer."""
    from rest_framework.test import APIClient

    from accounts.models import Role, User
    from catalog.models import Product
    from regions.models import Region

    buyer = User.objects.create_user(username="bench-http-buyer", password="bench-http-pass-2026",
                                     role=Role.CONSUMER)
    client = APIClient()
    client.force_authenticate(buyer)
    village = Region.objects.filter(level="village").order_by("pk").first()
    products = list(Product.objects.filter(status="listed").order_by("pk")[:5])
    address = {"village": village.pk, "detail": "1号", "recipient": "张三", "phone": "13800001234"}
    for product in products:
        answer = client.post("/api/orders/", {"items": [{"product": product.pk, "quantity": 1}], "address": address},
                             format="json", HTTP_IDEMPOTENCY_KEY=f"bench-http-{product.pk}")
        assert answer.status_code == 201, answer.content
    for product in products[:3]:
        answer = client.post("/api/cart/items/", {"product": product.pk, "quantity": 2}, format="json")
        assert answer.status_code in (200, 201), answer.content
    return buyer


def _capture(seed: dict, path: Path) -> dict:
    """Each read once, in-process: its URL, the SQL it ran and its JSON. bench/views.floor replays them."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.models import User

    token = str(AccessToken.for_user(User.objects.get(pk=seed["buyer"])))
    urls = {
        "products": "/api/products/",
        "products_search": "/api/products/?search=" + urllib.parse.quote("茶"),
        "product_detail": f"/api/products/{seed['product']}/",
        "streams_live": "/api/streams/?status=live",
        "stream_detail": f"/api/streams/{seed['stream']}/",
        "trace": f"/api/trace/{seed['trace']}/",
        "cart": "/api/cart/",
        "orders": "/api/orders/",
    }
    signed_in = {"cart", "orders"}
    client = Client()
    floors = {}
    for name, url in urls.items():
        headers = {"Authorization": f"Bearer {token}"} if name in signed_in else {}
        client.get(url, headers=headers)  # warm: the first call fills caches the steady state has
        with CaptureQueriesContext(connection) as queries:
            answer = client.get(url, headers=headers)
        if answer.status_code != 200:
            raise SystemExit(f"{url} answered {answer.status_code}: {answer.content[:300]!r}")
        floors[name] = {"url": url, "auth": name in signed_in,
                        "queries": [q["sql"] for q in queries.captured_queries], "body": answer.json()}
    path.write_text(json.dumps(floors, ensure_ascii=False))
    return {"token": token, "floors": floors}


STOCK_VIEW = '''
from django.http import JsonResponse
from django.urls import path


def constant(request):
    return JsonResponse({"ok": True, "service": "cunbo"})


urlpatterns = [path("bench/constant/", constant)]
'''


def _stock_project(workdir: Path) -> Path:
    """``django-admin startproject stock``, its DEBUG off, one constant view: Django with nothing added."""
    target = workdir / "stock"
    target.mkdir()
    subprocess.run([str(BIN / "django-admin"), "startproject", "stock", str(target)], check=True)
    settings = target / "stock" / "settings.py"
    text = settings.read_text()
    text = text.replace("DEBUG = True", "DEBUG = False").replace("ALLOWED_HOSTS = []", "ALLOWED_HOSTS = ['*']")
    settings.write_text(text)
    (target / "stock" / "urls.py").write_text(STOCK_VIEW)
    return target


# --- servers ------------------------------------------------------------------------------------------

def server_cmd(kind: str, *, port: int, workers: int, threads: int, wsgi: str, asgi: str) -> list[str]:
    """The command line of one server, configured the way production runs it (deploy/)."""
    if kind == "gunicorn":
        return [str(BIN / "gunicorn"), "--config", str(ROOT / "deploy" / "gunicorn.conf.py"), wsgi,
                "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--threads", str(threads),
                "--backlog", "4096"]
    if kind == "granian":
        return [str(BIN / "granian"), "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port),
                "--workers", str(workers), "--blocking-threads", str(threads), "--no-ws", "--log-level", "warning",
                "--backlog", "4096", wsgi]
    if kind == "uvicorn":
        return [str(BIN / "uvicorn"), asgi, "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
                "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning",
                "--ws", "none", "--backlog", "4096"]
    raise ValueError(kind)


# --- wrk ----------------------------------------------------------------------------------------------

WRK_POST = 'wrk.method = "POST"\nwrk.body = "one row"\nwrk.headers["Content-Type"] = "text/plain"\n'
_RATE = re.compile(r"Requests/sec:\s+([\d.]+)")
_NON2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_LATENCY = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)


def wrk(url: str, *, seconds: float, connections: int, threads: int, headers: dict | None = None,
        script: Path | None = None) -> dict:
    """One wrk run: requests/s, latency p50/p99 (ms), non-2xx answers and socket errors."""
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", "--timeout", "10s"]
    for key, value in (headers or {}).items():
        cmd += ["-H", f"{key}: {value}"]
    if script:
        cmd += ["-s", str(script)]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    errors = _ERRORS.search(out)
    latency = {p: float(v) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit] for p, v, unit in _LATENCY.findall(out)}
    return {"rps": float(_RATE.search(out).group(1)),
            "non_2xx": int(_NON2XX.search(out).group(1)) if _NON2XX.search(out) else 0,
            "socket_errors": sum(map(int, errors.groups())) if errors else 0,
            "p50_ms": latency.get("50"), "p99_ms": latency.get("99")}


def _measure(base: str, *, args, captured: dict, post_script: Path) -> dict:
    auth = {"Authorization": f"Bearer {captured['token']}"}
    run = {"seconds": args.seconds, "connections": args.connections, "threads": args.wrk_threads}
    figures = {}
    wrk(f"{base}/bench/constant/", **{**run, "seconds": 1})  # warm every worker and thread
    figures["constant"] = wrk(f"{base}/bench/constant/", **run)
    figures["insert"] = wrk(f"{base}/bench/insert/", script=post_script, **run)
    for name in READS:
        floor = captured["floors"][name]
        headers = auth if floor["auth"] else None
        wrk(base + floor["url"], headers=headers, **{**run, "seconds": 1})
        figures[name] = wrk(base + floor["url"], headers=headers, **run)
        figures[f"{name}_floor"] = wrk(f"{base}/bench/floor/{name}/", **run)
    return figures


def _check_wrk() -> None:
    if shutil.which("wrk") is None:
        subprocess.run(["bash", str(ROOT / "bench" / "wrk.sh")], check=True)


def _table(kind: str, figures: dict, stock: dict | None, urls: dict) -> str:
    rows = [f"### {kind}", "", "| endpoint | req/s | p50 ms | p99 ms | its floor req/s | ratio | target |",
            "| --- | --- | --- | --- | --- | --- | --- |"]

    def row(label, figure, floor=None, target=""):
        ratio = f"{figure['rps'] / floor['rps']:.2f}" if floor else ""
        bad = f" ({figure['non_2xx']} non-2xx, {figure['socket_errors']} socket errors)" if (
            figure["non_2xx"] or figure["socket_errors"]) else ""
        rows.append(f"| {label}{bad} | {figure['rps']:.0f} | {figure['p50_ms']} | {figure['p99_ms']} | "
                    f"{floor['rps']:.0f} | {ratio} | {target} |" if floor else
                    f"| {label}{bad} | {figure['rps']:.0f} | {figure['p50_ms']} | {figure['p99_ms']} | | | {target} |")

    row("bare view, constant JSON", figures["constant"], stock, "≥ 0.8 × stock project" if stock else "")
    row("bare view, one INSERT", figures["insert"])
    for name in READS:
        row(f"`{urllib.parse.unquote(urls[name])}`", figures[name], figures[f"{name}_floor"], "≥ 0.6 × floor")
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--servers", default="gunicorn,granian", help=f"comma-separated, of {', '.join(SERVERS)}")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="server processes")
    parser.add_argument("--threads", type=int, default=8, help="threads per WSGI worker")
    parser.add_argument("--port", type=int, default=8741)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/cunbo_bench_http")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/4")
    args = parser.parse_args()
    servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    if unknown := set(servers) - set(SERVERS):
        parser.error(f"unknown server(s): {', '.join(sorted(unknown))}")

    _check_wrk()
    raise_nofile(20000)
    env = _env(args)
    os.environ.update({k: env[k] for k in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", *BENCH_ENV)})
    os.environ["DATABASE_POOL"] = "0"  # the driver itself needs no pool
    ensure_database(args.database_url)
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "-v", "0"], env=env, check=True,
                   cwd=ROOT)
    import django

    django.setup()
    workdir = Path(tempfile.mkdtemp(prefix="cunbo-bench-http-"))
    floors_file = workdir / "floors.json"
    seed = _seed()
    captured = _capture(seed, floors_file)
    urls = {name: floor["url"] for name, floor in captured["floors"].items()}
    post_script = workdir / "post.lua"
    post_script.write_text(WRK_POST)
    stock_dir = _stock_project(workdir)
    from django.db import connection

    from bench.views import CREATE_TABLE

    with connection.cursor() as cursor:
        cursor.execute(CREATE_TABLE)
    connection.close()

    results: dict = {"config": {"seconds": args.seconds, "connections": args.connections, "workers": args.workers,
                                "threads": args.threads, "wrk_threads": args.wrk_threads, "cpus": os.cpu_count()},
                     "queries": {name: len(f["queries"]) for name, f in captured["floors"].items()}}
    base = f"http://127.0.0.1:{args.port}"
    for kind in servers:
        command = dict(port=args.port, workers=args.workers, threads=args.threads)
        stock = None
        if kind != "uvicorn":  # the stock project's figure, served the same way
            proc, _ = start_server(server_cmd(kind, wsgi="stock.wsgi:application", asgi="stock.asgi:application",
                                              **command),
                                   args.port, env={**env, "DJANGO_SETTINGS_MODULE": "stock.settings",
                                                   "PYTHONPATH": str(stock_dir)}, cwd=str(stock_dir), timeout=60)
            try:
                time.sleep(1.0)
                wrk(f"{base}/bench/constant/", seconds=1, connections=args.connections, threads=args.wrk_threads)
                stock = wrk(f"{base}/bench/constant/", seconds=args.seconds, connections=args.connections,
                            threads=args.wrk_threads)
            finally:
                stop_server(proc)
        proc, _ = start_server(server_cmd(kind, wsgi="marketplace.wsgi:application",
                                          asgi="marketplace.asgi:application", **command),
                               args.port, env={**env, "BENCH_FLOORS": str(floors_file)}, cwd=str(ROOT), timeout=60)
        try:
            time.sleep(2.0)
            figures = _measure(base, args=args, captured=captured, post_script=post_script)
        finally:
            stop_server(proc)
        results[kind] = {"stock_constant": stock, **figures}
        print(_table(kind, figures, stock, urls), "\n", flush=True)

    print("| endpoint | " + " | ".join(servers) + " |\n| --- |" + " --- |" * len(servers))
    for name in ("constant", "insert", *READS):
        print(f"| {name} | " + " | ".join(f"{results[k][name]['rps']:.0f}" for k in servers) + " |")
    print("\nqueries per read:", json.dumps(results["queries"]))
    print(json.dumps(results, ensure_ascii=False))
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
