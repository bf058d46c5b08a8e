"""Couriers scan and carry, nothing else (issue #12, finding 14).

Couriers were seeded as full operators, so a courier could vet shops and resolve disputes. A
courier is now a role of its own: county A's courier is refused every operator screen of its own
county (vetting, reviews, disputes, the work queue, planning, the fleet) with the same answers as
any other wrong role (403 on a collection, 404 on an object), and changes nothing; it still scans
its county's parcels and departs its county's runs. County A's operator, sent the same requests,
is served: the control that shows each refused request is one an operator may make.
"""

from __future__ import annotations

import pytest

from tests.security.conftest import FIGURES, snapshot, snapshot_diff
from tests.security.world import client_for

pytestmark = pytest.mark.django_db

# (name, method, url(world), body(world), courier's answer, operator's answer)
OPERATOR_SCREENS = [
    ("merchant-review-queue", "get", lambda w: "/api/merchants/review-queue/", None, 403, 200),
    ("merchant-review", "post", lambda w: f"/api/merchants/{w.shop_pending.pk}/review/",
     lambda w: {"decision": "reject", "reason": "营业执照不清晰"}, 404, 200),
    ("credential-review", "post",
     lambda w: f"/api/merchants/{w.a.shop.pk}/credentials/{w.credential_pending.pk}/review/",
     lambda w: {"decision": "approve"}, 404, 200),
    ("product-review-queue", "get", lambda w: "/api/products/review-queue/", None, 403, 200),
    ("product-review", "post", lambda w: f"/api/products/{w.product_pending.pk}/review/",
     lambda w: {"decision": "approve"}, 404, 200),
    ("dispute-resolve", "post", lambda w: f"/api/disputes/{w.dispute_escalated.pk}/resolve/",
     lambda w: {"refund_amount": "1.00", "decision": "部分退款"}, 404, 200),
    ("shipment-queue", "get", lambda w: "/api/logistics/shipments/", None, 403, 200),
    ("dispatch-create", "post", lambda w: "/api/logistics/dispatches/",
     lambda w: {"shipments": [w.shipment_waiting.pk], "vehicle": w.a.vehicle.pk,
                "hub": w.a.hubs["station"].pk}, 403, 201),
    ("dispatch-cancel", "post", lambda w: f"/api/logistics/dispatches/{w.dispatch_planned.pk}/cancel/",
     lambda w: {"reason": "改期"}, 404, 200),
    ("dispatch-suggestions", "get", lambda w: "/api/logistics/dispatches/suggestions/", None, 403, 200),
    ("courier-list", "get", lambda w: "/api/logistics/couriers/", None, 403, 200),
    ("vehicle-list", "get", lambda w: "/api/logistics/vehicles/", None, 403, 200),
    ("operator-create", "post", lambda w: "/api/operators/",
     lambda w: {"username": "new_op", "password": "Str0ng-pass-村播", "county": w.a.county.pk}, 403, 403),
]

# What a courier does: the same for it as for the operator.
SCAN_AND_CARRY = [
    ("shipment-scan", "post", lambda w: f"/api/shipments/{w.shipment.pk}/events/",
     lambda w: {"status": "picked_up"}, 201),
    ("shipment-detail", "get", lambda w: f"/api/shipments/{w.shipment.pk}/", None, 200),
    ("dispatch-list", "get", lambda w: "/api/logistics/dispatches/", None, 200),
    ("dispatch-detail", "get", lambda w: f"/api/logistics/dispatches/{w.dispatch_planned.pk}/", None, 200),
    ("dispatch-depart", "post", lambda w: f"/api/logistics/dispatches/{w.dispatch_planned.pk}/depart/", None, 200),
]


def _send(client, method, url, body):
    return getattr(client, method)(url, body, format="json") if body is not None else getattr(client, method)(url)


@pytest.mark.parametrize("name, method, url, body, courier_status, operator_status", OPERATOR_SCREENS,
                         ids=[row[0] for row in OPERATOR_SCREENS])
def test_a_courier_is_refused_the_operator_screens_of_its_own_county(world, name, method, url, body,
                                                                      courier_status, operator_status):
    assert world.a.courier.role == "courier" and world.a.courier.county_id == world.a.county.pk
    before = snapshot()
    refused = _send(client_for(world.a.courier), method, url(world), body(world) if body else None)
    assert refused.status_code == courier_status, (name, refused.status_code, refused.content[:300])
    assert "error" in refused.json()
    assert snapshot_diff(before, snapshot()) == {}, name
    served = _send(client_for(world.a.operator), method, url(world), body(world) if body else None)
    assert served.status_code == operator_status, (name, served.status_code, served.content[:300])
    FIGURES["couriers"]["refused"] += 1


@pytest.mark.parametrize("name, method, url, body, status", SCAN_AND_CARRY, ids=[row[0] for row in SCAN_AND_CARRY])
def test_a_courier_scans_and_carries_in_its_county(world, name, method, url, body, status):
    response = _send(client_for(world.a.courier), method, url(world), body(world) if body else None)
    assert response.status_code == status, (name, response.status_code, response.content[:300])
    FIGURES["couriers"]["served"] += 1


def test_a_courier_does_not_scan_another_countys_parcel(world):
    response = client_for(world.b.courier).post(f"/api/shipments/{world.shipment.pk}/events/",
                                                {"status": "picked_up"}, format="json")
    assert response.status_code == 404


def test_couriers_seeded_as_operators_take_the_courier_role():
    import importlib

    from django.apps import apps

    from accounts.models import User
    from logistics.models import Courier
    from tests import factories

    as_operator = factories.OperatorFactory(username="old_courier")
    Courier.objects.bulk_create([Courier(user=as_operator, county=as_operator.county)])  # the old shape
    plain_operator = factories.OperatorFactory()
    migration = importlib.import_module("logistics.migrations.0003_couriers_have_their_own_role")
    migration.couriers_to_their_role(apps, None)
    assert User.objects.get(pk=as_operator.pk).role == "courier"
    assert User.objects.get(pk=plain_operator.pk).role == "operator"


def test_seed_demo_makes_couriers_couriers(db):
    from django.core.management import call_command

    from accounts.models import User

    call_command("seed_demo", verbosity=0)
    couriers = User.objects.filter(courier__isnull=False)
    assert couriers.count() >= 2 and set(couriers.values_list("role", flat=True)) == {"courier"}
