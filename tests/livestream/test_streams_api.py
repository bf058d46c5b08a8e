"""Streams through the API: scheduling, the status machine, who may do what."""

import datetime
from unittest import mock

import pytest
from django.utils import timezone

from catalog.models import Product
from livestream.models import Offer, Stream, StreamEvent
from merchants.models import Merchant
from tests.factories import MerchantFactory, ProductFactory, StreamFactory

from .conftest import soon

pytestmark = pytest.mark.django_db


def test_an_approved_merchant_schedules_a_stream_of_its_own_listed_products(client_for, owner, product, settings):
    settings.STREAM_INGEST_URL = "rtmp://media.example.cn/live"
    settings.STREAM_PLAYBACK_BASE_URL = "https://media.example.cn/hls"
    response = client_for(owner).post("/api/streams/", {"title": "寿光西红柿现摘", "scheduled_at": soon(),
                                                        "products": [product.pk]}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    stream = Stream.objects.get(pk=body["id"])
    assert body["status"] == "scheduled"
    assert body["stream_key"] == stream.stream_key
    assert body["ingest_url"] == "rtmp://media.example.cn/live"
    assert body["playback_url"] == f"https://media.example.cn/hls/{stream.playback_id}.m3u8"
    assert stream.stream_key not in body["playback_url"]
    assert [p["id"] for p in body["products"]] == [product.pk]
    assert StreamEvent.objects.filter(stream=stream, to_status="scheduled").count() == 1


@pytest.mark.parametrize("bad_product", ["foreign", "unlisted", "missing"])
def test_only_own_listed_products(client_for, owner, shop, bad_product):
    product = {
        "foreign": lambda: ProductFactory(),
        "unlisted": lambda: ProductFactory(merchant=shop, status=Product.Status.PENDING_REVIEW),
        "missing": lambda: type("P", (), {"pk": 987654})(),
    }[bad_product]()
    response = client_for(owner).post("/api/streams/", {"title": "t", "scheduled_at": soon(),
                                                        "products": [product.pk]}, format="json")
    assert response.status_code == 400
    assert "products" in response.json()["error"]["fields"]
    assert not Stream.objects.exists()


def test_bad_schedule_input_is_refused_with_fields(client_for, owner, product):
    client = client_for(owner)
    for body, field in [
        ({"title": "t", "scheduled_at": soon(-60), "products": []}, "scheduled_at"),
        ({"title": "t", "scheduled_at": soon(60 * 24 * 100), "products": []}, "scheduled_at"),
        ({"title": "", "scheduled_at": soon(), "products": []}, "title"),
        ({"title": "t", "products": []}, "scheduled_at"),
        ({"title": "t", "scheduled_at": soon(), "products": ["x"]}, "products"),
    ]:
        response = client.post("/api/streams/", body, format="json")
        assert response.status_code == 400, body
        assert field in response.json()["error"]["fields"], response.json()
    assert not Stream.objects.exists()


def test_who_may_schedule(client_for, consumer, api_client):
    body = {"title": "t", "scheduled_at": soon(), "products": []}
    assert api_client.post("/api/streams/", body, format="json").status_code == 401
    assert client_for(consumer).post("/api/streams/", body, format="json").status_code == 403
    for status in (Merchant.Status.SUBMITTED, Merchant.Status.SUSPENDED):
        merchant = MerchantFactory(status=status)
        response = client_for(merchant.user).post("/api/streams/", body, format="json")
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "merchant_not_approved"
    assert not Stream.objects.exists()


def test_the_key_is_for_the_owner_only(client_for, api_client, consumer, scheduled_stream, owner):
    for client in (api_client, client_for(consumer), client_for(MerchantFactory().user)):
        body = client.get(f"/api/streams/{scheduled_stream.pk}/").json()
        assert "stream_key" not in body and "ingest_url" not in body
        assert scheduled_stream.stream_key not in str(body)
        assert body["playback_url"].endswith(f"/{scheduled_stream.playback_id}.m3u8")
    assert client_for(owner).get(f"/api/streams/{scheduled_stream.pk}/").json()["stream_key"] == \
        scheduled_stream.stream_key


def test_lists_by_status_for_anyone(api_client, shop):
    live = StreamFactory(merchant=shop, status="live", started_at=timezone.now())
    scheduled = StreamFactory(merchant=shop)
    ended = StreamFactory(merchant=shop, status="ended")
    StreamFactory(merchant=shop, status="cancelled")
    StreamFactory(merchant=MerchantFactory(status=Merchant.Status.SUSPENDED))
    ids = lambda q: [s["id"] for s in api_client.get(f"/api/streams/{q}").json()["results"]]  # noqa: E731
    assert ids("?status=live") == [live.pk]
    assert ids("?status=scheduled") == [scheduled.pk]
    assert ids("?status=ended") == [ended.pk]
    assert sorted(ids("")) == sorted([live.pk, scheduled.pk, ended.pk])
    assert api_client.get("/api/streams/?status=nonsense").status_code == 400


def test_the_list_costs_a_fixed_number_of_queries(api_client, django_assert_max_num_queries):
    for _ in range(8):
        StreamFactory(status="live", started_at=timezone.now())
    with django_assert_max_num_queries(3):
        assert len(api_client.get("/api/streams/?status=live").json()["results"]) == 8


def test_the_owner_lists_its_own_including_cancelled(client_for, owner, shop):
    cancelled = StreamFactory(merchant=shop, status="cancelled")
    StreamFactory()
    assert [s["id"] for s in client_for(owner).get("/api/streams/?mine=true").json()["results"]] == [cancelled.pk]


def test_start_end_by_hand_with_timestamps_events_and_go_live_alerts(client_for, owner, scheduled_stream,
                                                                      django_capture_on_commit_callbacks):
    client = client_for(owner)
    with mock.patch("notifications.tasks.broadcast.delay") as notify:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"/api/streams/{scheduled_stream.pk}/start/")
    assert response.status_code == 200
    assert response.json()["status"] == "live" and response.json()["started_at"]
    notify.assert_called_once_with("stream.live", str(scheduled_stream.pk))
    response = client.post(f"/api/streams/{scheduled_stream.pk}/end/")
    assert response.json()["status"] == "ended" and response.json()["ended_at"]
    assert list(StreamEvent.objects.filter(stream=scheduled_stream).values_list("from_status", "to_status")) == [
        ("scheduled", "live"), ("live", "ended")]
    assert StreamEvent.objects.filter(stream=scheduled_stream).last().actor == owner


def test_illegal_transitions_answer_409_and_change_nothing(client_for, owner, scheduled_stream):
    client = client_for(owner)
    url = f"/api/streams/{scheduled_stream.pk}"
    assert client.post(f"{url}/end/").status_code == 409
    assert client.post(f"{url}/cancel/").status_code == 200
    for action in ("start", "end", "cancel"):
        response = client.post(f"{url}/{action}/")
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "invalid_transition"
    stream = Stream.objects.get(pk=scheduled_stream.pk)
    assert stream.status == "cancelled" and stream.cancelled_at and stream.started_at is None


def test_a_suspended_shop_cannot_go_live(client_for, owner, shop, scheduled_stream):
    Merchant.objects.filter(pk=shop.pk).update(status=Merchant.Status.SUSPENDED)
    response = client_for(owner).post(f"/api/streams/{scheduled_stream.pk}/start/")
    assert response.status_code == 403
    assert Stream.objects.get(pk=scheduled_stream.pk).status == "scheduled"


def test_foreign_and_unknown_streams_are_404_everywhere(client_for, consumer, scheduled_stream, product):
    stranger = client_for(MerchantFactory().user)
    url = f"/api/streams/{scheduled_stream.pk}"
    for method, path, body in [
        ("post", "start/", None), ("post", "end/", None), ("post", "cancel/", None), ("post", "rotate-key/", None),
        ("post", "pin/", {"product": product.pk}), ("patch", "", {"title": "mine now"}),
        ("post", "offers/", {"product": product.pk, "price": "1.00", "quantity": 1, "duration_s": 60}),
        ("get", "mutes/", None), ("post", "mutes/", {"user": consumer.pk}), ("delete", "messages/1/", None),
        ("post", "offers/1/end/", None),
    ]:
        for client in (stranger, client_for(consumer)):
            response = getattr(client, method)(f"{url}/{path}", body, format="json")
            assert response.status_code == 404, (method, path, response.status_code)
    for path in ("", "messages/", "offers/"):
        assert stranger.get(f"/api/streams/999999/{path}").status_code == 404
    assert Stream.objects.get(pk=scheduled_stream.pk).status == "scheduled"


def test_the_owner_rotates_the_key(client_for, owner, scheduled_stream):
    old = scheduled_stream.stream_key
    response = client_for(owner).post(f"/api/streams/{scheduled_stream.pk}/rotate-key/")
    assert response.status_code == 200
    assert response.json()["stream_key"] != old
    assert Stream.objects.get(pk=scheduled_stream.pk).stream_key == response.json()["stream_key"]


def test_the_owner_reschedules_and_changes_products(client_for, owner, shop, scheduled_stream):
    other = ProductFactory(merchant=shop)
    new_time = timezone.now() + datetime.timedelta(days=2)
    response = client_for(owner).patch(f"/api/streams/{scheduled_stream.pk}/", {
        "title": "新标题", "scheduled_at": new_time.isoformat(), "products": [other.pk]}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["title"] == "新标题"
    assert [p["id"] for p in response.json()["products"]] == [other.pk]


def test_ended_streams_show_their_totals(api_client, client_for, owner, live_stream, product, address):
    from livestream import services
    from tests.factories import ConsumerFactory

    from .conftest import buy

    buyers = [client_for(ConsumerFactory()) for _ in range(4)]
    assert buy(buyers[0], address, product, 3, stream=live_stream, pay=True).status_code == 201
    assert buy(buyers[1], address, product, 1, stream=live_stream, pay=True).status_code == 201
    assert buy(buyers[2], address, product, 9, stream=live_stream).status_code == 201  # never paid
    assert buy(buyers[3], address, product, 5, pay=True).status_code == 201  # not from the stream
    services.chat_send(stream_id=live_stream.pk, user=owner, text="欢迎")
    Stream.objects.filter(pk=live_stream.pk).update(peak_viewers=42)
    assert api_client.get(f"/api/streams/{live_stream.pk}/").json()["totals"] is None
    client_for(owner).post(f"/api/streams/{live_stream.pk}/end/")
    totals = api_client.get(f"/api/streams/{live_stream.pk}/").json()["totals"]
    assert totals == {"peak_viewers": 42, "chat_messages": 1, "orders": 2, "units": 4, "gmv": "50.00"}


def test_the_sweep_stops_streams_of_suspended_shops(shop, live_stream):
    from livestream.tasks import sweep

    scheduled = StreamFactory(merchant=shop)
    assert sweep() == {"offers_expired": 0, "streams_stopped": 0}
    Merchant.objects.filter(pk=shop.pk).update(status=Merchant.Status.SUSPENDED)
    assert sweep()["streams_stopped"] == 2
    assert Stream.objects.get(pk=live_stream.pk).status == "ended"
    assert Stream.objects.get(pk=scheduled.pk).status == "cancelled"


def test_suspending_a_shop_ends_its_streams_when_the_decision_commits(client_for, admin_user, owner, shop, product,
                                                                      live_stream, django_capture_on_commit_callbacks):
    scheduled = StreamFactory(merchant=shop)
    with django_capture_on_commit_callbacks(execute=True):
        offer = client_for(owner).post(f"/api/streams/{live_stream.pk}/offers/", {
            "product": product.pk, "price": "9.90", "quantity": 10, "duration_s": 120}, format="json").json()
    assert Product.objects.get(pk=product.pk).stock == 90
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client_for(admin_user).post(f"/api/merchants/{shop.pk}/review/",
                                               {"decision": "suspend", "reason": "投诉核查"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "suspended"
    assert callbacks  # stopping waits for the suspension to commit
    assert Stream.objects.get(pk=live_stream.pk).status == "ended"
    assert Stream.objects.get(pk=scheduled.pk).status == "cancelled"
    assert StreamEvent.objects.filter(stream=live_stream, to_status="ended", reason="merchant_suspended").exists()
    assert Product.objects.get(pk=product.pk).stock == 100  # the live offer ended and gave its units back
    assert Offer.objects.get(pk=offer["id"]).status == "ended"


def test_a_refused_suspension_leaves_the_streams_alone(client_for, admin_user, shop, live_stream):
    response = client_for(admin_user).post(f"/api/merchants/{shop.pk}/review/", {"decision": "suspend"},
                                           format="json")
    assert response.status_code == 400  # no reason given
    assert Stream.objects.get(pk=live_stream.pk).status == "live"


def test_seed_demo_adds_a_scheduled_stream_per_demo_shop_once_and_none_to_other_shops(shop, product):
    from django.core.management import call_command

    from merchants.demo import SHOPS

    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert not Stream.objects.filter(merchant=shop).exists()  # someone's own shop is left alone
    demo = Stream.objects.filter(merchant__user__username__in=[s["username"] for s in SHOPS])
    per_shop = {}
    for stream in demo:
        per_shop[stream.merchant_id] = per_shop.get(stream.merchant_id, 0) + 1
        assert stream.status == "scheduled" and stream.products.exists()
    assert per_shop and set(per_shop.values()) == {1}
