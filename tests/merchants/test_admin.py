"""The Django admin review queues call the same services as the API."""

import pytest
from django.test import Client

from catalog.models import Product, ProductEvent
from merchants.models import Credential, Merchant, MerchantEvent
from tests.factories import MerchantFactory, ProductFactory

from .factories import CredentialFactory, uscc_number

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


def act(client, path, action, pks, reason=""):
    return client.post(path, {"action": action, "_selected_action": [str(pk) for pk in pks], "reason": reason,
                              "index": 0}, follow=True)


def test_merchant_queue_filters_and_actions(admin_client, admin_user, village, county):
    ready = MerchantFactory(village=village, status="submitted")
    CredentialFactory(merchant=ready, kind="business_license", number=uscc_number(11), expires_at=None)
    unready = MerchantFactory(village=village, status="submitted")
    MerchantFactory(status="submitted")  # another county
    page = admin_client.get(f"/admin/merchants/merchant/?county__id__exact={county.pk}&status__exact=submitted")
    assert page.status_code == 200
    assert page.context["cl"].result_count == 2

    response = act(admin_client, "/admin/merchants/merchant/", "merchant_approve", [ready.pk, unready.pk])
    assert response.status_code == 200
    ready.refresh_from_db()
    unready.refresh_from_db()
    assert ready.status == "approved" and unready.status == "submitted"  # no licence: refused, reported
    messages = [str(m) for m in response.context["messages"]]
    assert any(unready.shop_name in m for m in messages)
    assert MerchantEvent.objects.filter(merchant=ready, to_status="approved", actor=admin_user).exists()

    act(admin_client, "/admin/merchants/merchant/", "merchant_reject", [unready.pk], reason="材料不全")
    unready.refresh_from_db()
    assert unready.status == "rejected"
    assert MerchantEvent.objects.get(merchant=unready, to_status="rejected").reason == "材料不全"


def test_credential_and_product_actions(admin_client, shop, categories):
    credential = CredentialFactory(merchant=shop, status="pending")
    act(admin_client, "/admin/merchants/credential/", "credential_approve", [credential.pk])
    assert Credential.objects.get(pk=credential.pk).status == "approved"

    product = ProductFactory(merchant=shop, status="pending_review", claims=["organic"], category=categories["tomatoes"])
    unbacked = ProductFactory(merchant=shop, status="pending_review", claims=["green_food"])
    page = admin_client.get(f"/admin/catalog/product/?status__exact=pending_review&merchant__county__id__exact="
                            f"{shop.county_id}")
    assert page.context["cl"].result_count == 2
    response = act(admin_client, "/admin/catalog/product/", "product_approve", [product.pk, unbacked.pk])
    assert Product.objects.get(pk=product.pk).status == "listed"
    assert Product.objects.get(pk=unbacked.pk).status == "pending_review"
    assert any("green_food" in str(m) for m in response.context["messages"])
    act(admin_client, "/admin/catalog/product/", "product_delist", [product.pk], reason="抽检")
    assert ProductEvent.objects.filter(product=product, to_status="delisted", reason="抽检").exists()
    for path in ("/admin/catalog/category/", "/admin/catalog/harvestbatch/", f"/admin/merchants/merchant/{shop.pk}/change/",
                 f"/admin/catalog/product/{product.pk}/change/", f"/admin/merchants/credential/{credential.pk}/change/"):
        assert admin_client.get(path).status_code == 200, path


def test_operator_in_the_admin_sees_only_its_county(operator, village):
    from django.contrib.auth.models import Permission

    operator.is_staff = True
    operator.save()
    operator.user_permissions.set(Permission.objects.filter(codename__in=["view_merchant", "change_merchant"]))
    mine = MerchantFactory(village=village, status="submitted")
    MerchantFactory(status="submitted")
    client = Client()
    client.force_login(operator)
    page = client.get("/admin/merchants/merchant/")
    assert [m.pk for m in page.context["cl"].result_list] == [mine.pk]
    assert Merchant.objects.count() == 2
