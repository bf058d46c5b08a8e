from django.db.models import QuerySet

from .models import Region


def region_list(*, level: str | None = None, parent: int | None = None, county: int | None = None) -> QuerySet[Region]:
    qs = Region.objects.all()
    if level:
        qs = qs.filter(level=level)
    if parent:
        qs = qs.filter(parent_id=parent)
    if county:
        qs = qs.filter(county_id=county)
    return qs


def village_get(village_id) -> Region | None:
    return Region.objects.filter(pk=village_id, level=Region.Level.VILLAGE).select_related("parent", "county").first()
