"""A stream's funnel: viewers → chatters → orders → paid → GMV, per product; its shop's only."""

from decimal import Decimal

import pytest
from django.utils import timezone

from insights.models import InteractionEvent
from livestream.models import ChatMessage, Stream
from tests import factories
from tests.orders.conftest import checkout_body, pay

pytestmark = pytest.mark.django_db


def test_the_funnel_counts_each_step_for_the_shop_only(client_for, shop, address, django_assert_max_num_queries):
    product = factories.ProductFactory(merchant=shop, stock=100)
    stream = factories.StreamFactory(merchant=shop, status=Stream.Status.LIVE, started_at=timezone.now(),
                                     peak_viewers=7)
    buyers = [factories.ConsumerFactory() for _ in range(3)]
    for buyer in buyers:
        InteractionEvent.objects.create(user=buyer, kind="stream_join", stream=stream, at=timezone.now())
    InteractionEvent.objects.create(user=buyers[0], kind="stream_join", stream=stream, at=timezone.now())
    ChatMessage.objects.create(stream=stream, user=buyers[0], text="好")
    ChatMessage.objects.create(stream=stream, user=buyers[0], text="再来")
    totals = []
    for n, buyer in enumerate(buyers[:2]):
        client = client_for(buyer)
        order = client.post("/api/orders/", checkout_body(address, {"product": product.pk, "quantity": n + 1},
                                                          stream=stream.pk), format="json").json()
        if n == 0:
            pay(client, order["id"])
            totals.append(Decimal(order["items_total"]))
    with django_assert_max_num_queries(6):
        body = client_for(shop.user).get(f"/api/figures/streams/{stream.pk}/").json()
    assert (body["peak_viewers"], body["unique_signed_in_viewers"], body["chatters"]) == (7, 3, 1)
    assert (body["orders"], body["paid_orders"], Decimal(body["gmv"])) == (2, 1, totals[0])
    assert [(row["product"], row["units"]) for row in body["lines"]] == [(product.pk, 1)]
    assert client_for(factories.MerchantFactory().user).get(f"/api/figures/streams/{stream.pk}/").status_code == 404
    assert client_for(buyers[0]).get(f"/api/figures/streams/{stream.pk}/").status_code == 404
