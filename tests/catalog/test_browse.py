"""Browsing: Chinese search on PostgreSQL, every filter and ordering, the owner's view, query counts."""

from decimal import Decimal

import pytest
from django.db import connection

from catalog.selectors import ProductFilters, product_list
from catalog.services import product_search_index
from tests.factories import ConsumerFactory, MerchantFactory, ProductFactory, TownshipFactory, VillageFactory
from tests.merchants.factories import CredentialFactory

pytestmark = pytest.mark.django_db


def indexed(**fields):
    product = ProductFactory(**fields)
    product_search_index(product_id=product.pk)
    return product


@pytest.fixture
def catalogue(categories, shop):
    tea_shop = MerchantFactory(shop_name="贵定云雾贡茶专业合作社")
    return {
        "tomato": indexed(merchant=shop, title="寿光有机西红柿", description="三元朱村冬暖式大棚种植",
                          category=categories["tomatoes"], price=Decimal("12.50"), claims=["organic"],
                          perishable=True, sales_count=50),
        "cucumber": indexed(merchant=shop, title="寿光旱黄瓜", description="清脆爽口，可搭配西红柿凉拌",
                            category=categories["vegetables"], price=Decimal("6.80"), perishable=True,
                            sales_count=200),
        "tea": indexed(merchant=tea_shop, title="贵定云雾贡茶 明前特级", description="高山云雾，手工炒制",
                       category=categories["tea"], price=Decimal("268.00"), claims=["geo_indication"],
                       sales_count=10),
        "green_tea": indexed(merchant=tea_shop, title="云雾绿茶", description="春茶", category=categories["tea"],
                             price=Decimal("98.00"), claims=["geo_indication", "green_food"]),
        "apple": indexed(merchant=tea_shop, title="红富士苹果 5斤装", description="脆甜多汁",
                         category=categories["vegetables"], price=Decimal("39.90")),
    }


def ids(client, query):
    response = client.get(f"/api/products/?{query}")
    assert response.status_code == 200, response.json()
    return [p["id"] for p in response.json()["results"]]


@pytest.mark.parametrize("term, expected", [
    ("西红柿", {"tomato", "cucumber"}),
    ("有机", {"tomato"}),
    ("shouguang", {"tomato", "cucumber"}),
    ("shougu", {"tomato", "cucumber"}),
    ("xihongshi", {"tomato", "cucumber"}),
    ("寿光有机西红柿", {"tomato"}),
    ("有机西红柿", {"tomato"}),
    ("寿光 西红柿", {"tomato", "cucumber"}),
    ("茶", {"tea", "green_tea"}),
    ("绿茶", {"green_tea"}),
    ("苹果", {"apple"}),
    ("红富士", {"apple"}),
    ("明前", {"tea"}),
    ("贡茶", {"tea", "green_tea", "apple"}),  # also in the tea shop's name
    ("蔬菜", {"cucumber", "apple"}),  # the category's name (the tomato's is 番茄)
    ("番茄", {"tomato"}),
    ("贵定", {"tea", "green_tea", "apple"}),  # the shop's name
    ("榴莲", set()),
    ("'; DROP TABLE catalog_product; --", set()),
    ("&|!():*", None),  # nothing searchable: no filter
])
def test_chinese_search(api_client, catalogue, term, expected):
    from urllib.parse import quote

    found = set(ids(api_client, f"search={quote(term)}"))
    names = {name for name, product in catalogue.items() if product.pk in found}
    assert names == (set(catalogue) if expected is None else expected)


def test_search_ranks_title_matches_first(api_client, catalogue):
    assert ids(api_client, "search=西红柿") == [catalogue["tomato"].pk, catalogue["cucumber"].pk]
    # An explicit ordering wins over relevance.
    assert ids(api_client, "search=西红柿&ordering=sales") == [catalogue["cucumber"].pk, catalogue["tomato"].pk]


def test_search_follows_edits(client_for, catalogue, shop):
    owner = client_for(shop.user)
    owner.patch(f"/api/products/{catalogue['cucumber'].pk}/", {"title": "寿光水果黄瓜", "description": "脆"},
                format="json")
    # The owner's product went back to review; the owner's view searches every status.
    assert ids(owner, "mine=1&search=水果") == [catalogue["cucumber"].pk]
    assert ids(owner, "mine=1&search=凉拌") == []


def test_postgres_search_uses_the_gin_index(catalogue, shop, categories):
    """On a table of realistic size the catalogue's own query is answered through the GIN index."""
    from django.contrib.postgres.search import SearchVectorField
    from django.db.models import Value
    from django.db.models.functions import Cast

    from catalog.models import Product

    assert connection.vendor == "postgresql"
    Product.objects.bulk_create([
        Product(merchant=shop, title=f"寿光黄瓜{n}", category=categories["vegetables"], price=Decimal("5.00"),
                unit="斤", stock=10, origin=shop.village, status="listed")
        for n in range(3000)
    ])
    Product.objects.filter(search_vector__isnull=True).update(
        search_vector=Cast(Value("'寿光':1A '黄瓜':2A 'huanggua':3A"), SearchVectorField()))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE catalog_product")
        cursor.execute("ANALYZE merchants_merchant")
    qs = product_list(filters=ProductFilters(search="西红柿"))
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "catalog_product_search_gin" in plan, plan
    assert [p.pk for p in qs] == [catalogue["tomato"].pk, catalogue["cucumber"].pk]


def test_sqlite_fallback_matches_the_same_words(catalogue, monkeypatch):
    import catalog.selectors as selectors

    class FakeConnection:
        vendor = "sqlite"

    monkeypatch.setattr(selectors, "connection", FakeConnection())
    for term, expected in (("西红柿", {"tomato", "cucumber"}), ("shouguang", {"tomato", "cucumber"}),
                           ("绿茶", {"green_tea"}), ("苹果", {"apple"})):
        found = set(product_list(filters=ProductFilters(search=term)).values_list("pk", flat=True))
        assert found == {catalogue[name].pk for name in expected}, term
    claimed = set(product_list(filters=ProductFilters(claim="green_food")).values_list("pk", flat=True))
    assert claimed == {catalogue["green_tea"].pk}


def test_filters(api_client, catalogue, categories, shop, county):
    c = catalogue
    assert set(ids(api_client, f"category={categories['vegetables'].pk}")) == {c["tomato"].pk, c["cucumber"].pk,
                                                                                 c["apple"].pk}
    assert ids(api_client, f"category={categories['tomatoes'].pk}") == [c["tomato"].pk]
    assert ids(api_client, "category=999999") == []
    assert set(ids(api_client, f"county={county.pk}")) == {c["tomato"].pk, c["cucumber"].pk}
    assert set(ids(api_client, f"merchant={c['tea'].merchant_id}")) == {c["tea"].pk, c["green_tea"].pk, c["apple"].pk}
    assert set(ids(api_client, "min_price=10&max_price=100")) == {c["tomato"].pk, c["green_tea"].pk, c["apple"].pk}
    assert ids(api_client, "min_price=200") == [c["tea"].pk]
    assert set(ids(api_client, "claim=geo_indication")) == {c["tea"].pk, c["green_tea"].pk}
    assert ids(api_client, "claim=organic") == [c["tomato"].pk]
    assert set(ids(api_client, "perishable=true")) == {c["tomato"].pk, c["cucumber"].pk}
    assert set(ids(api_client, "perishable=false")) == {c["tea"].pk, c["green_tea"].pk, c["apple"].pk}
    assert ids(api_client, f"search=茶&claim=green_food&county={c['tea'].merchant.county_id}") == [c["green_tea"].pk]


def test_orderings(api_client, catalogue):
    c = catalogue
    by_price = [c[n].pk for n in ("cucumber", "tomato", "apple", "green_tea", "tea")]
    assert ids(api_client, "ordering=price") == by_price
    assert ids(api_client, "ordering=-price") == by_price[::-1]
    newest = [c[n].pk for n in ("apple", "green_tea", "tea", "cucumber", "tomato")]
    assert ids(api_client, "ordering=-created") == newest
    assert ids(api_client, "") == newest  # the default
    assert ids(api_client, "ordering=created") == newest[::-1]
    assert ids(api_client, "ordering=sales")[:3] == [c["cucumber"].pk, c["tomato"].pk, c["tea"].pk]


@pytest.mark.parametrize("query, field", [
    ("min_price=abc", "min_price"), ("max_price=-1", "max_price"), ("min_price=10&max_price=5", "max_price"),
    ("ordering=random()", "ordering"), ("claim=miracle", "claim"), ("category=tea", "category"),
    ("perishable=maybe", "perishable"), ("county=0", "county"),
])
def test_bad_filters_are_400(api_client, query, field):
    response = api_client.get(f"/api/products/?{query}")
    assert response.status_code == 400 and field in response.json()["error"]["fields"]


def test_only_listed_products_of_approved_shops(api_client, shop):
    visible = ProductFactory(merchant=shop)
    for status in ("pending_review", "rejected", "delisted"):
        ProductFactory(merchant=shop, status=status)
    for status in ("submitted", "rejected", "suspended"):
        ProductFactory(merchant=MerchantFactory(status=status))
    assert ids(api_client, "") == [visible.pk]


def test_owner_sees_every_status_with_mine(client_for, api_client, shop):
    mine = {status: ProductFactory(merchant=shop, status=status)
            for status in ("pending_review", "listed", "rejected", "delisted")}
    theirs = ProductFactory()
    owner = client_for(shop.user)
    assert set(ids(owner, "mine=1")) == {p.pk for p in mine.values()}
    assert ids(owner, "mine=1&status=rejected") == [mine["rejected"].pk]
    assert set(ids(owner, "status=rejected")) == {mine["listed"].pk, theirs.pk}  # status needs mine
    assert ids(client_for(ConsumerFactory()), "mine=1") == []
    assert api_client.get("/api/products/?mine=1").status_code == 401
    # The owner also sees its unlisted product's page; nobody else does.
    assert owner.get(f"/api/products/{mine['rejected'].pk}/").status_code == 200
    assert api_client.get(f"/api/products/{mine['rejected'].pk}/").status_code == 404


def test_categories(api_client, categories):
    body = api_client.get("/api/categories/").json()
    assert {c["slug"]: c["parent"] for c in body}["tomatoes"] == categories["vegetables"].pk


def _fill(shop, count, categories):
    from catalog.models import ProductImage

    for n in range(count):
        village = VillageFactory(parent=TownshipFactory(parent=shop.county))
        product = indexed(merchant=MerchantFactory(village=village), title=f"寿光西红柿{n}",
                          category=categories["tomatoes"], claims=["organic"])
        ProductImage.objects.create(product=product, image=f"catalog/products/{n}.png")
        CredentialFactory(merchant=product.merchant)
        ProductFactory(merchant=product.merchant, status="pending_review", category=categories["tomatoes"])


@pytest.mark.parametrize("count", [1, 20])
def test_lists_cost_a_fixed_number_of_queries(api_client, client_for, django_assert_max_num_queries, shop, operator,
                                              categories, count):
    _fill(shop, count, categories)
    queries = ["", "search=西红柿", f"category={categories['vegetables'].pk}&claim=organic&ordering=price",
               f"county={shop.county_id}&min_price=1&max_price=100&perishable=false&ordering=sales"]
    for query in queries:
        with django_assert_max_num_queries(4):  # count, page, images (+ the category tree when filtering by it)
            body = api_client.get(f"/api/products/?page_size=50&{query}").json()
        assert len(body["results"]) == count, query
    with django_assert_max_num_queries(4):  # + the user
        assert len(client_for(operator).get("/api/products/review-queue/?page_size=50").json()["results"]) == count
    owner = client_for(shop.user)
    ProductFactory(merchant=shop, status="pending_review")
    with django_assert_max_num_queries(4):
        assert owner.get("/api/products/?mine=1").json()["count"] == 1
    product_id = body["results"][0]["id"]
    with django_assert_max_num_queries(4):  # product, images, credentials (+ none for batches: no pesticide claim)
        assert api_client.get(f"/api/products/{product_id}/").status_code == 200


def test_renaming_a_rejected_shop_reindexes_its_products(client_for, village, categories):
    shop = MerchantFactory(village=village, status="rejected", shop_name="旧名字合作社")
    product = indexed(merchant=shop, title="大白菜", category=categories["vegetables"], status="pending_review")
    owner = client_for(shop.user)
    assert owner.patch(f"/api/merchants/{shop.pk}/", {"shop_name": "崔岭西农场"}, format="json").status_code == 200
    assert ids(owner, "mine=1&search=崔岭") == [product.pk]
    assert ids(owner, "mine=1&search=旧名字") == []
