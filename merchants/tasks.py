from celery import shared_task
from django.conf import settings

from .services import credentials_expire_due, credentials_remind_due


@shared_task(name="merchants.credentials_daily")
def credentials_daily() -> dict:
    """Daily: expire past-date credentials (withdrawing the claims they backed) and send reminders.

    Each call handles a bounded batch; when a batch was full it queues itself again.
    Running it twice changes nothing the second time.
    """
    limit = settings.CREDENTIAL_EXPIRY_BATCH
    expired = credentials_expire_due(limit=limit)
    reminded = credentials_remind_due(limit=limit)
    if expired >= limit or reminded >= limit:
        credentials_daily.delay()
    return {"expired": expired, "reminded": reminded}
