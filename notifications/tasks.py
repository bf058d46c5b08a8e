from celery import shared_task

from .services import followers_notify_stream_live_batch, FOLLOWER_BATCH_SIZE


@shared_task(name="notifications.followers_notify_stream_live", acks_late=True)
def followers_notify_stream_live(stream_id: int, after_follow_id: int = 0) -> None:
    """Tell one batch of the shop's followers that it is live, then queue the next batch."""
    last = followers_notify_stream_live_batch(stream_id=stream_id, after_follow_id=after_follow_id,
                                              limit=FOLLOWER_BATCH_SIZE)
    if last is not None:
        followers_notify_stream_live.delay(stream_id, last)
