"""core.transitions: every status column has one workflow, and a move is checked, recorded and stamped."""

import pytest
from django.apps import apps
from django.utils import timezone

import catalog.services.status  # noqa: F401 - the workflows live in each app's status module
import livestream.status  # noqa: F401
import logistics.status  # noqa: F401
import merchants.status  # noqa: F401
import orders.status  # noqa: F401
import payments.status  # noqa: F401
from core.errors import InvalidTransition
from core.transitions import workflows
from orders.models import Order
from payments.models import Payment
from payments.status import PAYMENT_WORKFLOW
from tests.factories import ConsumerFactory, VillageFactory

WITHOUT_WORKFLOW = {
    # Its statuses are a delivery queue's, moved by conditional UPDATEs of the outbox.
    "notifications.Delivery",
}


def _status_models():
    for model in apps.get_models():
        field = next((f for f in model._meta.concrete_fields if f.name == "status"), None)
        if field is not None and field.choices and model._meta.app_label not in {"auth", "admin"}:
            yield model


def test_every_status_column_has_one_workflow_covering_its_choices():
    declared = workflows()
    missing = sorted(m._meta.label for m in _status_models() if m not in declared)
    assert [label for label in missing if label not in WITHOUT_WORKFLOW] == []
    for model, workflow in declared.items():
        choices = {value for value, _label in model._meta.get_field(workflow.field).choices}
        assert set(workflow.table) == choices, model  # every status has a row, terminal ones an empty one


@pytest.mark.django_db
def test_a_move_is_checked_recorded_and_stamped():
    order = Order.objects.create(buyer=ConsumerFactory(), village=VillageFactory(), address_detail="村口",
                                 recipient="张三", recipient_phone="13800138000", items_total="10.00",
                                 delivery_total="0.00", total="10.00", payment_deadline=timezone.now())
    payment = Payment.objects.create(order=order, provider="sandbox", amount="10.00")
    PAYMENT_WORKFLOW.transition(payment, Payment.Status.SUCCEEDED, reason="notice evt_1")
    payment.refresh_from_db()
    assert payment.status == "succeeded" and payment.succeeded_at is not None
    assert list(payment.status_events.values_list("from_status", "to_status", "reason")) == [
        ("pending", "succeeded", "notice evt_1")]
    with pytest.raises(InvalidTransition):
        PAYMENT_WORKFLOW.transition(payment, Payment.Status.FAILED)
    assert payment.status_events.count() == 1
    assert PAYMENT_WORKFLOW.sources(Payment.Status.FLAGGED) == ["failed", "pending"]
