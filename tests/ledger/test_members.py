"""A cooperative's members, their shares, and the members' split of the shop's money."""

from decimal import Decimal

import pytest
from django.db import connection

from catalog.models import HarvestBatch
from ledger.models import CoopMember, MemberShare
from ledger.selectors import allocate_cents, member_breakdown, merchant_statement, month_parse
from merchants.models import Merchant
from orders.services.lifecycle import merchant_order_refund
from tests.factories import MerchantFactory, ProductFactory

from .helpers import sold, this_month

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
MEMBERS = "/api/merchant/members/"


def member_body(**changes):
    return {"name": "王大山", "phone": "13912345678", "payout_kind": "bank",
            "payout_account": "6222020200112233445", "bank_name": "农业银行", **changes}


def add_member(client, **changes):
    response = client.post(MEMBERS, member_body(**changes), format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def shares_url(product_id):
    return f"/api/merchant/products/{product_id}/member-shares/"


def test_a_member_is_recorded_with_its_account_sealed_and_masked(client_for, shop):
    client = client_for(shop.user)
    body = add_member(client)
    assert body["payout_account"] == "622************3445" and "6222020200112233445" not in str(body)
    assert body["phone"] == "13912345678" and body["active"] is True
    with connection.cursor() as cursor:
        cursor.execute("SELECT payout_account FROM ledger_coopmember WHERE id = %s", [body["id"]])
        stored = cursor.fetchone()[0]
    assert stored.startswith("gAAAAA") and "3445" not in stored
    assert CoopMember.objects.get(pk=body["id"]).payout_account == "6222020200112233445"
    alipay = add_member(client, name="李四", payout_kind="alipay", payout_account="lisi@example.com")
    assert alipay["payout_account"] == "l***@example.com"
    listing = client.get(MEMBERS).json()
    assert listing["count"] == 2 and [m["id"] for m in listing["results"]] == [body["id"], alipay["id"]]


@pytest.mark.parametrize("changes, field", [({"phone": "12345678901"}, "phone"), ({"phone": "1391234567"}, "phone"),
                                            ({"payout_account": "1234"}, "payout_account"),
                                            ({"payout_kind": "alipay", "payout_account": "not a login"},
                                             "payout_account"),
                                            ({"payout_kind": "wechat"}, "payout_kind"), ({"name": ""}, "name")])
def test_a_bad_member_is_400(client_for, shop, changes, field):
    response = client_for(shop.user).post(MEMBERS, member_body(**changes), format="json", **EN)
    assert response.status_code == 400 and field in response.json()["error"]["fields"]
    assert not CoopMember.objects.exists()


def test_patch_get_and_delete_a_member(client_for, shop, village):
    client = client_for(shop.user)
    member = add_member(client)
    url = f"{MEMBERS}{member['id']}/"
    changed = client.patch(url, {"name": "王小山", "active": False}, format="json").json()
    assert changed["name"] == "王小山" and changed["active"] is False
    assert client.patch(url, {"payout_kind": "alipay"}, format="json").status_code == 400  # the account too
    assert client.patch(url, {"payout_kind": "alipay", "payout_account": "13800001111"},
                        format="json").json()["payout_account"] == "138****1111"
    assert client.get(url).json()["name"] == "王小山"
    other = MerchantFactory(village=village)
    assert client_for(other.user).get(url).status_code == 404
    assert client_for(other.user).delete(url).status_code == 404
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404


def test_a_member_with_shares_is_deactivated_not_deleted(client_for, shop, apples):
    client = client_for(shop.user)
    member = add_member(client)
    assert client.put(shares_url(apples.pk), [{"member": member["id"], "percent": "100"}],
                      format="json").status_code == 200
    response = client.delete(f"{MEMBERS}{member['id']}/", **EN)
    assert response.status_code == 409 and response.json()["error"]["code"] == "member_has_shares"
    assert "deactivate" in response.json()["error"]["message"]
    assert CoopMember.objects.filter(pk=member["id"]).exists()


def test_a_shop_that_is_not_a_cooperative_has_no_members(client_for, village):
    farmer = MerchantFactory(village=village, kind=Merchant.Kind.INDIVIDUAL)
    product = ProductFactory(merchant=farmer)
    client = client_for(farmer.user)
    for response in (client.get(MEMBERS, **EN), client.post(MEMBERS, member_body(), format="json", **EN),
                     client.put(shares_url(product.pk), [], format="json", **EN)):
        assert response.status_code == 409
        assert response.json()["error"] == {"code": "not_a_cooperative",
                                            "message": "Only a cooperative shop has members."}


def test_members_are_for_merchants(client_for, consumer, operator):
    assert client_for(consumer).get(MEMBERS).status_code == 403
    assert client_for(operator).get(f"{MEMBERS}1/").status_code == 404


# --- shares ------------------------------------------------------------------------------------------

@pytest.fixture
def three(client_for, shop):
    client = client_for(shop.user)
    return [add_member(client, name=name, phone=f"1391234567{n}")["id"] for n, name in enumerate("甲乙丙")]


def test_shares_are_replaced_together(client_for, shop, apples, three):
    client = client_for(shop.user)
    body = [{"member": m, "percent": p} for m, p in zip(three, ("33.33", "33.33", "33.34"), strict=True)]
    answer = client.put(shares_url(apples.pk), body, format="json")
    assert answer.status_code == 200
    assert [(s["member"], s["percent"]) for s in answer.json()] == [(three[0], "33.33"), (three[1], "33.33"),
                                                                     (three[2], "33.34")]
    again = client.put(shares_url(apples.pk), {"shares": [{"member": three[0], "percent": "100.00"}]},
                       format="json")
    assert [(s["member"], s["percent"]) for s in again.json()] == [(three[0], "100.00")]
    assert client.get(shares_url(apples.pk)).json() == again.json()
    assert client.put(shares_url(apples.pk), [], format="json").json() == []  # back to the cooperative's own


@pytest.mark.parametrize("percents", [("33.33", "33.33", "33.33"), ("50", "50", "0.01"), ("60", "50")])
def test_shares_not_adding_up_to_100_are_400_and_nothing_is_stored(client_for, shop, apples, three, percents):
    client = client_for(shop.user)
    client.put(shares_url(apples.pk), [{"member": three[0], "percent": "100"}], format="json")
    body = [{"member": m, "percent": p} for m, p in zip(three, percents, strict=False)]
    response = client.put(shares_url(apples.pk), body, format="json", **EN)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["message"].startswith("The shares must add up to exactly 100%; these add up to ")
    assert list(MemberShare.objects.filter(product=apples).values_list("member_id", "percent")) == [
        (three[0], Decimal("100.00"))]


@pytest.mark.parametrize("item", [{"percent": "33.333"}, {"percent": "0"}, {"percent": "-5"}, {"percent": "101"}])
def test_a_bad_share_is_400(client_for, shop, apples, three, item):
    response = client_for(shop.user).put(shares_url(apples.pk), [{"member": three[0], **item}], format="json")
    assert response.status_code == 400 and not MemberShare.objects.exists()


def test_a_list_of_shares_longer_than_the_cap_is_refused_before_it_is_read(client_for, shop, apples, three):
    """At most MAX_SHARES items (a body of hundreds of thousands was read item by item, seconds of work
    and an answer naming every one)."""
    from ledger.serializers import MAX_SHARES

    client = client_for(shop.user)
    items = [{"member": index + 1, "percent": "0.01"} for index in range(MAX_SHARES + 1)]
    for body in (items, {"shares": items}):
        response = client.put(shares_url(apples.pk), body, format="json", **EN)
        assert response.status_code == 400
        assert response.json()["error"]["fields"] == {
            "shares": [f"Ensure this field has no more than {MAX_SHARES} elements."]}
    assert not MemberShare.objects.exists()


def test_a_member_listed_twice_or_inactive_is_400(client_for, shop, apples, three):
    client = client_for(shop.user)
    twice = [{"member": three[0], "percent": "50"}, {"member": three[0], "percent": "50"}]
    assert client.put(shares_url(apples.pk), twice, format="json").status_code == 400
    client.patch(f"{MEMBERS}{three[1]}/", {"active": False}, format="json")
    inactive = [{"member": three[1], "percent": "100"}]
    assert client.put(shares_url(apples.pk), inactive, format="json").status_code == 400
    assert not MemberShare.objects.exists()


def test_another_shops_product_is_404_and_its_members_400(client_for, shop, apples, three, village):
    other = MerchantFactory(village=village)
    theirs = ProductFactory(merchant=other)
    client = client_for(shop.user)
    assert client.put(shares_url(theirs.pk), [{"member": three[0], "percent": "100"}],
                      format="json").status_code == 404
    assert client.get(shares_url(theirs.pk)).status_code == 404
    their_member = add_member(client_for(other.user))["id"]
    response = client.put(shares_url(apples.pk), [{"member": three[0], "percent": "50"},
                                                  {"member": their_member, "percent": "50"}], format="json", **EN)
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Shares can only go to members of this cooperative."
    batch = HarvestBatch.objects.create(product=theirs, harvested_at="2025-09-01")
    assert client.put(f"/api/merchant/batches/{batch.pk}/member-shares/", [{"member": three[0], "percent": "100"}],
                      format="json").status_code == 404
    assert not MemberShare.objects.exists()


# --- the members' split ---------------------------------------------------------------------------------

def test_awkward_thirds_sum_exactly_to_the_net(client_for, shop, consumer, village, three):
    product = ProductFactory(merchant=shop, price=Decimal("10.00"))
    client = client_for(shop.user)
    client.put(shares_url(product.pk), [{"member": m, "percent": p} for m, p in
                                        zip(three, ("33.33", "33.33", "33.34"), strict=True)], format="json")
    mo = sold(merchant=shop, buyer=consumer, village=village, lines=[(product, 1, "0", "0")])
    assert member_breakdown(merchant=shop, merchant_order_ids=[mo.pk]) == {
        three[0]: Decimal("3.33"), three[1]: Decimal("3.33"), three[2]: Decimal("3.34")}


def test_the_statement_splits_each_orders_net_among_members(client_for, shop, consumer, village, three, mixed_order,
                                                            apples, pears):
    client = client_for(shop.user)
    client.put(shares_url(apples.pk), [{"member": m, "percent": p} for m, p in
                                       zip(three, ("33.33", "33.33", "33.34"), strict=True)], format="json")
    merchant_order_refund(merchant_order=mixed_order, amount=Decimal("30.00"), reason="damaged")
    body = client.get(f"/api/merchant/ledger/statements/{this_month()}/").json()
    [row] = body["rows"]
    assert row["net"] == "70.15"
    split = {key: Decimal(value) for key, value in row["members"].items()}
    assert sum(split.values()) == Decimal("70.15")
    # apples weigh 40.00 − 2.00 − 0.40 = 37.60 of 97.60: 70.15 × 37.60 / 97.60 = 27.0248…, split 33.33 / 33.33 /
    # 33.34 % = 9.007… / 9.007… / 9.010… → 9.01 each; the pears (60.00 of 97.60: 43.125) are the cooperative's own,
    # 43.13 rounded; 9.01 × 3 + 43.13 = 70.16, so the largest part gives back the cent: 43.12
    assert split == {str(three[0]): Decimal("9.01"), str(three[1]): Decimal("9.01"),
                     str(three[2]): Decimal("9.01"), "cooperative": Decimal("43.12")}
    assert [(m["member"], m["amount"]) for m in body["members"]] == [
        (three[0], "9.01"), (three[1], "9.01"), (three[2], "9.01"), (None, "43.12")]
    assert member_breakdown(merchant=shop, merchant_order_ids=[mixed_order.pk]) == {
        three[0]: Decimal("9.01"), three[1]: Decimal("9.01"), three[2]: Decimal("9.01"), None: Decimal("43.12")}
    csv_text = client.get(f"/api/merchant/ledger/statements/{this_month()}/", {"format": "csv"},
                          **EN).content.decode("utf-8-sig")
    assert "Member,Name,Amount" in csv_text and f"{three[2]},丙,9.01" in csv_text
    assert ",The cooperative's own,43.12" in csv_text


def test_a_batch_share_wins_over_the_product_share(client_for, shop, consumer, village, three, apples):
    client = client_for(shop.user)
    client.put(shares_url(apples.pk), [{"member": three[0], "percent": "100"}], format="json")
    batch = HarvestBatch.objects.create(product=apples, harvested_at="2025-09-01")
    assert client.put(f"/api/merchant/batches/{batch.pk}/member-shares/",
                      [{"member": three[1], "percent": "60"}, {"member": three[2], "percent": "40"}],
                      format="json").status_code == 200
    first = sold(merchant=shop, buyer=consumer, village=village, lines=[(apples, 1, "0.05", "0.01")])
    second = sold(merchant=shop, buyer=consumer, village=village, lines=[(apples, 1, "0.05", "0.01")])
    line = first.lines.get()
    assert client.put(f"/api/merchant/order-lines/{line.pk}/batch/", {"batch": batch.pk},
                      format="json").json() == {"batch": batch.pk}
    assert member_breakdown(merchant=shop, merchant_order_ids=[first.pk]) == {
        three[1]: Decimal("22.56"), three[2]: Decimal("15.04")}  # 37.60 × 60 % / 40 %
    assert member_breakdown(merchant=shop, merchant_order_ids=[second.pk]) == {three[0]: Decimal("37.60")}
    other_product_batch = HarvestBatch.objects.create(product=ProductFactory(merchant=shop), harvested_at="2025-09-01")
    assert client.put(f"/api/merchant/order-lines/{line.pk}/batch/", {"batch": other_product_batch.pk},
                      format="json").status_code == 400


def test_a_shop_that_is_not_a_cooperative_gets_no_member_split(village, consumer):
    farmer = MerchantFactory(village=village, kind=Merchant.Kind.INDIVIDUAL)
    product = ProductFactory(merchant=farmer)
    sold(merchant=farmer, buyer=consumer, village=village, lines=[(product, 1, "0", "0")])
    statement = merchant_statement(merchant=farmer, month=month_parse(this_month()))
    assert statement.members is None and statement.rows[0].members is None


def test_allocate_cents_gives_the_remainder_to_the_largest_part():
    from fractions import Fraction

    thirds = {1: Fraction(10, 3), 2: Fraction(10, 3), 3: Fraction(10, 3) + Fraction(1, 10**6)}
    assert allocate_cents(Decimal("10.00"), thirds) == {1: Decimal("3.33"), 2: Decimal("3.33"), 3: Decimal("3.34")}
    negative = {1: Fraction(-10, 3), 2: Fraction(-20, 3)}
    assert allocate_cents(Decimal("-10.00"), negative) == {1: Decimal("-3.33"), 2: Decimal("-6.67")}
