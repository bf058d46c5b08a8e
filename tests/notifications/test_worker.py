"""The outbox under a real Celery worker on Redis, killed with -9 in the middle of a batch."""

import json

import pytest

from notifications.models import Delivery
from notifications.services import notify_many
from tests.factories import ConsumerFactory

from .worker import Worker, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

TOTAL = 400


def spool_keys(path) -> list[str]:
    if not path.exists():
        return []
    return [json.loads(line)["key"] for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_worker_killed_mid_batch_sends_each_sms_exactly_once(tmp_path):
    spool = tmp_path / "sms.jsonl"
    worker = Worker(tmp_path, sms_file=spool, beat=True,
                    sms_backend="tests.notifications.slow_sms.SlowFileSmsSender",
                    NOTIFICATIONS_SMS_BATCH="25", NOTIFICATIONS_CLAIM_LEASE_SECONDS="3",
                    NOTIFICATIONS_SWEEP_SECONDS="1")
    users = ConsumerFactory.create_batch(TOTAL)
    try:
        worker.start()
        for start in range(0, TOTAL, 100):  # four commits, each waking the worker
            notify_many(users=users[start:start + 100], kind="shipment.delivered",
                        params={"order": 1, "shop": "合作社", "hub": "服务点"})
        wait_until(lambda: len(spool_keys(spool)) >= 60, timeout=60, message="the worker never started sending")
        worker.kill()

        sent_before_kill = spool_keys(spool)
        in_flight = set(map(str, Delivery.objects.filter(channel="sms", state="sending").values_list("key", flat=True)))
        assert len(sent_before_kill) < TOTAL, "killed too late to be mid-batch"
        assert in_flight, "the kill did not land in a batch"
        # The hard case: messages that went out but were never recorded as sent.
        assert in_flight & set(sent_before_kill), "no message was caught between sending and recording"

        worker.start()
        wait_until(lambda: not Delivery.objects.filter(state__in=["pending", "sending"]).exists(), timeout=90,
                   message="not everything was delivered after the restart")
    finally:
        worker.stop()

    keys = spool_keys(spool)
    expected = set(map(str, Delivery.objects.filter(channel="sms").values_list("key", flat=True)))
    assert len(expected) == TOTAL
    assert len(keys) == TOTAL and set(keys) == expected  # every SMS exactly once: none lost, none twice
    assert Delivery.objects.filter(channel="sms", state="sent").count() == TOTAL
    # Nobody had a socket open: every push was settled without a send.
    assert Delivery.objects.filter(channel="push", state="skipped", detail="not connected").count() == TOTAL
