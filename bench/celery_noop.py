"""The baseline task of bench/notifications.py: a Celery task that does nothing."""

from celery import shared_task


@shared_task(name="bench.noop", acks_late=True, ignore_result=True)
def noop(*args) -> None:
    return None
