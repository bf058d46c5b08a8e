from celery import shared_task

from . import rollups


@shared_task(name="figures.refresh")
def refresh() -> int:
    return rollups.rollups_refresh_recent()
