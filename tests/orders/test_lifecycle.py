"""After checkout: cancel, merchant views, receipt, auto-confirm, reviews."""

from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from notifications.models import Notification
from orders.models import MerchantOrder, Order
from orders.services import merchant_orders_auto_confirm
from orders.status import merchant_order_transition
from payments.models import Refund
from tests import factories
from tests.orders.conftest import checkout_body, ship_and_deliver


@pytest.mark.django_db
def test_cancel_a_pending_order_returns_stock(client_for, consumer, product, address):
    client = client_for(consumer)
    order_id = client.post("/api/orders/", checkout_body(address, {"product": product.pk, "quantity": 4}),
                           format="json").json()["id"]
    response = client.post(f"/api/orders/{order_id}/cancel/")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    product.refresh_from_db()
    assert product.stock == 100
    again = client.post(f"/api/orders/{order_id}/cancel/")
    assert again.status_code == 409 and again.json()["error"]["code"] == "invalid_transition"
    product.refresh_from_db()
    assert product.stock == 100


@pytest.mark.django_db(transaction=True)
def test_cancel_a_paid_order_refunds_through_the_provider(client_for, consumer, paid_order, product):
    response = client_for(consumer).post(f"/api/orders/{paid_order.pk}/cancel/")
    assert response.status_code == 200
    mo = paid_order.merchant_orders.get()
    mo.refresh_from_db()
    assert mo.status == "cancelled" and mo.refunded_amount == mo.total == Decimal("28.00")
    refund = Refund.objects.get(merchant_order=mo)
    assert refund.status == "succeeded" and refund.amount == Decimal("28.00")
    product.refresh_from_db()
    assert product.stock == 100 and product.sales_count == 0
    assert Notification.objects.filter(user=mo.merchant.user, kind="merchant_order.cancelled").exists()


@pytest.mark.django_db
def test_cannot_cancel_once_shipped(client_for, consumer, paid_order, product):
    merchant_order_transition(paid_order.merchant_orders.get(), "shipped")
    response = client_for(consumer).post(f"/api/orders/{paid_order.pk}/cancel/")
    assert response.status_code == 409 and response.json()["error"]["code"] == "already_shipped"
    assert Order.objects.get(pk=paid_order.pk).status == "paid"
    product.refresh_from_db()
    assert product.stock == 98


@pytest.mark.django_db
def test_merchant_sees_its_sub_orders_masked_until_paid(client_for, consumer, product, address, shop):
    buyer = factories.ConsumerFactory(last_name="王", first_name="小明", phone="13912345678")
    client_for(buyer).post("/api/orders/", checkout_body(address, {"product": product.pk, "quantity": 1}),
                           format="json")
    merchant = client_for(shop.user)
    row = merchant.get("/api/merchant-orders/").json()["results"][0]
    assert row["status"] == "pending_payment"
    assert row["buyer"] == {"name": "王**", "phone": "139****5678"}
    assert row["ship_to"]["detail"] == "" and row["ship_to"]["phone"] == "138****1234"
    mo = MerchantOrder.objects.get(pk=row["id"])
    merchant_order_transition(mo, "paid")
    row = merchant.get(f"/api/merchant-orders/{mo.pk}/").json()
    assert row["buyer"] == {"name": "王小明", "phone": "13912345678"}
    assert row["ship_to"]["detail"] == "3排5号" and row["ship_to"]["recipient"] == "王小明"
    assert client_for(factories.MerchantFactory().user).get(f"/api/merchant-orders/{mo.pk}/").status_code == 404
    assert client_for(factories.MerchantFactory().user).get("/api/merchant-orders/").json()["count"] == 0
    assert client_for(buyer).get("/api/merchant-orders/").status_code == 403


@pytest.mark.django_db
def test_merchant_list_costs_fixed_queries(client_for, shop, address, django_assert_max_num_queries):
    for _ in range(4):
        product = factories.ProductFactory(merchant=shop)
        client_for(factories.ConsumerFactory()).post(
            "/api/orders/", checkout_body(address, {"product": product.pk, "quantity": 1}), format="json")
    with django_assert_max_num_queries(5):
        assert client_for(shop.user).get("/api/merchant-orders/").json()["count"] == 4


@pytest.mark.django_db
def test_buyer_confirms_a_delivered_order_and_it_completes(client_for, consumer, paid_order):
    mo = paid_order.merchant_orders.get()
    client = client_for(consumer)
    early = client.post(f"/api/merchant-orders/{mo.pk}/confirm/")
    assert early.status_code == 409
    ship_and_deliver(mo)
    assert client_for(factories.ConsumerFactory()).post(f"/api/merchant-orders/{mo.pk}/confirm/").status_code == 404
    response = client.post(f"/api/merchant-orders/{mo.pk}/confirm/")
    assert response.status_code == 200
    assert response.json()["status"] == "completed"
    assert response.json()["merchant_orders"][0]["status"] == "completed"


@pytest.mark.django_db
def test_auto_confirm_after_n_days(paid_order):
    mo = ship_and_deliver(paid_order.merchant_orders.get())
    assert merchant_orders_auto_confirm() == 0
    with time_machine.travel(timezone.now() + timezone.timedelta(days=7, minutes=1)):
        assert merchant_orders_auto_confirm() == 1
        assert merchant_orders_auto_confirm() == 0
    mo.refresh_from_db()
    assert mo.status == "completed" and Order.objects.get(pk=paid_order.pk).status == "completed"


@pytest.mark.django_db
def test_review_once_after_delivery_updates_ratings(client_for, consumer, paid_order, product, shop):
    mo = paid_order.merchant_orders.get()
    client = client_for(consumer)
    url = f"/api/merchant-orders/{mo.pk}/reviews/"
    assert client.post(url, {"rating": 5, "text": "好"}, format="json").status_code == 409  # not delivered
    ship_and_deliver(mo)
    assert client.post(url, {"rating": 6}, format="json").status_code == 400
    assert client.post(url, {"rating": 0}, format="json").status_code == 400
    response = client.post(url, {"rating": 4, "text": "新鲜"}, format="json")
    assert response.status_code == 201 and response.json()["rating"] == 4
    assert client.post(url, {"rating": 5}, format="json").status_code == 409
    shop.refresh_from_db()
    product.refresh_from_db()
    assert (shop.rating_avg, shop.rating_count) == (Decimal("4.00"), 1)
    assert (product.rating_avg, product.rating_count) == (Decimal("4.00"), 1)
    assert client_for(factories.ConsumerFactory()).post(url, {"rating": 1}, format="json").status_code == 404


@pytest.mark.django_db
def test_cart_flags_delisted_items_and_shows_todays_price(client_for, consumer, product):
    client = client_for(consumer)
    item = client.post("/api/cart/items/", {"product": product.pk, "quantity": 2}, format="json").json()
    assert item["unit_price"] == "12.50" and item["available"] is True
    type(product).objects.filter(pk=product.pk).update(price=Decimal("10.00"), status="delisted")
    cart = client.get("/api/cart/").json()
    assert cart["items"][0]["unit_price"] == "10.00" and cart["items"][0]["delisted"] is True
    assert cart["items_total"] == "0.00"
    assert client.patch(f"/api/cart/items/{item['id']}/", {"quantity": 5}, format="json").json()["quantity"] == 5
    assert client_for(factories.ConsumerFactory()).delete(f"/api/cart/items/{item['id']}/").status_code == 404
    assert client.delete(f"/api/cart/items/{item['id']}/").status_code == 204
    assert client.post("/api/cart/items/", {"product": product.pk, "quantity": 1}, format="json").status_code == 400
