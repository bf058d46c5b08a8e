"""Races that must not create a second shop or a second follow."""

import threading

import pytest
from django.db import connection

from merchants.models import Follow, Merchant
from tests.factories import ConsumerFactory, MerchantFactory, MerchantUserFactory, VillageFactory


def _race(n, work):
    barrier = threading.Barrier(n)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(work())
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results, errors


@pytest.mark.django_db(transaction=True)
def test_concurrent_applications_make_one_shop(client_for):
    user = MerchantUserFactory()
    village = VillageFactory()

    def apply():
        return client_for(user).post("/api/merchants/", {"shop_name": "抢注", "village": village.pk,
                                                         "kind": "individual", "contact_phone": "13812345678"},
                                     format="json").status_code

    results, errors = _race(4, apply)
    assert not errors
    assert sorted(results) == [201, 400, 400, 400]
    assert Merchant.objects.filter(user=user).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_follows_make_one_follow(client_for):
    consumer = ConsumerFactory()
    shop = MerchantFactory()
    results, errors = _race(4, lambda: client_for(consumer).post(f"/api/merchants/{shop.pk}/follow/").status_code)
    assert not errors
    assert sorted(results) == [200, 200, 200, 201]
    assert Follow.objects.filter(user=consumer, merchant=shop).count() == 1
