"""Listing a product, changing it, the county's review and the claim rules, through the API."""

from decimal import Decimal

import pytest
from django.db.models import F

from catalog.models import HarvestBatch, Product, ProductEvent
from notifications.models import Notification
from tests.factories import ConsumerFactory, MerchantFactory, MerchantUserFactory, ProductFactory, VillageFactory
from tests.merchants.factories import CredentialFactory, in_days, uscc_number

pytestmark = pytest.mark.django_db


def body(home, kind, **overrides):
    return {"title": "寿光有机西红柿", "description": "三元朱村冬暖式大棚，自然成熟", "category": kind.pk,
            "price": "12.50", "unit": "斤", "stock": 100, "origin": home.pk, "perishable": True,
            "cold_chain_required": False, "shelf_life_days": 7, "claims": ["organic"]} | overrides


def create(client, home, kind, **overrides):
    return client.post("/api/products/", body(home, kind, **overrides), format="json")


def review(client, product_id, decision="approve", reason=""):
    return client.post(f"/api/products/{product_id}/review/", {"decision": decision, "reason": reason}, format="json")


def test_create_review_and_list(client_for, shop, operator, categories, village, api_client):
    owner = client_for(shop.user)
    created = create(owner, village, categories["tomatoes"])
    assert created.status_code == 201, created.json()
    product = created.json()
    assert product["status"] == "pending_review" and product["price"] == "12.50"
    assert product["origin"]["county"]["id"] == shop.county_id
    assert product["origin"]["township"]["id"] == village.parent_id
    assert product["claim_evidence"] == [{"claim": "organic", "label": "有机", "backed": False,
                                          "credential": None, "inspection": None}]
    assert api_client.get(f"/api/products/{product['id']}/").status_code == 404  # not public yet
    assert [p["id"] for p in client_for(operator).get("/api/products/review-queue/").json()["results"]] == [product["id"]]

    # A claim without a valid certificate cannot be approved; the answer names the claim.
    refused = review(client_for(operator), product["id"])
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "claim_not_backed" and "organic" in error["message"]
    assert any(item.startswith("organic:") for item in error["fields"]["claims"])
    assert Product.objects.get(pk=product["id"]).status == "pending_review"

    cert = CredentialFactory(merchant=shop, kind="organic_cert", number="124OP2600123")
    approved = review(client_for(operator), product["id"])
    assert approved.status_code == 200 and approved.json()["status"] == "listed"
    evidence = approved.json()["claim_evidence"][0]
    assert evidence["backed"] is True and evidence["credential"]["kind"] == "organic_cert"
    assert evidence["credential"]["expires_at"] == cert.expires_at.isoformat()
    assert evidence["credential"]["number"] == "124O****0123"
    assert Notification.objects.filter(user=shop.user, kind="product.listed").exists()
    public = api_client.get("/api/products/").json()["results"]
    assert [p["id"] for p in public] == [product["id"]]
    events = ProductEvent.objects.filter(product_id=product["id"]).values_list("to_status", "actor_id")
    assert list(events) == [("listed", operator.pk)]


def test_claims_need_the_matching_valid_credential(client_for, shop, operator, categories, village):
    owner = client_for(shop.user)
    CredentialFactory(merchant=shop, kind="organic_cert")  # organic, but not green food
    CredentialFactory(merchant=shop, kind="geo_indication", expires_at=in_days(-1))  # expired
    CredentialFactory(merchant=shop, kind="green_food_cert", status="pending")  # not verified
    product = create(owner, village, categories["tomatoes"],
                     claims=["organic", "green_food", "geo_indication", "pesticide_tested"]).json()
    refused = review(client_for(operator), product["id"])
    assert refused.status_code == 409
    named = {item.split(":")[0] for item in refused.json()["error"]["fields"]["claims"]}
    assert named == {"green_food", "geo_indication", "pesticide_tested"}

    # pesticide_tested is backed by a batch whose inspection passed.
    HarvestBatch.objects.create(product_id=product["id"], harvested_at=in_days(-1), inspection_agency="潍坊检测中心",
                                inspected_at=in_days(-1), inspection_result="fail")
    owner.patch(f"/api/products/{product['id']}/", {"claims": ["organic", "pesticide_tested"]}, format="json")
    still = review(client_for(operator), product["id"])
    assert [i.split(":")[0] for i in still.json()["error"]["fields"]["claims"]] == ["pesticide_tested"]
    HarvestBatch.objects.create(product_id=product["id"], harvested_at=in_days(-1), inspection_agency="潍坊检测中心",
                                inspected_at=in_days(-1), inspection_result="pass")
    assert review(client_for(operator), product["id"]).json()["status"] == "listed"


def test_processed_food_needs_a_food_licence(client_for, shop, operator, categories, village):
    product = create(client_for(shop.user), village, categories["processed"], claims=[]).json()
    refused = review(client_for(operator), product["id"])
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "licence_required"
    assert "food_license" in refused.json()["error"]["fields"]["category"][0]
    CredentialFactory(merchant=shop, kind="food_license", number="JY13707830012345")
    assert review(client_for(operator), product["id"]).json()["status"] == "listed"


def test_reject_needs_a_reason_and_rejected_product_goes_back_on_edit(client_for, shop, operator, categories, village):
    owner = client_for(shop.user)
    product = create(owner, village, categories["tomatoes"], claims=[]).json()
    assert review(client_for(operator), product["id"], "reject").status_code == 400
    rejected = review(client_for(operator), product["id"], "reject", "图片与实物不符")
    assert rejected.json()["status"] == "rejected"
    stock_only = owner.patch(f"/api/products/{product['id']}/", {"stock": 5}, format="json")
    assert stock_only.json()["status"] == "rejected"
    edited = owner.patch(f"/api/products/{product['id']}/", {"description": "实拍图"}, format="json")
    assert edited.json()["status"] == "pending_review"


@pytest.mark.parametrize("role", ["other_operator", "consumer", "owner", "other_merchant"])
def test_only_county_staff_review_products(client_for, role, shop, other_operator):
    product = ProductFactory(merchant=shop, status="pending_review", claims=[])
    user = {"other_operator": other_operator, "consumer": ConsumerFactory(), "owner": shop.user,
            "other_merchant": MerchantFactory().user}[role]
    response = review(client_for(user), product.pk)
    assert response.status_code == 404
    assert Product.objects.get(pk=product.pk).status == "pending_review"


def test_review_of_a_listed_product_is_409(client_for, shop, operator):
    product = ProductFactory(merchant=shop)
    assert review(client_for(operator), product.pk).status_code == 409


def test_only_an_approved_merchant_creates(client_for, categories, village):
    for status in ("submitted", "rejected", "suspended"):
        merchant = MerchantFactory(village=village, status=status)
        response = create(client_for(merchant.user), village, categories["tea"])
        assert response.status_code == 403 and response.json()["error"]["code"] == "merchant_not_approved"
    no_shop = create(client_for(MerchantUserFactory()), village, categories["tea"])
    assert no_shop.status_code == 403 and no_shop.json()["error"]["code"] == "no_shop"
    assert create(client_for(ConsumerFactory()), village, categories["tea"]).status_code == 403
    assert not Product.objects.exists()


@pytest.mark.parametrize("overrides, field", [
    ({"price": "-1"}, "price"),
    ({"price": "0"}, "price"),
    ({"price": "abc"}, "price"),
    ({"price": "1.234"}, "price"),
    ({"stock": -1}, "stock"),
    ({"stock": "many"}, "stock"),
    ({"category": 999999}, "category"),
    ({"origin": 999999}, "origin"),
    ({"title": "长" * 81}, "title"),
    ({"title": "   "}, "title"),
    ({"claims": ["organic", "miracle_cure"]}, "claims"),
    ({"claims": "organic"}, "claims"),
    ({"status": "listed"}, "status"),
    ({"merchant": 1}, "merchant"),
    ({"sales_count": 1000}, "sales_count"),
])
def test_bad_input_is_400_and_saves_nothing(client_for, shop, categories, village, overrides, field):
    response = create(client_for(shop.user), village, categories["tomatoes"], **overrides)
    assert response.status_code == 400, response.json()
    assert response.json()["error"]["code"] == "invalid"
    assert field in response.json()["error"]["fields"]
    assert not Product.objects.exists()


def test_origin_must_be_a_village_of_the_shops_county(client_for, shop, categories, village, county):
    elsewhere = VillageFactory()
    response = create(client_for(shop.user), village, categories["tomatoes"], origin=elsewhere.pk)
    assert response.status_code == 400 and "origin" in response.json()["error"]["fields"]
    county_itself = create(client_for(shop.user), village, categories["tomatoes"], origin=county.pk)
    assert county_itself.status_code == 400 and "origin" in county_itself.json()["error"]["fields"]
    both = create(client_for(shop.user), village, categories["tomatoes"], origin=elsewhere.pk, category=999999)
    assert {"origin", "category"} <= set(both.json()["error"]["fields"])
    assert not Product.objects.exists()


def test_what_sends_a_listed_product_back_to_review(client_for, shop, categories, settings):
    settings.CATALOG_PRICE_REVIEW_THRESHOLD = Decimal("0.20")
    CredentialFactory(merchant=shop, kind="organic_cert")
    product = ProductFactory(merchant=shop, price=Decimal("10.00"), claims=[], category=categories["tomatoes"])
    owner = client_for(shop.user)
    path = f"/api/products/{product.pk}/"

    def patch(**changes):
        response = owner.patch(path, changes, format="json")
        assert response.status_code == 200, response.json()
        return response.json()["status"]

    def relist():  # what an approval does: listed at the price it was reviewed at
        Product.objects.filter(pk=product.pk).update(status="listed", reviewed_price=F("price"))

    assert patch(stock=3) == "listed"
    assert Product.objects.get(pk=product.pk).stock == 3
    assert patch(price="11.90") == "listed"  # +19%: within the threshold
    assert patch(price="14.50") == "pending_review"  # +22%
    relist()
    assert patch(price="11.00") == "pending_review"  # -24%
    relist()
    assert patch(claims=["organic"]) == "pending_review"
    relist()
    assert patch(claims=[]) == "listed"  # withdrawing a claim promises less: no review
    assert patch(perishable=True, cold_chain_required=True, shelf_life_days=5) == "listed"
    assert patch(title="寿光西红柿（新）") == "pending_review"
    relist()
    event = ProductEvent.objects.filter(product=product, to_status="pending_review").first()
    assert event.actor == shop.user and "price" in event.reason


def _walk(owner, product_id, start: Decimal, factor: Decimal, steps: int) -> list[str]:
    """Move the price by ``factor`` (each step within the threshold of the one before) ``steps`` times."""
    statuses, price = [], start
    for _ in range(steps):
        price = (price * factor).quantize(Decimal("0.01"))
        response = owner.patch(f"/api/products/{product_id}/", {"price": str(price)}, format="json")
        assert response.status_code == 200, response.json()
        statuses.append(response.json()["status"])
    return statuses


@pytest.mark.parametrize("factor", [Decimal("1.19"), Decimal("0.81")], ids=["up", "down"])
def test_small_price_steps_cannot_walk_past_the_review(client_for, shop, operator, categories, village, settings,
                                                       factor):
    """The attack of issue #12 (58.00 → 330.20 and → 0.89 in 19% steps, never reviewed): every step is
    measured against the price the county approved, so the second 19% step is already a 41% change."""
    settings.CATALOG_PRICE_REVIEW_THRESHOLD = Decimal("0.20")
    owner = client_for(shop.user)
    created = owner.post("/api/products/", body(village, categories["tomatoes"], price="58.00", claims=[]), format="json")
    product_id = created.json()["id"]
    assert review(client_for(operator), product_id).json()["status"] == "listed"
    assert _walk(owner, product_id, Decimal("58.00"), factor, 2) == ["listed", "pending_review"]
    product = Product.objects.get(pk=product_id)
    assert product.reviewed_price == Decimal("58.00")
    event = ProductEvent.objects.filter(product=product, to_status="pending_review").get()
    assert "price" in event.reason
    # Approved at the new price, that price becomes the baseline of the next changes.
    assert review(client_for(operator), product_id).json()["status"] == "listed"
    product.refresh_from_db()
    assert product.reviewed_price == product.price
    assert _walk(owner, product_id, product.price, factor, 1) == ["listed"]


def test_a_product_listed_before_the_baseline_existed_pins_it_at_its_first_change(client_for, shop, settings):
    settings.CATALOG_PRICE_REVIEW_THRESHOLD = Decimal("0.20")
    product = ProductFactory(merchant=shop, price=Decimal("58.00"), status="listed")
    Product.objects.filter(pk=product.pk).update(reviewed_price=None)  # as the migration leaves a non-listed one
    statuses = _walk(client_for(shop.user), product.pk, Decimal("58.00"), Decimal("1.19"), 10)
    assert statuses[:2] == ["listed", "pending_review"]
    assert Product.objects.get(pk=product.pk).reviewed_price == Decimal("58.00")


def test_patch_refuses_protected_fields_and_other_shops(client_for, shop, categories):
    product = ProductFactory(merchant=shop, status="pending_review")
    owner = client_for(shop.user)
    for field, value in (("status", "listed"), ("merchant", MerchantFactory().pk), ("sales_count", 99),
                         ("id", 1)):
        response = owner.patch(f"/api/products/{product.pk}/", {field: value, "stock": 1}, format="json")
        assert response.status_code == 400 and field in response.json()["error"]["fields"], field
    product.refresh_from_db()
    assert product.status == "pending_review" and product.stock == 100 and product.merchant == shop

    intruder = client_for(MerchantFactory().user)
    for method, path, data in (
        ("patch", f"/api/products/{product.pk}/", {"stock": 0}),
        ("post", f"/api/products/{product.pk}/delist/", {}),
        ("post", f"/api/products/{product.pk}/relist/", {}),
        ("post", f"/api/products/{product.pk}/stock/", {"delta": 1}),
        ("post", f"/api/products/{product.pk}/batches/", {"harvested_at": "2026-01-01"}),
        ("get", f"/api/products/{product.pk}/batches/", None),
        ("get", f"/api/products/{product.pk}/", None),
    ):
        response = getattr(intruder, method)(path, data, format="json")
        assert response.status_code == 404, (method, path, response.status_code)
    assert intruder.patch("/api/products/999999/", {"stock": 0}, format="json").status_code == 404
    product.refresh_from_db()
    assert product.stock == 100 and not product.batches.exists()


def test_delist_and_relist(client_for, shop, operator, other_operator, api_client):
    product = ProductFactory(merchant=shop, claims=[])
    owner = client_for(shop.user)
    assert client_for(other_operator).post(f"/api/products/{product.pk}/delist/", {"reason": "x"},
                                           format="json").status_code == 404
    assert owner.post(f"/api/products/{product.pk}/delist/", {}, format="json").json()["status"] == "delisted"
    assert api_client.get("/api/products/").json()["count"] == 0
    assert owner.post(f"/api/products/{product.pk}/delist/", {}, format="json").status_code == 409
    assert owner.post(f"/api/products/{product.pk}/relist/").json()["status"] == "pending_review"
    assert review(client_for(operator), product.pk).json()["status"] == "listed"
    staff = client_for(operator)
    assert staff.post(f"/api/products/{product.pk}/delist/", {}, format="json").status_code == 400  # staff: reason
    assert staff.post(f"/api/products/{product.pk}/delist/", {"reason": "抽检不合格"},
                      format="json").json()["status"] == "delisted"


def test_stock_adjustments(client_for, shop):
    product = ProductFactory(merchant=shop, stock=10)
    owner = client_for(shop.user)
    assert owner.post(f"/api/products/{product.pk}/stock/", {"delta": 5}, format="json").json()["stock"] == 15
    assert owner.post(f"/api/products/{product.pk}/stock/", {"delta": -15}, format="json").json()["stock"] == 0
    short = owner.post(f"/api/products/{product.pk}/stock/", {"delta": -1}, format="json")
    assert short.status_code == 409 and short.json()["error"]["code"] == "insufficient_stock"
    assert owner.patch(f"/api/products/{product.pk}/", {"stock": -3}, format="json").status_code == 400
    assert Product.objects.get(pk=product.pk).stock == 0


def test_images(client_for, shop, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.merchants.factories import png_file

    settings.CATALOG_MAX_IMAGES = 2
    product = ProductFactory(merchant=shop)
    owner = client_for(shop.user)
    path = f"/api/products/{product.pk}/images/"
    first = owner.post(path, {"image": png_file()}, format="multipart")
    assert first.status_code == 201 and first.json()["url"].endswith(".png")
    not_image = owner.post(path, {"image": SimpleUploadedFile("a.png", b"GIF89a....")}, format="multipart")
    assert not_image.status_code == 400 and "image" in not_image.json()["error"]["fields"]
    assert owner.post(path, {"image": png_file()}, format="multipart").status_code == 201
    full = owner.post(path, {"image": png_file()}, format="multipart")
    assert full.status_code == 400
    listed = client_for(ConsumerFactory()).get(f"/api/products/{product.pk}/").json()["images"]
    assert [i["position"] for i in listed] == [0, 1]
    assert client_for(MerchantFactory().user).delete(f"{path}{first.json()['id']}/").status_code == 404
    assert owner.delete(f"{path}{first.json()['id']}/").status_code == 204
    assert product.images.count() == 1


def test_suspended_shop_products_vanish_at_once(client_for, shop, operator, api_client, admin_user):
    product = ProductFactory(merchant=shop)
    assert api_client.get("/api/products/").json()["count"] == 1
    client_for(admin_user).post(f"/api/merchants/{shop.pk}/review/", {"decision": "suspend", "reason": "投诉"},
                                format="json")
    assert api_client.get("/api/products/").json()["count"] == 0
    assert api_client.get(f"/api/products/{product.pk}/").status_code == 404
    # The suspension ended the owner's sessions; signed in again, the owner still sees the product.
    assert client_for(shop.user).get("/api/products/?mine=1").status_code == 401
    shop.user.refresh_from_db()
    assert client_for(shop.user).get("/api/products/?mine=1").json()["count"] == 1
    assert Product.objects.get(pk=product.pk).status == "listed"  # and it is back on reinstatement
    CredentialFactory(merchant=shop, kind="business_license", number=uscc_number(9), expires_at=None)
    reinstated = client_for(operator).post(f"/api/merchants/{shop.pk}/review/", {"decision": "reinstate"},
                                           format="json")
    assert reinstated.status_code == 200, reinstated.json()
    assert api_client.get("/api/products/").json()["count"] == 1
