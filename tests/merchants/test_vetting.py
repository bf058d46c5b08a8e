"""Applying for a shop and the county's vetting, through the API, for every role."""

import pytest

from merchants.models import Merchant, MerchantEvent
from notifications.models import Notification
from tests.factories import ConsumerFactory, MerchantFactory, MerchantUserFactory, OperatorFactory

from .factories import CredentialFactory, id_card_number, in_days, png_file, uscc_number

pytestmark = pytest.mark.django_db


def apply(client, home, **overrides):
    body = {"shop_name": "三元朱蔬菜专业合作社", "village": home.pk, "kind": "cooperative",
            "contact_phone": "13812345678", "description": "冬暖式大棚蔬菜"} | overrides
    return client.post("/api/merchants/", body, format="json")


def upload_licence(client, merchant_id, number=None):
    return client.post(f"/api/merchants/{merchant_id}/credentials/",
                       {"kind": "business_license", "number": number or uscc_number(1), "issuer": "寿光市市场监督管理局",
                        "file": png_file()}, format="multipart")


def test_full_vetting_flow(client_for, merchant_user, operator, village, admin_user):
    owner = client_for(merchant_user)
    staff = client_for(operator)

    created = apply(owner, village)
    assert created.status_code == 201, created.json()
    shop = created.json()
    assert shop["status"] == "submitted"
    assert shop["county"]["id"] == operator.county_id and shop["township"]["id"] == village.parent_id
    assert shop["contact_phone"] == "13812345678"  # the owner sees it whole
    assert owner.get("/api/me").json()["shop"] == shop["id"]
    # The county's operator is told about the application.
    assert Notification.objects.filter(user=operator, kind="merchant.submitted").count() == 1

    # The queue shows it to the county's operator.
    queue = staff.get("/api/merchants/review-queue/").json()
    assert [m["id"] for m in queue["results"]] == [shop["id"]]

    # Approval needs a verified identity document (a cooperative: business licence).
    refused = staff.post(f"/api/merchants/{shop['id']}/review/", {"decision": "approve"}, format="json")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "credential_required"
    assert "credentials" in refused.json()["error"]["fields"]

    licence = upload_licence(owner, shop["id"])
    assert licence.status_code == 201, licence.json()
    assert licence.json()["status"] == "pending"
    verified = staff.post(f"/api/merchants/{shop['id']}/credentials/{licence.json()['id']}/review/",
                          {"decision": "approve"}, format="json")
    assert verified.status_code == 200 and verified.json()["status"] == "approved"

    # Reject, resubmit, approve, suspend, reinstate.
    no_reason = staff.post(f"/api/merchants/{shop['id']}/review/", {"decision": "reject"}, format="json")
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["error"]["fields"]
    rejected = staff.post(f"/api/merchants/{shop['id']}/review/", {"decision": "reject", "reason": "照片不清晰"},
                          format="json")
    assert rejected.json()["status"] == "rejected"
    assert owner.get(f"/api/merchants/{shop['id']}/").json()["review_reason"] == "照片不清晰"

    edited = owner.patch(f"/api/merchants/{shop['id']}/", {"shop_name": "寿光三元朱蔬菜专业合作社"}, format="json")
    assert edited.status_code == 200 and edited.json()["status"] == "rejected"
    resubmitted = owner.post(f"/api/merchants/{shop['id']}/resubmit/", {"note": "已更换照片"}, format="json")
    assert resubmitted.json()["status"] == "submitted"

    approved = staff.post(f"/api/merchants/{shop['id']}/review/", {"decision": "approve"}, format="json")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    suspended = client_for(admin_user).post(f"/api/merchants/{shop['id']}/review/",
                                            {"decision": "suspend", "reason": "投诉核查"}, format="json")
    assert suspended.json()["status"] == "suspended"
    reinstated = staff.post(f"/api/merchants/{shop['id']}/review/", {"decision": "reinstate"}, format="json")
    assert reinstated.json()["status"] == "approved"

    # Every decision is an audit row, visible to the county's staff.
    events = staff.get(f"/api/merchants/{shop['id']}/events/").json()["results"]
    assert [(e["from_status"], e["to_status"]) for e in events] == [
        ("", "submitted"), ("submitted", "rejected"), ("rejected", "submitted"), ("submitted", "approved"),
        ("approved", "suspended"), ("suspended", "approved"),
    ]
    assert events[1]["actor"] == operator.username and events[1]["reason"] == "照片不清晰"
    assert events[4]["actor"] == admin_user.username
    kinds = list(Notification.objects.filter(user=merchant_user).values_list("kind", flat=True))
    assert {"merchant.rejected", "merchant.approved", "merchant.suspended", "merchant.reinstated",
            "credential.approved"} <= set(kinds)


@pytest.mark.parametrize("role", ["other_operator", "consumer", "other_merchant", "owner"])
def test_only_the_countys_operator_or_an_admin_reviews(client_for, role, village, merchant_user):
    merchant = MerchantFactory(user=merchant_user, village=village, status=Merchant.Status.SUBMITTED)
    CredentialFactory(merchant=merchant, kind="business_license", number=uscc_number(2))
    user = {"other_operator": lambda: OperatorFactory(), "consumer": ConsumerFactory,
            "other_merchant": lambda: MerchantFactory().user, "owner": lambda: merchant_user}[role]()
    client = client_for(user)
    response = client.post(f"/api/merchants/{merchant.pk}/review/", {"decision": "approve"}, format="json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert client.get(f"/api/merchants/{merchant.pk}/events/").status_code == 404
    merchant.refresh_from_db()
    assert merchant.status == "submitted"
    assert not MerchantEvent.objects.filter(merchant=merchant).exists()


def test_unknown_merchant_is_404_for_staff(client_for, operator):
    assert client_for(operator).post("/api/merchants/999999/review/", {"decision": "approve"},
                                     format="json").status_code == 404


def test_transition_table_refuses_illegal_decisions(client_for, operator, village):
    merchant = MerchantFactory(village=village, status=Merchant.Status.SUBMITTED)
    staff = client_for(operator)
    for decision in ("suspend", "reinstate"):
        response = staff.post(f"/api/merchants/{merchant.pk}/review/", {"decision": decision, "reason": "x"},
                              format="json")
        assert response.status_code == 409, decision
        assert response.json()["error"]["code"] == "invalid_transition"
    approved = MerchantFactory(village=village)
    again = staff.post(f"/api/merchants/{approved.pk}/review/", {"decision": "approve"}, format="json")
    assert again.status_code == 409
    bad = staff.post(f"/api/merchants/{approved.pk}/review/", {"decision": "promote"}, format="json")
    assert bad.status_code == 400 and "decision" in bad.json()["error"]["fields"]


def test_individual_needs_a_verified_id_card(client_for, operator, village):
    merchant = MerchantFactory(village=village, kind="individual", status=Merchant.Status.SUBMITTED)
    staff = client_for(operator)
    # A verified business licence is not the identity document of an individual farmer,
    # and an expired ID card does not count either.
    CredentialFactory(merchant=merchant, kind="business_license", number=uscc_number(3))
    CredentialFactory(merchant=merchant, kind="id_card", number=id_card_number(1), expires_at=in_days(-1))
    assert staff.post(f"/api/merchants/{merchant.pk}/review/", {"decision": "approve"},
                      format="json").status_code == 409
    CredentialFactory(merchant=merchant, kind="id_card", number=id_card_number(2), expires_at=None)
    assert staff.post(f"/api/merchants/{merchant.pk}/review/", {"decision": "approve"},
                      format="json").json()["status"] == "approved"


def test_one_shop_per_merchant_user(client_for, merchant_user, village):
    owner = client_for(merchant_user)
    assert apply(owner, village).status_code == 201
    second = apply(owner, village, shop_name="第二家店")
    assert second.status_code == 400
    assert second.json()["error"]["code"] == "already_applied"
    assert Merchant.objects.filter(user=merchant_user).count() == 1


@pytest.mark.parametrize("role", ["consumer", "operator"])
def test_only_merchant_accounts_apply(client_for, role, village, consumer, operator):
    user = {"consumer": consumer, "operator": operator}[role]
    assert apply(client_for(user), village).status_code == 403
    assert not Merchant.objects.exists()


@pytest.mark.parametrize("overrides, field", [
    ({"village": 999999}, "village"),
    ({"village": "abc"}, "village"),
    ({"kind": "farm"}, "kind"),
    ({"contact_phone": "12345"}, "contact_phone"),
    ({"shop_name": "店" * 101}, "shop_name"),
    ({"shop_name": ""}, "shop_name"),
])
def test_bad_application_is_400_and_saves_nothing(client_for, merchant_user, village, overrides, field):
    response = apply(client_for(merchant_user), village, **overrides)
    assert response.status_code == 400, response.json()
    assert field in response.json()["error"]["fields"]
    assert not Merchant.objects.exists()


def test_a_county_is_not_a_village(client_for, merchant_user, county):
    response = apply(client_for(merchant_user), county)
    assert response.status_code == 400 and "village" in response.json()["error"]["fields"]


@pytest.mark.parametrize("field, value", [("status", "approved"), ("user", 1), ("county", 1), ("rating_avg", "5")])
def test_status_and_owner_are_never_writable(client_for, merchant_user, village, field, value):
    owner = client_for(merchant_user)
    response = apply(owner, village, **{field: value})
    assert response.status_code == 400 and field in response.json()["error"]["fields"]
    assert not Merchant.objects.exists()
    shop_id = apply(owner, village).json()["id"]
    patched = owner.patch(f"/api/merchants/{shop_id}/", {field: value, "description": "改"}, format="json")
    assert patched.status_code == 400 and field in patched.json()["error"]["fields"]
    merchant = Merchant.objects.get(pk=shop_id)
    assert merchant.status == "submitted" and merchant.user == merchant_user and merchant.description != "改"


def test_a_merchant_cannot_edit_another_shop(client_for, village):
    merchant = MerchantFactory(village=village, status="rejected")
    intruder = client_for(MerchantUserFactory())
    assert intruder.patch(f"/api/merchants/{merchant.pk}/", {"shop_name": "抢"}, format="json").status_code == 404
    assert intruder.post(f"/api/merchants/{merchant.pk}/resubmit/", {}, format="json").status_code == 404
    merchant.refresh_from_db()
    assert merchant.shop_name != "抢" and merchant.status == "rejected"


def test_approved_shop_cannot_change_name_kind_or_village(client_for, village):
    merchant = MerchantFactory(village=village)
    owner = client_for(merchant.user)
    locked = owner.patch(f"/api/merchants/{merchant.pk}/", {"shop_name": "新名字", "kind": "company"}, format="json")
    assert locked.status_code == 400
    assert {"shop_name", "kind"} <= set(locked.json()["error"]["fields"])
    fine = owner.patch(f"/api/merchants/{merchant.pk}/", {"description": "新的介绍", "contact_phone": "13900001111"},
                       format="json")
    assert fine.status_code == 200 and fine.json()["description"] == "新的介绍"


def test_logo_is_checked_by_content(client_for, merchant_user, village):
    from django.core.files.uploadedfile import SimpleUploadedFile

    owner = client_for(merchant_user)
    fake = SimpleUploadedFile("logo.png", b"<?php echo 1; ?>", content_type="image/png")
    body = {"shop_name": "店", "village": village.pk, "kind": "individual", "contact_phone": "13812345678",
            "logo": fake}
    response = owner.post("/api/merchants/", body, format="multipart")
    assert response.status_code == 400 and "logo" in response.json()["error"]["fields"]
    assert not Merchant.objects.exists()
    body["logo"] = png_file("whatever.exe")
    created = owner.post("/api/merchants/", body, format="multipart")
    assert created.status_code == 201, created.json()
    assert created.json()["logo"].endswith(".png") and "whatever" not in created.json()["logo"]


def test_unapproved_shop_is_hidden_from_the_public(api_client, client_for, village, operator, other_operator):
    merchant = MerchantFactory(village=village, status=Merchant.Status.SUBMITTED)
    assert api_client.get(f"/api/merchants/{merchant.pk}/").status_code == 404
    assert client_for(other_operator).get(f"/api/merchants/{merchant.pk}/").status_code == 404
    assert client_for(operator).get(f"/api/merchants/{merchant.pk}/").status_code == 200
    assert client_for(merchant.user).get(f"/api/merchants/{merchant.pk}/").status_code == 200
    assert merchant.pk not in [m["id"] for m in api_client.get("/api/merchants/").json()["results"]]


def test_review_queue_is_scoped_to_the_operators_county(client_for, operator, other_operator, village, admin_user):
    mine = MerchantFactory(village=village, status="submitted")
    theirs = MerchantFactory(status="submitted")
    MerchantFactory(village=village)  # approved: not in the default queue
    assert [m["id"] for m in client_for(operator).get("/api/merchants/review-queue/").json()["results"]] == [mine.pk]
    assert [m["id"] for m in client_for(other_operator).get("/api/merchants/review-queue/").json()["results"]] == []
    everything = client_for(admin_user).get("/api/merchants/review-queue/").json()["results"]
    assert {m["id"] for m in everything} == {mine.pk, theirs.pk}
    by_county = client_for(admin_user).get(f"/api/merchants/review-queue/?county={theirs.county_id}").json()
    assert [m["id"] for m in by_county["results"]] == [theirs.pk]
    assert client_for(ConsumerFactory()).get("/api/merchants/review-queue/").status_code == 403
