"""Real parallel transactions on PostgreSQL: never past an adoption's cap, each delivery's order made once."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from farming.models import Delivery, Subscription
from farming.services import deliveries_due_create
from orders.models import Order
from tests import factories
from tests.farming.conftest import adoption_body
from tests.orders.conftest import pay, run_parallel

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_40_buyers_on_an_adoption_of_5_places(client_for, shop, product, address):
    adoption = client_for(shop.user).post("/api/adoptions/", adoption_body(product, cap=5), format="json").json()
    buyers = factories.ConsumerFactory.create_batch(40)
    url = f"/api/adoptions/{adoption['id']}/adopt/"
    codes = run_parallel([lambda b=b: client_for(b).post(url, {"address": address}, format="json").status_code
                          for b in buyers], workers=20)
    assert codes.count(201) == 5 and codes.count(409) == 35
    assert Subscription.objects.count() == 5 == Order.objects.count()


def test_the_delivery_task_run_four_times_at_once_makes_each_order_once(client_for, shop, product, address):
    adoption = client_for(shop.user).post("/api/adoptions/", adoption_body(product, cap=10), format="json").json()
    for buyer in factories.ConsumerFactory.create_batch(6):
        client = client_for(buyer)
        pay(client, client.post(f"/api/adoptions/{adoption['id']}/adopt/", {"address": address},
                                format="json").json()["order"])
    due = timezone.make_aware(datetime.datetime.combine(
        datetime.date.fromisoformat(adoption["schedule"]["dates"][1]), datetime.time(9)))
    with time_machine.travel(due):
        made = run_parallel([deliveries_due_create for _ in range(4)], workers=4)
    assert sum(made) == 12  # 6 adopters × the 2 deliveries due
    assert Delivery.objects.filter(order__isnull=False).count() == 12
    assert Order.objects.filter(adoption_delivery__isnull=False).count() == 12
    assert Order.objects.count() == 6 + 12
