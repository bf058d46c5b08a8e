"""seed_demo brings real-looking shops, listed products and traceable batches, and can run again."""

from io import StringIO

import pytest
from django.core.management import call_command

from catalog.models import Category, HarvestBatch, Product
from merchants.models import Credential, Merchant

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_browsable(api_client):
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "sign in with password" in out.getvalue() and "/api/trace/" in out.getvalue()
    counts = (Merchant.objects.count(), Credential.objects.count(), Product.objects.count(),
              HarvestBatch.objects.count(), Category.objects.count())
    assert counts[0] == 3 and counts[2] == 6 and counts[3] == 6
    assert set(Category.objects.filter(parent=None).values_list("slug", flat=True)) == {
        "vegetables", "fruit", "tea", "grain-oil", "meat", "eggs", "aquatic", "processed"}
    assert not Merchant.objects.exclude(status="approved").exists()
    assert not Product.objects.exclude(status="listed").exists()

    again = StringIO()
    call_command("seed_demo", stdout=again)
    assert "seed_demo: 0 created" in again.getvalue()
    assert counts == (Merchant.objects.count(), Credential.objects.count(), Product.objects.count(),
                      HarvestBatch.objects.count(), Category.objects.count())

    titles = [p["title"] for p in api_client.get("/api/products/?search=西红柿").json()["results"]]
    assert titles == ["寿光有机西红柿 5斤装"]
    assert len(api_client.get("/api/products/?search=茶").json()["results"]) == 2
    batch = HarvestBatch.objects.get(product__title="贵定云雾贡茶 明前特级 100克")
    trace = api_client.get(f"/api/trace/{batch.trace_code}/").json()
    assert trace["origin"]["county"]["name"] == "贵定县"
    assert {c["claim"]: c["backed"] for c in trace["claims"]} == {
        "green_food": True, "geo_indication": True, "pesticide_tested": True}
