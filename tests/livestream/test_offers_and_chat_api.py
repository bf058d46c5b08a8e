"""Flash offers and chat moderation through the API (the room's side is in test_room.py)."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.models import Product
from livestream import services
from livestream.models import ChatMessage, ChatMute, Offer
from tests.factories import ConsumerFactory, ProductFactory

from .conftest import buy

pytestmark = pytest.mark.django_db


def offer_body(product, **overrides):
    return {"product": product.pk, "price": "9.90", "quantity": 10, "per_buyer_limit": 2, "duration_s": 120,
            **overrides}


def stock(product) -> int:
    return Product.objects.get(pk=product.pk).stock


def test_an_offer_takes_its_units_from_stock_and_returns_the_unsold(client_for, owner, live_stream, product,
                                                                    address, consumer,
                                                                    django_capture_on_commit_callbacks):
    from orders.checkout.gate import gate_left

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(owner).post(f"/api/streams/{live_stream.pk}/offers/", offer_body(product),
                                          format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["quantity"], body["remaining"], body["status"], body["price"]) == (10, 10, "live", "9.90")
    assert stock(product) == 90
    assert body["product"]["stock"] == 90  # the shelf after the offer took its units
    assert gate_left(offer_id=body["id"]) == 10  # the orders app's gate was loaded on commit
    offer = Offer.objects.get(pk=body["id"])
    assert buy(client_for(consumer), address, product, 2, stream=live_stream, offer=offer).status_code == 201
    assert buy(client_for(ConsumerFactory()), address, product, 1, stream=live_stream, offer=offer).status_code == 201
    with django_capture_on_commit_callbacks(execute=True):
        ended = client_for(owner).post(f"/api/streams/{live_stream.pk}/offers/{body['id']}/end/").json()
    assert (ended["status"], ended["end_reason"], ended["remaining"], ended["returned"], ended["sold"]) == \
        ("ended", "cancelled", 0, 7, 3)
    assert stock(product) == 97
    assert gate_left(offer_id=body["id"]) == 0  # closed: late buyers are refused without the database
    assert client_for(owner).post(f"/api/streams/{live_stream.pk}/offers/{body['id']}/end/").status_code == 409


@pytest.mark.parametrize("overrides,field,status", [
    ({"quantity": 101}, "quantity", 409),
    ({"quantity": 0}, "quantity", 400),
    ({"per_buyer_limit": 0}, "per_buyer_limit", 400),
    ({"per_buyer_limit": -1}, "per_buyer_limit", 400),
    ({"duration_s": 5}, "duration_s", 400),
    ({"duration_s": 3601}, "duration_s", 400),
    ({"price": "0.00"}, "price", 400),
    ({"price": "abc"}, "price", 400),
])
def test_bad_offers_are_refused_and_take_nothing(client_for, owner, live_stream, product, overrides, field, status):
    response = client_for(owner).post(f"/api/streams/{live_stream.pk}/offers/", offer_body(product, **overrides),
                                      format="json")
    assert response.status_code == status, response.json()
    assert field in response.json()["error"]["fields"]
    assert not Offer.objects.exists() and stock(product) == 100


def test_offers_and_pins_need_a_live_stream_and_a_product_of_the_stream(client_for, owner, shop, scheduled_stream,
                                                                        live_stream, product):
    client = client_for(owner)
    for url in (f"/api/streams/{scheduled_stream.pk}/offers/", f"/api/streams/{scheduled_stream.pk}/pin/"):
        body = offer_body(product) if url.endswith("offers/") else {"product": product.pk}
        response = client.post(url, body, format="json")
        assert response.status_code == 409 and response.json()["error"]["code"] == "stream_not_live"
    not_in_stream = ProductFactory(merchant=shop)
    response = client.post(f"/api/streams/{live_stream.pk}/offers/", offer_body(not_in_stream), format="json")
    assert response.status_code == 400 and "product" in response.json()["error"]["fields"]
    response = client.post(f"/api/streams/{live_stream.pk}/pin/", {"product": not_in_stream.pk}, format="json")
    assert response.status_code == 400
    assert not Offer.objects.exists()


def test_one_live_offer_per_product(client_for, owner, live_stream, product):
    client = client_for(owner)
    assert client.post(f"/api/streams/{live_stream.pk}/offers/", offer_body(product), format="json").status_code == 201
    response = client.post(f"/api/streams/{live_stream.pk}/offers/", offer_body(product), format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "offer_exists"
    assert stock(product) == 90


def test_an_idempotency_key_launches_one_offer(client_for, owner, live_stream, product):
    client = client_for(owner)
    url = f"/api/streams/{live_stream.pk}/offers/"
    first = client.post(url, offer_body(product), format="json", HTTP_IDEMPOTENCY_KEY="launch-1")
    again = client.post(url, offer_body(product), format="json", HTTP_IDEMPOTENCY_KEY="launch-1")
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert Offer.objects.count() == 1 and stock(product) == 90


def test_expired_offers_cannot_sell_and_are_swept(live_stream, owner, product, client_for, consumer, address):
    from livestream.tasks import offer_expire, sweep

    offer = services.offer_start(stream_id=live_stream.pk, actor=owner, product_id=product.pk,
                                 price=Decimal("9.90"), quantity=5, duration_s=60)
    assert offer_expire(offer.pk) is False  # not due yet
    Offer.objects.filter(pk=offer.pk).update(ends_at=timezone.now() - datetime.timedelta(seconds=1))
    assert buy(client_for(consumer), address, product, 1, stream=live_stream, offer=offer).status_code == 409
    assert sweep()["offers_expired"] == 1
    assert sweep()["offers_expired"] == 0
    assert offer_expire(offer.pk) is False
    offer.refresh_from_db()
    assert (offer.status, offer.end_reason, offer.returned) == ("ended", "expired", 5)
    assert stock(product) == 100


def test_messages_are_listed_newest_first_without_deleted_ones(api_client, live_stream, viewer, owner, client_for,
                                                               django_assert_max_num_queries, settings):
    settings.LIVE_CHAT_RATE_LIMIT = 100
    lines = [services.chat_send(stream_id=live_stream.pk, user=viewer, text=f"line {i}") for i in range(25)]
    services.chat_send(stream_id=live_stream.pk, user=owner, text="主播在此")
    response = client_for(owner).delete(f"/api/streams/{live_stream.pk}/messages/{lines[-1].pk}/")
    assert response.status_code == 204
    with django_assert_max_num_queries(4):
        page = api_client.get(f"/api/streams/{live_stream.pk}/messages/").json()
    assert page["count"] == 25
    assert [m["text"] for m in page["results"][:3]] == ["主播在此", "line 23", "line 22"]
    assert page["results"][0]["user"] == {"id": owner.pk, "name": owner.username, "host": True}
    assert page["next"]


def test_only_the_owner_deletes_and_mutes(client_for, live_stream, viewer, owner):
    line = services.chat_send(stream_id=live_stream.pk, user=viewer, text="hello")
    fan = client_for(viewer)
    assert fan.delete(f"/api/streams/{live_stream.pk}/messages/{line.pk}/").status_code == 404
    assert fan.post(f"/api/streams/{live_stream.pk}/mutes/", {"user": viewer.pk}, format="json").status_code == 404
    host = client_for(owner)
    assert host.post(f"/api/streams/{live_stream.pk}/mutes/", {"user": viewer.pk}, format="json").status_code == 201
    assert host.post(f"/api/streams/{live_stream.pk}/mutes/", {"user": viewer.pk}, format="json").status_code == 201
    assert ChatMute.objects.filter(stream=live_stream).count() == 1
    assert host.post(f"/api/streams/{live_stream.pk}/mutes/", {"user": owner.pk}, format="json").status_code == 400
    assert host.post(f"/api/streams/{live_stream.pk}/mutes/", {"user": 999999}, format="json").status_code == 400
    assert [m["user"] for m in host.get(f"/api/streams/{live_stream.pk}/mutes/").json()["results"]] == [viewer.pk]
    assert host.delete(f"/api/streams/{live_stream.pk}/mutes/{viewer.pk}/").status_code == 204
    assert host.delete(f"/api/streams/{live_stream.pk}/mutes/{viewer.pk}/").status_code == 404
    assert not ChatMessage.objects.get(pk=line.pk).deleted


def test_a_batch_of_lines_gets_one_verdict_each_in_order(live_stream, viewer, owner, settings):
    from django.contrib.auth.models import AnonymousUser

    from livestream.services.chat import ChatLine, ChatRefused, chat_send_many
    from tests.factories import StreamFactory

    settings.LIVE_CHAT_RATE_LIMIT = 2
    muted = ConsumerFactory()
    services.chat_mute(stream_id=live_stream.pk, user_id=muted.pk, actor=owner)
    ended = StreamFactory(merchant=live_stream.merchant, status="ended")
    lines = [
        ChatLine(live_stream.pk, viewer, "one"), ChatLine(live_stream.pk, AnonymousUser(), "anon"),
        ChatLine(live_stream.pk, muted, "hush"), ChatLine(ended.pk, viewer, "late"),
        ChatLine(live_stream.pk, viewer, "two"), ChatLine(live_stream.pk, viewer, "three"),
        ChatLine(live_stream.pk, owner, "host here"), ChatLine(999999, viewer, "nowhere"),
    ]
    results = chat_send_many(lines=lines)
    verdicts = [r.text if isinstance(r, ChatMessage) else r.code for r in results]
    assert verdicts == ["one", "not_authenticated", "muted", "chat_closed", "two", "rate_limited", "host here",
                        "not_found"]
    assert isinstance(results[5], ChatRefused)
    assert list(ChatMessage.objects.order_by("pk").values_list("text", flat=True)) == ["one", "two", "host here"]
