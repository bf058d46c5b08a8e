"""Figures from rollups: equal to a direct computation, a fixed number of queries, scoped, ranges checked."""

import datetime
from collections import defaultdict
from decimal import Decimal

import pytest
from django.utils import timezone

from figures.models import MerchantDay, ProductDay
from figures.rollups import rollups_refresh
from orders.models import MerchantOrder, OrderLine
from tests import factories
from tests.orders.conftest import checkout_body, pay

pytestmark = pytest.mark.django_db


@pytest.fixture
def sales(client_for, shop, address):
    """Three buyers, five paid orders (one buyer comes back twice), one unpaid order."""
    products = [factories.ProductFactory(merchant=shop, stock=100), factories.ProductFactory(merchant=shop, stock=100)]
    buyers = [factories.ConsumerFactory() for _ in range(3)]
    for buyer, picks in ((buyers[0], [(0, 1)]), (buyers[0], [(1, 2)]), (buyers[0], [(0, 3), (1, 1)]),
                         (buyers[1], [(1, 4)]), (buyers[2], [(0, 2)])):
        client = client_for(buyer)
        order_id = client.post("/api/orders/", checkout_body(address, *[
            {"product": products[n].pk, "quantity": q} for n, q in picks]), format="json").json()["id"]
        pay(client, order_id)
    client_for(buyers[1]).post("/api/orders/", checkout_body(address, {"product": products[0].pk, "quantity": 1}),
                               format="json")
    today = timezone.localdate()
    rollups_refresh(first=today - datetime.timedelta(days=2), last=today)
    return {"products": products, "buyers": buyers, "today": today}


def direct(shop) -> dict:
    """The same figures straight from the orders, another way (Python over the rows)."""
    orders = [mo for mo in MerchantOrder.objects.filter(merchant=shop).select_related("order")
              if mo.order.paid_at is not None and mo.status != "cancelled"]
    orders.sort(key=lambda mo: mo.order.paid_at)
    seen, repeat = set(), 0
    for mo in orders:
        repeat += mo.order.buyer_id in seen
        seen.add(mo.order.buyer_id)
    units = defaultdict(int)
    for line in OrderLine.objects.filter(merchant_order__in=orders):
        units[line.product_id] += line.quantity
    return {"orders": len(orders), "repeat": repeat, "gmv": sum((mo.items_total for mo in orders), Decimal("0")),
            "units": dict(units)}


def test_rollups_equal_a_direct_computation(shop, sales):
    truth = direct(shop)
    day = MerchantDay.objects.get(merchant=shop, day=sales["today"])
    assert (day.orders, day.repeat_orders, day.gmv) == (truth["orders"], truth["repeat"], truth["gmv"]) == (
        5, 2, truth["gmv"])
    assert day.units == sum(truth["units"].values())
    assert dict(ProductDay.objects.filter(merchant=shop).values_list("product_id", "units")) == truth["units"]
    rollups_refresh(first=sales["today"], last=sales["today"])  # again: the same rows, not twice
    assert MerchantDay.objects.filter(merchant=shop).count() == 1


def test_the_shop_reads_its_figures_in_a_fixed_number_of_queries(client_for, shop, sales,
                                                                 django_assert_max_num_queries):
    truth = direct(shop)
    with django_assert_max_num_queries(4):  # the user, the shop, its days, its products
        body = client_for(shop.user).get(f"/api/figures/merchants/{shop.pk}/").json()
    assert body["totals"]["orders"] == 5 and body["totals"]["repeat_order_share"] == 0.4
    assert Decimal(body["totals"]["gmv"]) == truth["gmv"]
    assert {row["product"]: row["units"] for row in body["products"]} == truth["units"]
    assert body["days"][0]["day"] == sales["today"].isoformat()


def test_another_shops_figures_are_404_and_bad_ranges_400(client_for, api_client, shop, sales):
    other = factories.MerchantFactory()
    assert client_for(other.user).get(f"/api/figures/merchants/{shop.pk}/").status_code == 404
    assert client_for(factories.ConsumerFactory()).get(f"/api/figures/merchants/{shop.pk}/").status_code == 404
    assert api_client.get(f"/api/figures/merchants/{shop.pk}/").status_code == 401
    url = f"/api/figures/merchants/{shop.pk}/"
    client = client_for(shop.user)
    for query in ("from=2026-05-02&to=2026-05-01", "from=2025-01-01&to=2026-01-02", "from=2026-13-01",
                  "to=yesterday", "from=2026-5-1"):
        response = client.get(f"{url}?{query}")
        assert response.status_code == 400, query
        assert response.json()["error"]["code"]
    assert client.get(f"{url}?from=2025-01-02&to=2026-01-02").status_code == 200  # 366 days


def test_county_figures_for_its_operator_only(client_for, shop, sales, operator, other_operator,
                                              django_assert_max_num_queries):
    county = shop.county_id
    with django_assert_max_num_queries(6):
        body = client_for(operator).get(f"/api/figures/counties/{county}/").json()
    assert body["totals"]["orders"] == 5 and Decimal(body["totals"]["gmv"]) == direct(shop)["gmv"]
    assert body["expected_pickups"] == [{"township": shop.village.parent_id, "township_name": shop.village.parent.name,
                                         "parcels": 5}]
    assert client_for(other_operator).get(f"/api/figures/counties/{county}/").status_code == 404
    assert client_for(shop.user).get(f"/api/figures/counties/{county}/").status_code == 404
    assert client_for(operator).get(f"/api/figures/counties/{county}/?from=x").status_code == 400
