from celery import shared_task
from django.conf import settings

from .services import shipments_flag_overdue


@shared_task(name="logistics.flag_overdue_shipments")
def flag_overdue_shipments() -> int:
    """Beat: flag shipments past their leg's target time and tell the responsible county's operators."""
    flagged = shipments_flag_overdue()
    if flagged >= settings.LOGISTICS_OVERDUE_BATCH:  # a full batch: there may be more
        flag_overdue_shipments.delay()
    return flagged
