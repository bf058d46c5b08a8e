from decimal import Decimal

import pytest

from catalog.models import Product
from livestream.models import Offer
from orders.models import MerchantOrder, Order, OrderLine
from tests import factories
from tests.orders.conftest import checkout_body

URL = "/api/orders/"


@pytest.mark.django_db
def test_checkout_splits_by_merchant_snapshots_lines_and_reserves_stock(client_for, consumer, product, address):
    other_county_shop = factories.MerchantFactory()  # a village in another county
    far = factories.ProductFactory(merchant=other_county_shop, price=Decimal("30.00"), stock=5, claims=["organic"])
    body = checkout_body(address, {"product": product.pk, "quantity": 2}, {"product": far.pk, "quantity": 1})
    response = client_for(consumer).post(URL, body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["status"] == "pending_payment"
    assert len(data["merchant_orders"]) == 2
    near_mo = next(mo for mo in data["merchant_orders"] if mo["merchant"]["id"] == product.merchant_id)
    far_mo = next(mo for mo in data["merchant_orders"] if mo["merchant"]["id"] == other_county_shop.pk)
    assert near_mo["items_total"] == "25.00" and near_mo["delivery_fee"] == "3.00" and near_mo["total"] == "28.00"
    # Same province name in the factory ("山东省"): the same-province fee.
    assert far_mo["delivery_fee"] == "8.00" and far_mo["total"] == "38.00"
    assert data["total"] == "66.00" and data["items_total"] == "55.00" and data["delivery_total"] == "11.00"
    assert far_mo["lines"][0]["claims"] == ["organic"] and far_mo["lines"][0]["unit_price"] == "30.00"
    assert data["payment_deadline"]
    product.refresh_from_db()
    far.refresh_from_db()
    assert (product.stock, far.stock) == (98, 4)
    # Later edits do not rewrite history.
    Product.objects.filter(pk=far.pk).update(title="改了", price=Decimal("99.00"))
    line = OrderLine.objects.get(product=far)
    assert line.title != "改了" and line.unit_price == Decimal("30.00")


@pytest.mark.django_db
def test_free_delivery_in_county_from_threshold(client_for, consumer, shop, address):
    product = factories.ProductFactory(merchant=shop, price=Decimal("50.00"))
    data = client_for(consumer).post(URL, checkout_body(address, {"product": product.pk, "quantity": 2}),
                                     format="json").json()
    assert data["merchant_orders"][0]["delivery_fee"] == "0.00" and data["total"] == "100.00"


@pytest.mark.django_db
def test_other_province_fee(client_for, consumer, product, address):
    far_county = factories.CountyFactory(province="贵州省")
    village = factories.VillageFactory(parent=factories.TownshipFactory(parent=far_county))
    data = client_for(consumer).post(URL, checkout_body({**address, "village": village.pk},
                                                        {"product": product.pk, "quantity": 1}), format="json").json()
    assert data["merchant_orders"][0]["delivery_fee"] == "12.00"


@pytest.mark.django_db
def test_offer_line_takes_offer_units_at_offer_price(client_for, consumer, address):
    offer = factories.OfferFactory(quantity=10, price=Decimal("9.90"))
    stock_before = offer.product.stock
    data = client_for(consumer).post(URL, checkout_body(address, {"product": offer.product_id, "quantity": 3,
                                                                  "offer": offer.pk}), format="json").json()
    assert data["merchant_orders"][0]["lines"][0]["unit_price"] == "9.90"
    assert data["stream"] == offer.stream_id
    offer.refresh_from_db()
    offer.product.refresh_from_db()
    assert offer.remaining == 7 and offer.product.stock == stock_before


@pytest.mark.django_db
def test_last_units_end_the_offer_as_sold_out(client_for, consumer, address):
    offer = factories.OfferFactory(quantity=2)
    response = client_for(consumer).post(URL, checkout_body(address, {"product": offer.product_id, "quantity": 2,
                                                                      "offer": offer.pk}), format="json")
    assert response.status_code == 201
    offer.refresh_from_db()
    assert (offer.remaining, offer.status, offer.end_reason) == (0, "ended", "sold_out")
    again = client_for(factories.ConsumerFactory()).post(
        URL, checkout_body(address, {"product": offer.product_id, "quantity": 1, "offer": offer.pk}), format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "sold_out"


BAD_BODIES = [
    ("quantity zero", lambda p, a: checkout_body(a, {"product": p.pk, "quantity": 0}), 400),
    ("quantity too big", lambda p, a: checkout_body(a, {"product": p.pk, "quantity": 100}), 400),
    ("no such village", lambda p, a: checkout_body({**a, "village": 999999}, {"product": p.pk, "quantity": 1}), 400),
    ("missing recipient", lambda p, a: checkout_body({k: v for k, v in a.items() if k != "recipient"},
                                                     {"product": p.pk, "quantity": 1}), 400),
    ("bad phone", lambda p, a: checkout_body({**a, "phone": "12"}, {"product": p.pk, "quantity": 1}), 400),
    ("no items", lambda p, a: checkout_body(a), 400),
    ("no such product", lambda p, a: checkout_body(a, {"product": 999999, "quantity": 1}), 400),
    ("more than stock", lambda p, a: checkout_body(a, {"product": p.pk, "quantity": 99}), 409),
]


@pytest.mark.django_db
@pytest.mark.parametrize("name,make,expected", BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
def test_bad_input_reserves_and_creates_nothing(client_for, consumer, shop, address, name, make, expected):
    product = factories.ProductFactory(merchant=shop, stock=10)
    response = client_for(consumer).post(URL, make(product, address), format="json")
    assert response.status_code == expected, response.json()
    assert "error" in response.json()
    product.refresh_from_db()
    assert product.stock == 10
    assert not Order.objects.exists() and not MerchantOrder.objects.exists()


@pytest.mark.django_db
def test_unlisted_product_and_wrong_or_ended_offer_are_refused(client_for, consumer, shop, address):
    client = client_for(consumer)
    pending = factories.ProductFactory(merchant=shop, status=Product.Status.PENDING_REVIEW)
    assert client.post(URL, checkout_body(address, {"product": pending.pk, "quantity": 1}),
                       format="json").status_code == 400
    offer = factories.OfferFactory()
    other = factories.ProductFactory(merchant=offer.stream.merchant)
    wrong = client.post(URL, checkout_body(address, {"product": other.pk, "quantity": 1, "offer": offer.pk}),
                        format="json")
    assert wrong.status_code == 400
    Offer.objects.filter(pk=offer.pk).update(status=Offer.Status.ENDED, end_reason="expired")
    ended = client.post(URL, checkout_body(address, {"product": offer.product_id, "quantity": 1, "offer": offer.pk}),
                        format="json")
    assert ended.status_code == 409 and ended.json()["error"]["code"] == "offer_not_live"
    assert not Order.objects.exists()
    offer.refresh_from_db()
    assert offer.remaining == offer.quantity


@pytest.mark.django_db
def test_only_consumers_check_out(client_for, merchant_user, product, address, api_client):
    body = checkout_body(address, {"product": product.pk, "quantity": 1})
    assert client_for(merchant_user).post(URL, body, format="json").status_code == 403
    assert api_client.post(URL, body, format="json").status_code == 401
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_orders_are_private(client_for, consumer, product, address):
    order_id = client_for(consumer).post(URL, checkout_body(address, {"product": product.pk, "quantity": 1}),
                                         format="json").json()["id"]
    stranger = client_for(factories.ConsumerFactory())
    assert stranger.get(f"{URL}{order_id}/").status_code == 404
    assert stranger.get(URL).json()["count"] == 0
    assert stranger.post(f"{URL}{order_id}/cancel/").status_code == 404
    assert client_for(consumer).get(f"{URL}{order_id}/").status_code == 200


@pytest.mark.django_db
def test_order_list_costs_a_fixed_number_of_queries(client_for, consumer, shop, address, django_assert_max_num_queries):
    client = client_for(consumer)
    for _ in range(3):
        products = [factories.ProductFactory(merchant=factories.MerchantFactory()) for _ in range(2)]
        client.post(URL, checkout_body(address, *({"product": p.pk, "quantity": 1} for p in products)), format="json")
    with django_assert_max_num_queries(8):
        response = client.get(URL)
    assert response.json()["count"] == 3


@pytest.mark.django_db
def test_checkout_from_cart_empties_the_bought_items(client_for, consumer, product, address):
    client = client_for(consumer)
    assert client.post("/api/orders/", {"from_cart": True, "address": address}, format="json").status_code == 400
    client.post("/api/cart/items/", {"product": product.pk, "quantity": 2}, format="json")
    client.post("/api/cart/items/", {"product": product.pk, "quantity": 1}, format="json")
    cart = client.get("/api/cart/").json()
    assert len(cart["items"]) == 1 and cart["items"][0]["quantity"] == 3 and cart["items_total"] == "37.50"
    response = client.post(URL, {"from_cart": True, "address": address}, format="json")
    assert response.status_code == 201
    assert response.json()["merchant_orders"][0]["lines"][0]["quantity"] == 3
    assert client.get("/api/cart/").json()["items"] == []


@pytest.mark.django_db
def test_the_checkout_answer_is_the_order_as_read_back(client_for, consumer, product, address):
    """The answer is rendered before the rows are written (and stored with them): it must be what
    reading the order gives, and what a retry with the same key replays."""
    from orders import selectors
    from orders.serializers import OrderOutput, order_output_data

    far = factories.ProductFactory(merchant=factories.MerchantFactory(), price=Decimal("30.00"), stock=5,
                                   claims=["organic"])
    offer = factories.OfferFactory(quantity=5, price=Decimal("9.90"))
    body = checkout_body(address, {"product": product.pk, "quantity": 2}, {"product": far.pk, "quantity": 1},
                         {"product": offer.product_id, "quantity": 3, "offer": offer.pk})
    client = client_for(consumer)
    created = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="read-back")
    assert created.status_code == 201, created.json()
    assert len(created.json()["merchant_orders"]) == 3 and created.json()["stream"] == offer.stream_id
    detail = client.get(f"{URL}{created.json()['id']}/")
    assert created.json() == detail.json()
    replay = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="read-back")
    assert replay["Idempotent-Replayed"] == "true" and replay.json() == detail.json()
    order = selectors.order_get(user=consumer, order_id=created.json()["id"])
    assert order_output_data(order) == OrderOutput(order).data


_ADDRESS = {"village": 7, "detail": "3排5号", "recipient": "王小明", "phone": "13800001234"}


@pytest.mark.parametrize("body, plain", [
    ({"items": [{"product": 1, "quantity": 2}], "address": _ADDRESS}, True),
    ({"items": [{"product": 1, "quantity": 1, "offer": 9}, {"product": 2, "quantity": 99, "offer": None}],
      "address": _ADDRESS, "stream": 4, "from_cart": False}, True),
    ({"items": [{"product": 1, "quantity": 1}], "address": _ADDRESS, "stream": None}, True),
    ({"items": [{"product": "1", "quantity": 1}], "address": _ADDRESS}, False),
    ({"items": [{"product": 1, "quantity": True}], "address": _ADDRESS}, False),
    ({"items": [{"product": 1, "quantity": 100}], "address": _ADDRESS}, False),
    ({"items": [{"product": 0, "quantity": 1}], "address": _ADDRESS}, False),
    ({"items": [{"product": 1, "quantity": 1}], "address": {**_ADDRESS, "detail": " 3排 "}}, False),
    ({"items": [{"product": 1, "quantity": 1}], "address": {**_ADDRESS, "detail": ""}}, False),
    ({"items": [{"product": 1, "quantity": 1}], "address": {**_ADDRESS, "recipient": "王\x00"}}, False),
    ({"items": [{"product": 1, "quantity": 1}], "address": {**_ADDRESS, "phone": "12800001234"}}, False),
    ({"items": [{"product": 1, "quantity": 1}], "address": {**_ADDRESS, "detail": "x" * 201}}, False),
    ({"items": [], "address": _ADDRESS}, False),
    ({"items": [{"product": 1, "quantity": 1}] * 21, "address": _ADDRESS}, False),
    ({"from_cart": True, "address": _ADDRESS}, False),
    ({"items": [{"product": 1, "quantity": 1}], "address": _ADDRESS, "stream": 0}, False),
    ({"items": [{"product": 1, "quantity": 1}], "address": {k: v for k, v in _ADDRESS.items() if k != "phone"}},
     False),
])
def test_plain_checkout_input_accepts_only_what_the_serializer_accepts_unchanged(body, plain):
    from orders.serializers import CheckoutInput, checkout_input_plain

    fast = checkout_input_plain(body)
    serializer = CheckoutInput(data=body)
    valid = serializer.is_valid()
    assert (fast is not None) == plain
    if fast is not None:
        assert valid and fast == serializer.validated_data
