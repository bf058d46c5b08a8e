from celery import shared_task

from . import recording, services


@shared_task(name="insights.drain_interactions")
def drain_interactions() -> int:
    return recording.interactions_drain()


@shared_task(name="insights.purge_interactions")
def purge_interactions() -> int:
    return services.interactions_purge()


@shared_task(name="insights.build")
def build() -> dict:
    from .build import insights_build

    return insights_build()
