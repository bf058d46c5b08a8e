"""The embedded default (SQLite, ``make run``) writes the checkout's plan through the ORM.

PostgreSQL runs the checkout as two statements (orders/checkout/sql.py); everywhere else the same
plan is written by ``plan._write_orm``. This runs that path for real: a fresh SQLite database,
the demo seeded (its orders go through ``order_create``), then checkouts over HTTP, in a process
of its own with no DATABASE_URL and no REDIS_URL, as a newcomer's ``make run`` has.
"""

import json
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]

SCRIPT = r"""
import json
from django.db import connection
from django.test import Client
from catalog.models import Product
from orders.models import Order

assert connection.vendor == "sqlite", connection.vendor
client = Client(HTTP_HOST="127.0.0.1")
token = client.post("/api/auth/token", {"username": "demo_consumer", "password": PASSWORD},
                    content_type="application/json").json()["access"]
auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
product = Product.objects.filter(status="listed", stock__gte=5).order_by("pk").first()
village = product.merchant.village_id
stock = product.stock
body = {"items": [{"product": product.pk, "quantity": 2}],
        "address": {"village": village, "detail": "村口小卖部", "recipient": "张三", "phone": "13800138000"}}
first = client.post("/api/orders/", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1", **auth)
again = client.post("/api/orders/", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1", **auth)
too_many = dict(body, items=[{"product": product.pk, "quantity": 99}])
Product.objects.filter(pk=product.pk).update(stock=stock - 2 + 1)  # one unit left after the first order
refused = client.post("/api/orders/", too_many, content_type="application/json", **auth)
print(json.dumps({
    "first": [first.status_code, first.json()], "again": [again.status_code, again.json()],
    "refused": [refused.status_code, refused.json()],
    "orders": Order.objects.filter(buyer__username="demo_consumer").count(),
    "stock_after_first": Product.objects.get(pk=product.pk).stock, "stock_before": stock,
}))
"""


@pytest.mark.slow
def test_the_embedded_default_checks_out_through_the_orm(tmp_path):
    from accounts.demo import DEMO_PASSWORD

    env = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "marketplace.settings", "DEBUG": "1",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "MEDIA_ROOT": str(tmp_path / "media"),
           "HOME": str(tmp_path)}

    def manage(*args, stdin=None):
        result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, input=stdin,
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
        return result.stdout

    manage("migrate", "--noinput")
    seeded = manage("seed_demo")
    assert "seed_demo:" in seeded
    out = manage("shell", stdin=f"PASSWORD = {DEMO_PASSWORD!r}\n" + SCRIPT)
    figures = json.loads(out.strip().splitlines()[-1])

    status, order = figures["first"]
    assert status == 201, order
    assert order["status"] == "pending_payment" and len(order["merchant_orders"]) == 1
    assert figures["again"] == [201, order]  # the retry's answer is the first one, nothing new
    status, error = figures["refused"]
    assert status == 409 and error["error"]["code"] in {"out_of_stock", "pending_limit"}, error
    assert figures["stock_after_first"] == figures["stock_before"] - 2 + 1  # the refused order took nothing
    assert figures["orders"] >= 1
