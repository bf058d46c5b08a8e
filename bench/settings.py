"""Bench-only settings: the product's settings plus two baseline views (bench/urls.py).

Not used by the product; ``bench/checkout.py`` starts uvicorn with ``DJANGO_SETTINGS_MODULE=bench.settings``.
"""

import os

os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-" + "b" * 40)
os.environ.setdefault("PAYMENT_WEBHOOK_SECRET", "bench-only-webhook-secret")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")

from marketplace.settings import *  # noqa: E402,F403
from marketplace.settings import LOGGING, REST_FRAMEWORK  # noqa: E402

ROOT_URLCONF = "bench.urls"
ALLOWED_HOSTS = ["*"]
# Every 4xx is a WARNING line from django.request; thousands of sold-out answers a second would
# be measured as logging. Production wants the same (docs/orders-payments.md).
LOGGING["loggers"]["django.request"] = {"level": "ERROR"}
# The benchmark measures the checkout itself: its buyers all come from loopback and retry as fast as
# they can, which the per-address and per-buyer checkout limits exist to stop.
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"].update({"checkout_user": None, "checkout_ip": None})
# Its buyers also buy one unit again and again and never pay, which the caps on unpaid orders exist to
# stop (a run of 3000 units by 500 buyers
# needs 6 unpaid orders each, the quickest far more). The caps are still checked, in the
# same statement and at the same cost, only higher (unless set in the environment).
if "ORDERS_PENDING_MAX_ORDERS" not in os.environ:
    ORDERS_PENDING_MAX_ORDERS = 1000
if "ORDERS_PENDING_MIN_ITEM_UNITS" not in os.environ:
    ORDERS_PENDING_MIN_ITEM_UNITS = 1000
# bench/webhook.py's "without postings" phases: BENCH_LEDGER=0 adds a last app whose ready() takes the
# ledger's receiver off payments' payment_received (bench/apps.py). The product has no such switch.
if os.environ.get("BENCH_LEDGER", "1") == "0":
    INSTALLED_APPS = [*INSTALLED_APPS, "bench.apps.NoLedgerPostingsConfig"]  # noqa: F405
