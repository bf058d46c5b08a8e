"""What is public on purpose (issue #12, finding 14; docs/security.md, "Hostile input, round two"): the OpenAPI
schema (it describes only what the routes themselves enforce) and the server's name. The app adds
no ``Server`` header of its own, so nothing it sends names a version."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/schema/", "/api/regions/", "/api/auth/token", "/admin/login/", "/nowhere"])
def test_the_app_sends_no_server_or_version_header(api_client, path):
    response = api_client.get(path)
    assert response.status_code < 500
    assert "Server" not in response and "X-Powered-By" not in response


def test_the_schema_is_public_and_names_no_secret(api_client, settings):
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    text = response.content.decode()
    assert settings.SECRET_KEY not in text and settings.PAYMENT_WEBHOOK_SECRET not in text


def test_register_says_a_username_is_taken_and_is_throttled_per_address(api_client, settings):
    from tests.factories import ConsumerFactory

    taken = ConsumerFactory(username="farmer_wang")
    body = {"username": taken.username, "password": "Str0ng-pass-村播", "role": "consumer"}
    response = api_client.post("/api/auth/register", body, format="json", REMOTE_ADDR="10.30.0.1")
    assert response.status_code == 400 and "username" in response.json()["error"]["fields"]
    rate, _period = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["register_ip"].split("/")
    codes = [api_client.post("/api/auth/register", body, format="json", REMOTE_ADDR="10.30.0.1").status_code
             for _ in range(int(rate))]
    assert codes[-1] == 429
