"""The county network: one distribution centre a county, a station a township, a point a village."""

from regions.models import Region

from .models import Hub

NAME_SUFFIX = {
    Hub.Kind.COUNTY_CENTRE: "县级物流配送中心",
    Hub.Kind.TOWNSHIP_STATION: "快递服务站",
    Hub.Kind.VILLAGE_POINT: "村级服务点",
}
KIND_OF_LEVEL = {level: kind for kind, level in Hub.LEVEL_OF_KIND.items()}


def seed(report) -> None:
    demo_counties = Region.objects.filter(level=Region.Level.COUNTY, code__in=["370783", "522723"])
    for region in Region.objects.filter(county__in=demo_counties).order_by("code"):
        kind = KIND_OF_LEVEL[region.level]
        hub, created = Hub.objects.get_or_create(
            code=f"HUB-{region.code}",
            defaults={
                "kind": kind,
                "name": f"{region.name}{NAME_SUFFIX[kind]}",
                "region": region,
                "address": f"{region.province}{region.name}",
                # county centres and the tea township's station keep a cold room
                "cold_chain": kind == Hub.Kind.COUNTY_CENTRE or region.code == "370783004",
            },
        )
        report.record(hub, created)
