"""The API's authentication copies simplejwt's user loading; it must answer as simplejwt does.

``AccessTokenAuthentication.get_user`` reads the user with one plain SELECT instead of simplejwt's
queryset; for every kind of token it must accept and refuse exactly what simplejwt does.
(``checkout_input_plain``, the checkout's copy of ``CheckoutInput``, is compared in
tests/orders/test_checkout.py.)
"""

import pytest
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.tokens import AccessToken

from accounts.authentication import AccessTokenAuthentication
from tests.factories import ConsumerFactory

pytestmark = pytest.mark.django_db


def _answer(authentication, token):
    try:
        user = authentication.get_user(token)
    except (AuthenticationFailed, InvalidToken) as exc:
        return type(exc).__name__, exc.get_codes()
    return "user", (user.pk, user.username, user.role, user.is_active, user.password)


def _tokens():
    active = ConsumerFactory()
    inactive = ConsumerFactory(is_active=False)
    deleted = ConsumerFactory()
    deleted_token = AccessToken.for_user(deleted)
    deleted.delete()
    no_user = AccessToken.for_user(ConsumerFactory())
    del no_user["user_id"]
    return {"active": AccessToken.for_user(active), "inactive": AccessToken.for_user(inactive),
            "deleted": deleted_token, "no user claim": no_user}


def test_the_checkout_reads_the_same_user_as_simplejwt_for_every_kind_of_token():
    answers = {name: (_answer(AccessTokenAuthentication(), token), _answer(JWTAuthentication(), token))
               for name, token in _tokens().items()}
    for name, (copy, original) in answers.items():
        assert copy == original, name
    assert answers["active"][0][0] == "user"
    assert {answers[name][0][0] for name in ("inactive", "deleted", "no user claim")} == {
        "AuthenticationFailed", "InvalidToken"}
