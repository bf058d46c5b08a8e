"""Operations: a request id from the edge to Celery, JSON logs, and /metrics."""

import json
import logging

import pytest
import redis
from django.conf import settings
from django.test import Client

from core import logs
from core.breaker import Breaker
from notifications.services import notify
from tests.factories import ConsumerFactory, StreamFactory

pytestmark = pytest.mark.django_db


def test_a_request_answers_its_request_id_and_every_log_line_carries_it(api_client, caplog):
    caplog.set_level(logging.WARNING)
    response = api_client.get("/api/regions/", HTTP_X_REQUEST_ID="edge-4f2a")
    assert response["X-Request-ID"] == "edge-4f2a"
    # An id that is not a plain token is not written to the logs: a new one is made.
    hostile = api_client.get("/api/regions/", HTTP_X_REQUEST_ID="x\r\nforged: 1")
    assert hostile["X-Request-ID"] != "x\r\nforged: 1" and len(hostile["X-Request-ID"]) == 32
    # A line logged while a request runs carries its id (the 404 below is logged by django.request).
    missing = api_client.get("/api/orders/999999/", HTTP_X_REQUEST_ID="rid-404-probe")
    assert missing.status_code in (401, 404)
    records = [r for r in caplog.records if getattr(r, "request_id", None) == "rid-404-probe"]
    assert records, [(r.name, getattr(r, "request_id", None)) for r in caplog.records]
    assert logs.request_id.get() == "-"  # nothing leaks out of the request
    logging.getLogger("tests.observability").warning("after the request")
    assert caplog.records[-1].request_id == "-"


def test_the_json_formatter_writes_one_object_a_line():
    record = logging.LogRecord("orders", logging.ERROR, __file__, 1, "checkout %s failed", ("42",), None)
    token = logs.request_id.set("abc123")
    try:
        logs.RequestIdFilter().filter(record)
    finally:
        logs.request_id.reset(token)
    line = logs.JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "checkout 42 failed" and entry["request_id"] == "abc123"
    assert entry["level"] == "ERROR" and entry["logger"] == "orders" and entry["time"].endswith("+00:00")


def test_a_task_sent_during_a_request_carries_its_request_id_to_the_worker(django_capture_on_commit_callbacks):
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.delete("notifications")
    token = logs.request_id.set("rid-to-worker")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            notify(user=ConsumerFactory(), kind="shipment.picked_up",
                   params={"order": 1, "shop": "合作社", "hub": "县中心"})
    finally:
        logs.request_id.reset(token)
    headers = [json.loads(raw)["headers"] for raw in broker.lrange("notifications", 0, -1)]
    assert headers and {h["request_id"] for h in headers} == {"rid-to-worker"}


def _scrape(**extra) -> tuple[int, str]:
    response = Client().get("/metrics", **extra)
    return response.status_code, response.content.decode()


def test_metrics_count_requests_by_route_and_their_sql(api_client):
    for _ in range(3):
        assert api_client.get("/api/regions/?level=county").status_code == 200
    api_client.get("/api/no-such-thing/")
    status, text = _scrape()
    assert status == 200
    line = next(line for line in text.splitlines()
                if line.startswith("cunbo_http_requests_total{") and 'route="api/regions/"' in line
                and 'status="200"' in line)
    assert float(line.rsplit(" ", 1)[1]) >= 3
    assert 'route="unmatched"' in text  # a hostile path is counted under one label, not its own
    assert any(line.startswith("cunbo_db_queries_total{") and 'route="api/regions/"' in line
               for line in text.splitlines())
    assert "cunbo_redis_keyspace_hits" in text


def test_metrics_show_the_outbox_backlog_viewers_and_breakers():
    stream = StreamFactory(status="live")
    notify(user=ConsumerFactory(), kind="shipment.picked_up", params={"order": 1, "shop": "合作社", "hub": "县中心"})
    breaker = Breaker("probe Redis", retry_after=lambda: 5, consequence="probe skipped")
    breaker.failed(ConnectionError("refused"))
    _status, text = _scrape()
    assert 'cunbo_outbox_pending{channel="push",measure="rows"} 1.0' in text
    assert 'cunbo_breaker_open{breaker="probe Redis"} 1.0' in text
    assert f'cunbo_live_viewers{{stream="{stream.pk}"}} 0.0' in text
    breaker.succeeded()
    assert 'cunbo_breaker_open{breaker="probe Redis"} 0.0' in _scrape()[1]


def test_metrics_answer_only_the_allowed_addresses_or_the_token(settings):
    assert _scrape(REMOTE_ADDR="203.0.113.9")[0] == 404
    settings.METRICS_TOKEN = "scrape-secret"
    assert _scrape(REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer wrong")[0] == 404
    assert _scrape(REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer scrape-secret")[0] == 200


def test_metrics_count_the_gate_verdicts(settings):
    from orders.checkout.gate import GateLine, gate_reserve, offer_gate_reset
    from tests.factories import OfferFactory

    offer = OfferFactory(quantity=1, remaining=1)
    offer_gate_reset(offer_id=offer.pk)
    before = _scrape()[1]
    assert gate_reserve(buyer_id=1, lines=[GateLine(offer_id=offer.pk, quantity=1)]) == "admitted"
    assert gate_reserve(buyer_id=2, lines=[GateLine(offer_id=offer.pk, quantity=1)]) == "sold_out"
    after = _scrape()[1]

    def count(text, verdict):
        prefix = f'cunbo_gate_verdicts_total{{verdict="{verdict}"}} '
        return next((float(line[len(prefix):]) for line in text.splitlines() if line.startswith(prefix)), 0.0)

    assert count(after, "admitted") - count(before, "admitted") == 1
    assert count(after, "sold_out") - count(before, "sold_out") == 1
