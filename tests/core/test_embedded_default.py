"""The embedded default (``make run``: SQLite, no broker) runs the periodic jobs by itself.

``manage.py serve`` is what ``make run`` starts: the ASGI server with Celery's beat in a thread of
the same process (core/scheduler.py). An unpaid order past its window must be cancelled and give its
units back, and a flash offer past its end must end and give its units back, with nothing else
running: no worker, no beat process, no Redis.
"""

import json
import os
import pathlib
import socket
import subprocess
import sys
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]

SETUP = r"""
import datetime, json
from decimal import Decimal
from django.utils import timezone
from catalog.models import Product
from livestream.models import Offer, Stream
from livestream.services.offers import offer_start
from orders.checkout.plan import CheckoutAddress, CheckoutLine, order_create
from orders.models import Order
from accounts.models import User

stream = Stream.objects.select_related("merchant__user").order_by("pk").first()
Stream.objects.filter(pk=stream.pk).update(status="live", started_at=timezone.now())
product = Product.objects.filter(merchant=stream.merchant, status="listed").order_by("pk").first()
Product.objects.filter(pk=product.pk).update(stock=50)
offer = offer_start(stream_id=stream.pk, actor=stream.merchant.user, product_id=product.pk, price=Decimal("9.90"),
                    quantity=5, duration_s=10)
Offer.objects.filter(pk=offer.pk).update(ends_at=timezone.now() - datetime.timedelta(seconds=1))
buyer = User.objects.get(username="demo_consumer")
order = order_create(buyer=buyer, lines=[CheckoutLine(product_id=product.pk, quantity=3)],
                     address=CheckoutAddress(village_id=stream.merchant.village_id, detail="村口", recipient="张三",
                                             phone="13800138000"))
Order.objects.filter(pk=order.pk).update(payment_deadline=timezone.now() - datetime.timedelta(seconds=1))
print(json.dumps({"offer": offer.pk, "order": order.pk, "product": product.pk,
                  "stock": Product.objects.get(pk=product.pk).stock}))
"""

STATE = r"""
import json
from catalog.models import Product
from livestream.models import Offer
from orders.models import Order
print(json.dumps({{"offer": Offer.objects.get(pk={offer}).status, "order": Order.objects.get(pk={order}).status,
                  "stock": Product.objects.get(pk={product}).stock}}))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_the_embedded_default_expires_offers_and_cancels_unpaid_orders_by_itself(tmp_path):
    env = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "marketplace.settings", "DEBUG": "1",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "MEDIA_ROOT": str(tmp_path / "media"),
           "HOME": str(tmp_path), "PYTHONUNBUFFERED": "1"}

    def manage(*args, stdin=None):
        result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, input=stdin,
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
        return result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""

    manage("migrate", "--noinput")
    manage("seed_demo")
    made = json.loads(manage("shell", stdin=SETUP))
    # The offer took 5 units and the order 3 of the product's 50.
    assert made["stock"] == 50 - 5 - 3

    log = open(tmp_path / "serve.log", "w+")  # noqa: SIM115
    server = subprocess.Popen([sys.executable, "manage.py", "serve", "--port", str(_free_port())], cwd=ROOT, env=env,
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline, state = time.monotonic() + 90, {}
        while time.monotonic() < deadline:
            assert server.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
            state = json.loads(manage("shell", stdin=STATE.format(**made)))
            if state["order"] == "cancelled" and state["offer"] == "ended":
                break
            time.sleep(3)
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    assert state == {"offer": "ended", "order": "cancelled", "stock": 50}, (tmp_path / "serve.log").read_text()[-3000:]
