import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from logistics.models import Hub
from regions.models import Region

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_health_ok_on_postgres_and_redis(api_client):
    response = api_client.get("/api/health/")
    assert response.status_code == 200, response.json()
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "cache": "ok", "channel_layer": "ok"}}


@pytest.mark.django_db
def test_health_reports_a_stopped_redis_as_503(api_client, settings):
    closed = "redis://127.0.0.1:1/0"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": closed}}
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [closed]}}
    }
    for path in ("/api/health/", "/api/health/ready/"):
        response = api_client.get(path)
        assert response.status_code == 503
        checks = response.json()["checks"]
        assert checks["database"] == "ok"
        assert checks["cache"].startswith("error")
        assert checks["channel_layer"].startswith("error")
    # Liveness asks nothing of the stores: a Redis outage must not get the process restarted.
    live = api_client.get("/api/health/live/")
    assert (live.status_code, live.json()) == (200, {"status": "ok"})


@pytest.mark.django_db
def test_seed_demo_twice_changes_nothing():
    call_command("seed_demo")
    counts = (Region.objects.count(), Hub.objects.count())
    call_command("seed_demo")
    assert (Region.objects.count(), Hub.objects.count()) == counts
    assert Region.objects.filter(level="county").count() >= 2
    shouguang = Region.objects.get(code="370783")
    assert Hub.objects.filter(region__county=shouguang, kind="county_centre").count() == 1


def _production_env(**extra) -> dict:
    return {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "marketplace.settings",
        "DEBUG": "0",
        "SECRET_KEY": "a-real-production-secret-" + "Zq8vW2rT" * 6,
        "ALLOWED_HOSTS": "cunbo.example.cn",
        "PAYMENT_WEBHOOK_SECRET": "whsec-production",
        "MEDIA_HOOK_SECRET": "media-hook-production-secret",
        "FIELD_ENCRYPTION_KEYS": "8CnF9eP8jq3o0bqz1O7mG5kHYQqJ0n1Yb6oQnXkqj0E=",
        "FIELD_LOOKUP_KEY": "lookup-key-production-" + "Lk7" * 8,
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
        "REDIS_URL": "redis://127.0.0.1:6379/13",
        "MEDIA_URL": "https://media.cunbo-files.example.cn/",
        **extra,
    }


def _pem_pair() -> tuple[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


def _check_deploy(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_check_deploy_is_clean_with_production_settings():
    merchant_key, _ = _pem_pair()
    _, alipay_public = _pem_pair()
    channels = {
        "WECHATPAY_MCHID": "1900000109", "WECHATPAY_APPID": "wxd678efh567hg6787", "WECHATPAY_APIV3_KEY": "k" * 32,
        "WECHATPAY_PRIVATE_KEY": merchant_key, "WECHATPAY_CERT_SERIAL": "5157F09EFDC096DE15EBE81A47057A72",
        "WECHATPAY_NOTIFY_URL": "https://cunbo.example.cn/api/payments/webhook/wechatpay/",
        "ALIPAY_APP_ID": "2021000000000001", "ALIPAY_SELLER_ID": "2088000000000001",
        "ALIPAY_PRIVATE_KEY": merchant_key, "ALIPAY_PUBLIC_KEY": alipay_public,
        "ALIPAY_NOTIFY_URL": "https://cunbo.example.cn/api/payments/webhook/alipay/",
    }
    result = _check_deploy(_production_env(**channels))
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_deploy_names_each_payment_channel_left_without_keys():
    result = _check_deploy(_production_env(WECHATPAY_MCHID="1900000109"))
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "payments.W001" in output and "WECHATPAY_APPID" in output and "WECHATPAY_MCHID" not in output
    assert "payments.W002" in output and "ALIPAY_APP_ID" in output
    assert "payments.W003" in output  # only the sandbox would take money
    warnings = set(re.findall(r"^\?: \(([\w.]+)\)", output, re.M))
    assert warnings == {"payments.W001", "payments.W002", "payments.W003"}, output


def test_production_refuses_to_start_without_a_secret_key():
    env = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "marketplace.settings", "DEBUG": "0"}
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode != 0
    assert result.stderr.strip() == "manage.py: Set SECRET_KEY (or DEBUG=1 for a local run)."  # one line, no traceback


@pytest.mark.django_db
def test_schema_and_docs_are_served(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    spec = schema.json()
    assert "/api/regions/" in spec["paths"]
    assert "jwtAuth" in spec["components"]["securitySchemes"]
    docs = api_client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
    assert b"cdn" not in docs.content.lower()


def test_every_task_has_a_queue_a_time_limit_and_no_stored_result():
    """Notifications and sweeps run on queues of their own (docker-compose.yml starts a worker for
    each); no task waits forever or stores a result that nobody reads."""
    from marketplace.celery import app

    app.loader.import_default_modules()
    ours = {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}
    assert len(ours) >= 14
    queues = {name: app.amqp.router.route({}, name)["queue"].name for name in ours}
    assert {name for name, queue in queues.items() if queue == "notifications"} == {
        name for name in ours if name.startswith("notifications.")}
    assert set(queues.values()) == {"default", "notifications"} == {q.name for q in app.conf.task_queues}
    assert app.conf.task_soft_time_limit and app.conf.task_time_limit > app.conf.task_soft_time_limit
    assert [name for name, task in ours.items() if not task.ignore_result or not task.acks_late] == []
