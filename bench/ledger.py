"""Ledger benchmark: ``ledger_check()`` and a merchant's balance over a million entries.

Drops and re-creates a database of its own (``--database-url``, migrated by ``manage.py migrate``),
creates ~20 counties and ~500 shops with their ledger accounts through the ORM, then bulk-loads with
COPY a realistic history: orders with one to three merchant orders, each paid (a ``payment:<n>``
posting with the legs ``ledger.services.payment_post`` writes: cash, the shop's pending share,
commission, the county's service fee and delivery, the provider's fee; zero legs dropped), most of
them released (``release:<mo>``), some refunded before or after the release (``refund:<n>`` and
``refund_paid:<n>``), and their settlements, until at least ``--entries`` entries (whole orders). This is a benchmark of
the check, not of the writers, so the rows are written by COPY, not by ``post``; by default they go
through the deferred balance trigger (each COPY of ~100,000 entries commits with its postings, so
the database checks every posting at commit); ``--no-trigger`` loads with
``SET session_replication_role = replica`` instead (no trigger, no foreign-key check). Then VACUUM
ANALYZE (what autovacuum does to a table after a bulk load).

Timed, alternating, ``--repeat`` times (medians reported):

- baseline: ``SELECT count(*), sum(amount) FROM ledger_entry`` (one pass over the same rows);
- ``ledger.checks.ledger_check()`` in-process;
- ``manage.py ledger_check`` as a command, against a command of the same shape that runs only the
  baseline query (``manage.py shell -c …``: the same Django start-up);
- a shop's balance, ``ledger.postings.balance(merchant_pending(m))`` for random shops, against a
  primary-key read of the same ORM shape (``Entry.objects.filter(pk=…).aggregate(Sum)``), and the
  platform's commission account for scale; EXPLAIN (ANALYZE, BUFFERS) of the balance query.

    .venv/bin/python bench/ledger.py --entries 1000000

Prints a Markdown table, the plans and one line of JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CENT = Decimal("0.01")
BASELINE_SQL = "SELECT count(*), sum(amount) FROM ledger_entry"


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _env(args) -> dict:
    env = dict(os.environ)
    env.update({"DJANGO_SETTINGS_MODULE": "bench.settings", "DATABASE_URL": args.database_url,
                "DATABASE_POOL": "0", "PYTHONPATH": str(ROOT)})
    env.pop("REDIS_URL", None)  # the check needs no Redis
    return env


def _fresh_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


# --- the history --------------------------------------------------------------------------------------

class History:
    """Rows for COPY, generated the way the ledger's services would post them."""

    def __init__(self, *, rng: random.Random, merchants: list[tuple[int, int]], buyers: list[int], village: int,
                 accounts: dict[str, int], now):
        self.rng, self.merchants, self.buyers, self.village, self.acc, self.now = (rng, merchants, buyers, village,
                                                                                    accounts, now)
        self.orders: list[tuple] = []
        self.merchant_orders: list[tuple] = []
        self.settlements: list[tuple] = []
        self.postings: list[tuple] = []
        self.entries: list[tuple] = []
        self.entry_count = 0
        self.kinds: dict[str, int] = {}
        self.legs: dict[str, int] = {}
        self.mo_id = self.posting_id = self.refund_id = 0

    def _post(self, key: str, kind: str, at, legs: list[tuple[str, Decimal, int | None]], merchant_id=None) -> None:
        legs = [leg for leg in legs if leg[1]]
        assert sum(leg[1] for leg in legs) == 0, (key, legs)
        self.posting_id += 1
        self.postings.append((self.posting_id, key, kind, "", merchant_id, None, at))
        for code, amount, mo in legs:
            self.entries.append((self.posting_id, self.acc[code], amount, mo))
        self.entry_count += len(legs)
        self.kinds[kind] = self.kinds.get(kind, 0) + 1
        self.legs[kind] = self.legs.get(kind, 0) + len(legs)

    def order(self, order_id: int) -> None:
        rng = self.rng
        at = self.now - timedelta(days=rng.uniform(0, 180))
        k = rng.choices((1, 2, 3), weights=(80, 15, 5))[0]
        mos = []
        for merchant_id, county_id in rng.sample(self.merchants, k):
            items = Decimal(rng.randint(990, 30000)) / 100
            delivery = Decimal(0) if rng.random() < 0.3 else Decimal(rng.choice((5, 6, 8, 10, 12)))
            commission = cents(items * Decimal("0.05"))
            service = Decimal(0) if rng.random() < 0.2 else cents(items * Decimal("0.01"))
            self.mo_id += 1
            mos.append((self.mo_id, merchant_id, county_id, items, delivery, commission, service))
        items_total = sum(m[3] for m in mos)
        delivery_total = sum(m[4] for m in mos)
        total = items_total + delivery_total
        self.orders.append((order_id, "paid", items_total, delivery_total, total, "1号", "张三", "13800001234",
                            at + timedelta(minutes=30), at + timedelta(minutes=2), None, at,
                            rng.choice(self.buyers), None, self.village))
        paid = at + timedelta(minutes=2)
        legs = [("cash:sandbox", total, None)]
        for mo, merchant_id, county_id, items, delivery, commission, service in mos:
            legs += [(f"merchant:{merchant_id}:pending", -(items - commission - service), mo),
                     ("platform:commission", -commission, mo),
                     (f"county:{county_id}:service_fees", -service, mo),
                     (f"county:{county_id}:delivery", -delivery, mo)]
        fee = cents(total * Decimal("0.006"))
        legs += [("platform:provider_fees", fee, None), ("cash:sandbox", -fee, None)]
        self._post(f"payment:{order_id}", "payment", paid, legs)
        for mo, merchant_id, county_id, items, delivery, commission, service in mos:
            self._lifecycle(order_id, mo, merchant_id, county_id, items, delivery, commission, service, paid)

    def _refund(self, mo, merchant_id, county_id, account, amount, goods_before, items, delivery_left, commission,
                service, at) -> tuple[Decimal, Decimal]:
        goods = min(amount, items - goods_before)
        delivery = min(amount - goods, delivery_left)
        amount = goods + delivery
        if not amount:
            return Decimal(0), Decimal(0)
        after = goods_before + goods
        c = cents(commission * after / items) - cents(commission * goods_before / items)
        s = cents(service * after / items) - cents(service * goods_before / items)
        self.refund_id += 1
        self._post(f"refund:{self.refund_id}", "refund", at, [
            (account, goods - c - s, mo), ("platform:commission", c, mo), (f"county:{county_id}:service_fees", s, mo),
            (f"county:{county_id}:delivery", delivery, mo), ("platform:refunds_payable", -amount, mo)],
            merchant_id=merchant_id)
        self._post(f"refund_paid:{self.refund_id}", "refund_paid", at + timedelta(minutes=5), [
            ("platform:refunds_payable", amount, None), ("cash:sandbox", -amount, None)])
        return goods, delivery

    def _lifecycle(self, order_id, mo, merchant_id, county_id, items, delivery, commission, service, paid) -> None:
        rng = self.rng
        pending, available = f"merchant:{merchant_id}:pending", f"merchant:{merchant_id}:available"
        share = items - commission - service
        goods_refunded = delivery_refunded = Decimal(0)
        state, released_at, status, completed = "pending", None, "paid", None
        roll = rng.random()
        if roll < 0.08:  # refunded before the release: in full (cancelled) or in part (a dispute)
            amount = items + delivery if rng.random() < 0.5 else cents(items * Decimal(rng.uniform(0.1, 0.9)))
            g, d = self._refund(mo, merchant_id, county_id, pending, amount, Decimal(0), items, delivery, commission,
                                service, paid + timedelta(days=rng.uniform(0.1, 5)))
            goods_refunded, delivery_refunded = g, d
            if goods_refunded >= items:
                state, status = "closed", "refunded"
        if state != "closed" and paid < self.now - timedelta(days=14) and roll < 0.95:
            completed = paid + timedelta(days=rng.uniform(2, 6))
            released_at = completed + timedelta(days=7, minutes=15)
            left = share - (goods_refunded - (cents(commission * goods_refunded / items)
                                              + cents(service * goods_refunded / items)))
            self._post(f"release:{mo}", "release", released_at, [(pending, left, mo), (available, -left, mo)],
                       merchant_id=merchant_id)
            state, status = "available", "completed"
            if rng.random() < 0.02:  # a dispute decided after the release: from available
                amount = cents((items - goods_refunded) * Decimal(rng.uniform(0.2, 1.0)))
                if amount > 0:
                    g, d = self._refund(mo, merchant_id, county_id, available, amount, goods_refunded, items,
                                        delivery - delivery_refunded, commission, service,
                                        released_at + timedelta(days=rng.uniform(1, 20)))
                    goods_refunded, delivery_refunded = goods_refunded + g, delivery_refunded + d
        self.merchant_orders.append((mo, status, items, delivery, items + delivery, goods_refunded + delivery_refunded,
                                     commission, service, None, None, completed, merchant_id, order_id))
        self.settlements.append((mo, state, items, delivery, commission, service, goods_refunded, delivery_refunded,
                                 paid, released_at, merchant_id))


COLUMNS = {
    "orders_order": ("id", "status", "items_total", "delivery_total", "total", "address_detail", "recipient",
                     "recipient_phone", "payment_deadline", "paid_at", "cancelled_at", "created_at", "buyer_id",
                     "stream_id", "village_id"),
    "orders_merchantorder": ("id", "status", "items_total", "delivery_fee", "total", "refunded_amount", "commission",
                             "service_fee", "shipped_at", "delivered_at", "completed_at", "merchant_id", "order_id"),
    "ledger_settlement": ("merchant_order_id", "state", "goods", "delivery", "commission", "service_fee",
                          "goods_refunded", "delivery_refunded", "paid_at", "released_at", "merchant_id"),
    "ledger_posting": ("id", "key", "kind", "memo", "merchant_id", "actor_id", "created_at"),
    "ledger_entry": ("posting_id", "account_id", "amount", "merchant_order_id"),
}


def _copy(cursor, table: str, rows: list[tuple]) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(COLUMNS[table])}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _seed(args) -> dict:
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import Role, User
    from ledger import chart
    from ledger.postings import account_ids
    from merchants.models import Merchant
    from regions.models import Region

    rng = random.Random(args.seed)
    started = time.monotonic()
    villages = []
    for c in range(args.counties):
        county = Region.objects.create(name=f"账本县{c}", code=f"L{c}C", level="county", province="山东省")
        township = Region.objects.create(name=f"账本镇{c}", code=f"L{c}T", level="township", parent=county)
        villages.append(Region.objects.create(name=f"账本村{c}", code=f"L{c}V", level="village", parent=township))
    sellers = User.objects.bulk_create([User(username=f"ledger-seller-{i}", role=Role.MERCHANT, password="!")
                                        for i in range(args.merchants)])
    shops = [Merchant.objects.create(user=seller, shop_name=f"账本社{i}", kind="cooperative",
                                     village=villages[i % len(villages)], contact_phone="13700000000",
                                     status="approved") for i, seller in enumerate(sellers)]
    buyers = [u.pk for u in User.objects.bulk_create([User(username=f"ledger-buyer-{i}", role=Role.CONSUMER,
                                                           password="!") for i in range(2000)])]
    specs = [chart.provider_cash("sandbox"), chart.COMMISSION, chart.PROVIDER_FEES, chart.REFUNDS_PAYABLE]
    specs += [f(v.county_id) for v in villages for f in (chart.county_service_fees, chart.county_delivery)]
    specs += [f(m.pk) for m in shops for f in (chart.merchant_pending, chart.merchant_available)]
    accounts = account_ids(specs)
    history = History(rng=rng, merchants=[(m.pk, m.county_id) for m in shops], buyers=buyers, village=villages[0].pk,
                      accounts=accounts, now=timezone.now())
    order_id = 0
    while history.entry_count < args.entries:
        order_id += 1
        history.order(order_id)
    generated_s = time.monotonic() - started

    started = time.monotonic()
    with connection.cursor() as django_cursor:
        cursor = django_cursor.cursor  # psycopg's own, for COPY
        with transaction.atomic():
            if args.no_trigger:
                cursor.execute("SET LOCAL session_replication_role = replica")
            _copy(cursor, "orders_order", history.orders)
            _copy(cursor, "orders_merchantorder", history.merchant_orders)
            _copy(cursor, "ledger_settlement", history.settlements)
        # Postings with their entries, ~100,000 entries a transaction: the deferred trigger checks
        # every posting of a batch at its COMMIT.
        entries = history.entries
        by_posting_end: dict[int, int] = {}
        for i, entry in enumerate(entries):
            by_posting_end[entry[0]] = i + 1
        p0 = e0 = 0
        while p0 < len(history.postings):
            p1 = min(p0 + max(1, args.batch // 5), len(history.postings))
            e1 = by_posting_end.get(history.postings[p1 - 1][0], e0)
            with transaction.atomic():
                if args.no_trigger:
                    cursor.execute("SET LOCAL session_replication_role = replica")
                _copy(cursor, "ledger_posting", history.postings[p0:p1])
                _copy(cursor, "ledger_entry", entries[e0:e1])
            p0, e0 = p1, e1
        for table, column in (("orders_order", "id"), ("orders_merchantorder", "id"), ("ledger_posting", "id"),
                              ("ledger_entry", "id")):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                           f"(SELECT max({column}) FROM {table}))")
    loaded_s = time.monotonic() - started
    started = time.monotonic()
    connection.ensure_connection()
    raw = connection.connection
    autocommit = raw.autocommit
    raw.autocommit = True
    for table in ("ledger_entry", "ledger_posting", "ledger_settlement", "ledger_account", "orders_merchantorder",
                  "orders_order"):
        raw.execute(f"VACUUM ANALYZE {table}")
    raw.autocommit = autocommit
    vacuum_s = time.monotonic() - started
    return {"orders": len(history.orders), "merchant_orders": len(history.merchant_orders),
            "postings": len(history.postings), "entries": history.entry_count, "kinds": history.kinds,
            "legs_per_posting": {k: round(history.legs[k] / history.kinds[k], 2) for k in history.kinds},
            "merchants": len(shops), "counties": len(villages), "accounts": len(accounts),
            "generate_s": round(generated_s, 1), "load_s": round(loaded_s, 1), "vacuum_analyze_s": round(vacuum_s, 1),
            "through_trigger": not args.no_trigger, "merchant_ids": [m.pk for m in shops]}


# --- timings ------------------------------------------------------------------------------------------

def _timed(function) -> tuple[float, object]:
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def _baseline():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(BASELINE_SQL)
        return cursor.fetchone()


def _command(args, argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *argv], env=_env(args), cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def _balances(merchant_ids: list[int], *, n: int, rng: random.Random) -> dict:
    from django.db.models import Max, Sum

    from ledger import chart
    from ledger.models import Entry
    from ledger.postings import balance

    top = Entry.objects.aggregate(m=Max("pk"))["m"]
    balance_s, pk_s = [], []
    for _ in range(n):  # alternating
        m = rng.choice(merchant_ids)
        balance_s.append(_timed(lambda m=m: balance(chart.merchant_pending(m)))[0])
        pk = rng.randint(1, top)
        pk_s.append(_timed(lambda pk=pk: Entry.objects.filter(pk=pk).aggregate(total=Sum("amount")))[0])
    commission_s = [_timed(lambda: balance(chart.COMMISSION))[0] for _ in range(5)]
    return {"balance_ms": 1000 * statistics.median(balance_s), "pk_ms": 1000 * statistics.median(pk_s),
            "commission_ms": 1000 * statistics.median(commission_s), "n": n}


def _explain(merchant_id: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ledger import chart
    from ledger.postings import balance

    plans = {}
    for label, spec in (("merchant pending", chart.merchant_pending(merchant_id)), ("platform commission",
                                                                                    chart.COMMISSION)):
        with CaptureQueriesContext(connection) as captured:
            balance(spec)
        sql = captured.captured_queries[-1]["sql"]
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql)
            plans[label] = {"sql": sql, "plan": [row[0] for row in cursor.fetchall()]}
    from ledger.checks import ledger_check

    with CaptureQueriesContext(connection) as captured:
        ledger_check()
    for i, query in enumerate(captured.captured_queries, 1):
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + query["sql"])
            plans[f"ledger_check, query {i}"] = {"sql": query["sql"], "plan": [row[0] for row in cursor.fetchall()]}
    return plans


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--merchants", type=int, default=500)
    parser.add_argument("--counties", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3, help="alternating timings of the check and its baseline")
    parser.add_argument("--balances", type=int, default=300, help="balance reads (and as many pk reads)")
    parser.add_argument("--batch", type=int, default=100_000, help="entries per COPY transaction (about)")
    parser.add_argument("--no-trigger", action="store_true",
                        help="load with session_replication_role = replica (no balance trigger, no FK checks)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/cunbo_bench_ledger")
    args = parser.parse_args()

    env = _env(args)
    os.environ.update({k: env[k] for k in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "DATABASE_POOL")})
    os.environ.pop("REDIS_URL", None)
    _fresh_database(args.database_url)
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "-v", "0"], env=env, check=True,
                   cwd=ROOT)
    import django

    django.setup()
    from ledger.checks import ledger_check

    print(f"loading {args.entries:,} entries …", file=sys.stderr)
    seed = _seed(args)
    merchant_ids = seed.pop("merchant_ids")
    print(f"loaded: {json.dumps(seed)}", file=sys.stderr)

    _baseline()
    times: dict[str, list[float]] = {"baseline": [], "check": [], "command": [], "command_baseline": []}
    report = None
    shell_baseline = ["shell", "-c", "from django.db import connection; c = connection.cursor(); "
                      f"c.execute({BASELINE_SQL!r}); print(c.fetchone())"]
    for _ in range(args.repeat):
        seconds, _row = _timed(_baseline)
        times["baseline"].append(seconds)
        seconds, report = _timed(ledger_check)
        times["check"].append(seconds)
        times["command_baseline"].append(_command(args, shell_baseline))
        times["command"].append(_command(args, ["ledger_check"]))
    med = {k: statistics.median(v) for k, v in times.items()}
    balances = _balances(merchant_ids, n=args.balances, rng=random.Random(args.seed))
    plans = _explain(merchant_ids[0])

    ratio_check = med["check"] / med["baseline"]
    ratio_command = med["command"] / med["command_baseline"]
    ratio_balance = balances["balance_ms"] / balances["pk_ms"]
    print(f"{seed['entries']:,} entries in {seed['postings']:,} postings ({seed['orders']:,} orders, "
          f"{seed['merchant_orders']:,} merchant orders, {seed['merchants']} shops, {seed['counties']} counties); "
          f"loaded in {seed['load_s']} s {'through the balance trigger' if seed['through_trigger'] else 'without triggers'}"
          f", VACUUM ANALYZE {seed['vacuum_analyze_s']} s\n")
    print("| measure | median | baseline (same run) | ratio | target |\n| --- | --- | --- | --- | --- |")
    print(f"| `ledger_check()` in-process | {med['check']:.2f} s | `{BASELINE_SQL}` {med['baseline']:.2f} s | "
          f"{ratio_check:.1f} | < 60 s |")
    print(f"| `manage.py ledger_check` (command, start-up included) | {med['command']:.2f} s | the same query by "
          f"`manage.py shell -c` {med['command_baseline']:.2f} s | {ratio_command:.1f} | < 60 s |")
    print(f"| a shop's balance, `balance(merchant_pending(m))` | {balances['balance_ms']:.2f} ms | primary-key read "
          f"{balances['pk_ms']:.2f} ms | {ratio_balance:.1f} | |")
    print(f"| the platform's commission balance (one account, every payment) | {balances['commission_ms']:.1f} ms | "
          f"primary-key read {balances['pk_ms']:.2f} ms | {balances['commission_ms'] / balances['pk_ms']:.0f} | |\n")
    print(f"ledger_check: ok={report.ok} entries={report.entries} postings={report.postings} total={report.total} "
          f"problems={report.problems[:3]}\n")
    for label, plan in plans.items():
        print(f"EXPLAIN (ANALYZE, BUFFERS) — {label}:\n    {plan.get('sql', '')[:160]}")
        print("\n".join("    " + line for line in plan["plan"] if "Buffers" not in line or label.startswith("merchant"))
              + "\n")
    results = {"seed": seed, "times_s": times, "median_s": med, "ratios": {
        "check_vs_count_sum": ratio_check, "command_vs_shell_count_sum": ratio_command,
        "balance_vs_pk": ratio_balance}, "balances": balances, "plans": plans,
        "check": {"ok": report.ok, "entries": report.entries, "postings": report.postings, "total": str(report.total)},
        "config": {k: v for k, v in vars(args).items() if k != "database_url"} | {"cpus": os.cpu_count()}}
    print(json.dumps(results, ensure_ascii=False, default=str))
    return 0 if report.ok and med["check"] < 60 else 1


if __name__ == "__main__":
    sys.exit(main())
