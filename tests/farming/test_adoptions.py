"""Adoptions through the API: offer, adopt and pay up front, one order per delivery on its date, the
farmer's updates, cancellation with a pro-rata refund before the cut-off."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from farming.models import Delivery, Subscription
from farming.tasks import adoption_deliveries
from notifications.models import Notification
from orders.models import MerchantOrder, Order
from payments.models import Refund
from tests import factories
from tests.farming.conftest import adoption_body
from tests.orders.conftest import pay, ship_and_deliver

pytestmark = pytest.mark.django_db


def _adopt(client, adoption, address, **headers):
    return client.post(f"/api/adoptions/{adoption['id']}/adopt/", {"address": address}, format="json", **headers)


def _day(adoption, n):
    return datetime.date.fromisoformat(adoption["schedule"]["dates"][n])


def test_an_offer_shows_its_schedule_and_places(client_for, adoption, api_client):
    assert adoption["schedule"]["deliveries"] == 3 and len(adoption["schedule"]["dates"]) == 3
    first, second = _day(adoption, 0), _day(adoption, 1)
    assert (second.month - first.month) % 12 == 1
    listed = api_client.get("/api/adoptions/").json()
    assert listed["count"] == 1 and listed["results"][0]["left"] == 3
    assert api_client.get(f"/api/adoptions/{adoption['id']}/").json()["price"] == "300.00"


@pytest.mark.parametrize("change, field", [
    ({"season_to": "2000-01-01"}, "season_to"),
    ({"schedule": {"every": "month", "first_delivery": "2000-01-01", "deliveries": 3}}, "schedule"),
    ({"schedule": {"every": "week", "first_delivery": "2099-01-01", "deliveries": 2}}, "schedule"),
    ({"price": "0.00"}, "price"),
    ({"cap": 0}, "cap"),
])
def test_bad_offers_are_refused(client_for, shop, product, change, field):
    response = client_for(shop.user).post("/api/adoptions/", adoption_body(product, **change), format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_another_shops_product_cannot_be_adopted_out(client_for, shop, village):
    other = factories.ProductFactory(merchant=factories.MerchantFactory(village=village))
    response = client_for(shop.user).post("/api/adoptions/", adoption_body(other), format="json")
    assert response.status_code == 400 and "product" in response.json()["error"]["fields"]


def test_adopt_pay_and_each_delivery_is_one_order_on_its_date(client_for, consumer, shop, adoption, address):
    client = client_for(consumer)
    response = _adopt(client, adoption, address, HTTP_IDEMPOTENCY_KEY="adopt-1")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["total"] == "300.00" and body["order_status"] == "pending_payment"
    assert [d["order"] for d in body["deliveries"]] == [None, None, None]
    replay = _adopt(client, adoption, address, HTTP_IDEMPOTENCY_KEY="adopt-1")
    assert replay.json()["id"] == body["id"] and Subscription.objects.count() == 1
    pay(client, body["order"])

    with time_machine.travel(timezone.make_aware(datetime.datetime.combine(_day(adoption, 0),
                                                                           datetime.time(9)))):
        assert adoption_deliveries.delay().get() == 1
        assert adoption_deliveries.delay().get() == 0  # a second run makes nothing more
    first = Delivery.objects.get(seq=1)
    order = Order.objects.get(pk=first.order_id)
    assert (order.status, order.total, order.buyer_id) == ("paid", Decimal("0.00"), consumer.pk)
    mo = order.merchant_orders.get()
    assert (mo.merchant_id, mo.status, mo.lines.get().quantity) == (shop.pk, "paid", 2)
    assert Notification.objects.filter(user=consumer, kind="adoption.delivery").count() == 1
    assert Notification.objects.filter(user=shop.user, kind="adoption.delivery.merchant").count() == 1
    assert Delivery.objects.filter(order__isnull=False).count() == 1


def test_the_paying_order_completes_when_every_delivery_is_settled(client_for, consumer, shop, adoption, address):
    client = client_for(consumer)
    body = _adopt(client, adoption, address).json()
    pay(client, body["order"])
    with time_machine.travel(timezone.make_aware(datetime.datetime.combine(_day(adoption, 2),
                                                                           datetime.time(9)))):
        assert adoption_deliveries.delay().get() == 3
    paying = MerchantOrder.objects.get(order_id=body["order"])
    assert paying.status == "paid"
    for delivery in Delivery.objects.all():
        mo = MerchantOrder.objects.get(order_id=delivery.order_id)
        ship_and_deliver(mo)
        assert client.post(f"/api/merchant-orders/{mo.pk}/confirm/").status_code == 200
    adoption_deliveries.delay().get()
    paying.refresh_from_db()
    assert paying.status == "completed"
    assert Subscription.objects.get().status == "finished"
    assert Order.objects.get(pk=body["order"]).status == "completed"


def test_adopting_past_the_cap_is_refused_and_reserves_nothing(client_for, adoption, address):
    for _ in range(3):
        assert _adopt(client_for(factories.ConsumerFactory()), adoption, address).status_code == 201
    orders = Order.objects.count()
    response = _adopt(client_for(factories.ConsumerFactory()), adoption, address)
    assert response.status_code == 409 and response.json()["error"]["code"] == "adoption_full"
    assert Order.objects.count() == orders and Subscription.objects.count() == 3


def test_an_expired_unpaid_adoption_frees_its_place(client_for, adoption, address, product):
    from orders.services import orders_expire_unpaid

    stock = product.stock

    for _ in range(3):
        _adopt(client_for(factories.ConsumerFactory()), adoption, address)
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=1)):
        orders_expire_unpaid()
        adoption_deliveries.delay().get()
        assert Subscription.objects.filter(status="cancelled").count() == 3
        product.refresh_from_db()
        assert product.stock == stock  # the adoption took none of the shelf's units, nor gives any back
        assert _adopt(client_for(factories.ConsumerFactory()), adoption, address).status_code == 201


def test_cancelling_refunds_the_unsent_deliveries_pro_rata(client_for, consumer, shop, adoption, address):
    client = client_for(consumer)
    body = _adopt(client, adoption, address).json()
    pay(client, body["order"])
    refused = client.post(f"/api/orders/{body['order']}/cancel/")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "adoption_order"
    with time_machine.travel(timezone.make_aware(datetime.datetime.combine(_day(adoption, 0),
                                                                           datetime.time(9)))):
        adoption_deliveries.delay().get()
        client = client_for(consumer)  # a token of the travelled-to day
        response = client.post(f"/api/adoption-subscriptions/{body['id']}/cancel/")
    assert response.status_code == 200, response.json()
    cancelled = response.json()
    assert cancelled["status"] == "cancelled" and cancelled["refunded"] == "200.00"
    assert [d["skipped"] for d in cancelled["deliveries"]] == [False, True, True]
    assert Refund.objects.get().amount == Decimal("200.00")
    assert MerchantOrder.objects.get(order_id=body["order"]).refunded_amount == Decimal("200.00")
    again = client_for(consumer).post(f"/api/adoption-subscriptions/{body['id']}/cancel/")
    assert again.status_code == 409 and Refund.objects.count() == 1


def test_cancelling_past_the_cut_off_is_refused(client_for, consumer, adoption, address, settings):
    client = client_for(consumer)
    body = _adopt(client, adoption, address).json()
    pay(client, body["order"])
    late = timezone.make_aware(datetime.datetime.combine(_day(adoption, 2) - datetime.timedelta(days=1),
                                                         datetime.time(9)))
    with time_machine.travel(late):
        response = client_for(consumer).post(f"/api/adoption-subscriptions/{body['id']}/cancel/")
    assert response.status_code == 409 and response.json()["error"]["code"] == "past_cut_off"
    assert Refund.objects.count() == 0 and Subscription.objects.get().status == "active"


def test_cancelling_before_any_delivery_refunds_everything(client_for, consumer, adoption, address):
    client = client_for(consumer)
    body = _adopt(client, adoption, address).json()
    pay(client, body["order"])
    response = client.post(f"/api/adoption-subscriptions/{body['id']}/cancel/")
    assert response.json()["refunded"] == "300.00"
    assert MerchantOrder.objects.get(order_id=body["order"]).status == "refunded"
    assert Order.objects.get(pk=body["order"]).status == "cancelled"


def test_the_farmers_updates_reach_the_adopters_only(client_for, consumer, shop, adoption, address):
    client = client_for(consumer)
    pay(client, _adopt(client, adoption, address).json()["order"])
    posted = client_for(shop.user).post(f"/api/adoptions/{adoption['id']}/updates/", {"note": "开花了"},
                                        format="json")
    assert posted.status_code == 201
    assert Notification.objects.filter(user=consumer, kind="adoption.updated").count() == 1
    assert client.get(f"/api/adoptions/{adoption['id']}/updates/").json()["results"][0]["note"] == "开花了"
    stranger = client_for(factories.ConsumerFactory())
    assert stranger.get(f"/api/adoptions/{adoption['id']}/updates/").status_code == 404
    empty = client_for(shop.user).post(f"/api/adoptions/{adoption['id']}/updates/", {}, format="json")
    assert empty.status_code == 400
    foreign = client_for(factories.MerchantFactory().user).post(f"/api/adoptions/{adoption['id']}/updates/",
                                                               {"note": "x"}, format="json")
    assert foreign.status_code == 404
