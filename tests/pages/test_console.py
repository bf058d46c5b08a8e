"""The farmer's console (/console/): the key shown only to the owner, go live by hand, pin, launch and
end a flash offer through the live room's services; a refusal shown next to the field with what was
typed kept and nothing changed; another shop's stream is a 404 page."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from livestream.models import Offer, Stream
from tests.factories import ConsumerFactory, MerchantFactory, ProductFactory, StreamFactory

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.fixture
def owner(shop):
    client = Client()
    client.force_login(shop.user)
    return client


@pytest.fixture
def stream(shop):
    stream = StreamFactory(merchant=shop, title="苹果园直播")
    stream.products.add(ProductFactory(merchant=shop, title="红富士苹果", stock=50))
    return stream


def test_the_owner_sees_the_key_goes_live_pins_and_runs_an_offer(owner, stream):
    product = stream.products.get()
    page = text(owner.get("/console/"))
    assert "苹果园直播" in page
    page = text(owner.get(f"/console/streams/{stream.pk}/"))
    assert stream.stream_key in page and "rtmp://" in page
    assert owner.post(f"/console/streams/{stream.pk}/start/").status_code == 302
    stream.refresh_from_db()
    assert stream.status == Stream.Status.LIVE
    assert owner.post(f"/console/streams/{stream.pk}/pin/", {"product": product.pk}).status_code == 302
    assert Stream.objects.get(pk=stream.pk).pinned_product_id == product.pk
    launched = owner.post(f"/console/streams/{stream.pk}/offers/",
                          {"product": product.pk, "price": "8.80", "quantity": "10", "duration_s": "300"})
    assert launched.status_code == 302
    offer = Offer.objects.get(stream=stream)
    assert offer.remaining == 10 and offer.status == Offer.Status.LIVE
    assert owner.post(f"/console/streams/{stream.pk}/offers/{offer.pk}/end/").status_code == 302
    assert Offer.objects.get(pk=offer.pk).status != Offer.Status.LIVE
    old_key = stream.stream_key
    owner.post(f"/console/streams/{stream.pk}/rotate-key/")
    assert Stream.objects.get(pk=stream.pk).stream_key != old_key


def test_an_offer_beyond_the_stock_is_refused_next_to_the_form_keeping_what_was_typed(owner, stream):
    product = stream.products.get()
    owner.post(f"/console/streams/{stream.pk}/start/")
    response = owner.post(f"/console/streams/{stream.pk}/offers/",
                          {"product": product.pk, "price": "8.80", "quantity": "999", "duration_s": "300"},
                          HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code in (400, 409)
    page = text(response)
    assert 'class="error"' in page and 'value="999"' in page and 'value="8.80"' in page
    assert not Offer.objects.exists()
    bad = owner.post(f"/console/streams/{stream.pk}/offers/", {"product": product.pk, "price": "-1",
                                                                "quantity": "x", "duration_s": "300"})
    assert bad.status_code == 400 and text(bad).count('class="error"') >= 2 and not Offer.objects.exists()


def test_another_shop_or_a_buyer_gets_a_404_page_and_no_key(stream):
    for user in (MerchantFactory().user, ConsumerFactory()):
        client = Client()
        client.force_login(user)
        response = client.get(f"/console/streams/{stream.pk}/")
        assert response.status_code == 404 and stream.stream_key not in response.content.decode()
        assert client.post(f"/console/streams/{stream.pk}/start/").status_code == 404
    assert Stream.objects.get(pk=stream.pk).status == Stream.Status.SCHEDULED
    assert Client().get("/console/").status_code == 302  # signed out: to the sign-in page
