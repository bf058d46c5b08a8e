"""Celery entry points: thin, idempotent, taking ids (or a channel name), never objects."""

from celery import shared_task

from .services import FOLLOWER_BATCH_SIZE, followers_notify_stream_live_batch
from .services.outbox import deliveries_purge, outbox_drain, outbox_sweep


@shared_task(name="notifications.deliver_outbox")
def deliver_outbox(channel: str) -> int:
    """Deliver the due outbox rows of one channel (``push`` or ``sms``)."""
    return outbox_drain(channel=channel)


@shared_task(name="notifications.sweep_outbox")
def sweep_outbox() -> dict:
    """Beat: settle rows of dead workers, resume stalled broadcasts, wake channels with due rows."""
    return outbox_sweep()


@shared_task(name="notifications.followers_notify_stream_live")
def followers_notify_stream_live(stream_id: int, after_follow_id: int = 0) -> None:
    """Tell one batch of the shop's followers that it is live, then queue the next batch."""
    cursor = followers_notify_stream_live_batch(stream_id=stream_id, after_follow_id=after_follow_id,
                                                limit=FOLLOWER_BATCH_SIZE)
    if cursor is not None:
        followers_notify_stream_live.delay(stream_id, cursor)


@shared_task(name="notifications.purge_deliveries")
def purge_deliveries() -> int:
    """Beat: drop settled outbox rows past their retention, a bounded batch at a time."""
    return deliveries_purge()
