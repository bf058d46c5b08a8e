"""The public pages, through Django's test client: home with Chinese search, the product page and the
trace page the QR opens; sign-in with a session and CSRF; 404 pages that leak nothing."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from catalog.models import Product
from merchants.models import Follow
from tests.factories import PASSWORD, ConsumerFactory, ProductFactory

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_home_shows_live_upcoming_and_produce(catalogue):
    response = Client().get("/")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    page = text(response)
    assert '<html lang="zh-hans">' in page and "正在直播" in page
    assert "西红柿采摘直播" in page and "明早挖红薯" in page and "寿光有机西红柿" in page
    assert f'href="/live/{catalogue["live"].pk}/"' in page
    assert "/static/pages/vendor/htmx.min.js" in page  # served by the app, never a CDN
    assert "cdn" not in page.lower()


def test_home_speaks_english_by_accept_language_and_by_the_switch(catalogue):
    assert "Live now" in text(Client().get("/", HTTP_ACCEPT_LANGUAGE="en"))
    client = Client()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert "Live now" in text(client.get("/"))


@pytest.mark.parametrize("term, found, absent", [("西红柿", "寿光有机西红柿", "山里土蜂蜜"),
                                                 ("蜂蜜", "山里土蜂蜜", "寿光有机西红柿")])
def test_chinese_search_and_its_htmx_partial(catalogue, term, found, absent):
    page = text(Client().get("/", {"q": term}))
    assert found in page and absent not in page
    partial = Client().get("/", {"q": term}, HTTP_HX_REQUEST="true")
    body = text(partial)
    assert body.startswith('<div id="products"') and found in body and "<html" not in body


def test_product_page_shows_claims_with_their_proof_and_the_trace_page(catalogue):
    tomato, batch, cert = catalogue["tomato"], catalogue["batch"], catalogue["cert"]
    page = text(Client().get(f"/products/{tomato.pk}/"))
    assert "寿光有机西红柿" in page and "¥12.50 / 斤" in page
    assert f'href="#credential-{cert.pk}"' in page and f'id="credential-{cert.pk}"' in page
    assert "124OP2600123" not in page and "124O****0123" in page  # masked as in the API
    assert f'href="/t/{batch.trace_code}/"' in page


def test_trace_page_in_plain_words(catalogue):
    batch, shop = catalogue["batch"], catalogue["tomato"].merchant
    response = Client().get(f"/t/{batch.trace_code.lower()}/")
    assert response.status_code == 200
    page = text(response)
    assert batch.trace_code in page and shop.shop_name in page and "三元朱村3号大棚" in page
    assert "潍坊市农产品质量检测中心" in page and "合格" in page


def test_unknown_trace_code_and_hidden_product_are_html_404_pages(catalogue, shop):
    hidden = ProductFactory(merchant=shop, status=Product.Status.PENDING_REVIEW, title="待审核的梨")
    for url in ("/t/NOSUCHCODE/", f"/products/{hidden.pk}/", "/products/999999/"):
        response = Client().get(url)
        assert response.status_code == 404 and response["Content-Type"].startswith("text/html"), url
        assert "待审核的梨" not in text(response)
    owner = Client()
    owner.force_login(shop.user)
    assert owner.get(f"/products/{hidden.pk}/").status_code == 200  # the owner sees its own


def test_the_json_api_trace_is_unchanged(catalogue):
    code = catalogue["batch"].trace_code
    assert Client().get(f"/api/trace/{code}/").json()["trace_code"] == code


def test_sign_in_with_a_session_keeps_what_was_typed_on_a_wrong_password(catalogue):
    buyer = ConsumerFactory(username="buyer-li")
    client = Client()
    wrong = client.post("/sign-in/", {"username": "buyer-li", "password": "nope"})
    assert wrong.status_code == 200
    assert 'value="buyer-li"' in text(wrong) and 'class="error"' in text(wrong)
    right = client.post("/sign-in/", {"username": buyer.username, "password": PASSWORD, "next": "/"})
    assert right.status_code == 302 and right["Location"] == "/"
    assert "buyer-li" in text(client.get("/"))
    # The session does not open the API: it keeps its bearer tokens.
    assert client.get("/api/orders/").status_code == 401


def test_follow_needs_the_csrf_token_and_goes_through_the_follow_service(catalogue):
    tomato = catalogue["tomato"]
    buyer = ConsumerFactory()
    client = Client(enforce_csrf_checks=True)
    client.force_login(buyer)
    assert client.post(f"/products/{tomato.pk}/follow/", {"following": "1"}).status_code == 403
    assert not Follow.objects.exists()
    client.get(f"/products/{tomato.pk}/")
    token = client.cookies["csrftoken"].value
    response = client.post(f"/products/{tomato.pk}/follow/", {"following": "1"}, HTTP_X_CSRFTOKEN=token,
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "已关注" in text(response)
    assert Follow.objects.filter(user=buyer, merchant=tomato.merchant).count() == 1
    assert tomato.merchant.shop_name in text(client.get("/"))  # among the followed shops


def test_a_shop_owner_cannot_follow_and_sees_the_refusal_in_its_language(catalogue, shop):
    client = Client()
    client.force_login(shop.user)
    response = client.post(f"/products/{catalogue['tomato'].pk}/follow/", {"following": "1"},
                           HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403 and "Only consumers follow shops." in text(response)
    assert not Follow.objects.exists()
