"""Payout accounts: sealed and masked, every change unverified until the shop's county verifies it."""

import pytest
from django.db import connection

from notifications.models import Notification
from payouts.models import Payout, PayoutAccount
from tests import factories

from .conftest import ALIPAY, BANK, available, fund

URL = "/api/merchant/payout-account/"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}

pytestmark = pytest.mark.django_db


def test_a_bank_account_is_stored_sealed_and_shown_masked(client_for, shop):
    client = client_for(shop.user)
    response = client.put(URL, BANK, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["number"] == "6228 **** **** 1234"
    assert body["status"] == "unverified" and body["payouts_on_hold"] is True and body["version"] == 1
    assert "6228480012345671234" not in response.content.decode()
    assert client.get(URL).json()["number"] == "6228 **** **** 1234"
    with connection.cursor() as cursor:
        cursor.execute("SELECT number FROM payouts_payoutaccount WHERE id = %s", [body["id"]])
        raw = cursor.fetchone()[0]
    assert "6228480012345671234" not in raw and raw.startswith("gAAAAA")
    assert PayoutAccount.objects.get(pk=body["id"]).number == "6228480012345671234"


@pytest.mark.parametrize(("login", "masked"), [("13800001234", "138****1234"),
                                               ("farmer@example.com", "f*****@example.com")])
def test_an_alipay_login_is_masked(client_for, shop, login, masked):
    response = client_for(shop.user).put(URL, {**ALIPAY, "alipay_login": login}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["number"] == masked and response.json()["bank_name"] == ""


def test_no_account_yet_is_404(client_for, shop):
    assert client_for(shop.user).get(URL).json()["error"]["code"] == "no_payout_account"


@pytest.mark.parametrize(("body", "field"), [
    ({**BANK, "account_number": "6228 4800 1234 5671"}, "account_number"),  # spaces
    ({**BANK, "account_number": "62284800123"}, "account_number"),  # 11 digits
    ({**BANK, "account_number": "6" * 31}, "account_number"),
    ({**BANK, "account_number": "６２２８４８００１２３４５６７１"}, "account_number"),  # full-width digits
    ({**BANK, "account_number": "62284800123456A"}, "account_number"),
    ({**BANK, "bank_name": ""}, "bank_name"),
    ({**BANK, "holder_name": "   "}, "holder_name"),
    ({**ALIPAY, "alipay_login": "12800001234"}, "alipay_login"),
    ({**ALIPAY, "alipay_login": "1380000123"}, "alipay_login"),
    ({**ALIPAY, "alipay_login": "farmer@"}, "alipay_login"),
    ({**ALIPAY, "alipay_login": ""}, "alipay_login"),
    ({**BANK, "kind": "wechat"}, "kind"),
])
def test_bad_formats_are_400_with_field_errors_and_nothing_stored(client_for, shop, body, field):
    response = client_for(shop.user).put(URL, body, format="json", **EN)
    assert response.status_code == 400
    error = response.json()["error"]
    assert field in error["fields"], error
    assert not PayoutAccount.objects.exists()
    assert not Notification.objects.filter(kind="payout.account_changed").exists()


def test_a_change_notifies_the_merchant_on_every_channel_and_the_county(client_for, shop, operator):
    client_for(shop.user).put(URL, BANK, format="json")
    told = Notification.objects.get(user=shop.user, kind="payout.account_changed")
    assert "6228 **** **** 1234" in told.body and "6228480012345671234" not in told.body
    assert sorted(told.deliveries.values_list("channel", flat=True)) == ["push", "sms"]
    assert Notification.objects.filter(user=operator, kind="payout.account_to_verify").exists()


def test_the_same_account_again_is_no_new_version(client_for, shop):
    client = client_for(shop.user)
    first = client.put(URL, BANK, format="json").json()
    again = client.put(URL, BANK, format="json").json()
    assert again["id"] == first["id"] and PayoutAccount.objects.count() == 1


def test_the_county_operator_verifies_and_the_merchant_is_told(client_for, shop, operator):
    account_id = client_for(shop.user).put(URL, BANK, format="json").json()["id"]
    staff = client_for(operator)
    listed = staff.get("/api/county/payout-accounts/?status=unverified").json()
    assert [a["id"] for a in listed["results"]] == [account_id]
    assert listed["results"][0]["number"] == "6228 **** **** 1234"
    assert listed["results"][0]["merchant"]["id"] == shop.pk
    response = staff.post(f"/api/county/payout-accounts/{account_id}/verify/")
    assert response.status_code == 200 and response.json()["status"] == "verified"
    assert client_for(shop.user).get(URL).json()["payouts_on_hold"] is False
    told = Notification.objects.get(user=shop.user, kind="payout.account_verified")
    assert sorted(told.deliveries.values_list("channel", flat=True)) == ["push", "sms"]
    assert staff.get("/api/county/payout-accounts/?status=unverified").json()["count"] == 0
    # Verified once: again is a 409.
    assert staff.post(f"/api/county/payout-accounts/{account_id}/verify/").status_code == 409


def test_reject_needs_a_reason_and_tells_the_merchant(client_for, shop, operator):
    account_id = client_for(shop.user).put(URL, BANK, format="json").json()["id"]
    staff = client_for(operator)
    response = staff.post(f"/api/county/payout-accounts/{account_id}/reject/", {"reason": ""}, format="json")
    assert response.status_code == 400 and "reason" in response.json()["error"]["fields"]
    response = staff.post(f"/api/county/payout-accounts/{account_id}/reject/", {"reason": "户名与营业执照不符"},
                          format="json")
    assert response.status_code == 200 and response.json()["status"] == "rejected"
    told = Notification.objects.get(user=shop.user, kind="payout.account_rejected")
    assert "户名与营业执照不符" in told.body


def test_an_operator_of_another_county_gets_404(client_for, shop, other_operator):
    account_id = client_for(shop.user).put(URL, BANK, format="json").json()["id"]
    staff = client_for(other_operator)
    assert staff.get("/api/county/payout-accounts/").json()["count"] == 0
    for action in ("verify", "reject"):
        response = staff.post(f"/api/county/payout-accounts/{account_id}/{action}/", {"reason": "x"}, format="json")
        assert response.status_code == 404
    assert PayoutAccount.objects.get(pk=account_id).status == "unverified"


def test_other_roles_cannot_verify(client_for, shop, consumer, admin_user):
    account_id = client_for(shop.user).put(URL, BANK, format="json").json()["id"]
    for user in (shop.user, consumer, admin_user):
        assert client_for(user).post(f"/api/county/payout-accounts/{account_id}/verify/").status_code == 404
    assert client_for(consumer).get(URL).status_code == 403


def test_a_change_freezes_payouts_until_verified(client_for, shop, operator):
    """The classic fraud: change the account, collect the payout. The old verified account is not used."""
    fund(shop, "100.00")
    client, staff = client_for(shop.user), client_for(operator)
    first = client.put(URL, BANK, format="json").json()["id"]
    staff.post(f"/api/county/payout-accounts/{first}/verify/")
    second = client.put(URL, {**ALIPAY, "alipay_login": "13900009999"}, format="json").json()
    assert second["version"] == 2 and second["payouts_on_hold"] is True
    assert PayoutAccount.objects.get(pk=first).status == "superseded"
    response = client.post("/api/merchant/payouts/", {"amount": "50.00"}, format="json", **EN)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "payout_account_unverified"
    from payouts.services import batch_build

    assert batch_build() is None and not Payout.objects.exists()
    assert available(shop) == 100
    # The superseded account can no longer be verified; the new one can.
    assert staff.post(f"/api/county/payout-accounts/{first}/verify/").status_code == 409
    staff.post(f"/api/county/payout-accounts/{second['id']}/verify/")
    response = client.post("/api/merchant/payouts/", {"amount": "50.00"}, format="json")
    assert response.status_code == 201 and response.json()["account"]["id"] == second["id"]


def test_an_unverified_account_never_gets_a_payout(client_for, shop):
    fund(shop, "100.00")
    client_for(shop.user).put(URL, BANK, format="json")
    response = client_for(shop.user).post("/api/merchant/payouts/", {"amount": "20.00"}, format="json")
    assert response.json()["error"]["code"] == "payout_account_unverified"
    from payouts.services import batch_build

    assert batch_build() is None
    assert not Payout.objects.exists() and available(shop) == 100


def test_a_merchant_without_a_shop_is_404(client_for):
    user = factories.MerchantUserFactory()
    assert client_for(user).get(URL).status_code == 404
    assert client_for(user).put(URL, BANK, format="json").status_code == 404
