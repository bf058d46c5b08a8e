"""Benchmark: notifications through the outbox and a real Celery worker on Redis.

In one run, with the same worker process set-up:

* baseline: N raw Celery no-op tasks (``acks_late``), enqueued one by one; the rate
  is N / (first enqueue → queue and unacked set both empty);
* bulk: N notifications written by ``notify_many`` in transactions of 500 (how the
  go-live fan-out and other mass notices write them), each with a socket push and
  an SMS row; the rate is N / (first commit → every outbox row settled). Nobody
  has a socket open, so pushes are settled by the presence check alone;
* bulk, all online: the same with every recipient counted as connected, so every
  push goes through channels-redis ``group_send``;
* single: N notifications each in its own transaction through ``notify`` (how
  shipment scans write them), from several producer threads.

Every run checks that nothing was lost or duplicated: each outbox row is settled
(SMS ``sent``; push ``sent``, or ``skipped`` for someone offline) after exactly one
claim (``attempts == 1``), and the SMS spool holds each SMS key exactly once.

Needs its own PostgreSQL database (created and migrated if missing) and its own
Redis database (its Celery queue is emptied first)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cunbo_bench_d REDIS_URL=redis://127.0.0.1:6379/4 \\
        .venv/bin/python bench/notifications.py [--count 10000] [--runs 3] [--concurrency 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

for name in ("DATABASE_URL", "REDIS_URL"):
    if not os.environ.get(name):
        sys.exit(f"set {name} (a database and a Redis database of the benchmark's own); see the docstring")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings")
os.environ.setdefault("DEBUG", "0")  # production settings: no query log in the worker
os.environ.setdefault("SECRET_KEY", "bench-secret-key-" + "b" * 40)
os.environ.setdefault("PAYMENT_WEBHOOK_SECRET", "bench-webhook-secret")
os.environ["NOTIFICATIONS_DEFAULT_QUIET_HOURS"] = ""
os.environ.setdefault("WS_MAX_SOCKETS_PER_ADDRESS", "0")  # every socket is on loopback
os.environ["LOG_LEVEL"] = "WARNING"
SPOOL = Path(tempfile.mkdtemp(prefix="cunbo-bench-")) / "sms.jsonl"
os.environ["NOTIFICATIONS_SMS_BACKEND"] = "notifications.sms.FileSmsSender"
os.environ["NOTIFICATIONS_SMS_FILE"] = str(SPOOL)


def ensure_database() -> None:
    from urllib.parse import urlparse

    import psycopg

    url = urlparse(os.environ["DATABASE_URL"])
    name = url.path.lstrip("/")
    admin = url._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


ensure_database()

import django  # noqa: E402

django.setup()

import redis  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import close_old_connections, connection  # noqa: E402

from accounts.models import User  # noqa: E402
from marketplace.celery import app  # noqa: E402
from notifications.events import PRESENCE_KEY  # noqa: E402
from notifications.models import Delivery, Notification  # noqa: E402
from notifications.services import notify, notify_many  # noqa: E402

KIND = "shipment.delivered"
PARAMS = {"order": 1, "shop": "寿光蔬菜合作社", "hub": "三元朱村服务点"}
BROKER = redis.Redis.from_url(os.environ["REDIS_URL"])


def log(text: str) -> None:
    print(text, flush=True)


def start_worker(concurrency: int) -> subprocess.Popen:
    logfile = SPOOL.parent / "worker.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "marketplace", "worker", "-c", str(concurrency), "-I",
         "bench.celery_noop", "-n", "cunbo-bench@%h", "--without-gossip", "--without-mingle", "--without-heartbeat",
         "-l", "INFO", "--logfile", str(logfile)],
        cwd=ROOT, env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while " ready." not in (logfile.read_text() if logfile.exists() else ""):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"worker did not start:\n{logfile.read_text() if logfile.exists() else ''}")
        time.sleep(0.1)
    return proc


QUEUES = [queue.name for queue in app.conf.task_queues]


def queue_empty() -> bool:
    return all(BROKER.llen(name) == 0 for name in QUEUES) and BROKER.hlen("unacked") == 0


def run_baseline(count: int) -> float:
    from bench.celery_noop import noop

    started = time.perf_counter()
    with app.producer_or_acquire() as producer:
        for i in range(count):
            noop.apply_async((i,), producer=producer, ignore_result=True)
    while not queue_empty():
        time.sleep(0.005)
    return count / (time.perf_counter() - started)


def bench_users(count: int) -> list[User]:
    existing = list(User.objects.filter(username__startswith="bench-n-").order_by("pk"))
    missing = [User(username=f"bench-n-{i:05d}", phone=f"139{i:08d}", language="zh-hans" if i % 3 else "en")
               for i in range(len(existing), count)]
    User.objects.bulk_create(missing)
    return list(User.objects.filter(username__startswith="bench-n-").order_by("pk"))[:count]


def vacuum(full: bool = False) -> None:
    """Reclaim what the last scenario deleted, as autovacuum would between bursts in production."""
    with connection.cursor() as cursor:
        for table in ("notifications_delivery", "notifications_notification"):
            cursor.execute(f"VACUUM ({'FULL, ' if full else ''}ANALYZE) {table}")


def reset(users, *, online: bool = False) -> None:
    Notification.objects.filter(user__in=users).delete()
    vacuum()
    SPOOL.write_text("")
    keys = [PRESENCE_KEY.format(user_id=u.pk) for u in users]
    if online:
        cache.set_many({key: 1 for key in keys}, timeout=3600)
    else:
        cache.delete_many(keys)


def wait_delivered() -> float:
    """Until no row is pending or in flight (each check reads the two small partial indexes)."""
    while (Delivery.objects.filter(state=Delivery.State.PENDING).exists()
           or Delivery.objects.filter(state=Delivery.State.SENDING).exists()):
        time.sleep(0.02)
    return time.perf_counter()


def run_bulk(users, count: int, batch: int = 500) -> tuple[float, float]:
    started = time.perf_counter()
    for start in range(0, count, batch):
        chunk = [users[(start + i) % len(users)] for i in range(min(batch, count - start))]
        notify_many(users=chunk, kind=KIND, params=PARAMS)
    produced = time.perf_counter()
    done = wait_delivered()
    LAGS.setdefault("bulk", []).append(done - produced)
    return count / (done - started), count / (produced - started)


LAGS: dict[str, list[float]] = {}


def run_single(users, count: int, threads: int = 4) -> tuple[float, float]:
    per_thread = count // threads
    started = time.perf_counter()

    def produce(offset: int) -> None:
        try:
            for i in range(per_thread):
                notify(user=users[(offset * per_thread + i) % len(users)], kind=KIND, params=PARAMS)
        finally:
            close_old_connections()
            connection.close()

    workers = [threading.Thread(target=produce, args=(t,)) for t in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    produced = time.perf_counter()
    done = wait_delivered()
    LAGS.setdefault("single", []).append(done - produced)
    return per_thread * threads / (done - started), per_thread * threads / (produced - started)


def check(count: int, *, online: bool = False) -> tuple[int, int]:
    """(lost, duplicated) over both channels."""
    rows = Delivery.objects.filter(notification__user__username__startswith="bench-n-")
    keys = [json.loads(line)["key"] for line in SPOOL.read_text().splitlines()]
    sms_keys = set(map(str, rows.filter(channel="sms").values_list("key", flat=True)))
    push_settled = rows.filter(channel="push", state=Delivery.State.SENT if online else Delivery.State.SKIPPED)
    lost = (rows.filter(channel="sms").exclude(state=Delivery.State.SENT).count() + count - push_settled.count()
            + len(sms_keys - set(keys)))
    duplicated = rows.filter(attempts__gt=1).count() + (len(keys) - len(set(keys)))
    assert rows.count() == 2 * count, rows.count()
    return lost, duplicated


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--producers", type=int, default=4)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    vacuum(full=True)
    BROKER.delete(*QUEUES, "unacked", "unacked_index", "unacked_mutex")
    users = bench_users(args.users)
    results = {"baseline": [], "bulk": [], "bulk_produce": [], "online": [], "single": [], "single_produce": []}
    problems = []
    worker = start_worker(args.concurrency)
    try:
        for run in range(1, args.runs + 1):
            baseline = run_baseline(args.count)
            results["baseline"].append(baseline)
            reset(users)
            bulk, bulk_produce = run_bulk(users, args.count)
            results["bulk"].append(bulk)
            results["bulk_produce"].append(bulk_produce)
            problems.append(("bulk", run, *check(args.count)))
            reset(users, online=True)
            online, _produce = run_bulk(users, args.count)
            results["online"].append(online)
            problems.append(("online", run, *check(args.count, online=True)))
            reset(users)
            single, single_produce = run_single(users, args.count, args.producers)
            results["single"].append(single)
            results["single_produce"].append(single_produce)
            problems.append(("single", run, *check(args.count // args.producers * args.producers)))
            log(f"run {run}: baseline {baseline:,.0f} tasks/s | bulk {bulk:,.0f}/s (written at {bulk_produce:,.0f}/s)"
                f" | bulk, all online {online:,.0f}/s | single {single:,.0f}/s (written at {single_produce:,.0f}/s)"
                f" | lost/duplicated " + ", ".join(f"{p[2]}/{p[3]}" for p in problems[-3:]))
    finally:
        worker.terminate()
        worker.wait(30)
        reset(users)

    median = {key: statistics.median(values) for key, values in results.items()}
    lost = sum(p[2] for p in problems)
    duplicated = sum(p[3] for p in problems)
    log("")
    log(f"| scenario ({args.count:,} each, worker -c {args.concurrency}, median of {args.runs}) | per second | "
        f"× baseline | lost | duplicated |")
    log("| --- | --- | --- | --- | --- |")
    log(f"| raw Celery no-op task (baseline) | {median['baseline']:,.0f} | 1.00 | | |")
    log(f"| notifications, bulk (`notify_many`, 500 a commit) | {median['bulk']:,.0f} | "
        f"{median['bulk'] / median['baseline']:.2f} | {sum(p[2] for p in problems if p[0] == 'bulk')} | "
        f"{sum(p[3] for p in problems if p[0] == 'bulk')} |")
    log(f"| notifications, bulk, every recipient online (push through channels-redis) | {median['online']:,.0f} | "
        f"{median['online'] / median['baseline']:.2f} | {sum(p[2] for p in problems if p[0] == 'online')} | "
        f"{sum(p[3] for p in problems if p[0] == 'online')} |")
    log(f"| notifications, one a commit (`notify`, {args.producers} producer threads) | {median['single']:,.0f} | "
        f"{median['single'] / median['baseline']:.2f} | {sum(p[2] for p in problems if p[0] == 'single')} | "
        f"{sum(p[3] for p in problems if p[0] == 'single')} |")
    log(f"(writing alone: bulk {median['bulk_produce']:,.0f}/s, one a commit {median['single_produce']:,.0f}/s; "
        f"everything delivered {statistics.median(LAGS['bulk']):.2f} s / {statistics.median(LAGS['single']):.2f} s "
        f"after the last commit; each notification = in-app row + socket push + SMS)")
    if lost or duplicated:
        sys.exit(f"FAILED: {lost} lost, {duplicated} duplicated")


if __name__ == "__main__":
    main()
