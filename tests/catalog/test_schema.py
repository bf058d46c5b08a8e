"""Every merchants and catalog endpoint is in the OpenAPI schema with its real shapes."""

import pytest

pytestmark = pytest.mark.django_db


def test_schema_has_the_endpoints(api_client):
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    import json

    schema = json.loads(response.content)
    paths = schema["paths"]
    for path, method in [
        ("/api/merchants/", "post"), ("/api/merchants/{id}/", "get"), ("/api/merchants/{id}/", "patch"),
        ("/api/merchants/{id}/review/", "post"), ("/api/merchants/{id}/credentials/", "post"),
        ("/api/merchants/{id}/follow/", "post"), ("/api/merchants/{id}/follow/", "delete"),
        ("/api/merchants/{id}/events/", "get"), ("/api/merchants/review-queue/", "get"),
        ("/api/products/", "get"), ("/api/products/", "post"), ("/api/products/{id}/", "patch"),
        ("/api/products/{id}/review/", "post"), ("/api/products/{id}/batches/", "post"),
        ("/api/trace/{code}/", "get"), ("/api/trace/{code}/qr.png", "get"), ("/api/categories/", "get"),
    ]:
        assert method in paths[path], (path, method)
    listing = paths["/api/products/"]["get"]
    names = {p["name"] for p in listing["parameters"]}
    assert {"search", "category", "county", "merchant", "min_price", "max_price", "claim", "perishable",
            "ordering", "mine", "page"} <= names
    assert "image/png" in paths["/api/trace/{code}/qr.png"]["get"]["responses"]["200"]["content"]
    product = schema["components"]["schemas"]["ProductOutput"]["properties"]
    assert product["price"]["type"] == "string" and "claim_evidence" in product
    assert "status" not in schema["components"]["schemas"]["ProductCreateInputRequest"]["properties"]
