import pytest
from django.core.exceptions import ValidationError

from regions.models import Region
from tests.factories import CountyFactory, HubFactory, TownshipFactory, VillageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree():
    county = CountyFactory(name="寿光市")
    other = CountyFactory(name="贵定县")
    township = TownshipFactory(parent=county)
    villages = [VillageFactory(parent=township) for _ in range(3)]
    other_village = VillageFactory(parent=TownshipFactory(parent=other))
    return county, other, township, villages, other_village


def test_levels_and_parents(api_client, tree):
    county, other, township, villages, _ = tree
    counties = api_client.get("/api/regions/?level=county").json()
    assert {r["id"] for r in counties["results"]} == {county.pk, other.pk}
    assert counties["count"] == 2 and counties["next"] is None and counties["previous"] is None

    children = api_client.get(f"/api/regions/?parent={township.pk}").json()["results"]
    assert {r["id"] for r in children} == {v.pk for v in villages}
    assert all(r["level"] == "village" and r["county"] == county.pk for r in children)


def test_pagination(api_client, tree):
    page = api_client.get("/api/regions/?level=village&page_size=2").json()
    assert page["count"] == 4 and len(page["results"]) == 2 and page["next"]


def test_village_needs_a_township_parent(tree):
    county = tree[0]
    with pytest.raises(ValidationError):
        Region(name="错村", code="x1", level=Region.Level.VILLAGE, parent=county).save()
    with pytest.raises(ValidationError):
        Region(name="错县", code="x2", level=Region.Level.COUNTY, parent=county).save()


def test_hubs_by_county(api_client, tree):
    county, other, township, villages, other_village = tree
    mine = HubFactory(region=villages[0], cold_chain=True)
    HubFactory(region=other_village)
    centre = HubFactory(region=county, kind="county_centre")
    body = api_client.get(f"/api/logistics/hubs/?county={county.pk}").json()
    assert {h["id"] for h in body["results"]} == {mine.pk, centre.pk}
    hub = next(h for h in body["results"] if h["id"] == mine.pk)
    assert hub["region"]["id"] == villages[0].pk and hub["cold_chain"] is True


def test_hub_kind_must_match_its_region_level(tree):
    county = tree[0]
    with pytest.raises(ValidationError):
        HubFactory.build(region=county, kind="village_point").full_clean()


def test_list_costs_fixed_queries(api_client, tree, django_assert_max_num_queries):
    for village in tree[3]:
        HubFactory(region=village)
    with django_assert_max_num_queries(2):
        api_client.get("/api/logistics/hubs/?page_size=100")
