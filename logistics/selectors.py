from django.db.models import QuerySet

from .models import Hub


def hub_list(*, county: int | None = None, kind: str | None = None, region: int | None = None) -> QuerySet[Hub]:
    qs = Hub.objects.filter(is_active=True).select_related("region")
    if county:
        qs = qs.filter(region__county_id=county)
    if kind:
        qs = qs.filter(kind=kind)
    if region:
        qs = qs.filter(region_id=region)
    return qs
