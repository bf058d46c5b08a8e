"""Issue #12, finding 8: malformed input is a 4xx in the envelope, changes nothing, and never a 500
(``core.text``, ``core.parsers``, ``core.input_guard``, ``core.pagination``, ``core.fields``)."""

import json

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext
from rest_framework.test import APIClient

from livestream.models import Offer, Stream
from tests.factories import MerchantFactory, ProductFactory, StreamFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def stream(db):
    shop = MerchantFactory()
    stream = StreamFactory(merchant=shop, status=Stream.Status.LIVE, started_at=timezone.now(), title="原标题")
    stream.products.add(ProductFactory(merchant=shop, stock=100))
    return stream


@pytest.fixture
def owner_client(stream, client_for):
    client = client_for(stream.merchant.user)
    client.raise_request_exception = False
    return client


def _patch_raw(client, stream, raw: str, **headers):
    return client.patch(f"/api/streams/{stream.pk}/", raw, content_type="application/json", **headers)


@pytest.mark.parametrize("title", ["\\u0000", "a\\u0000b", "\\ud800", "x\\udfff", "\\u0007bell", "\\u001b[2J"])
def test_a_control_character_or_lone_surrogate_in_a_json_string_is_refused(owner_client, stream, title):
    response = _patch_raw(owner_client, stream, '{"title": "%s"}' % title)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid_text" and error["message"]
    assert "title" in error["fields"]
    assert Stream.objects.get(pk=stream.pk).title == "原标题"


def test_tab_and_newline_stay_allowed(owner_client, stream):
    response = _patch_raw(owner_client, stream, '{"title": "第一行\\n\\t第二行"}')
    assert response.status_code == 200, response.content
    assert Stream.objects.get(pk=stream.pk).title == "第一行\n\t第二行"


@pytest.mark.parametrize("raw", ['{"title": ' + "[" * 10_000 + "]" * 10_000 + "}", "[" * 100_000,
                                 '{"title": "x", "n": 1' + "0" * 25 + "}", '{"title": NaN}'])
def test_deep_nesting_and_huge_numbers_are_a_400(owner_client, stream, raw):
    response = _patch_raw(owner_client, stream, raw)
    assert response.status_code == 400, response.content[:300]
    assert response.json()["error"]["code"] == "malformed_request"
    assert Stream.objects.get(pk=stream.pk).title == "原标题"


def test_an_integer_beyond_its_column_is_a_400_naming_the_field(owner_client, stream):
    product = stream.products.get()
    body = {"product": product.pk, "price": "9.90", "quantity": 10, "duration_s": 60, "per_buyer_limit": 2**31}
    response = owner_client.post(f"/api/streams/{stream.pk}/offers/", body, format="json")
    assert response.status_code == 400, response.content[:300]
    assert "per_buyer_limit" in response.json()["error"]["fields"]
    assert not Offer.objects.exists()


ADDRESS_MESSAGES = {"path": "The address contains a control character or an invalid character.",
                    "query": "The query string contains a control character or an invalid character."}


@pytest.mark.parametrize("url", ["/api/trace/%00/", "/api/trace/ab%00cd/qr.png", "/api/trace/%ED%A0%80/",
                                 "/api/products/?search=%00", "/api/products/?search=%ED%A0%80",
                                 "/api/products/?ordering=a%00", "/api/streams/?status=%01"])
def test_nul_and_broken_text_in_the_address_are_a_translated_400(url):
    client = APIClient(raise_request_exception=False)
    zh = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
    en = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    msgid = ADDRESS_MESSAGES["query" if "?" in url else "path"]
    for response, language in ((zh, "zh-hans"), (en, "en")):
        assert response.status_code == 400, (url, response.status_code, response.content[:200])
        assert response.json()["error"]["code"] == "malformed_request"
        assert response["Content-Language"] == language  # answered after LocaleMiddleware, in the asked language
        with translation.override(language):
            expected = gettext(msgid)
        assert response.json()["error"]["message"] == expected


@pytest.mark.parametrize("headers", [{"HTTP_ACCEPT_LANGUAGE": "en\x00"}, {"HTTP_X_REQUEST_ID": "a\x00"},
                                     {"HTTP_AUTHORIZATION": "Bearer \x00"}, {"CONTENT_LENGTH": "١٢"}])
def test_a_control_character_in_a_header_or_a_non_ascii_length_is_a_400(headers):
    response = APIClient(raise_request_exception=False).get("/api/products/", **headers)
    assert response.status_code == 400, response.content[:200]
    assert response.json()["error"]["code"] == "malformed_request"


@pytest.mark.parametrize("page", ["١", "１", "²", " 1", "1_0"])
def test_page_numbers_are_ascii_digits_only(page):
    client = APIClient()
    assert client.get("/api/products/", {"page": "1"}).status_code == 200
    response = client.get("/api/products/", {"page": page})
    assert response.status_code == 404, (page, response.content[:200])
    assert response.json()["error"]["code"] == "not_found"


def test_a_non_ascii_page_size_falls_back_to_the_default():
    for _ in range(25):
        ProductFactory()
    client = APIClient()
    assert len(client.get("/api/products/", {"page_size": "5"}).json()["results"]) == 5
    assert len(client.get("/api/products/", {"page_size": "５"}).json()["results"]) == 20


@pytest.mark.parametrize("query", ["q=%00", "q=a%00b", "status=%00", "status__exact=%00", "o=%00"])
def test_a_nul_in_an_admin_filter_is_a_400_not_a_500(admin_user, query):
    client = APIClient(raise_request_exception=False)
    client.force_login(admin_user)
    assert client.get("/admin/livestream/stream/").status_code == 200
    response = client.get(f"/admin/livestream/stream/?{query}")
    assert response.status_code == 400, response.content[:200]
    assert json.loads(response.content)["error"]["code"] == "malformed_request"


def test_brackets_inside_strings_do_not_count_as_nesting(owner_client, stream):
    title = "[" * 40 + '\\"{' * 20
    response = _patch_raw(owner_client, stream, json.dumps({"title": title}))
    assert response.status_code == 200, response.content[:300]
    assert Stream.objects.get(pk=stream.pk).title == title
