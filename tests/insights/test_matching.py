"""The nightly build and what it answers: for you, similar products, the cold start, profiles."""

import datetime

import pytest
from django.utils import timezone

from catalog.models import Category, Product
from insights.build import insights_build
from insights.models import InteractionEvent
from merchants.models import Merchant
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def shelves(shop):
    """Fruit and tea of one shop; buyers who like tea, buyers who like fruit."""
    fruit = Category.objects.create(name="水果", slug="fruit")
    tea = Category.objects.create(name="茶叶", slug="tea")
    make = factories.ProductFactory
    fruits = [make(merchant=shop, category=fruit, title=f"红富士苹果{n}", description="脆甜 果园") for n in range(4)]
    teas = [make(merchant=shop, category=tea, title=f"明前绿茶{n}", description="高山 茶叶") for n in range(4)]
    new_tea = make(merchant=shop, category=tea, title="明前绿茶新品", description="高山 茶叶")  # nobody bought it
    now = timezone.now()
    tea_buyers = [factories.ConsumerFactory() for _ in range(4)]
    fruit_buyers = [factories.ConsumerFactory() for _ in range(4)]
    rows = []
    for buyers, products in ((tea_buyers, teas), (fruit_buyers, fruits)):
        for n, buyer in enumerate(buyers):
            for product in products[n % 2: n % 2 + 3]:
                rows.append(InteractionEvent(user=buyer, kind="paid", product=product, merchant=shop,
                                             at=now - datetime.timedelta(days=n + 1)))
    InteractionEvent.objects.bulk_create(rows)
    insights_build()
    return {"fruits": fruits, "teas": teas, "new_tea": new_tea, "tea_buyers": tea_buyers,
            "fruit_buyers": fruit_buyers}


def ids(body) -> list[int]:
    return [row["id"] for row in body["results"]]


def test_for_you_follows_the_buyer_and_never_shows_what_is_not_for_sale(client_for, shelves,
                                                                         django_assert_max_num_queries):
    buyer = shelves["tea_buyers"][0]
    # the user, the switch, its recommendations, their products and images; topped up by the cold
    # start: the province, the popular ones, their products and images. Whatever the lengths.
    with django_assert_max_num_queries(9):
        body = client_for(buyer).get("/api/recommendations/products/").json()
    assert body["source"] == "personal"
    tea_ids = {p.pk for p in shelves["teas"]} | {shelves["new_tea"].pk}
    assert set(ids(body)[:4]) <= tea_ids, "tea first for a tea buyer"
    assert shelves["new_tea"].pk in ids(body)[:6], "content similarity reaches the product nobody bought"
    delisted, sold_out = shelves["teas"][0], shelves["teas"][1]
    Product.objects.filter(pk=delisted.pk).update(status=Product.Status.DELISTED)
    Product.objects.filter(pk=sold_out.pk).update(stock=0)
    body = client_for(buyer).get("/api/recommendations/products/").json()
    assert delisted.pk not in ids(body) and sold_out.pk not in ids(body)
    Merchant.objects.filter(pk=delisted.merchant_id).update(status=Merchant.Status.SUSPENDED)
    assert ids(client_for(buyer).get("/api/recommendations/products/").json()) == []


def test_new_buyers_and_anonymous_callers_get_the_cold_start(client_for, api_client, shelves):
    body = api_client.get("/api/recommendations/products/").json()
    assert body["source"] == "popular" and len(ids(body)) >= 8
    newcomer = factories.ConsumerFactory()
    assert client_for(newcomer).get("/api/recommendations/products/?province=山东").json()["source"] == "popular"
    assert api_client.get("/api/recommendations/products/?province=" + "长" * 51).status_code == 400


def test_similar_products_are_alike_and_hidden_products_have_none(client_for, api_client, shelves,
                                                                   django_assert_max_num_queries):
    tea = shelves["teas"][2]
    with django_assert_max_num_queries(6):
        body = api_client.get(f"/api/products/{tea.pk}/similar/").json()
    assert tea.pk not in ids(body)
    assert set(ids(body)[:4]) <= {p.pk for p in shelves["teas"]} | {shelves["new_tea"].pk}
    Product.objects.filter(pk=tea.pk).update(status=Product.Status.PENDING_REVIEW)
    assert api_client.get(f"/api/products/{tea.pk}/similar/").status_code == 404
    assert api_client.get("/api/products/999999/similar/").status_code == 404


def test_the_profile_is_its_owners_and_switching_off_answers_the_cold_start(client_for, shelves, merchant_user):
    buyer = shelves["fruit_buyers"][1]
    mine = client_for(buyer).get("/api/me/insights/").json()
    assert mine["interests"]["categories"] == ["fruit"] and mine["built_at"]
    assert client_for(merchant_user).get("/api/me/insights/").status_code == 403
    client_for(buyer).patch("/api/me/insights/", {"personalised": False}, format="json")
    assert client_for(buyer).get("/api/recommendations/products/").json()["source"] == "popular"
    assert client_for(buyer).get("/api/me/insights/").json()["interests"] == {}


def test_streams_for_you_put_matched_shops_first(client_for, shelves, shop):
    from livestream.models import Stream

    other = factories.StreamFactory(status=Stream.Status.LIVE, started_at=timezone.now())
    mine = factories.StreamFactory(merchant=shop)  # scheduled within the hour
    body = client_for(shelves["tea_buyers"][0]).get("/api/recommendations/streams/").json()
    assert ids(body)[:2] == [mine.pk, other.pk]
