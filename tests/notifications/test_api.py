"""The in-app list, read marks and SMS preferences."""

import pytest

from notifications.models import Notification
from notifications.services import notify
from tests.factories import ConsumerFactory

pytestmark = pytest.mark.django_db


def test_list_is_mine_newest_first_with_the_unread_count(consumer, client_for, django_assert_max_num_queries):
    other = ConsumerFactory()
    for i in range(25):
        notify(user=consumer, kind="shipment.picked_up", params={"order": i, "shop": "合作社", "hub": "服务点"})
    notify(user=other, kind="shipment.picked_up", params={"order": 99, "shop": "x", "hub": "y"})
    client = client_for(consumer)
    with django_assert_max_num_queries(4):  # user, unread count, count, page
        page = client.get("/api/notifications/")
    body = page.json()
    assert page.status_code == 200 and body["count"] == 25 and body["unread_count"] == 25
    assert len(body["results"]) == 20 and body["next"]
    assert [r["params"]["order"] for r in body["results"][:3]] == [24, 23, 22]
    first = body["results"][0]
    assert first["read"] is False and first["kind"] == "shipment.picked_up" and "合作社" in first["body"]


def test_read_one_and_all(consumer, client_for):
    one, two = (notify(user=consumer, kind="stream.live", params={"shop": "s", "title": "t", "stream": i})
                for i in range(2))
    client = client_for(consumer)
    read = client.post(f"/api/notifications/{one.pk}/read/")
    assert read.status_code == 200 and read.json()["read"] is True and read.json()["read_at"]
    again = client.post(f"/api/notifications/{one.pk}/read/")
    assert again.json()["read_at"] == read.json()["read_at"]  # reading twice changes nothing
    assert client.get("/api/notifications/").json()["unread_count"] == 1
    assert [r["id"] for r in client.get("/api/notifications/?unread=true").json()["results"]] == [two.pk]
    assert [r["id"] for r in client.get("/api/notifications/?unread=false").json()["results"]] == [one.pk]
    everything = client.post("/api/notifications/read-all/")
    assert everything.json() == {"updated": 1, "unread_count": 0}


def test_someone_elses_notification_is_404(consumer, client_for):
    theirs = notify(user=ConsumerFactory(), kind="stream.live", params={"shop": "s", "title": "t"})
    assert client_for(consumer).post(f"/api/notifications/{theirs.pk}/read/").status_code == 404
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    assert client_for(None).get("/api/notifications/").status_code == 401


def test_preferences(consumer, client_for):
    client = client_for(consumer)
    assert client.get("/api/notifications/preferences/").json() == {
        "sms_enabled": True, "quiet_hours_enabled": True, "quiet_start": "22:00", "quiet_end": "08:00"}
    changed = client.patch("/api/notifications/preferences/", {"sms_enabled": False, "quiet_start": "21:30"},
                           format="json")
    assert changed.status_code == 200 and changed.json()["sms_enabled"] is False
    assert changed.json()["quiet_start"] == "21:30"
    bad = client.patch("/api/notifications/preferences/", {"quiet_start": "08:00"}, format="json")
    assert bad.status_code == 400 and "quiet_end" in bad.json()["error"]["fields"]
    for bad_time in ("25:00", "08:00Z", ""):
        response = client.patch("/api/notifications/preferences/", {"quiet_end": bad_time}, format="json")
        assert response.status_code == 400, bad_time


def test_text_is_in_the_readers_language(db):
    english = ConsumerFactory(language="en")
    chinese = ConsumerFactory(language="zh-hans")
    params = {"order": 7, "shop": "寿光合作社", "hub": "三元朱村服务点"}
    en = notify(user=english, kind="shipment.picked_up", params=params)
    zh = notify(user=chinese, kind="shipment.picked_up", params=params)
    assert en.title == "Parcel collected" and "was collected at 三元朱村服务点" in en.body
    assert zh.title == "包裹已揽收" and "三元朱村服务点" in zh.body and "揽收" in zh.body


def test_schema_lists_the_endpoints(api_client):
    spec = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    for path in ["/api/notifications/", "/api/notifications/{id}/read/", "/api/notifications/preferences/",
                 "/api/shipments/{id}/", "/api/shipments/{id}/events/", "/api/merchant-orders/{id}/ship/",
                 "/api/logistics/shipments/", "/api/logistics/dispatches/", "/api/logistics/dispatches/{id}/depart/",
                 "/api/logistics/dispatches/{id}/arrive/", "/api/logistics/dispatches/suggestions/"]:
        assert path in spec["paths"], path
    listing = spec["paths"]["/api/notifications/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    ref = listing["$ref"].rsplit("/", 1)[-1]
    assert "unread_count" in spec["components"]["schemas"][ref]["properties"]
    shipment = spec["components"]["schemas"]["ShipmentOutput"]["properties"]
    assert {"pickup_code", "events", "route", "current_hub", "expected_delivery_at"} <= set(shipment)
