"""The live room page (/live/{id}/) as served: the room's state for the script, a socket token only
for the signed-in, the ended state with its totals, and 404 pages for what is not visible."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from django.utils import timezone

from livestream.models import Stream
from merchants.models import Merchant
from tests.factories import ConsumerFactory, OfferFactory, StreamFactory

pytestmark = pytest.mark.django_db


def room_of(response) -> dict:
    return json.loads(re.search(r'<script id="room" type="application/json">(.*?)</script>',
                                response.content.decode(), re.S).group(1))


def test_a_live_room_for_anyone_has_the_player_the_offer_and_no_token(catalogue):
    stream = catalogue["live"]
    offer = OfferFactory(stream=stream, product=catalogue["tomato"], quantity=5)
    response = Client().get(f"/live/{stream.pk}/")
    assert response.status_code == 200
    room = room_of(response)
    assert room["playback"].endswith(f"/{stream.playback_id}.m3u8") and stream.stream_key not in response.content.decode()
    assert room["socket"] == f"/ws/streams/{stream.pk}/" and room["token"] is None and room["buyer"] is False
    assert [(o["offer"], o["remaining"], o["price"]) for o in room["offers"]] == [(offer.pk, 5, "9.90")]
    assert "/static/pages/vendor/hls.min.js" in response.content.decode()


def test_a_signed_in_buyer_gets_a_token_and_the_villages_of_the_county(catalogue, village):
    buyer = ConsumerFactory()
    client = Client()
    client.force_login(buyer)
    response = client.get(f"/live/{catalogue['live'].pk}/")
    room = room_of(response)
    assert room["buyer"] is True and room["token"]
    api = Client().get("/api/notifications/", HTTP_AUTHORIZATION=f"Bearer {room['token']}")
    assert api.status_code == 200  # the same user's access token, as the API's own
    assert f'<option value="{village.pk}">' in response.content.decode()


def test_an_ended_stream_shows_its_totals_and_no_player(catalogue):
    stream = catalogue["live"]
    Stream.objects.filter(pk=stream.pk).update(status=Stream.Status.ENDED, ended_at=timezone.now(), peak_viewers=7)
    page = re.sub(r"\s+", " ", Client().get(f"/live/{stream.pk}/").content.decode())
    assert "直播已结束" in page and "最高观看 7" in page
    assert '<div id="player-box" hidden>' in page


def test_a_stream_of_a_shop_not_approved_is_a_404_page(shop):
    Merchant.objects.filter(pk=shop.pk).update(status=Merchant.Status.SUSPENDED)
    stream = StreamFactory(merchant=shop, status=Stream.Status.LIVE)
    for url in (f"/live/{stream.pk}/", "/live/999999/"):
        response = Client().get(url)
        assert response.status_code == 404 and response["Content-Type"].startswith("text/html")
