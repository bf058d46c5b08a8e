"""The periodic jobs of the embedded default, in the server's own process.

In production Celery beat sends ``CELERY_BEAT_SCHEDULE``'s tasks to the broker and workers run them.
The embedded default (``make run``: no REDIS_URL) has no broker and runs tasks eagerly, so beat
runs here as a thread of the server (Celery's own embedded beat, the same schedule): each entry,
when due, calls its task in that thread — offers expire, unpaid orders are cancelled and give their
stock back, disputes escalate, the outbox is swept, exactly as in production, only not spread
over worker processes.
"""

from __future__ import annotations

import logging

from celery import current_app
from celery.beat import EmbeddedService, Scheduler
from django.conf import settings
from django.db import close_old_connections

logger = logging.getLogger(__name__)


class EmbeddedScheduler(Scheduler):
    """beat's in-memory scheduler (no schedule file), giving back its database connection after
    each job as a worker would."""

    def apply_entry(self, entry, producer=None):
        try:
            super().apply_entry(entry, producer=producer)
        finally:
            close_old_connections()


def embedded_beat_start():
    """Start the beat thread when tasks run in this process (no broker); None otherwise."""
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        return None
    # Register every app's tasks (a worker does this at start), so beat finds each entry's task and
    # runs it eagerly here instead of sending it by name to a broker that does not exist.
    current_app.loader.import_default_modules()
    missing = sorted(entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
                     if entry["task"] not in current_app.tasks)
    if missing:
        raise RuntimeError(f"periodic jobs name unknown tasks: {missing}")
    service = EmbeddedService(current_app, thread=True, scheduler_cls=EmbeddedScheduler)
    service.start()
    logger.info("embedded beat: %d periodic jobs run in this process", len(settings.CELERY_BEAT_SCHEDULE))
    return service
