"""Where the ledger's share of a paid webhook goes: in-process, one thread, no contention.

Seeds orders pending payment like bench/webhook.py (its own database), then sends their signed
``payment.succeeded`` notices through Django's test client, alternating with and without the
ledger's receiver, and reports per webhook: SQL statements, wall time and this process's CPU time,
the time inside the receiver split into its statements (by kind) and its Python, the COMMIT's time
(where the deferred balance trigger runs), and the trigger's own calls and time
(``pg_stat_user_functions`` with ``track_functions = 'pl'``). ``--fused`` adds a third mode, a
bench-only prototype of the proposed fix (``fused_payment_post``: the posting, its entries and the
settlements written by one statement).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cunbo_bench_webhook_profile \\
        .venv/bin/python bench/webhook_profile.py --orders 400
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cunbo_bench_webhook_profile")
os.environ["DATABASE_POOL"] = "0"
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/6")


_FUSED = """
WITH p AS (INSERT INTO ledger_posting (key, kind, memo, merchant_id, actor_id, created_at)
           VALUES (%s, 'payment', %s, NULL, NULL, %s) ON CONFLICT (key) DO NOTHING RETURNING id, created_at),
e AS (INSERT INTO ledger_entry (posting_id, account_id, amount, merchant_order_id)
      SELECT p.id, x.account_id, x.amount, x.mo FROM p,
             unnest(%s::bigint[], %s::numeric[], %s::bigint[]) AS x(account_id, amount, mo)),
s AS (INSERT INTO ledger_settlement (merchant_order_id, merchant_id, state, goods, delivery, commission, service_fee,
                                     goods_refunded, delivery_refunded, paid_at, released_at)
      SELECT y.mo, y.merchant, 'pending', y.goods, y.delivery, y.commission, y.service, 0, 0, p.created_at, NULL FROM p,
             unnest(%s::bigint[], %s::bigint[], %s::numeric[], %s::numeric[], %s::numeric[], %s::numeric[])
             AS y(mo, merchant, goods, delivery, commission, service))
SELECT id FROM p
"""


def fused_payment_post(*, payment_id, order_id, provider, amount, kept):
    """A prototype of the proposed fix (bench-only, never in the product): the same legs as
    ``ledger.services.payment_post``, but the posting, its entries and the settlements written by
    one statement (three statements in all: the merchant orders, the accounts' ids, the write)."""
    from django.db import connection
    from django.utils import timezone

    from ledger import chart, services
    from ledger.postings import ZERO, Leg, account_ids
    from orders.models import MerchantOrder

    if not kept:
        return services.payment_post(payment_id=payment_id, order_id=order_id, provider=provider, amount=amount,
                                     kept=kept)
    cash = chart.provider_cash(provider)
    merchant_orders = list(MerchantOrder.objects.filter(order_id=order_id).select_related("merchant").order_by("pk"))
    legs = [Leg(cash, amount)]
    for mo in merchant_orders:
        county = mo.merchant.county_id
        legs += [Leg(chart.merchant_pending(mo.merchant_id), -(mo.items_total - mo.commission - mo.service_fee), mo.pk),
                 Leg(chart.COMMISSION, -mo.commission, mo.pk), Leg(chart.county_service_fees(county), -mo.service_fee, mo.pk),
                 Leg(chart.county_delivery(county), -mo.delivery_fee, mo.pk)]
    fee = services.provider_fee(provider=provider, amount=amount)
    legs = [leg for leg in legs + [Leg(chart.PROVIDER_FEES, fee), Leg(cash, -fee)] if leg.amount]
    assert sum((leg.amount for leg in legs), ZERO) == ZERO
    ids = account_ids(leg.account for leg in legs)
    with connection.cursor() as cursor:
        cursor.execute(_FUSED, [
            f"payment:{payment_id}", f"payment {payment_id}", timezone.now(),
            [ids[leg.account.code] for leg in legs], [leg.amount for leg in legs], [leg.merchant_order_id for leg in legs],
            [mo.pk for mo in merchant_orders], [mo.merchant_id for mo in merchant_orders],
            [mo.items_total for mo in merchant_orders], [mo.delivery_fee for mo in merchant_orders],
            [mo.commission for mo in merchant_orders], [mo.service_fee for mo in merchant_orders]])
        return cursor.fetchone()


def _kind(sql: str) -> str:
    words = sql.split()
    head = " ".join(words[:3]).replace('"', "")
    for table in ("ledger_account", "ledger_posting", "ledger_entry", "ledger_settlement", "orders_merchantorder"):
        if table in sql[:200]:
            return f"{words[0]} {table}"
    return head[:40]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=400)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--fused", action="store_true",
                        help="also a third mode: the proposed one-statement write (a bench-only prototype)")
    args = parser.parse_args()

    from bench import webhook
    from bench._common import ensure_database

    ensure_database(os.environ["DATABASE_URL"])
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "-v", "0"], check=True, cwd=ROOT,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from ledger.receivers import post_the_payment
    from payments.domain_events import payment_received

    ids = webhook._seed(SimpleNamespace(seed=args.seed, counties=4, merchants=60, products=3, buyers=400,
                                        orders=args.orders))
    inside: dict = {}

    def timing(receiver):
        @functools.wraps(post_the_payment)
        def timed(**payload):
            before, started = len(connection.queries), time.perf_counter()
            try:
                return receiver(**payload)
            finally:
                inside["seconds"] = time.perf_counter() - started
                inside["queries"] = list(connection.queries)[before:]
        return timed

    def trigger_stats():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_force_next_flush()")
            cursor.execute("SELECT coalesce(sum(calls), 0), coalesce(sum(self_time), 0) FROM pg_stat_user_functions "
                           "WHERE funcname = 'ledger_posting_balanced'")
            calls, ms = cursor.fetchone()
            return int(calls), float(ms)

    with connection.cursor() as cursor:
        cursor.execute("SET track_functions = 'pl'")
    client = Client()
    payment_received.disconnect(post_the_payment)
    receivers = {"with_postings": timing(post_the_payment), "without_postings": None}
    if args.fused:
        receivers["with_postings_fused"] = timing(fused_payment_post)
    labels = tuple(receivers)
    rows: dict[str, list[dict]] = {label: [] for label in labels}
    by_kind: dict[str, dict[str, list[float]]] = {label: {} for label in labels}
    trigger_before = trigger_stats()
    for i, (_pk, body, header) in enumerate(webhook._notices(ids)):
        label = labels[i % len(labels)]
        timed = receivers[label]
        if timed is not None:
            payment_received.connect(timed, phase="in_transaction")
        inside.clear()
        connection.queries_log.clear()  # a deque of 9,000: keep the indexes right
        with CaptureQueriesContext(connection) as captured:
            cpu, wall = time.process_time(), time.perf_counter()
            response = client.post(webhook.URL, data=body, content_type="application/json",
                                   headers={webhook.SIGNATURE_HEADER: header}, SERVER_NAME="127.0.0.1")
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        if timed is not None:
            payment_received.disconnect(timed)
        assert response.status_code == 200 and response.json()["outcome"] == "paid", response.content
        if i < 4 * len(labels):
            continue
        queries = captured.captured_queries
        row = {"statements": len(queries), "wall_ms": 1000 * wall, "cpu_ms": 1000 * cpu,
               "sql_ms": 1000 * sum(float(q["time"]) for q in queries),
               "commit_ms": 1000 * sum(float(q["time"]) for q in queries if q["sql"] == "COMMIT")}
        if timed is not None:
            own = inside["queries"]
            row["receiver_ms"] = 1000 * inside["seconds"]
            row["receiver_sql_ms"] = 1000 * sum(float(q["time"]) for q in own)
            row["receiver_statements"] = len(own)
            for q in own:
                by_kind[label].setdefault(_kind(q["sql"]), []).append(1000 * float(q["time"]))
        rows[label].append(row)
    trigger_after = trigger_stats()
    from ledger.checks import ledger_check
    from ledger.models import Posting, Settlement
    from orders.models import MerchantOrder

    report = ledger_check()
    posted_ids = [pk for i, pk in enumerate(ids) if receivers[labels[i % len(labels)]] is not None]
    checks = {"ledger_check_ok": report.ok, "problems": report.problems[:3],
              "postings": Posting.objects.filter(key__in=[f"payment:{pk}" for pk in posted_ids]).count(),
              "settlements": Settlement.objects.filter(merchant_order__order__payments__pk__in=posted_ids).count(),
              "merchant_orders_paid": MerchantOrder.objects.filter(order__payments__pk__in=posted_ids).count()}

    def mean(label, key):
        return statistics.fmean(r[key] for r in rows[label])

    wo = "without_postings"
    posting_labels = [label for label in labels if label != wo]
    posted = sum(len(rows[label]) + 4 for label in posting_labels)  # the warm-up posted too
    calls = trigger_after[0] - trigger_before[0]
    out = {
        "webhooks": {label: len(rows[label]) for label in labels},
        "per_webhook": {label: {key: round(mean(label, key), 3) for key in rows[label][0]} for label in labels},
        "receiver_statements_by_kind": {label: {k: {"count_per_webhook": round(len(v) / len(rows[label]), 2),
                                                    "mean_ms": round(statistics.fmean(v), 3)}
                                                for k, v in by_kind[label].items()} for label in posting_labels},
        "trigger": {"calls_per_webhook": calls / posted, "ms_per_webhook": (trigger_after[1] - trigger_before[1]) / posted},
    }
    print(f"| per webhook (in-process, one thread, {len(rows[wo])} each) | without postings | "
          + " | ".join(f"{label} | difference" for label in posting_labels) + " |\n| --- | --- | "
          + " | ".join("--- | ---" for _ in posting_labels) + " |")
    for key in ("statements", "wall_ms", "cpu_ms", "sql_ms", "commit_ms"):
        b = mean(wo, key)
        cells = [f"{mean(label, key):.2f} | {mean(label, key) - b:+.2f} ({(mean(label, key) - b) / b:+.0%})"
                 for label in posting_labels]
        print(f"| {key} | {b:.2f} | " + " | ".join(cells) + " |")
    print(f"\nbalance trigger: {out['trigger']['calls_per_webhook']:.1f} calls, "
          f"{out['trigger']['ms_per_webhook']:.3f} ms per posted webhook")
    for label in posting_labels:
        print(f"{label}: receiver {mean(label, 'receiver_ms'):.2f} ms wall, of which {mean(label, 'receiver_sql_ms'):.2f}"
              f" ms in {mean(label, 'receiver_statements'):.1f} statements")
        for k, v in out["receiver_statements_by_kind"][label].items():
            print(f"    {k}: {v['count_per_webhook']} per webhook, {v['mean_ms']} ms each")
    print("checks:", json.dumps(checks))
    out["checks"] = checks
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
