"""Prometheus metrics at ``/metrics``: requests, the database, the cache, and the product's own gauges.

Counted as they happen (cheap: a dictionary lookup and an add, no I/O):

- ``cunbo_http_requests_total`` {method, route, status} and ``cunbo_http_request_duration_seconds``
  {method, route}: ``route`` is the URL pattern (``api/orders/<int:pk>/``), never the raw path, so
  ids and hostile paths cannot blow up the label space;
- ``cunbo_db_queries_total`` {route} and ``cunbo_db_query_duration_seconds``: every SQL statement
  of a request, raw ones included (``connection.execute_wrapper``);
- ``cunbo_breaker_open`` {breaker}: 1 while a circuit breaker (core/breaker.py) skips its service;
- ``cunbo_gate_verdicts_total`` {verdict}: the hot-offer gate's answers (orders/checkout/gate.py).

Read when scraped: gauges that apps register with ``register_gauge`` from their ``ready()`` (the
outbox backlog per channel, the viewers of each live stream), so ``core`` imports no app; and the
cache's own hit and miss counters from Redis ``INFO``.

Several server processes (uvicorn or gunicorn workers, Celery) share one view of the counters when
``PROMETHEUS_MULTIPROC_DIR`` names a directory they all write (prometheus_client's multiprocess
mode; empty it when the service starts). Without it each process reports its own.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable

from django.conf import settings
from django.db import connection
from django.http import HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

from .errors import json_error_view
from .redis import REDIS_ERRORS, probe

logger = logging.getLogger(__name__)

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))

REQUESTS = Counter("cunbo_http_requests_total", "HTTP requests answered.", ["method", "route", "status"])
LATENCY = Histogram("cunbo_http_request_duration_seconds", "Time to answer an HTTP request.", ["method", "route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
DB_QUERIES = Counter("cunbo_db_queries_total", "SQL statements run for HTTP requests.", ["route"])
DB_TIME = Histogram("cunbo_db_query_duration_seconds", "Time of one SQL statement.",
                    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5))
BREAKER_OPEN = Gauge("cunbo_breaker_open", "1 while the breaker skips its service.", ["breaker"],
                     multiprocess_mode="max")
GATE_VERDICTS = Counter("cunbo_gate_verdicts_total", "Answers of the hot-offer gate.", ["verdict"])

GaugeReader = Callable[[], Iterable[tuple[dict[str, str], float]]]
_gauges: dict[str, tuple[str, list[str], GaugeReader]] = {}


def register_gauge(name: str, documentation: str, labels: list[str], read: GaugeReader) -> None:
    """A gauge read when ``/metrics`` is scraped: ``read()`` yields ({label: value}, number) pairs.

    A reader that fails (a store is down) is skipped for that scrape and logged; the rest answer.
    """
    _gauges[name] = (documentation, labels, read)


class _ScrapeTimeGauges(Collector):
    def collect(self):
        for name, (documentation, labels, read) in list(_gauges.items()):
            family = GaugeMetricFamily(name, documentation, labels=labels)
            try:
                for label_values, value in read():
                    family.add_metric([str(label_values[label]) for label in labels], value)
            except Exception as exc:  # noqa: BLE001 - one store down must not fail the whole scrape
                logger.warning("metric %s not read: %s: %s", name, exc.__class__.__name__, exc)
                continue
            yield family


class _CacheStats(Collector):
    """Redis's own keyspace hit and miss counters (the cache, throttles and gate share it)."""

    def collect(self):
        url = getattr(settings, "REDIS_URL", "")
        if not url:
            return
        try:
            with probe(url) as client:
                stats = client.info("stats")
        except REDIS_ERRORS as exc:
            logger.warning("cache metrics not read: %s", exc.__class__.__name__)
            return
        for key in ("keyspace_hits", "keyspace_misses"):
            family = GaugeMetricFamily(f"cunbo_redis_{key}", f"Redis INFO {key} (since Redis started).")
            family.add_metric([], float(stats.get(key, 0)))
            yield family


_READ_WHEN_SCRAPED = (_ScrapeTimeGauges(), _CacheStats())
if not MULTIPROCESS:
    for _collector in _READ_WHEN_SCRAPED:
        REGISTRY.register(_collector)


def _registry() -> CollectorRegistry:
    if not MULTIPROCESS:
        return REGISTRY
    registry = CollectorRegistry()  # every process's files, merged
    multiprocess.MultiProcessCollector(registry)
    for collector in _READ_WHEN_SCRAPED:
        registry.register(collector)
    return registry


def metrics_view(request):
    """``GET /metrics``: allowed from the addresses in ``METRICS_ALLOWED_IPS`` (or with its token)."""
    allowed = settings.METRICS_ALLOWED_IPS
    token = settings.METRICS_TOKEN
    peer = request.META.get("REMOTE_ADDR", "")
    bearer = request.META.get("HTTP_AUTHORIZATION", "")
    if not (peer in allowed or (token and bearer == f"Bearer {token}")):
        return json_error_view(404, "not_found", "Not found.")(request)
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)


class MetricsMiddleware:
    """Counts each request by its URL pattern, and the SQL it ran."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        queries = [0]

        def count(execute, sql, params, many, context):
            began = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                queries[0] += 1
                DB_TIME.observe(time.perf_counter() - began)

        with connection.execute_wrapper(count):
            response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = match.route if match is not None and match.route else "unmatched"
        REQUESTS.labels(request.method if request.method in _METHODS else "other", route,
                        str(response.status_code)).inc()
        LATENCY.labels(request.method if request.method in _METHODS else "other", route).observe(
            time.perf_counter() - started)
        if queries[0]:
            DB_QUERIES.labels(route).inc(queries[0])
        return response


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
