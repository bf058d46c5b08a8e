"""Following shops, and the shop lists at a fixed number of queries."""

import pytest

from merchants.models import Follow
from tests.factories import ConsumerFactory, MerchantFactory

pytestmark = pytest.mark.django_db


def test_follow_is_idempotent_and_counted(client_for, consumer, shop, api_client):
    client = client_for(consumer)
    first = client.post(f"/api/merchants/{shop.pk}/follow/")
    assert first.status_code == 201 and first.json() == {"following": True, "followers_count": 1}
    again = client.post(f"/api/merchants/{shop.pk}/follow/")
    assert again.status_code == 200 and again.json() == {"following": True, "followers_count": 1}
    client_for(ConsumerFactory()).post(f"/api/merchants/{shop.pk}/follow/")
    profile = client.get(f"/api/merchants/{shop.pk}/").json()
    assert profile["followers_count"] == 2 and profile["is_following"] is True
    assert api_client.get(f"/api/merchants/{shop.pk}/").json()["is_following"] is False
    following = client.get("/api/merchants/?following=1").json()["results"]
    assert [m["id"] for m in following] == [shop.pk]

    gone = client.delete(f"/api/merchants/{shop.pk}/follow/")
    assert gone.status_code == 200 and gone.json() == {"following": False, "followers_count": 1}
    assert client.delete(f"/api/merchants/{shop.pk}/follow/").json() == {"following": False, "followers_count": 1}
    assert not Follow.objects.filter(user=consumer).exists()


def test_only_consumers_follow_and_only_public_shops(client_for, shop, merchant_user, operator, api_client):
    # A wrong role on a route naming an object answers 404, like a missing object (accounts/permissions.py).
    assert client_for(merchant_user).post(f"/api/merchants/{shop.pk}/follow/").status_code == 404
    assert client_for(operator).post(f"/api/merchants/{shop.pk}/follow/").status_code == 404
    assert api_client.post(f"/api/merchants/{shop.pk}/follow/").status_code == 401
    hidden = MerchantFactory(status="suspended")
    assert client_for(ConsumerFactory()).post(f"/api/merchants/{hidden.pk}/follow/").status_code == 404
    assert client_for(ConsumerFactory()).post("/api/merchants/999999/follow/").status_code == 404
    assert not Follow.objects.exists()


def test_public_list_filters(api_client, shop, county):
    other = MerchantFactory(kind="individual", shop_name="王大姐茶园")
    MerchantFactory(status="submitted")
    everything = api_client.get("/api/merchants/").json()
    assert {m["id"] for m in everything["results"]} == {shop.pk, other.pk}
    assert [m["id"] for m in api_client.get(f"/api/merchants/?county={county.pk}").json()["results"]] == [shop.pk]
    assert [m["id"] for m in api_client.get("/api/merchants/?kind=individual").json()["results"]] == [other.pk]
    assert [m["id"] for m in api_client.get("/api/merchants/?search=茶园").json()["results"]] == [other.pk]
    assert api_client.get("/api/merchants/?county=abc").status_code == 400


@pytest.mark.parametrize("size", [1, 15])
def test_shop_lists_cost_a_fixed_number_of_queries(client_for, django_assert_max_num_queries, size, operator, county):
    from tests.factories import TownshipFactory, VillageFactory

    consumer = ConsumerFactory()
    for _ in range(size):
        village = VillageFactory(parent=TownshipFactory(parent=county))
        shop = MerchantFactory(village=village)
        MerchantFactory(village=village, status="submitted")
        shop.followers.create(user=consumer)
    client = client_for(consumer)
    with django_assert_max_num_queries(3):  # user, count, page (followers counted in the page query)
        body = client.get("/api/merchants/?page_size=50").json()
    assert len(body["results"]) == size and all(m["followers_count"] == 1 for m in body["results"])
    staff = client_for(operator)
    with django_assert_max_num_queries(3):
        assert len(staff.get("/api/merchants/review-queue/?page_size=50").json()["results"]) == size
    with django_assert_max_num_queries(4):
        assert staff.get(f"/api/merchants/{shop.pk}/events/").status_code == 200


@pytest.mark.parametrize("size", [1, 10])
def test_credential_list_and_profile_cost_fixed_queries(api_client, client_for, shop, size,
                                                         django_assert_max_num_queries):
    from .factories import CredentialFactory

    for n in range(size):
        CredentialFactory(merchant=shop, number=f"ORG-{n:04d}")
    with django_assert_max_num_queries(3):  # shop, count, page
        assert len(api_client.get(f"/api/merchants/{shop.pk}/credentials/").json()["results"]) == size
    with django_assert_max_num_queries(5):  # user, shop, credentials, last decision (+ none per credential)
        assert len(client_for(shop.user).get(f"/api/merchants/{shop.pk}/").json()["credentials"]) == size
