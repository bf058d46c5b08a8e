"""The walk from a merchant's application to a public trace page, through the API only."""

import io

import pytest

from tests.factories import PASSWORD
from tests.merchants.factories import pdf_file, png_file, uscc_number

pytestmark = pytest.mark.django_db


def test_walk_from_application_to_trace_page(api_client, client_for, operator, village, categories, county):
    # 1. A farmer cooperative registers and signs in.
    assert api_client.post("/api/auth/register", {"username": "coop", "password": PASSWORD, "role": "merchant"},
                           format="json").status_code == 201
    token = api_client.post("/api/auth/token", {"username": "coop", "password": PASSWORD}, format="json").json()
    owner = api_client.__class__()
    owner.credentials(HTTP_AUTHORIZATION=f"Bearer {token['access']}")
    staff = client_for(operator)

    # 2. It applies for its shop and uploads its business licence and organic certificate.
    shop = owner.post("/api/merchants/", {"shop_name": "三元朱蔬菜专业合作社", "village": village.pk,
                                          "kind": "cooperative", "contact_phone": "13812345678"},
                      format="json").json()
    licence = owner.post(f"/api/merchants/{shop['id']}/credentials/",
                         {"kind": "business_license", "number": uscc_number(21), "file": png_file()},
                         format="multipart").json()
    organic = owner.post(f"/api/merchants/{shop['id']}/credentials/",
                         {"kind": "organic_cert", "number": "124OP2600777", "expires_at": "2099-12-31",
                          "file": pdf_file()}, format="multipart").json()

    # 3. The county's operator verifies both and approves the shop.
    for credential in (licence, organic):
        assert staff.post(f"/api/merchants/{shop['id']}/credentials/{credential['id']}/review/",
                          {"decision": "approve"}, format="json").status_code == 200
    assert staff.post(f"/api/merchants/{shop['id']}/review/", {"decision": "approve"},
                      format="json").json()["status"] == "approved"

    # 4. The shop lists a product with the organic claim; the operator approves it.
    product = owner.post("/api/products/", {"title": "寿光有机西红柿", "category": categories["tomatoes"].pk,
                                            "price": "12.50", "unit": "斤", "stock": 100, "origin": village.pk,
                                            "perishable": True, "claims": ["organic"]}, format="json").json()
    assert staff.post(f"/api/products/{product['id']}/review/", {"decision": "approve"},
                      format="json").json()["status"] == "listed"

    # 5. It records a harvest batch with its inspection and gets a trace code for the label.
    batch = owner.post(f"/api/products/{product['id']}/batches/",
                       {"harvested_at": "2026-01-10", "plot": "3号大棚", "inspection.agency": "寿光检测中心",
                        "inspection.inspected_at": "2026-01-11", "inspection.result": "pass"},
                       format="multipart").json()

    # 6. A buyer finds the product and, from the label's QR code, the public trace page.
    found = api_client.get("/api/products/?search=西红柿").json()["results"]
    assert [p["id"] for p in found] == [product["id"]]
    import zxingcpp
    from PIL import Image

    qr = api_client.get(batch["qr_url"])
    url = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr.content)))[0].text
    # The QR opens the trace page a shopper reads; the same record is the API's trace answer.
    assert url == f"http://testserver/t/{batch['trace_code']}/"
    page = api_client.get(url.replace("http://testserver", ""))
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    assert "寿光有机西红柿" in page.content.decode()
    trace = api_client.get(f"/api/trace/{batch['trace_code']}/").json()
    assert trace["product"]["title"] == "寿光有机西红柿"
    assert trace["origin"]["county"]["id"] == county.pk
    assert trace["claims"][0]["credential"]["kind"] == "organic_cert"
    assert trace["merchant"]["contact_phone"] == "138****5678"
