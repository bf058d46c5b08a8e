"""Demo figures: the rollups of every day the demo orders were paid on, so a demo shop and its
county have figures at once (GET /api/figures/merchants/{id}/ and /api/figures/counties/{id}/)."""

import datetime

from django.utils import timezone

from .models import MerchantDay
from .rollups import rollups_refresh

DAYS = 90


def seed(report) -> None:
    today = timezone.localdate()
    rollups_refresh(first=today - datetime.timedelta(days=DAYS - 1), last=today)
    day = MerchantDay.objects.select_related("merchant").order_by("-gmv", "pk").first()
    if day is None:
        report.note("figures: no paid demo orders yet; no figures")
        return
    report.note(f"figures: {day.merchant} (shop {day.merchant_id}) and its county {day.county_id} have figures "
                f"for the last {DAYS} days")
