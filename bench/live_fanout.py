"""Live-room fan-out benchmark: the real ASGI app against a bare broadcast, in one run.

Starts the product's ASGI application (uvicorn, ``--ws-per-message-deflate false``;
or daphne) on PostgreSQL + Redis with a seeded live stream, opens N watcher
sockets to ``/ws/streams/<id>/``, and has one signed-in chat user send chat lines
at a fixed rate through the real consumer, chat service (rules, rate counter,
INSERT) and fan-out; every watcher measures the latency of each ``chat.message``.
In the same run it measures the bare ``websockets`` broadcast baseline
(``bench/bare_broadcast.py``) with the same load generator (``bench/fanout_clients.py``).

    .venv/bin/python bench/live_fanout.py --clients 1000 --rate 20 --seconds 10 \\
        [--configs bare,uvicorn-hub,uvicorn-layer-redis,uvicorn-layer-pubsub,daphne-hub,uvicorn2-hub] \\
        [--json results.json]

Environment: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/cunbo_bench, created
if missing, migrated), BENCH_REDIS_URL (default redis://127.0.0.1:6379/9). The servers run with
``LIVE_CHAT_RATE_LIMIT=1000000`` (bench only: the sender is one user sending 20 lines/s; production
keeps the default of 5 per 10 s) and ``BENCH_WS_ORIGIN`` makes the clients send an allowed Origin.

Configs: ``<server>-<fanout>[-<layer>]``: server uvicorn | uvicorn2 (2 workers) | daphne; fanout
hub (one Redis subscription per stream per process, docs/live-room.md) | layer (Channels groups on
RedisChannelLayer ``-redis`` or RedisPubSubChannelLayer ``-pubsub``); ``bare`` is the baseline.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
ORIGIN = "http://127.0.0.1"
os.environ.setdefault("BENCH_WS_ORIGIN", ORIGIN)  # before fanout_clients reads it

from _common import bare_server_cmd, raise_nofile, start_server, stop_server  # noqa: E402
from fanout_clients import run_fanout  # noqa: E402

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/cunbo_bench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/9"


def server_env(fanout: str, layer: str) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "marketplace.settings",
        "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB),
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS),
        "SECRET_KEY": "bench-secret-key-" + "b" * 40,
        "PAYMENT_WEBHOOK_SECRET": "bench",
        "MEDIA_HOOK_SECRET": "bench",
        "WS_MAX_SOCKETS_PER_ADDRESS": "0",  # every client is on loopback: the per-address limit is off
        "DEBUG": "0",
        "SECURE_SSL_REDIRECT": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
        "LIVE_CHAT_RATE_LIMIT": "1000000",
        "LIVE_ROOM_FANOUT": fanout,
        "LIVE_CHANNEL_LAYER": layer,
    }


def ensure_database(url: str) -> None:
    from urllib.parse import urlsplit

    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def seed() -> tuple[int, str]:
    """Migrate and seed (idempotent): a live stream of an approved shop and a chat user's token."""
    import subprocess

    env = server_env("hub", "")
    ensure_database(env["DATABASE_URL"])
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=REPO, env=env, check=True)
    os.environ.update({k: env[k] for k in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "SECRET_KEY",
                                           "PAYMENT_WEBHOOK_SECRET", "DEBUG", "ALLOWED_HOSTS")})
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from django.utils import timezone
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.models import Role, User
    from catalog.models import Category, Product
    from livestream.models import Stream
    from merchants.models import Merchant
    from regions.models import Region

    county, _ = Region.objects.get_or_create(code="990001", defaults={"name": "压测县", "level": "county"})
    town, _ = Region.objects.get_or_create(code="990001001", defaults={"name": "压测镇", "level": "township",
                                                                       "parent": county})
    village, _ = Region.objects.get_or_create(code="990001001001", defaults={"name": "压测村", "level": "village",
                                                                             "parent": town})
    seller, _ = User.objects.get_or_create(username="bench_merchant", defaults={"role": Role.MERCHANT})
    shop, _ = Merchant.objects.get_or_create(user=seller, defaults={
        "shop_name": "压测合作社", "kind": "cooperative", "village": village, "contact_phone": "13700000000",
        "status": Merchant.Status.APPROVED})
    category, _ = Category.objects.get_or_create(slug="bench", defaults={"name": "压测"})
    product, _ = Product.objects.get_or_create(merchant=shop, title="压测西红柿", defaults={
        "category": category, "price": "9.90", "unit": "斤", "stock": 1000, "origin": village,
        "status": Product.Status.LISTED})
    stream, _ = Stream.objects.get_or_create(merchant=shop, title="压测直播", defaults={
        "scheduled_at": timezone.now(), "status": Stream.Status.LIVE, "started_at": timezone.now()})
    stream.products.add(product)
    chatter, _ = User.objects.get_or_create(username="bench_chatter", defaults={"role": Role.CONSUMER})
    token = AccessToken.for_user(chatter)
    token.set_exp(lifetime=datetime.timedelta(hours=12))
    return stream.pk, str(token)


def server_cmd(server: str, port: int) -> list[str]:
    if server == "daphne":
        return [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "--verbosity", "0",
                "marketplace.asgi:application"]
    cmd = [sys.executable, "-m", "uvicorn", "marketplace.asgi:application", "--host", "127.0.0.1",
           "--port", str(port), "--ws-per-message-deflate", "false", "--log-level", "warning",
           "--no-access-log", "--backlog", "8192"]
    if server == "uvicorn2":
        cmd += ["--workers", "2"]
    return cmd


def run_config(config: str, *, stream_id: int, token: str, port: int, args) -> dict:
    if config == "bare":
        proc, pid = start_server(bare_server_cmd(port), port)
        url = f"ws://127.0.0.1:{port}/ws/streams/{stream_id}/"
        sender = url
    else:
        server, fanout, *layer = config.split("-")
        layer_name = {"redis": "", "pubsub": "pubsub"}[layer[0]] if layer else ""
        proc, pid = start_server(server_cmd(server, port), port, env=server_env(fanout, layer_name), cwd=str(REPO),
                                 timeout=60)
        url = f"ws://127.0.0.1:{port}/ws/streams/{stream_id}/"
        sender = f"{url}?token={token}"
    try:
        time.sleep(1.0)
        result = run_fanout(url, sender, clients=args.clients, rate=args.rate, seconds=args.seconds,
                            processes=args.processes, connect_rate=args.connect_rate, server_pid=pid,
                            drain_timeout=args.drain_timeout)
    finally:
        stop_server(proc, grace=10)
    result["config"] = config
    return result


def table(rows: list[dict]) -> str:
    bare = next((r for r in rows if r["config"] == "bare" and "error" not in r), None)
    lines = ["| config | clients × msg/s | connected | deliveries/s | × bare | drops | p50 ms | p99 ms "
             "| server CPU µs/delivery | load 1m |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['config']} | {r['clients']:,} × {r['rate']:g} | failed: {r['error']} |"
                         f" | | | | | | {r['load_1m']} |")
            continue
        ratio = (r["deliveries_per_s"] / bare["deliveries_per_s"]) if bare and bare["deliveries_per_s"] else None
        lines.append(
            f"| {r['config']} | {r['clients']:,} × {r['rate']:g} | {r['connected']:,} | "
            f"{r['deliveries_per_s']:,.0f} | {'' if ratio is None else f'{ratio:.2f}'} | {r['drops']:,} | "
            f"{r['p50_ms']} | {r['p99_ms']} | {r['server_cpu_us_per_delivery']} | {r['load_1m']} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clients", type=int, default=1000)
    p.add_argument("--rate", type=float, default=20.0)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--processes", type=int, default=2, help="load-generator processes")
    p.add_argument("--connect-rate", type=float, default=500.0)
    p.add_argument("--drain-timeout", type=float, default=5.0)
    p.add_argument("--configs", default="bare,uvicorn-hub,uvicorn-layer-redis,uvicorn-layer-pubsub,daphne-hub")
    p.add_argument("--port", type=int, default=18765)
    p.add_argument("--json", help="append the results (one JSON object per line) to this file")
    args = p.parse_args(argv)
    raise_nofile()
    stream_id, token = seed()
    rows = []
    for i, config in enumerate(c.strip() for c in args.configs.split(",") if c.strip()):
        print(f"# {config}: {args.clients} clients × {args.rate:g} msg/s for {args.seconds:g}s", file=sys.stderr,
              flush=True)
        load_before = os.getloadavg()[0]
        try:
            row = run_config(config, stream_id=stream_id, token=token, port=args.port + i, args=args)
        except Exception as exc:  # noqa: BLE001 - a config that breaks is a result too
            row = {"config": config, "clients": args.clients, "rate": args.rate, "error": repr(exc)[:300]}
        # The machine is shared: the 1-minute load average says how much it was.
        row["load_1m"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
        rows.append(row)
        print(json.dumps(row, separators=(",", ":")), file=sys.stderr, flush=True)
        if args.json:
            with open(args.json, "a") as out:
                out.write(json.dumps(row, separators=(",", ":")) + "\n")
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
