import pytest

from accounts.models import User
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def register(client, **overrides):
    body = {"username": "farmer_li", "password": PASSWORD, "role": "merchant", "phone": "13812345678"} | overrides
    return client.post("/api/auth/register", body, format="json")


@pytest.mark.parametrize("role", ["consumer", "merchant"])
def test_register_token_refresh_me(api_client, role):
    response = register(api_client, role=role)
    assert response.status_code == 201, response.json()
    assert response.json()["role"] == role
    assert "password" not in response.json()

    tokens = api_client.post("/api/auth/token", {"username": "farmer_li", "password": PASSWORD}, format="json").json()
    assert set(tokens) == {"access", "refresh"}

    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    me = api_client.get("/api/me").json()
    assert me["username"] == "farmer_li"
    assert me["role"] == role
    assert me["county"] is None
    assert me["shop"] is None

    refreshed = api_client.post("/api/auth/token/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert refreshed.status_code == 200
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {refreshed.json()['access']}")
    assert api_client.get("/api/me").status_code == 200


@pytest.mark.parametrize("role", ["operator", "admin", "superuser"])
def test_nobody_registers_as_staff(api_client, role):
    response = register(api_client, role=role)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert "role" in response.json()["error"]["fields"]
    assert not User.objects.exists()


def test_me_for_operator_shows_county(client_for, operator):
    me = client_for(operator).get("/api/me").json()
    assert me["role"] == "operator"
    assert me["county"]["id"] == operator.county_id


def test_me_requires_a_token(api_client):
    response = api_client.get("/api/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_bad_token_is_401(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-jwt")
    response = api_client.get("/api/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] in {"authentication_failed", "token_not_valid"}


def test_duplicate_username_and_bad_phone(api_client):
    assert register(api_client).status_code == 201
    again = register(api_client)
    assert again.status_code == 400
    assert "username" in again.json()["error"]["fields"]
    bad_phone = register(api_client, username="other", phone="12345")
    assert bad_phone.status_code == 400
    assert "phone" in bad_phone.json()["error"]["fields"]
    for other_digits in ("139١٢٣٤٥٦٧٨", "139１２３４５６７８"):  # Arabic-Indic and full-width digits
        refused = register(api_client, username="other", phone=other_digits)
        assert refused.status_code == 400 and "phone" in refused.json()["error"]["fields"], other_digits
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    "language, expected",
    [("en", "This password is too common"), ("zh-hans", "这个密码太常见了")],
)
def test_password_validation_speaks_the_request_language(api_client, language, expected):
    response = api_client.post(
        "/api/auth/register",
        {"username": "weak", "password": "abc", "role": "consumer"},
        format="json",
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert response.status_code == 400
    messages = " ".join(response.json()["error"]["fields"]["password"])
    assert expected in messages
    assert not User.objects.exists()


def test_wrong_password_is_401_in_envelope(api_client, consumer):
    response = api_client.post("/api/auth/token", {"username": consumer.username, "password": "wrong"}, format="json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_login_is_rate_limited_per_username(api_client, consumer, settings):
    attempts = [
        api_client.post("/api/auth/token", {"username": consumer.username, "password": f"guess{i}"}, format="json",
                        REMOTE_ADDR=f"10.0.0.{i}")
        for i in range(7)
    ]
    codes = [r.status_code for r in attempts]
    assert codes[:5] == [401] * 5
    assert codes[5] == 429
    assert attempts[5].json()["error"]["code"] == "throttled"
    assert "Retry-After" in attempts[5]
    # even the right password is refused while the account is throttled
    right = api_client.post("/api/auth/token", {"username": consumer.username, "password": PASSWORD}, format="json")
    assert right.status_code == 429


def test_createsuperuser_noinput_makes_an_admin(monkeypatch):
    from django.core.management import call_command

    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "root_admin")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "admin@example.com")
    call_command("createsuperuser", "--noinput")
    admin = User.objects.get(username="root_admin")
    assert admin.role == "admin" and admin.is_superuser


@pytest.mark.parametrize("username, ok", [("王小明", True), ("li.farmer+1@x", True), ("5𩏊", False), ("a b", False)])
def test_usernames_match_the_documented_pattern(api_client, username, ok):
    response = register(api_client, username=username)
    assert (response.status_code == 201) is ok, response.json()
