"""Celery entry points: thin, idempotent, taking ids (or a channel name), never objects."""

from celery import shared_task

from .services import fanout
from .services.outbox import deliveries_purge, outbox_drain, outbox_sweep


@shared_task(name="notifications.deliver_outbox")
def deliver_outbox(channel: str) -> int:
    """Deliver the due outbox rows of one channel (``push`` or ``sms``)."""
    return outbox_drain(channel=channel)


@shared_task(name="notifications.sweep_outbox")
def sweep_outbox() -> dict:
    """Beat: settle rows of dead workers, resume stalled broadcasts, wake channels with due rows."""
    return outbox_sweep()


@shared_task(name="notifications.broadcast")
def broadcast(kind: str, key: str, after: int = 0) -> None:
    """Tell one batch of a broadcast's audience (a shop's followers), then queue the next batch."""
    cursor = fanout.broadcast_batch(kind=kind, key=key, after=after, limit=fanout.BATCH_SIZE)
    if cursor is not None:
        broadcast.delay(kind, key, cursor)


@shared_task(name="notifications.purge_deliveries")
def purge_deliveries() -> int:
    """Beat: drop settled outbox rows past their retention, a bounded batch at a time."""
    return deliveries_purge()
