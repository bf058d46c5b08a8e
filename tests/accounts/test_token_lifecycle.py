"""Tokens die (issue #12, findings 3 and 8): rotation with reuse detection, logout, revocation on a
password change, a deactivation and a shop's suspension; claims of the wrong type are a 401."""

import datetime

import jwt
import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from tests.factories import PASSWORD, ConsumerFactory, MerchantFactory

pytestmark = pytest.mark.django_db


def sign_in(user) -> dict:
    response = APIClient().post("/api/auth/token", {"username": user.username, "password": PASSWORD}, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def me(access: str):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client.get("/api/me")


def refresh(token: str):
    return APIClient().post("/api/auth/token/refresh", {"refresh": token}, format="json")


def assert_401(response, *codes):
    assert response.status_code == 401, (response.status_code, response.content)
    body = response.json()
    assert set(body) == {"error"} and body["error"]["message"]
    if codes:
        assert body["error"]["code"] in codes, body


def test_refresh_rotates_and_the_old_refresh_token_is_refused():
    user = ConsumerFactory()
    first = sign_in(user)
    rotated = refresh(first["refresh"])
    assert rotated.status_code == 200
    pair = rotated.json()
    assert set(pair) == {"access", "refresh"} and pair["refresh"] != first["refresh"]
    assert me(pair["access"]).status_code == 200
    assert_401(refresh(first["refresh"]), "token_reused")


def test_reusing_a_rotated_refresh_token_ends_the_whole_family():
    """The thief and the owner both hold the token: whoever comes second ends every sign-in."""
    user = ConsumerFactory()
    stolen = sign_in(user)
    owner_pair = refresh(stolen["refresh"]).json()  # the owner rotates first
    other_device = sign_in(user)
    assert_401(refresh(stolen["refresh"]), "token_reused")  # the thief replays the old one
    for access in (owner_pair["access"], other_device["access"], stolen["access"]):
        assert_401(me(access), "token_revoked")
    for token in (owner_pair["refresh"], other_device["refresh"]):
        assert_401(refresh(token))
    user.refresh_from_db()
    assert user.token_version == 1
    fresh = sign_in(user)
    assert me(fresh["access"]).status_code == 200


def test_logout_ends_the_refresh_token_and_everywhere_ends_them_all():
    user = ConsumerFactory()
    phone, laptop = sign_in(user), sign_in(user)
    out = APIClient().post("/api/auth/logout", {"refresh": phone["refresh"]}, format="json")
    assert out.status_code == 204 and out.content == b""
    assert APIClient().post("/api/auth/logout", {"refresh": phone["refresh"]}, format="json").status_code == 204
    assert me(laptop["access"]).status_code == 200  # only that sign-in ended
    assert refresh(laptop["refresh"]).status_code == 200
    everywhere_pair = sign_in(user)
    everywhere = APIClient().post("/api/auth/logout", {"refresh": everywhere_pair["refresh"], "everywhere": True},
                                  format="json")
    assert everywhere.status_code == 204
    assert_401(me(laptop["access"]), "token_revoked")
    assert_401(me(everywhere_pair["access"]), "token_revoked")


def test_a_logged_out_refresh_token_used_again_is_reuse():
    user = ConsumerFactory()
    phone, laptop = sign_in(user), sign_in(user)
    assert APIClient().post("/api/auth/logout", {"refresh": phone["refresh"]}, format="json").status_code == 204
    assert_401(refresh(phone["refresh"]), "token_reused")
    assert_401(me(laptop["access"]), "token_revoked")
    bad = APIClient().post("/api/auth/logout", {"refresh": "not-a-token"}, format="json")
    assert_401(bad, "token_not_valid")


def test_a_password_change_ends_every_token_and_answers_a_new_pair():
    user = ConsumerFactory()
    old = sign_in(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {old['access']}")
    wrong = client.post("/api/auth/password", {"old_password": "nope", "new_password": "An0ther-pass-村播"},
                        format="json")
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "wrong_password"
    assert me(old["access"]).status_code == 200  # a refused change ends nothing
    changed = client.post("/api/auth/password", {"old_password": PASSWORD, "new_password": "An0ther-pass-村播"},
                          format="json")
    assert changed.status_code == 200, changed.json()
    assert_401(me(old["access"]), "token_revoked")
    assert_401(refresh(old["refresh"]))
    assert me(changed.json()["access"]).status_code == 200
    assert refresh(changed.json()["refresh"]).status_code == 200


def test_a_password_set_anywhere_else_ends_every_token_too():
    user = ConsumerFactory()
    old = sign_in(user)
    stored = User.objects.get(pk=user.pk)  # as the admin's password form or `changepassword` load it
    stored.set_password("An0ther-pass-村播")
    stored.save(update_fields=["password"])
    assert_401(me(old["access"]), "token_revoked")
    assert_401(refresh(old["refresh"]))


def test_deactivation_in_the_admin_ends_every_token(admin_user):
    user = ConsumerFactory()
    old = sign_in(user)
    admin = APIClient()
    admin.force_login(admin_user)
    page = admin.get(f"/admin/accounts/user/{user.pk}/change/")
    form = page.context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name not in
            ("password", "groups", "user_permissions", "last_login", "date_joined")}
    data.update({"is_active": "", "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00",
                 "county": "", "usable_password": "true"})
    data = {key: value for key, value in data.items() if value is not False}
    saved = admin.post(f"/admin/accounts/user/{user.pk}/change/", data, format="multipart")  # a browser form
    assert saved.status_code == 302, saved.context["adminform"].form.errors if saved.context else saved
    assert not User.objects.get(pk=user.pk).is_active
    assert_401(me(old["access"]), "user_inactive", "token_revoked")
    assert_401(refresh(old["refresh"]))


def test_a_suspended_shop_loses_its_sessions(admin_user, client_for):
    shop = MerchantFactory()
    old = sign_in(shop.user)
    suspended = client_for(admin_user).post(f"/api/merchants/{shop.pk}/review/",
                                            {"decision": "suspend", "reason": "投诉核查"}, format="json")
    assert suspended.status_code == 200 and suspended.json()["status"] == "suspended"
    assert_401(me(old["access"]), "token_revoked")
    assert_401(refresh(old["refresh"]))
    assert me(sign_in(shop.user)["access"]).status_code == 200  # it may sign in and see its shop


def forged(**claims) -> str:
    """A token signed with the real key, claims chosen by the test."""
    now = int(timezone.now().timestamp())
    payload = {"token_type": "access", "exp": now + 600, "iat": now, "jti": "f" * 32, "ver": 0} | claims
    payload = {key: value for key, value in payload.items() if value is not ...}
    return jwt.encode(payload, settings.SIMPLE_JWT.get("SIGNING_KEY", settings.SECRET_KEY), algorithm="HS256")


WRONG_CLAIMS = [
    {"user_id": [1]}, {"user_id": {"id": 1}}, {"user_id": True}, {"user_id": 1.5}, {"user_id": "١"},
    {"user_id": "１"}, {"user_id": "1\x00"}, {"user_id": -1}, {"user_id": 0}, {"user_id": 2**70},
    {"user_id": "99999999999999999999999"}, {"user_id": ...}, {"exp": "9999999999"}, {"exp": [1]},
    {"exp": {"a": 1}}, {"iat": "x"}, {"iat": [1]}, {"ver": "0"}, {"ver": [0]}, {"ver": None}, {"ver": -1},
    {"token_type": ["access"]}, {"jti": ["x"]}, {"nbf": "soon"}, {"nbf": [1]},
]


@pytest.mark.parametrize("claims", WRONG_CLAIMS, ids=[repr(c) for c in WRONG_CLAIMS])
def test_claims_of_the_wrong_type_in_a_signed_token_are_a_401(claims):
    user = ConsumerFactory()
    token = forged(user_id=str(user.pk), **claims) if "user_id" not in claims else forged(**claims)
    assert_401(me(token))
    refresh_token = forged(**({"user_id": str(user.pk)} | claims | {"token_type": claims.get("token_type", "refresh")}))
    assert_401(refresh(refresh_token))
    assert_401(APIClient().post("/api/auth/logout", {"refresh": refresh_token}, format="json"))


def test_a_well_formed_forged_token_is_accepted_so_the_401s_above_are_the_claims():
    user = ConsumerFactory()
    assert me(forged(user_id=str(user.pk))).status_code == 200


def test_a_refresh_token_of_a_deleted_user_is_a_401():
    user = ConsumerFactory()
    pair = sign_in(user)
    User.objects.filter(pk=user.pk).delete()
    assert_401(refresh(pair["refresh"]), "user_not_found")
    assert_401(me(pair["access"]), "user_not_found")
    assert_401(APIClient().post("/api/auth/logout", {"refresh": pair["refresh"]}, format="json"))


def test_an_expired_refresh_token_is_a_401():
    user = ConsumerFactory()
    past = int((timezone.now() - datetime.timedelta(days=1)).timestamp())
    assert_401(refresh(forged(user_id=str(user.pk), token_type="refresh", exp=past, iat=past - 60)))
