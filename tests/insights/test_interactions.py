"""Interactions are noted after commit, batched through Redis, kept for the buyer to see and clear."""

import datetime

import pytest
from django.utils import timezone

from insights.models import InteractionEvent
from insights.services import interactions_purge
from orders.status import merchant_order_transition
from tests import factories
from tests.orders.conftest import checkout_body, pay

from .conftest import drain

pytestmark = pytest.mark.django_db(transaction=True)


def kinds(user) -> list[tuple]:
    return sorted(InteractionEvent.objects.filter(user=user).values_list("kind", "product_id", "merchant_id", "value"))


def test_what_a_buyer_does_is_kept_once_drained_and_not_before(client_for, consumer, shop, product, address):
    client = client_for(consumer)
    assert client.get(f"/api/products/{product.pk}/").status_code == 200
    assert client.post(f"/api/merchants/{shop.pk}/follow/").status_code == 201
    assert client.post(f"/api/merchants/{shop.pk}/follow/").status_code == 200  # again: no second event
    assert client.post("/api/cart/items/", {"product": product.pk, "quantity": 3}, format="json").status_code == 201
    order_id = client.post("/api/orders/", checkout_body(address, {"product": product.pk, "quantity": 2}),
                           format="json").json()["id"]
    pay(client, order_id)
    assert InteractionEvent.objects.count() == 0  # nothing written on the requests' paths
    assert drain() == 5
    assert kinds(consumer) == sorted([
        ("view", product.pk, shop.pk, 0), ("follow", None, shop.pk, 0), ("cart_add", product.pk, shop.pk, 3),
        ("order", product.pk, shop.pk, 2), ("paid", product.pk, shop.pk, 2)])
    assert drain() == 0  # drained once


def test_a_review_is_kept_with_its_rating(client_for, consumer, product, address):
    client = client_for(consumer)
    order_id = client.post("/api/orders/", checkout_body(address, {"product": product.pk, "quantity": 1}),
                           format="json").json()["id"]
    pay(client, order_id)
    from orders.models import MerchantOrder

    mo = MerchantOrder.objects.get(order_id=order_id)
    merchant_order_transition(mo, "shipped")
    merchant_order_transition(mo, "delivered")
    assert client.post(f"/api/merchant-orders/{mo.pk}/reviews/", {"rating": 4, "text": "好"},
                       format="json").status_code == 201
    drain()
    assert ("review", product.pk, product.merchant_id, 4) in kinds(consumer)


def test_nobody_but_a_signed_in_buyer_is_noted(client_for, api_client, merchant_user, product):
    assert api_client.get(f"/api/products/{product.pk}/").status_code == 200
    assert client_for(merchant_user).get(f"/api/products/{product.pk}/").status_code == 200
    assert drain() == 0


def test_a_failed_write_notes_nothing(client_for, consumer, product):
    response = client_for(consumer).post("/api/cart/items/", {"product": product.pk, "quantity": 0}, format="json")
    assert response.status_code == 400
    assert drain() == 0


def test_the_buyer_sees_what_is_kept_and_nobody_else_does(client_for, consumer, product):
    client_for(consumer).get(f"/api/products/{product.pk}/")
    other = factories.ConsumerFactory()
    client_for(other).get(f"/api/products/{product.pk}/")
    drain()
    mine = client_for(consumer).get("/api/me/insights/interactions/").json()
    assert mine["count"] == 1 and mine["results"][0]["kind"] == "view"
    assert mine["results"][0]["product_title"] == product.title
    summary = client_for(consumer).get("/api/me/insights/").json()
    assert summary["kept"] == {"view": 1} and summary["personalised"] is True
    assert summary["retention_days"] == 180


def test_profiles_are_for_buyers_only(client_for, api_client, merchant_user, operator):
    assert api_client.get("/api/me/insights/").status_code == 401
    for user in (merchant_user, operator):
        assert client_for(user).get("/api/me/insights/").status_code == 403
        assert client_for(user).delete("/api/me/insights/").status_code == 403


def test_the_buyer_clears_everything_kept(client_for, consumer, product):
    client = client_for(consumer)
    client.get(f"/api/products/{product.pk}/")
    other = factories.ConsumerFactory()
    client_for(other).get(f"/api/products/{product.pk}/")
    drain()
    assert client.delete("/api/me/insights/").status_code == 204
    assert client.get("/api/me/insights/").json()["kept"] == {}
    assert InteractionEvent.objects.filter(user=other).count() == 1  # only the caller's


def test_turning_matching_off_clears_and_stops_keeping(client_for, consumer, product):
    client = client_for(consumer)
    client.get(f"/api/products/{product.pk}/")
    drain()
    body = client.patch("/api/me/insights/", {"personalised": False}, format="json").json()
    assert body["personalised"] is False and body["kept"] == {}
    client.get(f"/api/products/{product.pk}/")
    assert drain() == 0
    assert client.patch("/api/me/insights/", {"personalised": "maybe"}, format="json").status_code == 400


def test_interactions_older_than_the_retention_are_purged(consumer, product, settings):
    now = timezone.now()
    for days in (1, 179, 181, 400):
        InteractionEvent.objects.create(user=consumer, kind="view", product=product, at=now - datetime.timedelta(days=days))
    assert interactions_purge(now=now) == 2
    assert InteractionEvent.objects.count() == 2
