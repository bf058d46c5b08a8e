"""Joint distribution: many merchants' parcels on one run, moved together."""

import pytest

from logistics.models import Dispatch, Shipment, ShipmentEvent
from notifications.models import Notification
from tests.factories import MerchantFactory, OperatorFactory, ProductFactory

from .factories import paid_merchant_order

pytestmark = pytest.mark.django_db


def to_centre(net, scan, shipment_id):
    """Scan a parcel from its village point to the county centre of A."""
    assert scan(net.op_a, shipment_id, "picked_up").status_code == 201
    assert scan(net.op_a, shipment_id, "picked_up", hub=net.a.station(net.t1).pk).status_code == 201
    assert scan(net.op_a, shipment_id, "at_county_centre").status_code == 201


@pytest.fixture
def at_centre(net, order_to, ship, scan):
    """Three parcels of two merchants at A's centre, all for township 2; one perishable."""
    other_shop = MerchantFactory(village=net.a.villages[net.t1.pk][1])
    shipments = [ship(order_to())["id"], ship(order_to(perishable=True))["id"]]
    foreign_order = paid_merchant_order(merchant=other_shop, buyer=net.buyer, village=net.a.villages[net.t2.pk][0],
                                        products=[ProductFactory(merchant=other_shop)])
    from rest_framework.test import APIClient

    from tests.conftest import bearer

    client = APIClient()
    client.credentials(**bearer(other_shop.user))
    third = client.post(f"/api/merchant-orders/{foreign_order.pk}/ship/", {"weight_kg": "5"}, format="json")
    assert third.status_code == 201
    shipments.append(third.json()["id"])
    for shipment_id in shipments:
        scan(net.op_a, shipment_id, "picked_up")
        hub = Shipment.objects.get(pk=shipment_id).next_hub_id
        scan(net.op_a, shipment_id, "picked_up", hub=hub)
        scan(net.op_a, shipment_id, "at_county_centre")
    return shipments


def post_dispatch(client_for, user, **body):
    return client_for(user).post("/api/logistics/dispatches/", body, format="json")


def test_a_trunk_run_carries_many_merchants_parcels_and_moves_them_at_once(net, at_centre, client_for):
    created = post_dispatch(client_for, net.op_a, township=net.t2.pk, shipments=at_centre, vehicle=net.van.pk,
                            courier=net.courier.pk)
    assert created.status_code == 201, created.json()
    run = created.json()
    assert run["kind"] == "trunk" and run["status"] == "planned"
    assert run["destination_hub"]["id"] == net.a.station(net.t2).pk
    assert sorted(run["shipments"]) == sorted(at_centre) and run["on_board_count"] == 3
    assert len({Shipment.objects.get(pk=s).merchant_id for s in at_centre}) == 2

    departed = client_for(net.op_a).post(f"/api/logistics/dispatches/{run['id']}/depart/")
    assert departed.status_code == 200 and departed.json()["status"] == "departed"
    assert ShipmentEvent.objects.filter(dispatch_id=run["id"], action="departed").count() == 3
    assert set(Shipment.objects.filter(pk__in=at_centre).values_list("status", flat=True)) == {"at_county_centre"}

    before = Notification.objects.count()
    arrived = client_for(net.op_a).post(f"/api/logistics/dispatches/{run['id']}/arrive/")
    assert arrived.status_code == 200, arrived.json()
    assert arrived.json()["status"] == "arrived" and arrived.json()["on_board_count"] == 0
    for shipment in Shipment.objects.filter(pk__in=at_centre):
        assert shipment.status == "at_township_station" and shipment.current_hub == net.a.station(net.t2)
        assert shipment.current_dispatch is None
    assert ShipmentEvent.objects.filter(dispatch_id=run["id"], action="arrived").count() == 3
    assert Notification.objects.count() - before == 3  # one notice per buyer's parcel


def test_a_delivery_round_puts_every_parcel_out_for_delivery_and_closes_itself(net, at_centre, client_for, scan):
    trunk = post_dispatch(client_for, net.op_a, township=net.t2.pk, shipments=at_centre, vehicle=net.van.pk).json()
    client_for(net.op_a).post(f"/api/logistics/dispatches/{trunk['id']}/depart/")
    client_for(net.op_a).post(f"/api/logistics/dispatches/{trunk['id']}/arrive/")

    round_ = post_dispatch(client_for, net.op_a, township=net.t2.pk, shipments=at_centre, vehicle=net.van.pk,
                           courier=net.courier.pk)
    assert round_.status_code == 201, round_.json()
    run = round_.json()
    assert run["kind"] == "last_mile" and run["destination_hub"]["id"] == net.a.station(net.t2).pk
    assert run["courier"]["id"] == net.courier.pk
    assert client_for(net.op_a).post(f"/api/logistics/dispatches/{run['id']}/depart/").status_code == 200
    assert set(Shipment.objects.filter(pk__in=at_centre).values_list("status", flat=True)) == {"out_for_delivery"}
    notices = Notification.objects.filter(kind="shipment.out_for_delivery").select_related("user")
    assert notices.count() == 3
    for notice in notices:  # the buyer is told the village point to collect at, not the station it leaves
        shipment = Shipment.objects.get(pk=notice.params["shipment"])
        assert notice.params["hub"] == shipment.stops.order_by("-index").first().hub.name
        assert notice.params["hub"] != net.a.station(net.t2).name

    refused = client_for(net.op_a).post(f"/api/logistics/dispatches/{run['id']}/arrive/")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "delivery_round"

    first, second, third = (Shipment.objects.get(pk=pk) for pk in at_centre)
    assert scan(net.courier.user, first.pk, "delivered", pickup_code=first.pickup_code).status_code == 201
    assert scan(net.courier.user, second.pk, "failed", reason="recipient_absent").status_code == 201
    assert Dispatch.objects.get(pk=run["id"]).status == "departed"
    assert scan(net.courier.user, third.pk, "delivered", pickup_code=third.pickup_code).status_code == 201
    assert Dispatch.objects.get(pk=run["id"]).status == "completed"
    # The failed one can go on the next round.
    assert Shipment.objects.get(pk=second.pk).current_dispatch is None
    again = post_dispatch(client_for, net.op_a, township=net.t2.pk, shipments=[second.pk], vehicle=net.van.pk)
    assert again.status_code == 201 and again.json()["kind"] == "last_mile"


def test_cold_chain_parcels_need_a_cold_chain_vehicle(net, order_to, ship, scan, client_for):
    cold = ship(order_to(cold=True))["id"]
    to_centre(net, scan, cold)
    refused = post_dispatch(client_for, net.op_a, township=net.t2.pk, shipments=[cold], vehicle=net.van.pk)
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "cold_chain_required"
    assert refused.json()["error"]["fields"]["shipments"] == [cold]
    assert not Dispatch.objects.exists() and Shipment.objects.get(pk=cold).current_dispatch is None
    ok = post_dispatch(client_for, net.op_a, township=net.t2.pk, shipments=[cold], vehicle=net.cold_van.pk)
    assert ok.status_code == 201


def test_a_run_never_mixes_counties(net, order_to, ship, scan, client_for):
    mine = ship(order_to())["id"]
    to_centre(net, scan, mine)
    far = ship(order_to(net.far))["id"]
    to_centre(net, scan, far)
    scan(net.op_b, far, "at_county_centre", hub=net.b.centre.pk)  # now at B's centre
    refused = post_dispatch(client_for, net.op_a, township=net.t2.pk, shipments=[mine, far], vehicle=net.van.pk)
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "mixed_counties"
    assert refused.json()["error"]["fields"]["shipments"] == [far]
    # B's operator cannot put A's parcels on B's van either: A's own parcel is not even B's to name.
    other = post_dispatch(client_for, net.op_b, township=net.b.townships[0].pk, shipments=[far, mine],
                          vehicle=net.van_b.pk)
    assert other.status_code == 400 and other.json()["error"]["code"] == "unknown_shipments"
    assert other.json()["error"]["fields"]["shipments"] == [mine]
    assert not Dispatch.objects.exists()


def test_a_run_only_takes_parcels_whose_next_stop_it_is(net, order_to, ship, scan, client_for):
    at_centre = ship(order_to())["id"]
    to_centre(net, scan, at_centre)
    waiting = ship(order_to())["id"]
    scan(net.op_a, waiting, "picked_up")
    refused = post_dispatch(client_for, net.op_a, township=net.t2.pk, shipments=[at_centre, waiting],
                            vehicle=net.van.pk)
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "not_on_route"
    assert refused.json()["error"]["fields"]["shipments"] == [waiting]
    by_hub = post_dispatch(client_for, net.op_a, hub=net.a.centre.pk, shipments=[at_centre], vehicle=net.van.pk)
    assert by_hub.status_code == 400 and by_hub.json()["error"]["code"] == "not_on_route"


def test_not_yet_collected_parcels_and_double_booking_answer_409(net, order_to, ship, scan, client_for):
    fresh = ship(order_to())["id"]
    response = post_dispatch(client_for, net.op_a, hub=net.a.station(net.t1).pk, shipments=[fresh],
                             vehicle=net.van.pk)
    assert response.status_code == 409 and response.json()["error"]["code"] == "not_dispatchable"
    scan(net.op_a, fresh, "picked_up")
    first = post_dispatch(client_for, net.op_a, hub=net.a.station(net.t1).pk, shipments=[fresh], vehicle=net.van.pk)
    assert first.status_code == 201, first.json()
    second = post_dispatch(client_for, net.op_a, hub=net.a.station(net.t1).pk, shipments=[fresh],
                           vehicle=net.cold_van.pk)
    assert second.status_code == 409 and second.json()["error"]["code"] == "already_dispatched"
    # While the run is planned, a loose scan is refused; cancelling frees the parcel.
    loose = scan(net.op_a, fresh, "picked_up", hub=net.a.station(net.t1).pk)
    assert loose.status_code == 409 and loose.json()["error"]["code"] == "on_planned_dispatch"
    cancelled = client_for(net.op_a).post(f"/api/logistics/dispatches/{first.json()['id']}/cancel/")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert scan(net.op_a, fresh, "picked_up", hub=net.a.station(net.t1).pk).status_code == 201


def test_bad_run_requests(net, at_centre, client_for):
    client = client_for(net.op_a)
    cases = [
        ({"shipments": at_centre, "vehicle": net.van.pk}, "township"),  # no destination
        ({"township": net.t2.pk, "hub": net.a.centre.pk, "shipments": at_centre, "vehicle": net.van.pk}, "township"),
        ({"township": net.t2.pk, "shipments": [], "vehicle": net.van.pk}, "shipments"),
        ({"township": net.t2.pk, "shipments": at_centre, "vehicle": net.van_b.pk}, "vehicle"),  # B's van
        ({"township": net.t2.pk, "shipments": at_centre, "vehicle": net.van.pk, "courier": 999999}, "courier"),
        ({"township": net.t2.pk, "shipments": [*at_centre, 999999], "vehicle": net.van.pk}, "shipments"),
        ({"township": net.a.region.pk, "shipments": at_centre, "vehicle": net.van.pk}, "township"),  # a county
    ]
    for body, field in cases:
        response = client.post("/api/logistics/dispatches/", body, format="json")
        assert response.status_code == 400, (body, response.json())
        assert field in response.json()["error"]["fields"], (body, response.json())
    heavy = client.post("/api/logistics/dispatches/", {"township": net.t2.pk, "shipments": at_centre,
                                                       "vehicle": net.cold_van.pk}, format="json")
    assert heavy.status_code == 201  # 2.5+2.5+5 kg fits in 300 kg
    Shipment.objects.filter(pk__in=at_centre).update(current_dispatch=None, weight_kg=200)
    too_heavy = client.post("/api/logistics/dispatches/", {"township": net.t2.pk, "shipments": at_centre,
                                                           "vehicle": net.cold_van.pk}, format="json")
    assert too_heavy.status_code == 400 and too_heavy.json()["error"]["code"] == "over_capacity"
    assert Dispatch.objects.count() == 1


def test_runs_of_another_county_are_404(net, at_centre, client_for):
    run = post_dispatch(client_for, net.op_a, township=net.t2.pk, shipments=at_centre, vehicle=net.van.pk).json()
    for verb in ("", "depart/", "arrive/", "cancel/"):
        method = client_for(net.op_b).get if not verb else client_for(net.op_b).post
        assert method(f"/api/logistics/dispatches/{run['id']}/{verb}").status_code == 404
    assert client_for(net.op_b).get("/api/logistics/dispatches/").json()["count"] == 0
    assert client_for(net.buyer).post(f"/api/logistics/dispatches/{run['id']}/depart/").status_code == 404
    assert Dispatch.objects.get(pk=run["id"]).status == "planned"


def test_departing_twice_answers_409(net, at_centre, client_for):
    run = post_dispatch(client_for, net.op_a, township=net.t2.pk, shipments=at_centre, vehicle=net.van.pk).json()
    assert client_for(net.op_a).post(f"/api/logistics/dispatches/{run['id']}/depart/").status_code == 200
    again = client_for(net.op_a).post(f"/api/logistics/dispatches/{run['id']}/depart/")
    assert again.status_code == 409 and again.json()["error"]["code"] == "invalid_transition"
    assert ShipmentEvent.objects.filter(dispatch_id=run["id"], action="departed").count() == 3


def test_an_inter_county_run_is_received_by_the_other_county(net, order_to, ship, scan, client_for):
    far = [ship(order_to(net.far))["id"] for _ in range(2)]
    for shipment_id in far:
        to_centre(net, scan, shipment_id)
    run = post_dispatch(client_for, net.op_a, hub=net.b.centre.pk, shipments=far, vehicle=net.van.pk)
    assert run.status_code == 201 and run.json()["kind"] == "trunk"
    run_id = run.json()["id"]
    client_for(net.op_a).post(f"/api/logistics/dispatches/{run_id}/depart/")
    # A cannot scan it in at B's centre; B can, and sees the run.
    assert client_for(net.op_a).post(f"/api/logistics/dispatches/{run_id}/arrive/").status_code == 400
    assert client_for(net.op_b).get(f"/api/logistics/dispatches/{run_id}/").status_code == 200
    assert client_for(net.op_b).post(f"/api/logistics/dispatches/{run_id}/arrive/").status_code == 200
    assert {(s.status, s.current_hub_id) for s in Shipment.objects.filter(pk__in=far)} == {
        ("at_county_centre", net.b.centre.pk)}
    assert Notification.objects.filter(kind="shipment.in_transit", params__hub=net.b.centre.name).count() == 2


def test_suggestions_group_the_queue_by_next_hub(net, at_centre, order_to, ship, scan, client_for):
    cold = ship(order_to(cold=True))["id"]
    to_centre(net, scan, cold)
    waiting = ship(order_to())["id"]
    scan(net.op_a, waiting, "picked_up")
    groups = client_for(net.op_a).get("/api/logistics/dispatches/suggestions/")
    assert groups.status_code == 200, groups.json()
    body = groups.json()
    by_destination = {(g["kind"], g["hub"]): g for g in body}
    to_t2 = by_destination[("trunk", net.a.station(net.t2).pk)]
    assert sorted(to_t2["shipments"]) == sorted([*at_centre, cold])
    assert to_t2["cold_chain"] == 1 and to_t2["perishable"] == 2 and to_t2["vehicle"] == net.cold_van.pk
    to_t1 = by_destination[("trunk", net.a.station(net.t1).pk)]
    assert to_t1["shipments"] == [waiting] and to_t1["vehicle"] == net.van.pk
    assert body[0] is not None and body[0]["cold_chain"] == 1  # cold chain first
    # A suggestion posts as it is (its unused township is null, its descriptive fields are ignored).
    assert to_t2["township"] is None
    response = client_for(net.op_a).post("/api/logistics/dispatches/", to_t2, format="json")
    assert response.status_code == 201, response.json()
    run = response.json()
    assert run["kind"] == "trunk" and run["shipment_count"] == len(to_t2["shipments"])
    assert run["vehicle"]["id"] == to_t2["vehicle"]
    assert net.a.station(net.t2).pk not in [g["hub"] for g in
                                            client_for(net.op_a).get("/api/logistics/dispatches/suggestions/").json()]


def test_fleet_endpoints(net, client_for):
    client = client_for(net.op_a)
    vans = client.get("/api/logistics/vehicles/").json()
    assert {v["plate"] for v in vans["results"]} == {net.van.plate, net.cold_van.plate}
    created = client.post("/api/logistics/vehicles/", {"plate": "鲁g-c001", "cold_chain": True, "capacity_kg": "800"},
                          format="json")
    assert created.status_code == 201 and created.json()["county"] == net.a.region.pk
    assert created.json()["plate"] == "鲁G-C001"
    dup = client.post("/api/logistics/vehicles/", {"plate": "鲁G-C001", "capacity_kg": "800"}, format="json")
    assert dup.status_code == 409
    colleague = OperatorFactory(county=net.a.region)
    courier = client.post("/api/logistics/couriers/", {"user": colleague.pk, "township": net.t1.pk}, format="json")
    assert courier.status_code == 201 and courier.json()["township"]["id"] == net.t1.pk
    assert client.post("/api/logistics/couriers/", {"user": colleague.pk}, format="json").status_code == 409
    assert client.post("/api/logistics/couriers/", {"user": net.op_b.pk}, format="json").status_code == 400
    assert client.post("/api/logistics/couriers/", {"user": net.buyer.pk}, format="json").status_code == 400
    assert client_for(net.op_b).get("/api/logistics/couriers/").json()["count"] == 0


@pytest.mark.parametrize(("language", "message"), [("zh-hans", "请指定县。"), ("en", "Name the county.")])
def test_an_admin_asking_for_suggestions_without_a_county_is_told_in_their_language(admin_user, client_for,
                                                                                      language, message):
    answer = client_for(admin_user).get("/api/logistics/dispatches/suggestions/", HTTP_ACCEPT_LANGUAGE=language)
    assert answer.status_code == 400
    assert answer.json()["error"]["fields"] == {"county": [message]}
