"""The shop's balances and its entries (docs/ledger.md, "Statements and balances (API)")."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.factories import AdminFactory, MerchantFactory, ProductFactory

from .helpers import complete_and_release, sold

pytestmark = pytest.mark.django_db

BALANCE = "/api/merchant/ledger/balance/"
ENTRIES = "/api/merchant/ledger/entries/"


def test_balances_after_pay_complete_and_release(client_for, shop, mixed_order):
    client = client_for(shop.user)
    assert client.get(BALANCE).json() == {"pending": "97.60", "available": "0.00", "paid_out": "0.00",
                                          "negative": False, "currency": "CNY"}
    assert complete_and_release(mixed_order) is not None
    assert client.get(BALANCE).json() == {"pending": "0.00", "available": "97.60", "paid_out": "0.00",
                                          "negative": False, "currency": "CNY"}


def test_a_refund_after_release_may_leave_the_shop_negative(client_for, shop, consumer, village):
    from ledger.services import adjustment_create
    from orders.services.lifecycle import merchant_order_refund

    product = ProductFactory(merchant=shop, price=Decimal("10.00"))
    mo = sold(merchant=shop, buyer=consumer, village=village, lines=[(product, 1, "0", "0")])
    complete_and_release(mo)
    admin = AdminFactory()
    adjustment_create(merchant=shop, amount=Decimal("-10.00"), reason="paid out by hand", actor=admin)
    merchant_order_refund(merchant_order=mo, amount=Decimal("4.00"), reason="damaged")
    body = client_for(shop.user).get(BALANCE).json()
    assert body["available"] == "-4.00" and body["negative"] is True


def test_balances_are_for_merchants_only(client_for, consumer, operator):
    assert client_for(consumer).get(BALANCE).status_code == 403
    assert client_for(operator).get(BALANCE).status_code == 403
    assert client_for(None).get(BALANCE).status_code == 401


@pytest.fixture
def three_orders(shop, consumer, village):
    product = ProductFactory(merchant=shop, price=Decimal("10.00"))
    orders = [sold(merchant=shop, buyer=consumer, village=village, lines=[(product, 1, "0.05", "0")])
              for _ in range(3)]
    complete_and_release(orders[0])
    return orders


def test_entries_are_paginated_newest_first(client_for, shop, three_orders):
    client = client_for(shop.user)
    first = client.get(ENTRIES, {"page_size": 2}).json()
    assert first["count"] == 5  # three payments on pending, the release's two legs
    assert len(first["results"]) == 2 and first["next"]
    rest = client.get(first["next"]).json()["results"]
    rows = first["results"] + rest
    assert [row["at"] for row in rows] == sorted((row["at"] for row in rows), reverse=True)
    release = [row for row in rows if row["kind"] == "release"]
    assert {(row["account"], row["amount"]) for row in release} == {("pending", "-9.50"), ("available", "9.50")}
    payment = next(row for row in rows if row["kind"] == "payment")
    assert payment["amount"] == "9.50" and payment["posting"].startswith("payment:")
    assert payment["merchant_order"] in {mo.pk for mo in three_orders}
    assert set(payment) == {"posting", "kind", "memo", "account", "amount", "merchant_order", "at"}


def test_entries_filters(client_for, shop, three_orders):
    client = client_for(shop.user)
    available = client.get(ENTRIES, {"account": "available"}).json()
    assert available["count"] == 1 and available["results"][0]["amount"] == "9.50"
    assert client.get(ENTRIES, {"account": "pending", "kind": "payment"}).json()["count"] == 3
    assert client.get(ENTRIES, {"kind": "release"}).json()["count"] == 2
    today = timezone.localdate()
    assert client.get(ENTRIES, {"from": today.isoformat(), "to": today.isoformat()}).json()["count"] == 5
    assert client.get(ENTRIES, {"from": (today + datetime.timedelta(days=1)).isoformat()}).json()["count"] == 0
    assert client.get(ENTRIES, {"to": (today - datetime.timedelta(days=1)).isoformat()}).json()["count"] == 0


@pytest.mark.parametrize("query", [{"account": "cash"}, {"kind": "bogus"}, {"from": "2026-13-01"},
                                   {"from": "2026-05-02", "to": "2026-05-01"}])
def test_bad_entry_filters_are_400(client_for, shop, query):
    response = client_for(shop.user).get(ENTRIES, query)
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid"


def test_the_last_and_first_days_there_are_bound_nothing(client_for, shop, three_orders):
    """``to=9999-12-31`` ends after every entry (its day after does not exist: it was a 500)."""
    client = client_for(shop.user)
    for query in ({"to": "9999-12-31"}, {"from": "0001-01-01", "to": "9999-12-31"}, {"from": "0001-01-01"}):
        response = client.get(ENTRIES, query)
        assert response.status_code == 200, (query, response.content)
        assert response.json()["count"] == 5
    assert client.get(ENTRIES, {"from": "9999-12-31"}).json()["count"] == 0


def test_entries_show_only_the_shops_own(client_for, shop, three_orders, consumer, village):
    other = MerchantFactory(village=village)
    assert client_for(other.user).get(ENTRIES).json()["count"] == 0
    assert client_for(other.user).get(BALANCE).json()["pending"] == "0.00"
