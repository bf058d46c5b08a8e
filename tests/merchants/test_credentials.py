"""Credentials: upload checks, masking, verification and the file download."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from merchants.models import Credential, CredentialEvent
from tests.factories import ConsumerFactory, MerchantFactory, MerchantUserFactory

from .factories import CredentialFactory, id_card_number, in_days, pdf_file, png_file, uscc_number

pytestmark = pytest.mark.django_db


def upload(client, merchant, **overrides):
    body = {"kind": "organic_cert", "number": "124OP2600123", "issuer": "中绿华夏有机产品认证中心",
            "issued_at": in_days(-10).isoformat(), "expires_at": in_days(355).isoformat(), "file": pdf_file()}
    body |= overrides
    body = {k: v for k, v in body.items() if v is not None}
    return client.post(f"/api/merchants/{merchant.pk}/credentials/", body, format="multipart")


def test_upload_pdf_and_image(client_for, shop):
    owner = client_for(shop.user)
    response = upload(owner, shop)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "pending" and body["number"] == "124OP2600123" and body["has_file"]
    credential = Credential.objects.get(pk=body["id"])
    assert credential.file.name.startswith(f"private/credentials/{shop.pk}/") and credential.file.name.endswith(".pdf")
    assert credential.file_content_type == "application/pdf"
    assert CredentialEvent.objects.filter(credential=credential, to_status="pending").exists()
    image = upload(owner, shop, kind="id_card", number=id_card_number(5), expires_at=None, file=png_file("id.jpg"))
    assert image.status_code == 201, image.json()
    assert Credential.objects.get(pk=image.json()["id"]).file.name.endswith(".png")  # named by content


def test_id_card_and_licence_numbers_are_checked(client_for, shop):
    owner = client_for(shop.user)
    good = id_card_number(7)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    # The same number with Arabic-Indic digits (its check character still matches: int("٧") == 7).
    other_digits = good[:17].translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")) + good[17]
    for kind, number in (("id_card", bad), ("id_card", "12345"), ("business_license", uscc_number(4)[:-1] + "I"),
                         ("id_card", other_digits)):
        response = upload(owner, shop, kind=kind, number=number, expires_at=None)
        assert response.status_code == 400 and "number" in response.json()["error"]["fields"], (kind, number)
    # A mistyped digit is told apart from a malformed number (the answer is in zh-hans, the default).
    mistyped = upload(owner, shop, kind="id_card", number=bad, expires_at=None).json()["error"]["fields"]["number"]
    malformed = upload(owner, shop, kind="id_card", number="12345", expires_at=None).json()["error"]["fields"]
    assert "校验位" in mistyped[0] and "校验位" not in malformed["number"][0]
    assert upload(owner, shop, kind="business_license", number=uscc_number(4), expires_at=None).status_code == 201
    assert upload(owner, shop, kind="id_card", number=good.lower(), expires_at=None).status_code == 201


@pytest.mark.parametrize("overrides, field", [
    ({"expires_at": in_days(-1).isoformat()}, "expires_at"),
    ({"expires_at": None}, "expires_at"),  # a certificate always has an expiry date
    ({"issued_at": in_days(3).isoformat()}, "issued_at"),
    ({"kind": "diploma"}, "kind"),
    ({"expires_at": "next year"}, "expires_at"),
    ({"file": SimpleUploadedFile("cert.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")}, "file"),
    ({"file": SimpleUploadedFile("cert.png", b"", content_type="image/png")}, "file"),
    ({"status": "approved"}, "status"),
])
def test_bad_credentials_are_400_and_save_nothing(client_for, shop, overrides, field):
    response = upload(client_for(shop.user), shop, **overrides)
    assert response.status_code == 400, response.json()
    assert field in response.json()["error"]["fields"]
    assert not Credential.objects.exists()


@override_settings(UPLOAD_MAX_BYTES=1024)
def test_oversized_upload_is_refused(client_for, shop):
    big = SimpleUploadedFile("cert.pdf", b"%PDF-1.4\n" + b"0" * 2048, content_type="application/pdf")
    response = upload(client_for(shop.user), shop, file=big)
    assert response.status_code == 400 and "file" in response.json()["error"]["fields"]
    assert not Credential.objects.exists()


def test_only_the_owner_uploads(client_for, shop):
    assert upload(client_for(MerchantFactory().user), shop).status_code == 404
    assert upload(client_for(MerchantUserFactory()), shop).status_code == 404
    assert upload(client_for(ConsumerFactory()), shop).status_code == 404  # a wrong role on an object: 404
    assert not Credential.objects.exists()


def test_numbers_are_masked_for_everyone_but_owner_and_staff(api_client, client_for, shop, operator, other_operator,
                                                             admin_user):
    number = id_card_number(3)
    CredentialFactory(merchant=shop, kind="id_card", number=number, expires_at=None)
    masked = number[:4] + "*" * 10 + number[-4:]
    for client, expected_number, expected_phone in (
        (api_client, masked, shop.contact_phone[:3] + "****" + shop.contact_phone[-4:]),
        (client_for(ConsumerFactory()), masked, None),
        (client_for(other_operator), masked, None),
        (client_for(MerchantFactory().user), masked, None),
        (client_for(shop.user), number, shop.contact_phone),
        (client_for(operator), number, shop.contact_phone),
        (client_for(admin_user), number, shop.contact_phone),
    ):
        profile = client.get(f"/api/merchants/{shop.pk}/").json()
        assert [c["number"] for c in profile["credentials"]] == [expected_number]
        if expected_phone:
            assert profile["contact_phone"] == expected_phone
        listed = client.get(f"/api/merchants/{shop.pk}/credentials/").json()["results"]
        assert [c["number"] for c in listed] == [expected_number]
    assert masked == f"{number[:4]}**********{number[-4:]}"


def test_public_sees_only_valid_credentials(api_client, client_for, shop):
    CredentialFactory(merchant=shop, kind="organic_cert")
    CredentialFactory(merchant=shop, kind="green_food_cert", status="pending")
    CredentialFactory(merchant=shop, kind="food_license", status="rejected")
    CredentialFactory(merchant=shop, kind="geo_indication", expires_at=in_days(-2))  # not yet swept
    public = api_client.get(f"/api/merchants/{shop.pk}/credentials/").json()["results"]
    assert [c["kind"] for c in public] == ["organic_cert"] and public[0]["file_url"] is None
    owner = client_for(shop.user).get(f"/api/merchants/{shop.pk}/credentials/").json()["results"]
    assert len(owner) == 4


def test_verification_by_county_staff_only(client_for, shop, operator, other_operator):
    credential = CredentialFactory(merchant=shop, status="pending")
    path = f"/api/merchants/{shop.pk}/credentials/{credential.pk}/review/"
    for intruder in (other_operator, shop.user, ConsumerFactory()):
        assert client_for(intruder).post(path, {"decision": "approve"}, format="json").status_code == 404
    other_shop_credential = CredentialFactory(status="pending")
    wrong_pair = f"/api/merchants/{shop.pk}/credentials/{other_shop_credential.pk}/review/"
    assert client_for(operator).post(wrong_pair, {"decision": "approve"}, format="json").status_code == 404
    assert client_for(operator).post(path, {"decision": "reject"}, format="json").status_code == 400
    approved = client_for(operator).post(path, {"decision": "approve"}, format="json")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    again = client_for(operator).post(path, {"decision": "reject", "reason": "x"}, format="json")
    assert again.status_code == 409


def test_an_expired_credential_cannot_be_verified(client_for, shop, operator):
    credential = CredentialFactory(merchant=shop, status="pending", expires_at=in_days(-1))
    response = client_for(operator).post(f"/api/merchants/{shop.pk}/credentials/{credential.pk}/review/",
                                         {"decision": "approve"}, format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "credential_expired"


def test_file_download_for_owner_and_staff_only(api_client, client_for, shop, operator, other_operator):
    owner = client_for(shop.user)
    created = upload(owner, shop).json()
    path = created["file_url"]
    assert path == f"/api/merchants/{shop.pk}/credentials/{created['id']}/file/"
    for client in (owner, client_for(operator)):
        response = client.get(path)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert b"".join(response.streaming_content).startswith(b"%PDF-")
    assert api_client.get(path).status_code == 401
    assert client_for(other_operator).get(path).status_code == 404
    assert client_for(ConsumerFactory()).get(path).status_code == 404
