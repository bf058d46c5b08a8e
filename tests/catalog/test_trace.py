"""Harvest batches, the public trace page and its QR code."""

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from catalog.models import HarvestBatch
from tests.factories import ProductFactory
from tests.merchants.factories import CredentialFactory, in_days, pdf_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def product(shop):
    return ProductFactory(merchant=shop, title="寿光有机西红柿", claims=["organic", "pesticide_tested"])


def record(client, product, **overrides):
    body = {"harvested_at": in_days(-2).isoformat(), "plot": "三元朱村3号大棚", "quantity": "1200.50",
            "inspection.agency": "潍坊市农产品质量检测中心", "inspection.inspected_at": in_days(-1).isoformat(),
            "inspection.result": "pass", "inspection.report": pdf_file("report.pdf")} | overrides
    body = {k: v for k, v in body.items() if v is not None}
    return client.post(f"/api/products/{product.pk}/batches/", body, format="multipart")


def test_batch_and_trace_page(client_for, api_client, shop, product, village):
    cert = CredentialFactory(merchant=shop, kind="organic_cert", number="124OP2600123")
    created = record(client_for(shop.user), product)
    assert created.status_code == 201, created.json()
    batch = created.json()
    code = batch["trace_code"]
    assert len(code) == 26 and code.isalnum() and code.isupper()  # 128 random bits
    assert batch["inspection"]["result"] == "pass" and batch["inspection"]["report_url"].endswith(".pdf")
    assert batch["quantity"] == "1200.50" and batch["unit"] == product.unit

    page = api_client.get(f"/api/trace/{code}/")
    assert page.status_code == 200
    trace = page.json()
    assert trace["trace_code"] == code
    assert trace["product"]["id"] == product.pk and trace["product"]["title"] == "寿光有机西红柿"
    assert trace["merchant"]["shop_name"] == shop.shop_name
    assert trace["merchant"]["contact_phone"] == shop.contact_phone[:3] + "****" + shop.contact_phone[-4:]
    assert trace["origin"]["village"]["id"] == village.pk
    assert trace["origin"]["township"]["id"] == village.parent_id
    assert trace["origin"]["county"]["id"] == shop.county_id
    assert trace["harvest"] == {"harvested_at": in_days(-2).isoformat(), "plot": "三元朱村3号大棚",
                                "quantity": "1200.50", "unit": "斤"}
    assert trace["inspection"]["agency"] == "潍坊市农产品质量检测中心"
    claims = {c["claim"]: c for c in trace["claims"]}
    assert claims["organic"]["backed"] is True
    assert claims["organic"]["credential"] == {"kind": "organic_cert", "number": "124O****0123",
                                               "issuer": cert.issuer, "expires_at": cert.expires_at.isoformat()}
    assert claims["pesticide_tested"]["backed"] is True
    assert claims["pesticide_tested"]["inspection"]["result"] == "pass"
    assert trace["qr_url"] == f"/api/trace/{code}/qr.png"
    # Lower case (as a phone keyboard might send it) finds the same batch.
    assert api_client.get(f"/api/trace/{code.lower()}/").json()["trace_code"] == code


def test_trace_shows_an_unbacked_claim_honestly(client_for, api_client, shop, product):
    code = record(client_for(shop.user), product, **{"inspection.result": "fail"}).json()["trace_code"]
    claims = {c["claim"]: c for c in api_client.get(f"/api/trace/{code}/").json()["claims"]}
    assert claims["organic"] == {"claim": "organic", "label": "有机", "backed": False, "credential": None,
                                 "inspection": None}
    assert claims["pesticide_tested"]["backed"] is False  # this batch failed its inspection


def test_unknown_codes_are_404(api_client):
    assert api_client.get("/api/trace/NOSUCHCODE/").status_code == 404
    assert api_client.get("/api/trace/NOSUCHCODE/qr.png").status_code == 404


def test_trace_codes_are_unique_and_unguessable(shop, product):
    codes = {HarvestBatch.objects.create(product=product, harvested_at=in_days(-1)).trace_code for _ in range(50)}
    assert len(codes) == 50
    assert all(len(c) == 26 for c in codes)


def test_qr_code_decodes_to_the_absolute_trace_url(client_for, api_client, shop, product):
    import zxingcpp
    from PIL import Image

    code = record(client_for(shop.user), product).json()["trace_code"]
    response = api_client.get(f"/api/trace/{code}/qr.png")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    decoded = zxingcpp.read_barcodes(image)
    assert [d.text for d in decoded] == [f"http://testserver/t/{code}/"]
    assert decoded[0].format == zxingcpp.BarcodeFormat.QRCode


def test_qr_code_points_at_the_public_page_when_configured(api_client, client_for, shop, product, settings):
    import zxingcpp
    from PIL import Image

    settings.TRACE_PUBLIC_URL = "https://cunbo.example/t/{code}"
    code = record(client_for(shop.user), product).json()["trace_code"]
    image = Image.open(io.BytesIO(api_client.get(f"/api/trace/{code}/qr.png").content))
    assert [d.text for d in zxingcpp.read_barcodes(image)] == [f"https://cunbo.example/t/{code}"]


@pytest.mark.parametrize("overrides, field", [
    ({"harvested_at": None}, "harvested_at"),
    ({"harvested_at": "yesterday"}, "harvested_at"),
    ({"harvested_at": (timezone.localdate() + datetime.timedelta(days=2)).isoformat()}, "harvested_at"),
    ({"quantity": "-5"}, "quantity"),
    ({"plot": "地" * 101}, "plot"),
    ({"inspection.result": "maybe"}, "inspection"),
    ({"inspection.agency": ""}, "inspection"),
    ({"inspection.report": SimpleUploadedFile("r.pdf", b"#!/bin/sh\nrm -rf /", content_type="application/pdf")},
     "inspection"),
    ({"trace_code": "CHOSEN"}, "trace_code"),
])
def test_bad_batches_are_400_and_save_nothing(client_for, shop, product, overrides, field):
    response = record(client_for(shop.user), product, **overrides)
    assert response.status_code == 400, response.json()
    assert field in response.json()["error"]["fields"]
    assert not HarvestBatch.objects.exists()


def test_batch_without_inspection_as_json(client_for, api_client, shop, product):
    response = client_for(shop.user).post(f"/api/products/{product.pk}/batches/",
                                          {"harvested_at": in_days(-1).isoformat()}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["inspection"] is None
    trace = api_client.get(response.json()["trace_url"]).json()
    assert trace["inspection"] is None and trace["harvest"]["plot"] == ""
    nested = client_for(shop.user).post(f"/api/products/{product.pk}/batches/", {
        "harvested_at": in_days(-1).isoformat(),
        "inspection": {"agency": "寿光市检测站", "inspected_at": in_days(-1).isoformat(), "result": "pass"},
    }, format="json")
    assert nested.status_code == 201 and nested.json()["inspection"]["agency"] == "寿光市检测站"


def test_batches_list_for_owner_and_staff(client_for, api_client, shop, product, operator, other_operator):
    record(client_for(shop.user), product)
    for client in (client_for(shop.user), client_for(operator)):
        assert len(client.get(f"/api/products/{product.pk}/batches/").json()["results"]) == 1
    assert client_for(other_operator).get(f"/api/products/{product.pk}/batches/").status_code == 404
    assert api_client.get(f"/api/products/{product.pk}/batches/").status_code == 401


def test_trace_page_costs_a_fixed_number_of_queries(client_for, api_client, shop, product,
                                                     django_assert_max_num_queries):
    CredentialFactory(merchant=shop, kind="organic_cert")
    code = record(client_for(shop.user), product).json()["trace_code"]
    with django_assert_max_num_queries(2):  # the batch with everything around it, the credentials
        assert api_client.get(f"/api/trace/{code}/").status_code == 200


@pytest.mark.parametrize("size", [1, 8])
def test_batch_list_costs_fixed_queries(client_for, shop, product, size, django_assert_max_num_queries):
    for n in range(size):
        HarvestBatch.objects.create(product=product, harvested_at=in_days(-n), inspection_agency="站",
                                    inspected_at=in_days(-n), inspection_result="pass")
    with django_assert_max_num_queries(5):  # user, product, images, count, page
        assert len(client_for(shop.user).get(f"/api/products/{product.pk}/batches/").json()["results"]) == size
