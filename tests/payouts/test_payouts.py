"""Payouts: requests, their postings, the provider's callback and the sweeps, the batch, bad input."""

import datetime
import time
import uuid
from decimal import Decimal

import pytest
from django.contrib.admin.sites import site
from django.db import transaction
from django.test import RequestFactory
from django.utils import timezone

from ledger.models import NegativeBalance, Posting
from ledger.postings import posted
from ledger.services import settlement_release
from notifications.models import Notification
from orders.models import MerchantOrder
from orders.services.lifecycle import merchant_order_refund
from orders.services.locks import merchant_order_lock
from payouts import services
from payouts.models import Payout, PayoutBatch
from payouts.providers import FAILED, PAID, TransferRefused, TransferStatus
from payouts.providers.sandbox import SandboxPayoutProvider
from tests import factories

from .conftest import available, callback, fund, in_flight, sold, verified_account

URL = "/api/merchant/payouts/"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _on_commit(django_capture_on_commit_callbacks):
    global _capture
    _capture = django_capture_on_commit_callbacks
    yield


def request_payout(client, amount, **extra):
    """POST a payout request; what it queues after commit (the transfer) runs as after a real commit."""
    with _capture(execute=True):
        return client.post(URL, {"amount": amount}, format="json", **extra)


def refund(mo, amount):
    with transaction.atomic():
        locked = merchant_order_lock(merchant_order_id=mo.pk,
                                     queryset=MerchantOrder.objects.select_related("order__buyer"))
        merchant_order_refund(merchant_order=locked, amount=Decimal(amount), reason="退货")


def test_a_request_moves_the_money_in_flight_and_the_callback_pays_it(client_for, api_client, funded_shop):
    client = client_for(funded_shop.user)
    response = request_payout(client, "60.00")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "sent" and body["amount"] == "60.00"
    assert body["account"]["number"] == "6228 **** **** 1234"
    payout = Payout.objects.get(pk=body["id"])
    assert payout.accepted_at is not None and payout.provider_reference.startswith("sbx_po_")
    assert posted(f"payout_sent:{payout.pk}")
    assert (available(funded_shop), in_flight()) == (Decimal("40.00"), Decimal("60.00"))
    assert list(payout.events.values_list("from_status", "to_status")) == [("", "pending"), ("pending", "sent")]

    response = callback(api_client, payout)
    assert response.status_code == 200 and response.json() == {"outcome": "paid"}
    payout.refresh_from_db()
    assert payout.status == "paid" and payout.completed_at is not None
    assert posted(f"payout_paid:{payout.pk}") and in_flight() == 0 and available(funded_shop) == Decimal("40.00")
    assert Notification.objects.filter(user=funded_shop.user, kind="payout.paid").exists()
    # The merchant sees it, and only its own.
    assert client.get(f"{URL}{payout.pk}/").json()["status"] == "paid"
    listed = client.get(URL).json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == payout.pk


def test_a_failed_payout_returns_the_money_and_tells_the_merchant(client_for, api_client, funded_shop):
    payout = Payout.objects.get(pk=request_payout(client_for(funded_shop.user), "100.00").json()["id"])
    assert available(funded_shop) == 0
    response = callback(api_client, payout, paid=False, reason="PAYEE_CARD_CLOSED")
    assert response.json() == {"outcome": "failed"}
    payout.refresh_from_db()
    assert payout.status == "failed" and payout.failure_reason == "PAYEE_CARD_CLOSED"
    assert posted(f"payout_failed:{payout.pk}") and in_flight() == 0 and available(funded_shop) == 100
    assert Notification.objects.filter(user=funded_shop.user, kind="payout.failed").exists()
    # A late success for a failed payout changes nothing.
    assert callback(api_client, payout, paid=True).json() == {"outcome": "ignored"}
    assert not posted(f"payout_paid:{payout.pk}")


def test_another_shops_payout_is_404(client_for, funded_shop):
    payout_id = request_payout(client_for(funded_shop.user), "10.00").json()["id"]
    other = factories.MerchantFactory()
    assert client_for(other.user).get(f"{URL}{payout_id}/").status_code == 404
    assert client_for(other.user).get(URL).json()["count"] == 0
    assert client_for(factories.ConsumerFactory()).get(f"{URL}{payout_id}/").status_code == 404


@pytest.mark.parametrize(("amount", "status", "code"), [
    ("-5.00", 400, "invalid_amount"),
    ("0", 400, "invalid_amount"),
    ("12.345", 400, "invalid_amount"),
    ("1e9999", 400, "invalid_amount"),
    ("NaN", 400, "invalid_amount"),
    ("abc", 400, "invalid_amount"),
    (True, 400, "invalid_amount"),
    ([10], 400, "invalid_amount"),
    ("9.99", 400, "below_minimum"),
    ("100.01", 409, "over_available"),
])
def test_bad_amounts_are_refused_and_nothing_is_posted(client_for, funded_shop, amount, status, code):
    before = Posting.objects.count()
    response = request_payout(client_for(funded_shop.user), amount, **EN)
    assert response.status_code == status, response.json()
    error = response.json()["error"]
    assert error["code"] == code and "amount" in error["fields"]
    assert not Payout.objects.exists() and Posting.objects.count() == before and available(funded_shop) == 100


def test_the_messages_are_clear(client_for, funded_shop):
    client = client_for(funded_shop.user)
    assert request_payout(client, "5", **EN).json()["error"]["message"] == "A payout is at least 10.00 yuan."
    assert request_payout(client, "500", **EN).json()["error"]["message"] == \
        "Only 100.00 yuan is available to pay out."
    assert request_payout(client, "5").json()["error"]["message"] == "每笔提现至少 10.00 元。"


def test_one_payout_at_a_time(client_for, funded_shop):
    client = client_for(funded_shop.user)
    assert request_payout(client, "30.00").status_code == 201
    response = request_payout(client, "30.00")
    assert response.status_code == 409 and response.json()["error"]["code"] == "payout_in_progress"


def test_the_idempotency_key_replays_the_first_answer(client_for, funded_shop):
    client = client_for(funded_shop.user)
    first = request_payout(client, "30.00", HTTP_IDEMPOTENCY_KEY="k-1")
    again = request_payout(client, "30.00", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"] and again["Idempotent-Replayed"] == "true"
    assert Payout.objects.count() == 1 and available(funded_shop) == 70
    assert request_payout(client, "31.00", HTTP_IDEMPOTENCY_KEY="k-1").status_code == 422


# --- the callback ---------------------------------------------------------------------------------

@pytest.fixture
def sent_payout(client_for, funded_shop):
    return Payout.objects.get(pk=request_payout(client_for(funded_shop.user), "100.00").json()["id"])


def test_a_replayed_callback_is_a_duplicate(api_client, sent_payout):
    assert callback(api_client, sent_payout, event_id="ntf-1").json() == {"outcome": "paid"}
    response = callback(api_client, sent_payout, event_id="ntf-1")
    assert response.status_code == 200 and response.json() == {"outcome": "duplicate"}
    assert Posting.objects.filter(key=f"payout_paid:{sent_payout.pk}").count() == 1


@pytest.mark.parametrize("case", ["forged", "stale", "unsigned", "unknown", "mismatch", "malformed", "provider"])
def test_bad_callbacks_are_refused_and_nothing_is_posted(api_client, sent_payout, case):
    before = Posting.objects.count()
    url = "/api/payouts/callback/sandbox/"
    if case == "forged":
        response = callback(api_client, sent_payout, secret="not-the-secret")
    elif case == "stale":
        response = callback(api_client, sent_payout, timestamp=int(time.time()) - 3600)
    elif case == "unsigned":
        response = api_client.post(url, b'{"notify_id": "x"}', content_type="application/json")
    elif case == "unknown":
        response = callback(api_client, sent_payout, request_id=uuid.uuid4())
    elif case == "mismatch":
        response = callback(api_client, sent_payout, amount="99.99")
    elif case == "malformed":
        from payouts.providers.sandbox import HEADER, sign

        body = b'{"notify_id": "x", "status": "MAYBE"}'
        response = api_client.post(url, body, content_type="application/json", headers={HEADER: sign(body)})
    else:
        response = api_client.post("/api/payouts/callback/nope/", b"{}", content_type="application/json")
    expected = {"forged": (400, "invalid_signature"), "stale": (400, "stale_signature"),
                "unsigned": (400, "invalid_signature"), "unknown": (400, "unknown_payout"),
                "mismatch": (400, "amount_mismatch"), "malformed": (400, "malformed_callback"),
                "provider": (404, "not_found")}[case]
    assert (response.status_code, response.json()["error"]["code"]) == expected
    sent_payout.refresh_from_db()
    assert sent_payout.status == "sent" and Posting.objects.count() == before and in_flight() == 100


def test_a_payment_webhook_signature_does_not_sign_a_payout_callback(api_client, sent_payout):
    from django.conf import settings

    response = callback(api_client, sent_payout, secret=settings.PAYMENT_WEBHOOK_SECRET)
    assert response.json()["error"]["code"] == "invalid_signature"


# --- the provider: transfer retries, refusals, the query sweep ----------------------------------------

def test_a_failed_transfer_call_is_retried_by_the_sweep(client_for, funded_shop, monkeypatch):
    calls = []

    def down(self, *, payout):
        calls.append(payout.request_id)
        raise ConnectionError("provider unreachable")

    monkeypatch.setattr(SandboxPayoutProvider, "transfer", down)
    payout = Payout.objects.get(pk=request_payout(client_for(funded_shop.user), "50.00").json()["id"])
    assert payout.status == "sent" and payout.accepted_at is None and "unreachable" in payout.last_error
    monkeypatch.undo()
    assert services.transfers_retry() == 0  # too soon
    Payout.objects.filter(pk=payout.pk).update(sent_at=timezone.now() - datetime.timedelta(minutes=2))
    assert services.transfers_retry() == 1
    payout.refresh_from_db()
    assert payout.accepted_at is not None and payout.attempts == 2 and payout.last_error == ""
    assert payout.provider_reference.startswith("sbx_po_") and calls == [payout.request_id]
    assert available(funded_shop) == 50 and in_flight() == 50


def test_a_refused_transfer_fails_the_payout_and_returns_the_money(client_for, funded_shop, monkeypatch):
    def refuse(self, *, payout):
        raise TransferRefused("PAYEE_USER_INFO_ERROR")

    monkeypatch.setattr(SandboxPayoutProvider, "transfer", refuse)
    payout = Payout.objects.get(pk=request_payout(client_for(funded_shop.user), "50.00").json()["id"])
    assert payout.status == "failed" and payout.failure_reason == "PAYEE_USER_INFO_ERROR"
    assert available(funded_shop) == 100 and in_flight() == 0


@pytest.mark.parametrize("outcome", [PAID, FAILED])
def test_the_query_sweep_applies_the_providers_answer(sent_payout, monkeypatch, outcome):
    monkeypatch.setattr(SandboxPayoutProvider, "query",
                        lambda self, *, payout: TransferStatus(status=outcome, reference="q-1", reason="BANK_RETURN"))
    assert services.sent_query() == 0  # sent just now: its callback may still come
    Payout.objects.filter(pk=sent_payout.pk).update(sent_at=timezone.now() - datetime.timedelta(minutes=31))
    assert services.sent_query() == 1
    sent_payout.refresh_from_db()
    assert sent_payout.status == outcome and in_flight() == 0
    assert available(sent_payout.merchant) == (0 if outcome == PAID else 100)
    assert services.sent_query() == 0


def test_the_query_sweep_leaves_a_payout_still_processing(sent_payout):
    Payout.objects.filter(pk=sent_payout.pk).update(sent_at=timezone.now() - datetime.timedelta(hours=1))
    assert services.sent_query() == 0
    sent_payout.refresh_from_db()
    assert sent_payout.status == "sent"


# --- batches ---------------------------------------------------------------------------------------

def test_the_batch_pays_out_everything_available_to_merchants_due(shop):
    fund(shop, "100.00")
    verified_account(shop)
    small = factories.MerchantFactory()
    fund(small, "9.99")
    verified_account(small)
    unverified = factories.MerchantFactory()
    fund(unverified, "50.00")
    from payouts.services import payout_account_change

    from .conftest import BANK
    payout_account_change(user=unverified.user, **BANK)
    batch = services.batch_build()
    assert batch is not None and batch.payout_count == 1 and batch.total == 100
    payout = batch.payouts.get()
    assert (payout.merchant_id, payout.amount, payout.status) == (shop.pk, 100, "sent")
    assert available(shop) == 0 and available(small) == Decimal("9.99") and available(unverified) == 50
    # Nothing more is due: no empty batch is kept.
    assert services.batch_build() is None and PayoutBatch.objects.count() == 1


def test_the_beat_schedule_runs_the_batch_weekly():
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["payouts-build-batch"]
    assert entry["task"] == "payouts.build_batch"
    schedule = entry["schedule"]
    assert schedule.day_of_week == {1} and schedule.hour == {3} and schedule.minute == {0}
    assert settings.PAYOUT_MINIMUM == Decimal("10.00")


def test_a_refund_after_payout_goes_negative_and_the_next_release_recovers_it(api_client, shop):
    first = fund(shop, "100.00")
    verified_account(shop)
    payout = services.batch_build().payouts.get()
    callback(api_client, payout)
    refund(first, "30.00")  # a dispute decided after the money was paid out
    assert available(shop) == -30
    assert NegativeBalance.objects.filter(merchant=shop, amount=Decimal("-30.00")).exists()
    second = sold(shop, "50.00")
    assert services.batch_build() is None  # negative: nothing to pay
    settlement_release(merchant_order_id=second.pk)
    assert available(shop) == 20 and not NegativeBalance.objects.filter(merchant=shop).exists()
    payout = services.batch_build().payouts.get()
    assert payout.amount == 20  # the 30 owed was recovered first


def test_admin_retries_a_failed_payout_for_the_returned_amount(api_client, admin_user, sent_payout):
    callback(api_client, sent_payout, paid=False)
    model_admin = site._registry[Payout]
    request = RequestFactory().post("/admin/payouts/payout/")
    request.user = admin_user
    model_admin.message_user = lambda *args, **kwargs: None
    model_admin.retry_failed(request, Payout.objects.all())
    retry = Payout.objects.get(retry_of=sent_payout)
    assert retry.amount == 100 and retry.status == "sent" and available(sent_payout.merchant) == 0
    model_admin.retry_failed(request, Payout.objects.filter(pk=sent_payout.pk))  # once only
    assert Payout.objects.count() == 2


def test_the_admin_pages_show_accounts_masked(client, admin_user, sent_payout):
    client.force_login(admin_user)
    for url in ("/admin/payouts/payout/", f"/admin/payouts/payout/{sent_payout.pk}/change/",
                "/admin/payouts/payoutaccount/", f"/admin/payouts/payoutaccount/{sent_payout.account_id}/change/",
                "/admin/payouts/payoutbatch/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "6228480012345671234" not in response.content.decode(), url
    assert "6228 **** **** 1234" in client.get("/admin/payouts/payoutaccount/").content.decode()


def test_sandbox_payout_result_command_refuses_without_debug(sent_payout):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError):
        call_command("sandbox_payout_result", str(sent_payout.pk), "--paid")


def test_sandbox_payout_result_command_delivers_the_result(sent_payout, settings):
    from django.core.management import call_command

    settings.DEBUG = True
    call_command("sandbox_payout_result", str(sent_payout.pk), "--paid")
    sent_payout.refresh_from_db()
    assert sent_payout.status == "paid"
