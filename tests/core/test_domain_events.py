"""core.domain_events: in-transaction receivers hold with the fact, after-commit ones never see a rollback."""

import logging

import pytest
from django.db import transaction

from core.domain_events import AFTER_COMMIT, IN_TRANSACTION, DomainEvent, registered
from regions.models import Region

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def event(request):
    made = DomainEvent(f"tests.{request.node.name}", payload=("region_id",))  # the test's name: unique
    assert registered()[made.name] is made
    return made


def test_in_transaction_receivers_roll_back_with_the_sender(event):
    @event.receiver(phase=IN_TRANSACTION)
    def rename(*, region_id):
        Region.objects.filter(pk=region_id).update(name="改名")
        raise RuntimeError("the rule does not hold")

    region = Region.objects.create(code="990001", name="原名", level="county")
    with pytest.raises(RuntimeError), transaction.atomic():
        Region.objects.filter(pk=region.pk).update(code="990002")
        event.send(region_id=region.pk)
    region.refresh_from_db()
    assert (region.code, region.name) == ("990001", "原名")  # the fact and the rule went together


def test_after_commit_receivers_run_once_after_commit_and_never_after_a_rollback(event, caplog):
    heard = []

    @event.receiver(phase=AFTER_COMMIT)
    def failing(*, region_id):
        raise ValueError("a side effect failed")

    @event.receiver(phase=AFTER_COMMIT)
    def record(*, region_id):
        heard.append((region_id, transaction.get_connection().in_atomic_block))

    with transaction.atomic():
        event.send(region_id=1)
        assert heard == []
    with pytest.raises(RuntimeError), transaction.atomic():
        event.send(region_id=2)
        raise RuntimeError("rolled back")
    assert heard == [(1, False)]  # after the commit, not inside it; the rolled-back one never
    assert any("failing" in r.getMessage() and r.levelno == logging.ERROR for r in caplog.records)


def test_a_payload_must_match_the_declared_names(event):
    with pytest.raises(TypeError):
        event.send(region=1)
    with pytest.raises(RuntimeError):
        DomainEvent(event.name)
    with pytest.raises(ValueError):
        event.connect(print, phase="whenever")
