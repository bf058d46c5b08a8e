import pytest

from accounts.models import User
from tests.factories import PASSWORD, VillageFactory

pytestmark = pytest.mark.django_db


def test_admin_creates_operator(client_for, admin_user, county):
    response = client_for(admin_user).post(
        "/api/operators/", {"username": "op1", "password": PASSWORD, "county": county.pk}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["role"] == "operator"
    assert response.json()["county"]["id"] == county.pk
    token = client_for(None).post("/api/auth/token", {"username": "op1", "password": PASSWORD}, format="json")
    assert token.status_code == 200


def test_operator_needs_a_county_not_a_village(client_for, admin_user):
    village = VillageFactory()
    response = client_for(admin_user).post(
        "/api/operators/", {"username": "op1", "password": PASSWORD, "county": village.pk}, format="json"
    )
    assert response.status_code == 400
    assert "county" in response.json()["error"]["fields"]
    assert not User.objects.filter(username="op1").exists()


@pytest.mark.parametrize("who", ["consumer", "merchant_user", "operator"])
def test_only_admins_create_operators(request, client_for, who, county):
    user = request.getfixturevalue(who)
    response = client_for(user).post(
        "/api/operators/", {"username": "op1", "password": PASSWORD, "county": county.pk}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert not User.objects.filter(username="op1").exists()


def test_anonymous_cannot_create_operators(api_client, county):
    response = api_client.post("/api/operators/", {"username": "op1", "password": PASSWORD, "county": county.pk})
    assert response.status_code == 401
