"""Settings for the test suite: the production settings on real PostgreSQL and Redis.

Only defaults are set here; CUNBO_TEST_DATABASE_URL / CUNBO_TEST_REDIS_URL let
several checkouts run their suites side by side on one machine.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-" + "k" * 20)
os.environ.setdefault("PAYMENT_WEBHOOK_SECRET", "test-webhook-secret")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ["DATABASE_URL"] = os.environ.get("CUNBO_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cunbo")
os.environ["REDIS_URL"] = os.environ.get("CUNBO_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")

from .settings import *  # noqa: E402,F403
from .settings import DATABASES, STORAGES  # noqa: E402

ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
# Pooled connections cannot be shared with the test runner's transactions.
DATABASES["default"].get("OPTIONS", {}).pop("pool", None)
MEDIA_ROOT = os.environ.get("CUNBO_TEST_MEDIA_ROOT", "/tmp/cunbo-test-media")
# The app serves user files itself in the tests (as in development), so their headers can be checked.
SERVE_MEDIA = True
