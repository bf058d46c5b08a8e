"""Reconciliation: the sandbox's settlement file for a day, matched against the ledger."""

from dataclasses import replace
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.utils import timezone

from ledger.models import Mismatch, ReconciliationRun
from ledger.reconciliation import reconcile, reconcile_from_provider
from payments.providers import get_provider
from payments.settlement_file import parse_settlement_file, settlement_file_write
from tests.orders.conftest import checkout_body, pay

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def day_of_money(client_for, consumer, product, address, django_capture_on_commit_callbacks):
    """Two paid orders, one of them cancelled (its refund paid by the provider)."""
    client = client_for(consumer)
    ids = [client.post("/api/orders/", checkout_body(address, {"product": product.pk, "quantity": n}),
                       format="json").json()["id"] for n in (1, 2)]
    for order_id in ids:
        pay(client, order_id)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/api/orders/{ids[0]}/cancel/").status_code == 200
    return timezone.localdate()


def test_a_day_whose_file_and_ledger_agree_has_no_mismatch(day_of_money):
    run = reconcile_from_provider(provider="sandbox", day=day_of_money)
    assert (run.provider_rows, run.matched, run.mismatched) == (3, 3, 0)
    # 15.50 + 28.00 paid, less fees 0.09 + 0.17, less the 15.50 refunded
    assert run.provider_total == run.ledger_total == D("27.74")


def test_each_kind_of_disagreement_is_listed(day_of_money):
    rows = parse_settlement_file(get_provider("sandbox").settlement_file(day_of_money))
    payment, *_rest = [r for r in rows if r.type == "payment"]
    refund = next(r for r in rows if r.type == "refund")
    tampered = [replace(payment, amount=payment.amount + 1),
                replace(refund, fee=D("0.00"), transaction_id="other"),
                replace(payment, out_trade_no=999999, transaction_id="ghost")]
    # the second payment is left out of the file; the refund row is intact
    run = reconcile(provider="sandbox", day=day_of_money, data=settlement_file_write(tampered))
    kinds = sorted(run.mismatches.values_list("kind", "key"))
    second = next(r for r in rows if r.type == "payment" and r.out_trade_no != payment.out_trade_no)
    assert kinds == sorted([("amount_differs", f"payment:{payment.out_trade_no}"),
                            ("missing_in_ledger", "payment:999999"),
                            ("missing_at_provider", f"payment:{second.out_trade_no}")])
    assert run.mismatched == 3 and run.matched == 1


def test_a_later_run_resolves_what_an_earlier_one_missed(day_of_money):
    rows = parse_settlement_file(get_provider("sandbox").settlement_file(day_of_money))
    first = reconcile(provider="sandbox", day=day_of_money, data=settlement_file_write(rows[:-1]))
    missing = first.mismatches.get()
    assert missing.kind == "missing_at_provider" and missing.resolved_at is None
    reconcile(provider="sandbox", day=day_of_money, data=settlement_file_write(rows))
    missing.refresh_from_db()
    assert missing.resolved_at is not None


def test_a_bad_file_is_refused_whole_and_nothing_is_stored(day_of_money):
    from django.utils import translation

    from core.errors import ValidationFailed

    with pytest.raises(ValidationFailed, match="line 2"), translation.override("en"):
        reconcile(provider="sandbox", day=day_of_money,
                  data=b"transaction_id,type,out_trade_no,out_refund_no,amount,fee,currency,completed_at\nx,y\n")
    assert not ReconciliationRun.objects.exists() and not Mismatch.objects.exists()


def test_the_admin_uploads_a_file_and_sees_the_run(client, admin_user, day_of_money):
    client.force_login(admin_user)
    data = get_provider("sandbox").settlement_file(day_of_money)
    bad = client.post("/admin/ledger/reconciliationrun/add/", {
        "provider": "sandbox", "day": day_of_money.isoformat(),
        "file": SimpleUploadedFile("bill.csv", b"not,a,bill\n", content_type="text/csv")})
    assert bad.status_code == 200 and not ReconciliationRun.objects.exists()
    good = client.post("/admin/ledger/reconciliationrun/add/", {
        "provider": "sandbox", "day": day_of_money.isoformat(),
        "file": SimpleUploadedFile("bill.csv", data, content_type="text/csv")})
    assert good.status_code == 302, good.context["adminform"].form.errors
    run = ReconciliationRun.objects.get()
    assert (run.provider_rows, run.mismatched, run.created_by) == (3, 0, admin_user)
    assert client.get(f"/admin/ledger/reconciliationrun/{run.pk}/change/").status_code == 200
    assert client.get("/admin/ledger/mismatch/").status_code == 200


def test_the_command_exits_1_on_mismatches(day_of_money, tmp_path, capsys):
    call_command("reconcile", "--date", day_of_money.isoformat())
    assert "0 mismatches" in capsys.readouterr().out
    rows = parse_settlement_file(get_provider("sandbox").settlement_file(day_of_money))
    path = tmp_path / "bill.csv"
    path.write_bytes(settlement_file_write(rows[1:]))
    with pytest.raises(CommandError, match="1 mismatch"):
        call_command("reconcile", "--date", day_of_money.isoformat(), "--file", str(path))
