"""The ledger's postings of the money events, through the public API (checkout, pay, cancel,
disputes, confirm) and the beat tasks, on real PostgreSQL."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from ledger import chart
from ledger.checks import ledger_check
from ledger.models import Entry, NegativeBalance, Posting, Settlement
from ledger.postings import Leg, Unbalanced, balance, post
from ledger.services import negative_balances_flag, releases_due
from notifications.models import Notification
from orders.models import CommissionRule, MerchantOrder
from payments.models import Payment
from payments.providers.sandbox import sandbox_notice
from payments.signature import sign
from tests import factories
from tests.orders.conftest import checkout_body, pay, ship_and_deliver

pytestmark = pytest.mark.django_db
HOOK = "/api/payments/webhook/sandbox/"
D = Decimal


def owed(spec) -> Decimal:
    """What a liability/revenue account holds, as its owner sees it."""
    return -balance(spec)


def _release_now(mo):
    """Completed longer ago than the return window; the beat task releases it."""
    with time_machine.travel(timezone.now() + timedelta(days=8), tick=False):
        return releases_due()


def test_a_paid_order_splits_into_the_shops_share_commission_fees_and_delivery(paid_order, shop):
    mo = paid_order.merchant_orders.get()  # 2 × 12.50 + 3.00 delivery, default rates 5 % and 1 %
    assert (mo.commission, mo.service_fee) == (D("1.25"), D("0.25"))
    assert mo.lines.get().commission_rate == D("0.0500")
    assert owed(chart.merchant_pending(shop.pk)) == D("23.50")
    assert owed(chart.COMMISSION) == D("1.25")
    assert owed(chart.county_service_fees(shop.county_id)) == D("0.25")
    assert owed(chart.county_delivery(shop.county_id)) == D("3.00")
    assert balance(chart.PROVIDER_FEES) == D("0.17")  # 0.6 % of 28.00, half-up
    assert balance(chart.provider_cash("sandbox")) == D("27.83")
    posting = Posting.objects.get(kind="payment")
    assert posting.key == f"payment:{Payment.objects.get(order=paid_order).pk}"
    assert Settlement.objects.get(merchant_order=mo).state == "pending"
    assert owed(chart.merchant_available(shop.pk)) == 0


def test_a_replayed_or_repeated_notice_posts_nothing_twice(api_client, paid_order):
    payment = Payment.objects.get(order=paid_order)
    for event_id in ("evt-again-1", "evt-again-1", "evt-again-2"):
        body = sandbox_notice(payment=payment, event_id=event_id)
        response = api_client.post(HOOK, body, content_type="application/json", HTTP_X_CUNBO_SIGNATURE=sign(body))
        assert response.status_code == 200 and response.json()["outcome"] in ("duplicate", "ignored")
    assert Posting.objects.filter(kind="payment").count() == 1
    assert Settlement.objects.count() == 1


def test_a_forged_notice_posts_nothing(api_client, client_for, consumer, product, address):
    order_id = client_for(consumer).post("/api/orders/", checkout_body(address, {"product": product.pk, "quantity": 1}),
                                         format="json").json()["id"]
    payment = Payment.objects.get(pk=client_for(consumer).post(f"/api/orders/{order_id}/pay/", {},
                                                               format="json").json()["id"])
    body = sandbox_notice(payment=payment)
    bad = api_client.post(HOOK, body, content_type="application/json", HTTP_X_CUNBO_SIGNATURE=sign(body, secret="x"))
    wrong = sandbox_notice(payment=payment, amount="0.01")
    mismatch = api_client.post(HOOK, wrong, content_type="application/json", HTTP_X_CUNBO_SIGNATURE=sign(wrong))
    assert (bad.status_code, mismatch.status_code) == (400, 400)
    assert not Posting.objects.exists() and not Entry.objects.exists()


def test_cancelling_a_paid_order_reverses_everything_and_the_refund_settles_from_cash(
        client_for, consumer, paid_order, shop, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # the refund is sent to the provider on commit
        assert client_for(consumer).post(f"/api/orders/{paid_order.pk}/cancel/").status_code == 200
    assert owed(chart.merchant_pending(shop.pk)) == 0
    assert owed(chart.COMMISSION) == 0 and owed(chart.county_service_fees(shop.county_id)) == 0
    assert owed(chart.county_delivery(shop.county_id)) == 0
    # The refund task ran (eager): the debt to the buyer is paid from the provider's funds.
    assert owed(chart.REFUNDS_PAYABLE) == 0
    assert balance(chart.provider_cash("sandbox")) == D("-0.17")  # the provider kept its fee
    assert Settlement.objects.get().state == "closed"
    assert set(Posting.objects.values_list("kind", flat=True)) == {"payment", "refund", "refund_paid"}


def test_partial_refunds_reverse_commission_in_proportion_and_add_up_exactly(client_for, consumer, shop, address):
    product = factories.ProductFactory(merchant=shop, price=D("3.33"), stock=100)
    order_id = client_for(consumer).post("/api/orders/", checkout_body(address, {"product": product.pk,
                                                                                 "quantity": 3}),
                                         format="json").json()["id"]
    pay(client_for(consumer), order_id)
    mo = MerchantOrder.objects.get(order_id=order_id)  # goods 9.99, commission 0.50, service fee 0.10, delivery 3.00
    from orders.services import merchant_order_refund

    for amount in ("1.00", "1.00", "1.00", "6.99"):  # the goods, in four refunds
        merchant_order_refund(merchant_order=MerchantOrder.objects.get(pk=mo.pk), amount=D(amount), reason="t")
    assert owed(chart.COMMISSION) == 0 and owed(chart.county_service_fees(shop.county_id)) == 0
    assert owed(chart.merchant_pending(shop.pk)) == 0
    assert owed(chart.county_delivery(shop.county_id)) == D("3.00")  # goods first: delivery untouched
    merchant_order_refund(merchant_order=MerchantOrder.objects.get(pk=mo.pk), amount=D("3.00"), reason="t")
    assert owed(chart.county_delivery(shop.county_id)) == 0


def test_the_share_becomes_available_after_completion_and_the_return_window(client_for, consumer, paid_order, shop):
    mo = ship_and_deliver(paid_order.merchant_orders.get())
    assert releases_due() == 0  # not completed yet
    assert client_for(consumer).post(f"/api/merchant-orders/{mo.pk}/confirm/").status_code == 200
    assert releases_due() == 0  # inside the return window
    with time_machine.travel(timezone.now() + timedelta(days=6, hours=23), tick=False):
        assert releases_due() == 0
    assert _release_now(mo) == 1
    assert owed(chart.merchant_pending(shop.pk)) == 0
    assert owed(chart.merchant_available(shop.pk)) == D("23.50")
    assert _release_now(mo) == 0  # once
    assert Posting.objects.filter(kind="release").count() == 1


def test_an_active_dispute_holds_the_release_until_it_is_decided(client_for, consumer, paid_order, shop):
    mo = ship_and_deliver(paid_order.merchant_orders.get())
    client_for(consumer).post(f"/api/merchant-orders/{mo.pk}/confirm/")
    opened = client_for(consumer).post(f"/api/merchant-orders/{mo.pk}/disputes/",
                                       {"reason": "damaged", "requested_refund": "5.00", "text": "压坏了"},
                                       format="multipart")
    assert opened.status_code == 201, opened.json()
    assert _release_now(mo) == 0
    accepted = client_for(shop.user).post(f"/api/disputes/{opened.json()['id']}/respond/", {"accept": True},
                                          format="json")
    assert accepted.status_code == 200, accepted.json()
    assert _release_now(mo) == 1
    # 25.00 goods − 5.00 refunded: commission and fee on 20.00 (1.00 and 0.20) leave the shop 18.80.
    assert owed(chart.merchant_available(shop.pk)) == D("18.80")


def test_a_refund_after_release_can_go_negative_and_the_admins_hear_of_it(client_for, consumer, paid_order, shop,
                                                                          admin_user):
    from ledger.services import adjustment_create
    from orders.services import merchant_order_refund

    mo = ship_and_deliver(paid_order.merchant_orders.get())
    client_for(consumer).post(f"/api/merchant-orders/{mo.pk}/confirm/")
    _release_now(mo)
    # As if paid out: the admin moves the money away (a payout does the same through its own posting).
    adjustment_create(merchant=shop, amount=D("-23.50"), reason="paid by bank transfer", actor=admin_user)
    merchant_order_refund(merchant_order=MerchantOrder.objects.get(pk=mo.pk), amount=D("10.00"), reason="late")
    assert owed(chart.merchant_available(shop.pk)) == D("-9.40")  # 10.00 less commission 0.50, fee 0.10
    flag = NegativeBalance.objects.get(merchant=shop)
    assert flag.amount == D("-9.40")
    assert negative_balances_flag() == 0  # not for long yet
    with time_machine.travel(timezone.now() + timedelta(days=8), tick=False):
        assert negative_balances_flag() == 1
        assert negative_balances_flag() == 0  # once per stretch below zero
    assert Notification.objects.filter(user=admin_user, kind="ledger.negative_balance").exists()
    adjustment_create(merchant=shop, amount=D("9.40"), reason="recovered", actor=admin_user)
    assert not NegativeBalance.objects.filter(merchant=shop).exists()


def test_the_commission_rule_in_force_at_checkout_stays_with_the_order(client_for, consumer, shop, address):
    product = factories.ProductFactory(merchant=shop, price=D("100.00"), stock=100)
    rule = CommissionRule.objects.create(category=product.category, commission_rate=D("0.08"),
                                         service_fee_rate=D("0.02"), effective_from=timezone.now() - timedelta(days=1))
    body = checkout_body(address, {"product": product.pk, "quantity": 1})
    first = client_for(consumer).post("/api/orders/", body, format="json").json()["id"]
    # The rule ends and a dearer one starts; the county's own rule is more specific still.
    rule.effective_until = timezone.now()
    rule.save()
    CommissionRule.objects.create(category=product.category, commission_rate=D("0.20"),
                                  effective_from=timezone.now())
    second = client_for(consumer).post("/api/orders/", body, format="json").json()["id"]
    CommissionRule.objects.create(county=shop.county, commission_rate=D("0.03"), effective_from=timezone.now())
    third = client_for(consumer).post("/api/orders/", body, format="json").json()["id"]
    commissions = [MerchantOrder.objects.get(order_id=pk).commission for pk in (first, second, third)]
    assert commissions == [D("8.00"), D("20.00"), D("3.00")]
    pay(client_for(consumer), first)
    assert owed(chart.COMMISSION) == D("8.00")
    assert owed(chart.county_service_fees(shop.county_id)) == D("2.00")


def test_a_sub_category_inherits_its_parents_rule(client_for, consumer, shop, address):
    parent = factories.CategoryFactory(slug="fruit", name="水果")
    child = factories.CategoryFactory(slug="apples", name="苹果", parent=parent)
    product = factories.ProductFactory(merchant=shop, category=child, price=D("10.00"))
    CommissionRule.objects.create(category=parent, commission_rate=D("0.12"), effective_from=timezone.now())
    order_id = client_for(consumer).post("/api/orders/", checkout_body(address, {"product": product.pk,
                                                                                 "quantity": 1}),
                                         format="json").json()["id"]
    assert MerchantOrder.objects.get(order_id=order_id).commission == D("1.20")


def test_postings_and_entries_cannot_be_changed_or_deleted(paid_order):
    entry = Entry.objects.first()
    for statement in (f"UPDATE ledger_entry SET amount = amount + 1 WHERE id = {entry.pk}",
                      f"DELETE FROM ledger_entry WHERE id = {entry.pk}",
                      f"UPDATE ledger_posting SET memo = 'x' WHERE id = {entry.posting_id}",
                      f"DELETE FROM ledger_posting WHERE id = {entry.posting_id}"):
        with pytest.raises(DatabaseError, match="immutable"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        Entry.objects.filter(pk=entry.pk).update(amount=D("1.00"))


def test_an_unbalanced_posting_is_refused_at_commit_by_the_database(paid_order):
    posting = Posting.objects.first()
    account = Entry.objects.first().account_id
    with pytest.raises(DatabaseError, match="does not balance"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO ledger_entry (posting_id, account_id, amount) VALUES (%s, %s, 1.00)",
                           [posting.pk, account])
            cursor.execute("SET CONSTRAINTS ledger_entry_balanced IMMEDIATE")  # what COMMIT does
    with pytest.raises(Unbalanced):
        post(key="x", kind="adjustment", legs=[Leg(chart.ADJUSTMENTS, D("1.00"))])
    with pytest.raises(Unbalanced):
        post(key="y", kind="adjustment", legs=[Leg(chart.ADJUSTMENTS, D("0.001")), Leg(chart.COMMISSION, D("-0.001"))])


def test_ledger_check_reports_what_a_write_around_the_rules_broke(paid_order, capsys):
    call_command("ledger_check")
    assert "ledger ok" in capsys.readouterr().out
    posting = Posting.objects.first()
    account = Entry.objects.first().account_id
    with connection.cursor() as cursor:  # as a superuser bypassing the triggers could
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("INSERT INTO ledger_entry (posting_id, account_id, amount) VALUES (%s, %s, 5.00)",
                       [posting.pk, account])
        cursor.execute("SET session_replication_role = DEFAULT")
    report = ledger_check()
    assert not report.ok and report.unbalanced == [(posting.pk, D("5.00"))] and report.total == D("5.00")
    with pytest.raises(CommandError):
        call_command("ledger_check")
    with connection.cursor() as cursor:  # put it back, or the suite's own check fails this test
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("DELETE FROM ledger_entry WHERE posting_id = %s AND amount = 5.00", [posting.pk])
        cursor.execute("SET session_replication_role = DEFAULT")
