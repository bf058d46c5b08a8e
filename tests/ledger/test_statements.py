"""Monthly statements (JSON and CSV) and the county's and platform's totals."""

import csv
import io
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from ledger.selectors import merchant_balance
from orders.services.lifecycle import merchant_order_refund
from tests.factories import MerchantFactory, ProductFactory

from .helpers import complete_and_release, sold, this_month

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def statement_url(month=None):
    return f"/api/merchant/ledger/statements/{month or this_month()}/"


@pytest.fixture
def refunded(mixed_order):
    """The mixed order, 30.00 of its goods refunded (goods first, the commission and fee back)."""
    merchant_order_refund(merchant_order=mixed_order, amount=Decimal("30.00"), reason="damaged")
    return mixed_order


def test_a_statement_with_a_partial_refund_adds_up(client_for, shop, refunded):
    body = client_for(shop.user).get(statement_url()).json()
    assert body["merchant"] == shop.pk and body["month"] == this_month() and body["currency"] == "CNY"
    [row] = body["rows"]
    assert row["merchant_order"] == refunded.pk and row["order"] == refunded.order_id
    # commission back cents(7.33 × 30 / 106.66) = 2.06, fee back cents(1.73 × 30 / 106.66) = 0.49
    assert {k: row[k] for k in ("goods", "delivery", "commission", "service_fee", "refunds", "net")} == {
        "goods": "106.66", "delivery": "8.00", "commission": "5.27", "service_fee": "1.24", "refunds": "30.00",
        "net": "70.15"}
    money = {k: Decimal(v) for k, v in row.items() if k in ("goods", "commission", "service_fee", "refunds", "net")}
    assert money["goods"] - money["commission"] - money["service_fee"] - money["refunds"] == money["net"]
    assert body["totals"]["net"] == "70.15"
    # The rows are the change of what the shop is owed over the month (it was owed nothing before).
    assert Decimal(body["opening"]) == 0
    balance = merchant_balance(merchant=shop)
    assert Decimal(body["closing"]) == balance.pending + balance.available == Decimal("70.15")
    assert Decimal(body["closing"]) - Decimal(body["opening"]) == Decimal(body["totals"]["net"]) + sum(
        Decimal(v) for v in body["other"].values())


def test_the_statement_shows_movements_without_an_order_apart(client_for, shop, refunded, admin_user):
    from ledger.services import adjustment_create

    complete_and_release(refunded)
    adjustment_create(merchant=shop, amount=Decimal("5.00"), reason="goodwill", actor=admin_user)
    body = client_for(shop.user).get(statement_url()).json()
    assert body["other"] == {"adjustment": "5.00"}
    assert body["totals"]["net"] == "70.15"  # the release moves money within the shop: no net change
    assert Decimal(body["closing"]) - Decimal(body["opening"]) == Decimal("75.15")


def test_a_refund_in_a_later_month_is_that_months_row(client_for, shop, consumer, village):
    product = ProductFactory(merchant=shop, price=Decimal("100.00"))
    with time_machine.travel("2025-01-31 23:30:00+08:00", tick=False):
        mo = sold(merchant=shop, buyer=consumer, village=village, lines=[(product, 1, "0.05", "0.01")])
    with time_machine.travel("2025-02-01 00:30:00+08:00", tick=False):
        merchant_order_refund(merchant_order=mo, amount=Decimal("50.00"), reason="damaged")
    client = client_for(shop.user)
    january = client.get(statement_url("2025-01")).json()
    february = client.get(statement_url("2025-02")).json()
    assert january["rows"][0]["net"] == "94.00" and january["closing"] == "94.00"
    [row] = february["rows"]
    assert row == {**row, "goods": "0.00", "commission": "-2.50", "service_fee": "-0.50", "refunds": "50.00",
                   "net": "-47.00"}
    assert february["opening"] == "94.00" and february["closing"] == "47.00"
    assert client.get(statement_url("2025-03")).json()["rows"] == []


def test_the_csv_has_the_bom_translated_headers_and_the_same_numbers(client_for, shop, refunded):
    client = client_for(shop.user)
    json_row = client.get(statement_url()).json()["rows"][0]
    response = client.get(statement_url(), {"format": "csv"}, **EN)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == f'attachment; filename="cunbo-statement-{shop.pk}-{this_month()}.csv"'
    raw = response.content
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["Merchant order", "Order", "Goods", "Delivery", "Commission", "County service fee", "Refunds",
                       "Net to the shop"]
    assert rows[1] == [str(refunded.pk), str(refunded.order_id)] + [
        json_row[k] for k in ("goods", "delivery", "commission", "service_fee", "refunds", "net")]
    assert rows[2][0] == "Total" and rows[2][-1] == "70.15"
    # Accept: text/csv, in the default language
    chinese = client.get(statement_url(), HTTP_ACCEPT="text/csv")
    header = next(csv.reader(io.StringIO(chinese.content.decode("utf-8-sig"))))
    assert header[2] == "货款" and header[0] != "Merchant order"


@pytest.mark.parametrize("month", ["2026-13", "2026-00", "1999-12", "0000-00"])
def test_a_month_of_the_right_shape_that_is_no_month_is_400(client_for, shop, operator, admin_user, month):
    for user, url in ((shop.user, statement_url(month)), (operator, staff_url(shop.pk, month)),
                      (admin_user, staff_url(shop.pk, month, prefix="admin"))):
        response = client_for(user).get(url, **EN)
        assert response.status_code == 400, (url, response.content)
        assert response.json()["error"] == {"code": "invalid", "message": "Give the month as YYYY-MM.",
                                            "fields": {"month": ["Give the month as YYYY-MM."]}}


@pytest.mark.parametrize("month", ["abc", "2026-1", "999-01", "2026-011", "２０２６-01", "2026_01"])
def test_text_that_is_not_yyyy_mm_is_no_route_for_anyone(client_for, shop, consumer, operator, month):
    """The path converter only matches YYYY-MM: anything else is 404 to every caller, as a path that
    does not exist (the owner included)."""
    for client in (client_for(shop.user), client_for(consumer), client_for(operator), client_for(None)):
        for url in (statement_url(month), staff_url(shop.pk, month), staff_url(shop.pk, month, prefix="admin")):
            response = client.get(url, **EN)
            assert response.status_code == 404, (url, response.content)
            assert response.json()["error"]["code"] == "not_found"


def test_another_role_is_refused_the_statement_as_the_balance(client_for, consumer, operator):
    """The month names no object (the shop is the caller's own): 403 as on the balance, 401 signed out."""
    for month in (this_month(), "2026-13"):
        assert client_for(consumer).get(statement_url(month)).status_code == 403
        assert client_for(operator).get(statement_url(month)).status_code == 403
        assert client_for(None).get(statement_url(month)).status_code == 401
    assert client_for(consumer).get("/api/merchant/ledger/balance/").status_code == 403


def test_a_month_not_begun_is_400_even_as_csv(client_for, shop):
    today = timezone.localdate()
    month = f"{today.year + 1}-01"
    response = client_for(shop.user).get(statement_url(month), {"format": "csv"}, **EN)
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    assert response.json()["error"] == {"code": "invalid", "message": "That month has not begun yet.",
                                        "fields": {"month": ["That month has not begun yet."]}}


def staff_url(merchant_id, month=None, prefix="county"):
    return f"/api/{prefix}/ledger/statements/{month or this_month()}/?merchant={merchant_id}"


def test_operators_read_their_countys_shops_admins_all(client_for, shop, refunded, operator, other_operator,
                                                       admin_user):
    assert client_for(operator).get(staff_url(shop.pk)).json()["totals"]["net"] == "70.15"
    assert client_for(other_operator).get(staff_url(shop.pk)).status_code == 404
    assert client_for(admin_user).get(staff_url(shop.pk, prefix="admin")).json()["totals"]["net"] == "70.15"
    assert client_for(operator).get(staff_url(999999999)).status_code == 404
    assert client_for(shop.user).get(staff_url(shop.pk)).status_code == 404  # a merchant: not there
    csv_answer = client_for(admin_user).get(staff_url(shop.pk) + "&format=csv")
    assert csv_answer.content.startswith(b"\xef\xbb\xbf")


def test_a_merchant_only_ever_reads_its_own_statement(client_for, shop, refunded, village):
    other = MerchantFactory(village=village)
    body = client_for(other.user).get(statement_url() + f"?merchant={shop.pk}").json()
    assert body["merchant"] == other.pk and body["rows"] == []


def test_county_totals(client_for, shop, refunded, operator, other_operator, admin_user):
    url = f"/api/county/ledger/totals/?month={this_month()}"
    body = client_for(operator).get(url).json()
    assert body == {"county": operator.county_id, "county_name": operator.county.name, "month": this_month(),
                    "goods": "106.66", "commission": "5.27", "service_fees": "1.24", "delivery": "8.00",
                    "refunds": "30.00", "merchants_pending": "70.15", "merchants_available": "0.00",
                    "currency": "CNY"}
    assert client_for(other_operator).get(url).json()["goods"] == "0.00"  # its own county sold nothing
    assert client_for(other_operator).get(url + f"&county={operator.county_id}").status_code == 404
    assert client_for(admin_user).get(url + f"&county={operator.county_id}").json()["goods"] == "106.66"
    assert client_for(admin_user).get(url).status_code == 400
    assert client_for(shop.user).get(url).status_code == 403
    assert client_for(operator).get("/api/county/ledger/totals/?month=2026-13").status_code == 400


def test_platform_totals(client_for, shop, refunded, operator, admin_user):
    from ledger.models import Entry

    body = client_for(admin_user).get(f"/api/admin/ledger/totals/?month={this_month()}").json()
    fees = sum(e.amount for e in Entry.objects.filter(account__code="platform:provider_fees"))
    assert body["commission"] == "5.27" and body["goods"] == "106.66" and body["refunds"] == "30.00"
    assert Decimal(body["provider_fees"]) == fees
    assert body["refunds_payable"] == "30.00"  # booked, not yet paid by the provider
    assert body["payouts_in_flight"] == "0.00" and body["merchants_pending"] == "70.15"
    assert body["counties"] == [{"county": shop.county_id, "county_name": shop.county.name, "goods": "106.66",
                                 "commission": "5.27", "service_fees": "1.24", "delivery": "8.00",
                                 "refunds": "30.00"}]
    assert client_for(operator).get(f"/api/admin/ledger/totals/?month={this_month()}").status_code == 403
