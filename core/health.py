"""Health of the parts the product needs: database, cache and channel layer."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import connection

from .redis import probe


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _cache() -> None:
    probe = f"health:{uuid.uuid4().hex}"
    cache.set(probe, "1", timeout=5)
    if cache.get(probe) != "1":
        raise RuntimeError("cache did not return what was stored")
    cache.delete(probe)


def _channel_layer() -> None:
    backend = settings.CHANNEL_LAYERS["default"]["BACKEND"]
    if backend == "channels.layers.InMemoryChannelLayer":
        return
    for host in settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"]:
        with probe(host["address"] if isinstance(host, dict) else host) as client:
            client.ping()


CHECKS = {"database": _database, "cache": _cache, "channel_layer": _channel_layer}


def health_report() -> tuple[bool, dict]:
    """Run every check; returns (all healthy, {name: "ok" | "error: …"})."""
    report = {}
    for name, check in CHECKS.items():
        try:
            check()
            report[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - a health check reports every failure
            report[name] = f"error: {exc.__class__.__name__}"
    return all(value == "ok" for value in report.values()), report
