"""Cunbo settings: one module, read from the environment.

Unset variables fall back to an embedded default (SQLite, in-memory channel
layer, local-memory cache, eager Celery) so the product runs with no services;
production names PostgreSQL and Redis through DATABASE_URL and REDIS_URL.
"""

import hmac
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _
from kombu import Exchange, Queue

from marketplace.storages import S3ConfigError, s3_media_url, s3_storages

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

SECRET_KEY = env("SECRET_KEY", default="")
DEBUG = env.bool("DEBUG", default=False)
if not SECRET_KEY:
    if not DEBUG:
        raise environ.ImproperlyConfigured("Set SECRET_KEY (or DEBUG=1 for a local run).")
    SECRET_KEY = "insecure-local-development-key-" + "x" * 32
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
PAYMENT_WEBHOOK_SECRET = env("PAYMENT_WEBHOOK_SECRET", default="")
if not PAYMENT_WEBHOOK_SECRET:
    if not DEBUG:
        raise environ.ImproperlyConfigured("Set PAYMENT_WEBHOOK_SECRET (or DEBUG=1 for a local run).")
    PAYMENT_WEBHOOK_SECRET = "local-webhook-secret"

INSTALLED_APPS = [
    "marketplace.apps.CunboAdminConfig",  # django.contrib.admin with the guarded sign-in
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework_simplejwt",  # for its translations (its token errors in zh-hans)
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_htmx",
    "core",
    "regions",
    "accounts",
    "merchants",
    "catalog",
    "livestream",
    "orders",
    "farming",
    "payments",
    "ledger",
    "payouts",
    "logistics",
    "notifications",
    "insights",
    "pages",
    "figures",
]

MIDDLEWARE = [
    "core.proxy.TrustedProxyMiddleware",  # first: everything after it sees the client's own address
    "core.logs.RequestIdMiddleware",
    "core.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.middleware.RequestSizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "core.input_guard.InputGuardMiddleware",  # NUL, control characters, lone surrogates: 400 (core/text.py)
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",  # the pages: request.htmx
]

ROOT_URLCONF = "marketplace.urls"
ASGI_APPLICATION = "marketplace.asgi.application"
WSGI_APPLICATION = "marketplace.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------
# PostgreSQL in production. Under ASGI every sync request runs in a fresh
# thread, so persistent connections (CONN_MAX_AGE > 0) leak one connection per
# request; Django's psycopg pool is used instead (docs/benchmarks.md).
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = 0
DATABASES["default"].setdefault("TEST", {})
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {})
    if env.bool("DATABASE_POOL", default=True):
        DATABASES["default"]["OPTIONS"]["pool"] = {
            "min_size": env.int("DATABASE_POOL_MIN", default=2),
            "max_size": env.int("DATABASE_POOL_MAX", default=20),
            "timeout": env.float("DATABASE_POOL_TIMEOUT", default=10.0),
        }
        # With a pool, Django turns this into the pool's connection check: one cheap
        # round trip per checkout replaces connections the server dropped (restart,
        # failover, pg_terminate_backend) before a request sees them.
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("DATABASE_POOL_CHECK", default=True)
USING_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache, channel layer, Celery -------------------------------------
REDIS_URL = env("REDIS_URL", default="")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "cunbo",
            "OPTIONS": {"max_connections": 200, "socket_timeout": 2, "socket_connect_timeout": 2},
        }
    }
    # redis-py's pool default (100) and 5 s socket timeout break channels-redis
    # under bursts of connects (shared/baselines.md): size them explicitly.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "max_connections": 1000, "socket_timeout": 30}],
                "capacity": 1000,
                "expiry": 60,
                "group_expiry": 3600,
                "prefix": "cunbo:ws",
            },
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "cunbo"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_RESULT_BACKEND = "cache+memory://"
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_EAGER_PROPAGATES = True

CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 4
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
# Two queues, so a backlog of one kind never delays the other: the notification outbox
# (many, small, user-facing) and everything else (sweeps, refunds, expiries). A worker started
# without -Q consumes both; production runs one worker per queue (docker-compose.yml).
# Payouts (docs/payouts.md). The payout provider's result callbacks are signed with this secret
# (payments/signature.py's scheme); unset, one is derived from SECRET_KEY, so it is never empty.
PAYOUT_CALLBACK_SECRET = env("PAYOUT_CALLBACK_SECRET", default="") or hmac.new(
    SECRET_KEY.encode(), b"cunbo payout callbacks", "sha256").hexdigest()
# When the batch pays everything available out: a crontab "minute hour day-of-month month day-of-week"
# in CELERY_TIMEZONE (Asia/Shanghai); by default every Monday at 03:00.
PAYOUT_SCHEDULE = crontab(**dict(zip(("minute", "hour", "day_of_month", "month_of_year", "day_of_week"),
                                     env("PAYOUT_SCHEDULE", default="0 3 * * mon").split(), strict=True)))

CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES = tuple(Queue(name, Exchange(name), routing_key=name) for name in ("default", "notifications"))
CELERY_TASK_ROUTES = {"notifications.*": {"queue": "notifications"}}
# Nothing reads a task's return value: every task records its outcome in the database.
CELERY_TASK_IGNORE_RESULT = True
# A task past its soft limit gets SoftTimeLimitExceeded (its transaction rolls back, acks_late
# redelivers it); one past the hard limit is killed and its worker process replaced.
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=120)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=180)
# Periodic work: each entry calls a service that acts on a bounded batch.
CELERY_BEAT_SCHEDULE = {
    "purge-idempotency-keys": {"task": "core.purge_idempotency_keys", "schedule": timedelta(hours=1)},
    # CELERY_TIMEZONE: Asia/Shanghai
    "merchants-credentials-daily": {"task": "merchants.credentials_daily", "schedule": crontab(hour=1, minute=30)},
    "livestream-sweep": {"task": "livestream.sweep", "schedule": timedelta(seconds=10)},
    "orders-expire-unpaid": {"task": "orders.expire_unpaid", "schedule": timedelta(seconds=30)},
    "orders-auto-confirm": {"task": "orders.auto_confirm", "schedule": timedelta(hours=1)},
    "orders-escalate-disputes": {"task": "orders.escalate_disputes", "schedule": timedelta(minutes=1)},
    "farming-adoption-deliveries": {"task": "farming.adoption_deliveries", "schedule": timedelta(minutes=15)},
    "payments-retry-refunds": {"task": "payments.retry_refunds", "schedule": timedelta(minutes=5)},
    "payments-query-stuck": {"task": "payments.query_stuck", "schedule": timedelta(minutes=5)},
    "payments-wechatpay-certificates": {"task": "payments.wechatpay_certificates",
                                        "schedule": timedelta(hours=12)},
    "ledger-release-due": {"task": "ledger.release_due", "schedule": timedelta(minutes=15)},
    "ledger-flag-negative-balances": {"task": "ledger.flag_negative_balances",
                                      "schedule": crontab(hour=2, minute=15)},
    "ledger-reconcile-yesterday": {"task": "ledger.reconcile_yesterday", "schedule": crontab(hour=10, minute=30)},
    "payouts-build-batch": {"task": "payouts.build_batch", "schedule": PAYOUT_SCHEDULE},
    "payouts-retry-transfers": {"task": "payouts.retry_transfers", "schedule": timedelta(minutes=5)},
    "payouts-query-sent": {"task": "payouts.query_sent", "schedule": timedelta(minutes=10)},
    "logistics-flag-overdue": {"task": "logistics.flag_overdue_shipments", "schedule": timedelta(minutes=5)},
    "notifications-purge-deliveries": {"task": "notifications.purge_deliveries", "schedule": timedelta(hours=1)},
    "insights-drain-interactions": {"task": "insights.drain_interactions",
                                    "schedule": timedelta(seconds=env.int("INSIGHTS_DRAIN_SECONDS", default=30))},
    "insights-purge-interactions": {"task": "insights.purge_interactions", "schedule": timedelta(hours=1)},
    "figures-refresh": {"task": "figures.refresh", "schedule": timedelta(minutes=15)},
    "insights-build": {"task": "insights.build", "schedule": crontab(hour=3, minute=30)},
    "notifications-sweep-outbox": {"task": "notifications.sweep_outbox",
                                   "schedule": timedelta(seconds=env.int("NOTIFICATIONS_SWEEP_SECONDS", default=30))},
}

# --- Auth --------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
# The pages (pages/) sign in with a Django session and CSRF; the API keeps its bearer tokens.
LOGIN_URL = "pages:sign-in"
LOGIN_REDIRECT_URL = "pages:home"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=30)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "UPDATE_LAST_LOGIN": False,
    # A refresh answers a new refresh token and ends the old one; the old one used again ends every
    # token of its user (reuse detection, accounts/tokens.py). Every token carries the user's
    # token_version ("ver"), checked by core/jwt_auth.py on HTTP and on the sockets.
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "TOKEN_OBTAIN_SERIALIZER": "accounts.serializers.TokenObtainInput",
}
# A signed-in socket re-reads its user's is_active and token_version this often (core/ws_auth.py).
WS_AUTH_RECHECK_S = env.float("WS_AUTH_RECHECK_S", default=30.0)

# --- i18n / time ---------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and media ------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# User files: in production MEDIA_URL is another origin (a storage bucket or CDN host) so that an
# uploaded file can never run as a page of the API's origin (core/checks.py warns otherwise).
MEDIA_URL = env.str("MEDIA_URL", default="media/")
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
WHITENOISE_USE_FINDERS = DEBUG
# Two named storages (core/storage.py): "public" (product images, stream covers, shop logos) and
# "private" (credentials, inspection reports, dispute photos). Embedded default: both on the local disk
# (MEDIA_ROOT, MEDIA_URL), as "default" is. With S3_ENDPOINT_URL, S3_PUBLIC_BUCKET and S3_PRIVATE_BUCKET
# set they are S3-compatible buckets (django-storages): the public one read straight from its URL (or
# S3_PUBLIC_BASE_URL, a CDN in front of it), the private one only through signed URLs that expire after
# S3_SIGNED_URL_SECONDS; files the code does not route ("default") go to the private bucket.
_LOCAL_MEDIA = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _LOCAL_MEDIA,
    "public": _LOCAL_MEDIA,
    "private": _LOCAL_MEDIA,
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
S3_ENDPOINT_URL = env("S3_ENDPOINT_URL", default="").rstrip("/")
S3_PUBLIC_BUCKET = env("S3_PUBLIC_BUCKET", default="")
S3_PRIVATE_BUCKET = env("S3_PRIVATE_BUCKET", default="")
S3_PUBLIC_BASE_URL = env("S3_PUBLIC_BASE_URL", default="")
S3_SIGNED_URL_SECONDS = env.int("S3_SIGNED_URL_SECONDS", default=300)
S3_ENABLED = bool(S3_ENDPOINT_URL or S3_PUBLIC_BUCKET or S3_PRIVATE_BUCKET)
if S3_ENABLED:
    try:
        STORAGES["public"], STORAGES["private"] = s3_storages(
            endpoint_url=S3_ENDPOINT_URL, public_bucket=S3_PUBLIC_BUCKET, private_bucket=S3_PRIVATE_BUCKET,
            access_key=env("S3_ACCESS_KEY_ID", default=""), secret_key=env("S3_SECRET_ACCESS_KEY", default=""),
            region=env("S3_REGION", default="us-east-1"), addressing_style=env("S3_ADDRESSING_STYLE", default="path"),
            public_base_url=S3_PUBLIC_BASE_URL, signed_url_seconds=S3_SIGNED_URL_SECONDS,
            public_acl=env("S3_PUBLIC_ACL", default=""))
    except S3ConfigError as error:
        raise environ.ImproperlyConfigured(str(error)) from None
    STORAGES["default"] = STORAGES["private"]
    MEDIA_URL = s3_media_url(endpoint_url=S3_ENDPOINT_URL, public_bucket=S3_PUBLIC_BUCKET,
                             public_base_url=S3_PUBLIC_BASE_URL)
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=5 * 1024 * 1024)
UPLOAD_MAX_IMAGE_PIXELS = env.int("UPLOAD_MAX_IMAGE_PIXELS", default=40_000_000)
# The app serves MEDIA_ROOT itself (core/media.py: attachment, nosniff, never private/) in development
# and in the embedded single-process run; production points MEDIA_URL at another origin instead.
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=DEBUG and not S3_ENABLED)
# Whole-request ceiling, checked against Content-Length before the body is read.
MAX_REQUEST_BYTES = env.int("MAX_REQUEST_BYTES", default=12 * 1024 * 1024)

# --- REST framework ------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.AccessTokenAuthentication",  # core.jwt_auth's rule, the user read by one SELECT
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    # JSON only, DRF's with core.text's checks (NUL, surrogates, depth, integers); the views that take a
    # file add multipart, the media server's hooks take a form (core.parsers.UPLOAD_PARSERS, FORM_PARSERS).
    "DEFAULT_PARSER_CLASSES": ["core.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "core.schema.AutoSchema",  # error answers, money signs (core/schema.py)
    "EXCEPTION_HANDLER": "core.errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "register_ip": env("THROTTLE_REGISTER_IP", default="10/hour"),
        "password_change": env("THROTTLE_PASSWORD_CHANGE", default="5/min"),
        "checkout_user": env("THROTTLE_CHECKOUT_USER", default="30/min"),
        "checkout_ip": env("THROTTLE_CHECKOUT_IP", default="300/min"),
        "trace_ip": env("THROTTLE_TRACE_IP", default="60/min"),
    },
    # REMOTE_ADDR is already the client's (core.proxy): DRF reads it and nothing else.
    "NUM_PROXIES": 0,
    "COERCE_DECIMAL_TO_STRING": True,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",  # APIClient speaks as the API listens
}

# Password sign-ins, API and admin alike (accounts/login_guard.py): free failures per account, then a
# back-off of 2, 4, 8 … seconds up to the cap; failures per client address in a window.
LOGIN_GUARD_FREE_FAILURES = env.int("LOGIN_GUARD_FREE_FAILURES", default=5)
LOGIN_GUARD_MAX_WAIT_S = env.int("LOGIN_GUARD_MAX_WAIT_S", default=15 * 60)
LOGIN_GUARD_MEMORY_S = env.int("LOGIN_GUARD_MEMORY_S", default=24 * 3600)
LOGIN_GUARD_KNOWN_S = env.int("LOGIN_GUARD_KNOWN_S", default=30 * 24 * 3600)
LOGIN_GUARD_ADDRESS_FAILURES = env.int("LOGIN_GUARD_ADDRESS_FAILURES", default=20)
LOGIN_GUARD_ADDRESS_WINDOW_S = env.int("LOGIN_GUARD_ADDRESS_WINDOW_S", default=15 * 60)

SPECTACULAR_SETTINGS = {
    "TITLE": "Cunbo API",
    "DESCRIPTION": "村播 — the API of a rural livestream marketplace. See the README for the conventions.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/",
    # Readable operation ids and the Idempotency-Key's 422 (core/schema.py), after the enum hook.
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "core.schema.postprocess"],
    # Enum names in the schema (clients generate types from them): one per choice set.
    "ENUM_NAME_OVERRIDES": {
        "MerchantKindEnum": "merchants.models.Merchant.Kind",
        "MerchantStatusEnum": "merchants.models.Merchant.Status",
        "CredentialKindEnum": "merchants.models.Credential.Kind",
        "CredentialStatusEnum": "merchants.models.Credential.Status",
        "ProductStatusEnum": "catalog.models.Product.Status",
        "ClaimEnum": "catalog.models.Claim",
        "StreamStatusEnum": "livestream.models.Stream.Status",
        "OfferStatusEnum": "livestream.models.Offer.Status",
        "OfferEndReasonEnum": "livestream.models.Offer.EndReason",
        "OrderStatusEnum": "orders.models.Order.Status",
        "MerchantOrderStatusEnum": "orders.models.MerchantOrder.Status",
        "DisputeStatusEnum": "orders.models.Dispute.Status",
        "PaymentStatusEnum": "payments.models.Payment.Status",
        "RefundStatusEnum": "payments.models.Refund.Status",
        "HubKindEnum": "logistics.models.Hub.Kind",
        "ShipmentStatusEnum": "logistics.models.Shipment.Status",
        "ScanStatusEnum": "logistics.serializers.SCAN_STATUS_CHOICES",
        "ShipmentFailureReasonEnum": "logistics.models.Shipment.FailureReason",
        "DispatchKindEnum": "logistics.models.Dispatch.Kind",
        "DispatchStatusEnum": "logistics.models.Dispatch.Status",
        "PayoutAccountKindEnum": "payouts.models.PayoutAccount.Kind",
        "PayoutAccountStatusEnum": "payouts.models.PayoutAccount.Status",
        "PayoutStatusEnum": "payouts.models.Payout.Status",
        "AdoptionKindEnum": "farming.models.Adoption.Kind",
    },
}

# --- Security (production-safe by default) ---------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (IPs or CIDRs; core/proxy.py).
# uvicorn reads the same variable for the sockets; nginx's address in production, never "*".
FORWARDED_ALLOW_IPS = env.list("FORWARDED_ALLOW_IPS", default=["127.0.0.1", "::1"])
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^api/health/", r"^api/streams/hooks/"]  # probes and the media server, inside
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# One line per event, with the request id that caused it (core/logs.py); JSON in production.
LOG_FORMAT = env("LOG_FORMAT", default="plain" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # redact: token=, secret=, access=, refresh=, password= values never reach a log line
    # (core/logfilters.py; also installed on uvicorn's and Celery's own handlers).
    "filters": {"request_id": {"()": "core.logs.RequestIdFilter"}, "redact": {"()": "core.logfilters.RedactSecrets"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "core.logs.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT,
                             "filters": ["redact", "request_id"]}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Operations ------------------------------------------------------------------
# /metrics (core/metrics.py): answered to these peer addresses, or to `Authorization: Bearer <token>`.
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=["127.0.0.1", "::1"])
METRICS_TOKEN = env("METRICS_TOKEN", default="")
# Errors to Sentry (or GlitchTip, which speaks its protocol) when a DSN is set; nothing is sent without.
SENTRY_DSN = env("SENTRY_DSN", default="")
if SENTRY_DSN:
    import sentry_sdk

    sentry_sdk.init(dsn=SENTRY_DSN, environment=env("SENTRY_ENVIRONMENT", default="production"),
                    traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
                    send_default_pii=False)

# --- Domain settings ---------------------------------------------------------------
# Each app keeps its settings in its own block below, so changes stay apart.

# core
# Sealed personal numbers (core/sealing.py): Fernet keys, newest first; a digest key for look-ups.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
FIELD_LOOKUP_KEY = env("FIELD_LOOKUP_KEY", default="")
IDEMPOTENCY_KEY_TTL = timedelta(hours=24)
IDEMPOTENCY_IN_PROGRESS_TIMEOUT = timedelta(seconds=env.int("IDEMPOTENCY_IN_PROGRESS_TIMEOUT_S", default=60))

# merchants and catalog
# Credentials: the daily run expires past-date documents (withdrawing the claims they back)
# and reminds shops 30 and 7 days before; each call handles at most this many.
CREDENTIAL_EXPIRY_BATCH = env.int("CREDENTIAL_EXPIRY_BATCH", default=200)
# A listed product whose price moves by more than this fraction goes back to review.
CATALOG_PRICE_REVIEW_THRESHOLD = Decimal(env("CATALOG_PRICE_REVIEW_THRESHOLD", default="0.20"))
CATALOG_MAX_IMAGES = 9
# What a trace QR code points at: "{code}" is replaced. Empty: the absolute API URL of the trace page.
TRACE_PUBLIC_URL = env("TRACE_PUBLIC_URL", default="")

# livestream
# The media server's hooks carry this shared secret (?secret=…); empty refuses every hook.
MEDIA_HOOK_SECRET = env("MEDIA_HOOK_SECRET", default="")
# Optional source-address allow-list for the hooks (IPs or CIDRs); empty allows any address.
MEDIA_HOOK_ALLOWED_ADDRS = env.list("MEDIA_HOOK_ALLOWED_ADDRS", default=[])
# The rtmp application the media server runs (deploy/nginx-rtmp.conf.template: `application live`).
STREAM_INGEST_APP = "live"
# What encoders push to (…/<stream_key>) and where viewers play HLS (…/<playback_id>.m3u8).
STREAM_INGEST_URL = env("STREAM_INGEST_URL", default="rtmp://localhost:1935/live")
STREAM_PLAYBACK_BASE_URL = env("STREAM_PLAYBACK_BASE_URL", default="http://localhost:8080/hls")
# Room fan-out: "hub" = one Redis subscription per stream per process writing one
# pre-serialized frame to the local sockets (docs/live-room.md); "layer" = Channels groups.
LIVE_ROOM_FANOUT = env("LIVE_ROOM_FANOUT", default="hub" if REDIS_URL else "layer")
if LIVE_ROOM_FANOUT not in ("hub", "layer"):
    raise environ.ImproperlyConfigured("LIVE_ROOM_FANOUT must be hub or layer.")
if LIVE_ROOM_FANOUT == "hub" and not REDIS_URL:
    raise environ.ImproperlyConfigured("LIVE_ROOM_FANOUT=hub needs REDIS_URL.")
# Bench only: LIVE_CHANNEL_LAYER=pubsub swaps the layer for RedisPubSubChannelLayer (docs/benchmarks.md).
if REDIS_URL and env("LIVE_CHANNEL_LAYER", default="") == "pubsub":
    CHANNEL_LAYERS["default"] = {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [{"address": REDIS_URL}], "prefix": "cunbo:ws"},
    }
# Every socket's frame cap, enforced by the application whatever the server's --ws-max-size
# (core/frames.py); a consumer may set a smaller one (the live room's, the notifications socket's).
WS_MAX_FRAME_BYTES = env.int("WS_MAX_FRAME_BYTES", default=64 * 1024)
# Open sockets per client address, both routes (core/ws_limits.py; 0: no limit); the count's TTL
# bounds what a crashed process leaves counted.
WS_MAX_SOCKETS_PER_ADDRESS = env.int("WS_MAX_SOCKETS_PER_ADDRESS", default=20)
WS_ADDRESS_COUNT_TTL_S = env.int("WS_ADDRESS_COUNT_TTL_S", default=6 * 3600)
LIVE_ROOM_MAX_FRAME_BYTES = env.int("LIVE_ROOM_MAX_FRAME_BYTES", default=4096)
LIVE_ROOM_SEND_QUEUE = 500  # frames queued for one slow socket before it is closed
# After a Redis call of the room fails (Redis paused or away), skip Redis this long before trying again.
LIVE_ROOM_REDIS_RETRY_AFTER = env.float("LIVE_ROOM_REDIS_RETRY_AFTER", default=2.0)
LIVE_CHAT_MAX_LENGTH = 200
# At most LIVE_CHAT_RATE_LIMIT lines per user per LIVE_CHAT_RATE_WINDOW_S seconds in one room.
LIVE_CHAT_RATE_LIMIT = env.int("LIVE_CHAT_RATE_LIMIT", default=5)
LIVE_CHAT_RATE_WINDOW_S = 10
# Refused in chat (case-insensitive substrings): taking the sale off the platform, fraud.
LIVE_CHAT_BANNED_WORDS = env.list("LIVE_CHAT_BANNED_WORDS", default=["加微信", "加v", "私下交易", "刷单", "返现"])
LIVE_VIEWER_HEARTBEAT_S = 10  # each process refreshes its sockets' presence this often
LIVE_VIEWER_TTL_S = 30  # a socket not refreshed for this long (a crashed process) stops counting
LIVE_VIEWERS_INTERVAL_S = 1.0  # stream.viewers at most once per this, per stream
LIVE_OFFER_MIN_DURATION_S = 10
LIVE_OFFER_MAX_DURATION_S = 3600
LIVE_STREAM_MAX_PRODUCTS = 50

# orders and payments (docs/orders-payments.md)
ORDERS_PAYMENT_WINDOW = timedelta(minutes=env.int("ORDERS_PAYMENT_WINDOW_MINUTES", default=15))
# An order with flash-offer units holds scarce units: it has a shorter window (never longer than the other).
ORDERS_OFFER_PAYMENT_WINDOW = min(ORDERS_PAYMENT_WINDOW,
                                  timedelta(minutes=env.int("ORDERS_OFFER_PAYMENT_WINDOW_MINUTES", default=5)))
# What one buyer may hold in unpaid orders (orders/services/holds.py, docs/orders-payments.md): orders and
# units in all, and units of one product (or one flash offer): a share of what is on sale, never below a floor.
ORDERS_PENDING_MAX_ORDERS = env.int("ORDERS_PENDING_MAX_ORDERS", default=5)
ORDERS_PENDING_MAX_UNITS = env.int("ORDERS_PENDING_MAX_UNITS", default=100)
ORDERS_PENDING_MAX_SHARE = Decimal(env("ORDERS_PENDING_MAX_SHARE", default="0.25"))
ORDERS_PENDING_MIN_ITEM_UNITS = env.int("ORDERS_PENDING_MIN_ITEM_UNITS", default=10)
ORDERS_MAX_LINES = 20
ORDERS_MAX_LINE_QUANTITY = 99
# Delivery fee per merchant order by how far the parcel travels (docs/orders-payments.md).
ORDERS_DELIVERY_FEE_SAME_COUNTY = Decimal("3.00")
ORDERS_DELIVERY_FEE_SAME_PROVINCE = Decimal("8.00")
ORDERS_DELIVERY_FEE_OTHER_PROVINCE = Decimal("12.00")
ORDERS_FREE_DELIVERY_FROM = Decimal("99.00")  # items total of one merchant order, same county only
ORDERS_AUTO_CONFIRM_AFTER = timedelta(days=env.int("ORDERS_AUTO_CONFIRM_DAYS", default=7))
ORDERS_DISPUTE_RESPONSE_WINDOW = timedelta(hours=env.int("ORDERS_DISPUTE_RESPONSE_HOURS", default=48))
ORDERS_DISPUTE_MAX_PHOTOS = 6
ORDERS_SWEEP_BATCH = 200
# Adoptions (docs/orders-payments.md): a delivery this many days away or more can still be cancelled
# and refunded pro rata; the beat sweeps act on this many rows per run.
FARMING_ADOPTION_CUTOFF_DAYS = env.int("FARMING_ADOPTION_CUTOFF_DAYS", default=3)
FARMING_SWEEP_BATCH = 200
# What the platform and the merchant's county keep of the goods when no commission rule applies
# (orders/commission.py; admins keep the rules).
ORDERS_DEFAULT_COMMISSION_RATE = Decimal(env("ORDERS_DEFAULT_COMMISSION_RATE", default="0.05"))
ORDERS_DEFAULT_SERVICE_FEE_RATE = Decimal(env("ORDERS_DEFAULT_SERVICE_FEE_RATE", default="0.01"))
# The hot-offer gate in Redis; PostgreSQL stays the truth and an unreachable Redis means the DB path.
ORDERS_GATE_REDIS_URL = env("ORDERS_GATE_REDIS_URL", default=REDIS_URL)
ORDERS_GATE_SOCKET_TIMEOUT = env.float("ORDERS_GATE_SOCKET_TIMEOUT", default=1.0)
ORDERS_GATE_MAX_CONNECTIONS = env.int("ORDERS_GATE_MAX_CONNECTIONS", default=64)  # per process; callers queue
ORDERS_GATE_RETRY_AFTER = env.float("ORDERS_GATE_RETRY_AFTER", default=5.0)
# Checkouts of one server process in the database at once (the rest wait, off the GIL).
ORDERS_CHECKOUT_CONCURRENCY = env.int("ORDERS_CHECKOUT_CONCURRENCY", default=8)
ORDERS_CHECKOUT_QUEUE_TIMEOUT = env.float("ORDERS_CHECKOUT_QUEUE_TIMEOUT", default=15.0)
# The real channels (docs/orders-payments.md, "Payment channels"): each is enabled only when every
# one of its required keys is set; `check --deploy` names a channel left disabled.
WECHATPAY = {
    "mchid": env("WECHATPAY_MCHID", default=""),
    "appid": env("WECHATPAY_APPID", default=""),
    "apiv3_key": env("WECHATPAY_APIV3_KEY", default=""),
    "private_key": env("WECHATPAY_PRIVATE_KEY", default=""),  # PEM text, or the path of a PEM file
    "cert_serial": env("WECHATPAY_CERT_SERIAL", default=""),
    "notify_url": env("WECHATPAY_NOTIFY_URL", default=""),
    "base_url": env("WECHATPAY_BASE_URL", default="https://api.mch.weixin.qq.com"),
}
ALIPAY = {
    "app_id": env("ALIPAY_APP_ID", default=""),
    "seller_id": env("ALIPAY_SELLER_ID", default=""),
    "private_key": env("ALIPAY_PRIVATE_KEY", default=""),  # PEM text, or the path of a PEM file
    "public_key": env("ALIPAY_PUBLIC_KEY", default=""),  # Alipay's public key, not ours
    "notify_url": env("ALIPAY_NOTIFY_URL", default=""),
    "return_url": env("ALIPAY_RETURN_URL", default=""),
    "gateway_url": env("ALIPAY_GATEWAY_URL", default="https://openapi.alipay.com/gateway.do"),
}
WECHATPAY_REQUIRED = ("mchid", "appid", "apiv3_key", "private_key", "cert_serial", "notify_url")
ALIPAY_REQUIRED = ("app_id", "seller_id", "private_key", "public_key", "notify_url")
PAYMENT_CHANNEL_TIMEOUT_S = env.float("PAYMENT_CHANNEL_TIMEOUT_S", default=10.0)
PAYMENT_CHANNEL_RETRY_AFTER_S = 30  # the Retry-After of a 503 when a channel is down
PAYMENT_PROVIDERS = {"sandbox": "payments.providers.sandbox.SandboxProvider"}
if all(WECHATPAY[key] for key in WECHATPAY_REQUIRED):
    PAYMENT_PROVIDERS["wechatpay"] = "payments.providers.wechatpay.WechatPayProvider"
if all(ALIPAY[key] for key in ALIPAY_REQUIRED):
    PAYMENT_PROVIDERS["alipay"] = "payments.providers.alipay.AlipayProvider"
PAYMENT_DEFAULT_PROVIDER = "sandbox"
PAYMENT_WEBHOOK_TOLERANCE_S = 300
# What each provider keeps of a payment (the ledger posts it as an expense; the settlement file shows it).
PAYMENT_FEE_RATES = {"sandbox": Decimal(env("PAYMENT_SANDBOX_FEE_RATE", default="0.006")),
                     "wechatpay": Decimal(env("WECHATPAY_FEE_RATE", default="0.006")),
                     "alipay": Decimal(env("ALIPAY_FEE_RATE", default="0.006"))}
# Settlement (docs/ledger.md): a completed merchant order's share becomes available this long after
# completion, if no dispute is active; a balance negative this long is flagged to the admins.
LEDGER_RETURN_WINDOW = timedelta(days=env.int("LEDGER_RETURN_WINDOW_DAYS", default=7))
LEDGER_NEGATIVE_FLAG_AFTER = timedelta(days=env.int("LEDGER_NEGATIVE_FLAG_DAYS", default=7))
# A payment still pending this long is asked about at its provider (payments.query_stuck), up to
# PAYMENT_QUERY_HORIZON after it was opened; an abandoned one is not asked about for ever.
PAYMENT_QUERY_AFTER = timedelta(minutes=env.int("PAYMENT_QUERY_AFTER_MINUTES", default=10))
PAYMENT_QUERY_HORIZON = timedelta(hours=env.int("PAYMENT_QUERY_HORIZON_HOURS", default=24))
# What the sandbox provider itself keeps (its settlement file's fee column): the rate above, one
# environment variable for both; apart, reconciling sees a provider charging other than agreed.
PAYMENT_SANDBOX_FEE_RATE = PAYMENT_FEE_RATES["sandbox"]
# Payouts (docs/payouts.md): the smallest payout (a request or the batch's), the providers, how long a
# sent payout waits for its callback before the provider is asked, when an unaccepted transfer is sent again.
PAYOUT_MINIMUM = Decimal(env("PAYOUT_MINIMUM", default="10.00"))
PAYOUT_PROVIDERS = {"sandbox": "payouts.providers.sandbox.SandboxPayoutProvider"}
PAYOUT_DEFAULT_PROVIDER = "sandbox"
PAYOUT_QUERY_AFTER = timedelta(minutes=env.int("PAYOUT_QUERY_AFTER_MINUTES", default=30))
PAYOUT_TRANSFER_RETRY_AFTER = timedelta(minutes=1)
PAYOUT_TRANSFER_ALERT_ATTEMPTS = 8  # transfer calls failed before each further failure is logged as an error

# insights (docs/insights.md): how long interactions are kept; the nightly build of profiles and
# recommendations.
INSIGHTS_RETENTION_DAYS = env.int("INSIGHTS_RETENTION_DAYS", default=180)
# figures: the days the beat task recomputes every 15 minutes (late deliveries and disputes land in them).
FIGURES_REFRESH_DAYS = env.int("FIGURES_REFRESH_DAYS", default=7)

# logistics and notifications
# Target time per leg of a shipment's route, in hours: (normal, perishable).
LOGISTICS_SLA_HOURS = {
    "pickup": (24, 6),                # paid and packed -> collected at the merchant's village point
    "first_mile": (12, 4),            # village point -> township station
    "to_county_centre": (12, 4),      # township station -> county distribution centre
    "inter_county": (48, 24),         # county centre -> destination county centre (carrier)
    "to_township_station": (12, 4),   # county centre -> destination township station
    "last_mile": (24, 8),             # township station -> collected at the village point
}
LOGISTICS_PICKUP_CODE_MAX_TRIES = 5
LOGISTICS_PICKUP_CODE_LOCK = timedelta(hours=1)
LOGISTICS_MAX_DELIVERY_ATTEMPTS = 3
LOGISTICS_OVERDUE_BATCH = 500
LOGISTICS_INTER_COUNTY_CARRIER = env("LOGISTICS_INTER_COUNTY_CARRIER", default="中国邮政 EMS")

# The notification outbox (docs/logistics-notifications.md).
NOTIFICATIONS_SMS = {
    "BACKEND": env("NOTIFICATIONS_SMS_BACKEND", default="notifications.sms.ConsoleSmsSender"),
    "OPTIONS": {
        key: value for key, value in {
            "path": env("NOTIFICATIONS_SMS_FILE", default=""),
            "url": env("NOTIFICATIONS_SMS_URL", default=""),
            "token": env("NOTIFICATIONS_SMS_TOKEN", default=""),
        }.items() if value
    },
}
# What to do with an SMS whose worker died mid-send when the provider cannot be asked
# whether it went out: "drop" (at most once) or "resend" (at least once).
NOTIFICATIONS_SMS_UNCERTAIN = env("NOTIFICATIONS_SMS_UNCERTAIN", default="drop")
# Quiet hours for people who have not set their own ("" = none), in TIME_ZONE.
NOTIFICATIONS_DEFAULT_QUIET_HOURS = env("NOTIFICATIONS_DEFAULT_QUIET_HOURS", default="22:00-08:00")
NOTIFICATIONS_BATCH_SIZE = {"push": env.int("NOTIFICATIONS_PUSH_BATCH", default=500),
                            "sms": env.int("NOTIFICATIONS_SMS_BATCH", default=100)}
# A row left "sending" longer than this is taken to belong to a dead worker; it must
# exceed the longest send_batch (the SMS sender's timeout).
NOTIFICATIONS_CLAIM_LEASE = timedelta(seconds=env.int("NOTIFICATIONS_CLAIM_LEASE_SECONDS", default=120))
NOTIFICATIONS_MAX_ATTEMPTS = 6
NOTIFICATIONS_DRAIN_SECONDS = 20
NOTIFICATIONS_WAKE_TTL_SECONDS = 30
# A woken drain starts this much later, so commits in the meantime are delivered in the same batch.
NOTIFICATIONS_WAKE_DELAY_SECONDS = env.float("NOTIFICATIONS_WAKE_DELAY_SECONDS", default=0.05)
NOTIFICATIONS_FANOUT_STALL = timedelta(seconds=60)
NOTIFICATIONS_DELIVERY_RETENTION = timedelta(days=30)
