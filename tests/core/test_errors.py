import pytest

pytestmark = pytest.mark.django_db


def assert_envelope(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


def test_400_with_fields(api_client):
    error = assert_envelope(api_client.post("/api/auth/register", {}, format="json"), 400, "invalid")
    assert {"username", "password", "role"} <= set(error["fields"])


def test_401(api_client):
    assert_envelope(api_client.get("/api/me"), 401, "not_authenticated")


def test_403(client_for, consumer):
    assert_envelope(client_for(consumer).post("/api/operators/", {}, format="json"), 403, "permission_denied")


def test_404_for_unknown_api_path(api_client):
    assert_envelope(api_client.get("/api/no-such-thing/"), 404, "not_found")


def test_405(api_client):
    assert_envelope(api_client.delete("/api/regions/"), 405, "method_not_allowed")


def test_415(api_client):
    response = api_client.generic("POST", "/api/auth/register", "<xml/>", content_type="application/xml")
    assert_envelope(response, 415, "unsupported_media_type")


def test_malformed_json(api_client):
    response = api_client.generic("POST", "/api/auth/register", '{"username": ', content_type="application/json")
    assert_envelope(response, 400, "malformed_request")


def test_error_messages_follow_accept_language(api_client):
    en = api_client.get("/api/me", HTTP_ACCEPT_LANGUAGE="en").json()["error"]["message"]
    zh = api_client.get("/api/me", HTTP_ACCEPT_LANGUAGE="zh-hans").json()["error"]["message"]
    assert en == "Authentication credentials were not provided."
    assert zh != en and "身份" in zh


def test_bad_query_parameter_is_400(api_client):
    assert_envelope(api_client.get("/api/regions/?level=planet"), 400, "invalid")


def test_oversized_body_is_413_before_it_is_read(api_client, settings):
    settings.MAX_REQUEST_BYTES = 1000
    response = api_client.post("/api/auth/register", {"username": "x" * 2000, "password": "p", "role": "consumer"},
                               format="json")
    assert_envelope(response, 413, "request_too_large")
    assert api_client.post("/api/auth/register", {}, format="json").status_code == 400


@pytest.mark.parametrize("language, message", [("en", "Some fields are invalid."), ("zh-hans", "部分字段无效。")])
def test_our_own_messages_are_translated(api_client, language, message):
    response = api_client.post("/api/auth/register", {}, format="json", HTTP_ACCEPT_LANGUAGE=language)
    assert response.json()["error"]["message"] == message
