"""The demand outlook: a moving average, with its error on past weeks; the shop's own only."""

import datetime

import pytest
from django.utils import timezone

from figures.models import ProductDay
from tests import factories

pytestmark = pytest.mark.django_db


def test_the_outlook_is_the_last_four_weeks_mean_with_its_past_error(client_for, shop,
                                                                    django_assert_max_num_queries):
    product = factories.ProductFactory(merchant=shop)
    today = timezone.localdate()
    monday = today - datetime.timedelta(days=today.weekday())
    units = [4, 4, 4, 4, 8, 8, 8, 8, 10, 10, 10, 10]  # oldest first, one sale day a week
    for n, amount in enumerate(units):
        ProductDay.objects.create(merchant=shop, product=product, units=amount, revenue=amount * 10,
                                  day=monday - datetime.timedelta(weeks=12 - n) + datetime.timedelta(days=2))
    ProductDay.objects.create(merchant=shop, product=product, units=99, revenue=990, day=monday)  # this week: left out
    with django_assert_max_num_queries(3):
        body = client_for(shop.user).get(f"/api/figures/merchants/{shop.pk}/outlook/").json()
    row = body["products"][0]
    assert [week["units"] for week in row["history"]] == units
    assert [week["units"] for week in row["forecast"]] == [10.0] * 4
    # past forecasts: weeks 5-8 from 4 → errors 4,3,2,1; weeks 9-12 from 8s and 10s → 2, 1.5, 1, 0.5
    assert row["mean_absolute_error"] == round((4 + 3 + 2 + 1 + 2 + 1.5 + 1 + 0.5) / 8, 2)
    assert client_for(factories.MerchantFactory().user).get(
        f"/api/figures/merchants/{shop.pk}/outlook/").status_code == 404
