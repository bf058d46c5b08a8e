"""Payouts under real parallel transactions (each job its own connection and transaction)."""

from decimal import Decimal

import pytest

from ledger.checks import ledger_check
from payouts import services
from payouts.models import Payout
from tests import factories
from tests.orders.conftest import run_parallel

from .conftest import available, fund, in_flight, verified_account
from .test_payouts import refund

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_parallel_requests_pay_out_the_available_amount_exactly_once(client_for, shop):
    fund(shop, "60.00")
    fund(shop, "40.00")
    verified_account(shop)
    clients = [client_for(shop.user) for _ in range(12)]
    amounts = ["100.00", "60.00", "55.50", "100.00"] * 3
    responses = run_parallel([lambda c=c, a=a: c.post("/api/merchant/payouts/", {"amount": a}, format="json")
                              for c, a in zip(clients, amounts, strict=True)])
    created = [r for r in responses if r.status_code == 201]
    assert len(created) == 1
    assert {r.json()["error"]["code"] for r in responses if r.status_code != 201} == {"payout_in_progress"}
    payout = Payout.objects.get()
    assert payout.status == "sent" and payout.accepted_at is not None  # the transfer ran after its commit
    assert available(shop) + payout.amount == Decimal("100.00") and in_flight() == payout.amount
    assert ledger_check().ok


def test_parallel_requests_of_everything_pay_it_once(client_for, shop):
    fund(shop, "100.00")
    verified_account(shop)
    clients = [client_for(shop.user) for _ in range(10)]
    responses = run_parallel([lambda c=c: c.post("/api/merchant/payouts/", {"amount": "100.00"}, format="json")
                              for c in clients])
    assert sorted(r.status_code for r in responses) == [201] + [409] * 9
    assert available(shop) == 0 and in_flight() == 100 and Payout.objects.get().amount == 100


def test_two_batches_at_once_open_one_payout_per_merchant():
    shops = [factories.MerchantFactory() for _ in range(4)]
    for n, shop in enumerate(shops):
        fund(shop, f"{20 + n}.00")
        verified_account(shop)
    batches = run_parallel([services.batch_build, services.batch_build, services.batch_build])
    assert sorted(Payout.objects.values_list("merchant_id", flat=True)) == sorted(s.pk for s in shops)
    assert sum(b.payout_count for b in batches if b is not None) == 4
    for n, shop in enumerate(shops):
        assert available(shop) == 0 and Payout.objects.get(merchant=shop).amount == 20 + n
    assert in_flight() == sum(20 + n for n in range(4))


@pytest.mark.parametrize("round_", range(3))
def test_a_batch_racing_a_refund_after_release_never_pays_more_than_owed(round_):
    shop = factories.MerchantFactory()
    first = fund(shop, "60.00")
    fund(shop, "40.00")
    verified_account(shop)
    batch, _refunded = run_parallel([services.batch_build, lambda: refund(first, "30.00")])
    payout = Payout.objects.get(merchant=shop)
    owed_after = available(shop)
    # Whichever committed first: the payout never exceeded what was available when it was opened, and
    # the books agree (paid out + still available = earned − refunded).
    assert payout.amount + owed_after == Decimal("70.00")
    assert (payout.amount, owed_after) in {(Decimal("100.00"), Decimal("-30.00")), (Decimal("70.00"), Decimal("0"))}
    report = ledger_check()
    assert report.ok, report.problems
