"""This app's gauges at /metrics (core/metrics.py): the outbox backlog, read when scraped."""

from django.db.models import Count, Min
from django.utils import timezone

from core.metrics import register_gauge

from .models import Delivery


def _backlog():
    rows = (Delivery.objects.filter(state=Delivery.State.PENDING).values("channel")
            .annotate(n=Count("id"), oldest=Min("not_before")))
    found = {row["channel"]: row for row in rows}
    now = timezone.now()
    for channel in Delivery.Channel.values:
        row = found.get(channel)
        yield {"channel": channel, "measure": "rows"}, float(row["n"] if row else 0)
        age = max(0.0, (now - row["oldest"]).total_seconds()) if row else 0.0
        yield {"channel": channel, "measure": "oldest_due_seconds"}, age


register_gauge("cunbo_outbox_pending", "Outbox rows waiting per channel, and how long the oldest due one has waited.",
               ["channel", "measure"], _backlog)
