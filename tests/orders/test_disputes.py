"""Disputes: merchant answers, county escalation with a moved clock, refunds never above what was paid."""

from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from notifications.models import Notification
from orders.models import Dispute, MerchantOrder
from orders.services import disputes_escalate_due, merchant_order_refund
from orders.services.errors import RefundExceedsPaid
from payments.models import Refund
from tests import factories
from tests.orders.conftest import run_parallel


def _open(client, mo, **overrides):
    body = {"reason": "damaged", "requested_refund": "10.00", "text": "压坏了", **overrides}
    return client.post(f"/api/merchant-orders/{mo.pk}/disputes/", body, format="json")


def _png():
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, "PNG")
    return SimpleUploadedFile("photo.png", buffer.getvalue(), content_type="image/png")


@pytest.mark.django_db
def test_open_with_photos_and_rules(client_for, consumer, paid_order, shop):
    mo = paid_order.merchant_orders.get()
    client = client_for(consumer)
    assert _open(client, mo, requested_refund="28.01").status_code == 400
    assert _open(client, mo, reason="bored").status_code == 400
    assert _open(client_for(factories.ConsumerFactory()), mo).status_code == 404
    response = client.post(f"/api/merchant-orders/{mo.pk}/disputes/",
                           {"reason": "damaged", "requested_refund": "10.00", "text": "压坏了", "photos": [_png()]},
                           format="multipart")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["status"] == "open" and len(data["photos"]) == 1 and data["events"][0]["to_status"] == "open"
    assert _open(client, mo).status_code == 409  # one active dispute per merchant order
    assert Notification.objects.filter(user=shop.user, kind="dispute.opened").exists()


@pytest.mark.django_db
def test_cannot_dispute_an_unpaid_order(client_for, consumer, product, address):
    from tests.orders.conftest import checkout_body

    client = client_for(consumer)
    order = client.post("/api/orders/", checkout_body(address, {"product": product.pk, "quantity": 1}),
                        format="json").json()
    mo = MerchantOrder.objects.get(pk=order["merchant_orders"][0]["id"])
    assert _open(client, mo).status_code == 409


@pytest.mark.django_db(transaction=True)
def test_merchant_accepts_and_the_refund_goes_out(client_for, consumer, paid_order, shop):
    mo = paid_order.merchant_orders.get()
    dispute_id = _open(client_for(consumer), mo).json()["id"]
    assert client_for(factories.MerchantFactory().user).post(f"/api/disputes/{dispute_id}/respond/",
                                                             {"accept": True}, format="json").status_code == 404
    response = client_for(shop.user).post(f"/api/disputes/{dispute_id}/respond/", {"accept": True, "text": "抱歉"},
                                          format="json")
    assert response.status_code == 200 and response.json()["status"] == "accepted"
    assert response.json()["refund_amount"] == "10.00"
    mo.refresh_from_db()
    assert mo.refunded_amount == Decimal("10.00") and mo.status == "paid"
    assert Refund.objects.get(dispute_id=dispute_id).status == "succeeded"
    assert Notification.objects.filter(user=consumer, kind="dispute.accepted").exists()
    again = client_for(shop.user).post(f"/api/disputes/{dispute_id}/respond/", {"accept": False}, format="json")
    assert again.status_code == 409


@pytest.mark.django_db
def test_unanswered_dispute_escalates_to_the_county_after_the_deadline(client_for, consumer, paid_order, shop):
    county_operator = factories.OperatorFactory(county=shop.county)
    other_operator = factories.OperatorFactory()
    mo = paid_order.merchant_orders.get()
    dispute_id = _open(client_for(consumer), mo, requested_refund="28.00").json()["id"]
    assert disputes_escalate_due() == 0
    early = client_for(county_operator).post(f"/api/disputes/{dispute_id}/resolve/",
                                             {"refund_amount": "5.00", "decision": "x"}, format="json")
    assert early.status_code == 409
    with time_machine.travel(timezone.now() + timezone.timedelta(hours=48, minutes=1)):
        late_answer = client_for(shop.user).post(f"/api/disputes/{dispute_id}/respond/", {"accept": True},
                                                 format="json")
        assert late_answer.status_code == 409
        assert disputes_escalate_due() == 1
        assert disputes_escalate_due() == 0
    dispute = Dispute.objects.get(pk=dispute_id)
    assert dispute.status == "escalated" and dispute.escalated_at
    assert Notification.objects.filter(user=county_operator, kind="dispute.escalated.operator").exists()
    assert not Notification.objects.filter(user=other_operator).exists()
    assert client_for(county_operator).get("/api/disputes/").json()["count"] == 1
    assert client_for(other_operator).get("/api/disputes/").json()["count"] == 0
    assert client_for(other_operator).post(f"/api/disputes/{dispute_id}/resolve/",
                                           {"refund_amount": "5.00", "decision": "x"}, format="json").status_code == 404
    too_much = client_for(county_operator).post(f"/api/disputes/{dispute_id}/resolve/",
                                                {"refund_amount": "28.01", "decision": "全退"}, format="json")
    assert too_much.status_code == 400 and Dispute.objects.get(pk=dispute_id).status == "escalated"
    response = client_for(county_operator).post(f"/api/disputes/{dispute_id}/resolve/",
                                                {"refund_amount": "28.00", "decision": "全额退款"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "resolved"
    assert sorted(e["to_status"] for e in response.json()["events"]) == ["escalated", "open", "resolved"]
    mo.refresh_from_db()
    assert mo.status == "refunded" and mo.refunded_amount == mo.total
    assert Notification.objects.filter(user=consumer, kind="dispute.resolved").exists()


@pytest.mark.django_db
def test_a_contested_dispute_goes_to_the_county_at_once(client_for, consumer, paid_order, shop):
    county_operator = factories.OperatorFactory(county=shop.county)
    dispute_id = _open(client_for(consumer), paid_order.merchant_orders.get()).json()["id"]
    response = client_for(shop.user).post(f"/api/disputes/{dispute_id}/respond/", {"accept": False, "text": "没坏"},
                                          format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "escalated"  # no sweep needed
    dispute = Dispute.objects.get(pk=dispute_id)
    assert list(dispute.events.values_list("to_status", flat=True)) == ["open", "contested", "escalated"]
    assert dispute.escalated_at is not None
    assert Notification.objects.filter(user=county_operator, kind="dispute.escalated.operator").exists()
    assert disputes_escalate_due() == 0


@pytest.mark.django_db
def test_the_county_cannot_resolve_a_dispute_the_shop_may_still_answer_and_is_told_why(client_for, consumer,
                                                                                       paid_order, shop):
    operator = factories.OperatorFactory(county=shop.county)
    dispute_id = _open(client_for(consumer), paid_order.merchant_orders.get()).json()["id"]
    response = client_for(operator).post(f"/api/disputes/{dispute_id}/resolve/",
                                         {"refund_amount": "1.00", "decision": "退"}, format="json")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "dispute_not_escalated" and error["fields"] == {"status": ["open"]}
    dispute = Dispute.objects.get(pk=dispute_id)
    assert dispute.status == "open" and dispute.refund_amount in (None, Decimal("0"), Decimal("0.00"))


@pytest.mark.django_db
def test_dispute_lists_are_scoped(client_for, consumer, paid_order, shop):
    _open(client_for(consumer), paid_order.merchant_orders.get())
    assert client_for(consumer).get("/api/disputes/").json()["count"] == 1
    assert client_for(shop.user).get("/api/disputes/").json()["count"] == 1
    assert client_for(factories.ConsumerFactory()).get("/api/disputes/").json()["count"] == 0
    assert client_for(factories.MerchantFactory().user).get("/api/disputes/").json()["count"] == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_parallel_refunds_never_exceed_what_was_paid(paid_order):
    mo = paid_order.merchant_orders.get()  # total 28.00

    def refund():
        try:
            merchant_order_refund(merchant_order=MerchantOrder.objects.select_related("order__buyer").get(pk=mo.pk),
                                  amount=Decimal("10.00"), reason="test")
            return "ok"
        except RefundExceedsPaid:
            return "refused"

    results = run_parallel([refund] * 10, workers=10)
    assert results.count("ok") == 2 and results.count("refused") == 8
    mo.refresh_from_db()
    assert mo.refunded_amount == Decimal("20.00")
    assert sum(r.amount for r in Refund.objects.filter(merchant_order=mo)) == Decimal("20.00")


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_parallel_resolve_and_cancel_refund_at_most_what_was_paid(client_for, consumer, paid_order, shop):
    operator = factories.OperatorFactory(county=shop.county)
    mo = paid_order.merchant_orders.get()
    dispute_id = _open(client_for(consumer), mo, requested_refund="28.00").json()["id"]
    client_for(shop.user).post(f"/api/disputes/{dispute_id}/respond/", {"accept": False}, format="json")

    resolve = lambda: client_for(operator).post(  # noqa: E731
        f"/api/disputes/{dispute_id}/resolve/", {"refund_amount": "28.00", "decision": "退"}, format="json").status_code
    cancel = lambda: client_for(consumer).post(f"/api/orders/{paid_order.pk}/cancel/").status_code  # noqa: E731
    codes = run_parallel([resolve, cancel], workers=2)
    assert 200 in codes
    mo.refresh_from_db()
    assert mo.refunded_amount == Decimal("28.00") == mo.total
    assert sum(r.amount for r in Refund.objects.filter(merchant_order=mo)) == Decimal("28.00")
