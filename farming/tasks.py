"""Beat entry points: each calls a service acting on a bounded batch; safe to run twice at once."""

from celery import shared_task

from . import services


@shared_task(name="farming.adoption_deliveries")
def adoption_deliveries() -> int:
    """Make the orders of the deliveries due today (each exactly once), then end what is settled."""
    made = services.deliveries_due_create()
    services.subscriptions_settle()
    return made
