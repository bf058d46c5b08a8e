"""The API's authentication loads the user its own way; it must answer as the token rule does.

``AccessTokenAuthentication.get_user`` reads the user with one plain SELECT instead of a queryset;
for every kind of token it must accept and refuse exactly what ``core.jwt_auth``'s
``JWTAuthentication`` (the rule the sockets apply too) does.
(``checkout_input_plain``, the checkout's copy of ``CheckoutInput``, is compared in
tests/orders/test_checkout.py.)
"""

import pytest
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.tokens import AccessToken

from accounts.authentication import AccessTokenAuthentication
from core.jwt_auth import JWTAuthentication
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
    revoked_user = ConsumerFactory()
    revoked = AccessToken.for_user(revoked_user)
    type(revoked_user).objects.filter(pk=revoked_user.pk).update(token_version=revoked_user.token_version + 1)
    return {"active": AccessToken.for_user(active), "inactive": AccessToken.for_user(inactive),
            "deleted": deleted_token, "revoked": revoked}


def test_the_api_reads_the_same_user_as_the_token_rule_for_every_kind_of_token():
    answers = {name: (_answer(AccessTokenAuthentication(), token), _answer(JWTAuthentication(), token))
               for name, token in _tokens().items()}
    for name, (copy, original) in answers.items():
        assert copy == original, name
    assert answers["active"][0][0] == "user"
    assert [answers[name][0] for name in ("inactive", "deleted", "revoked")] == [
        ("UserInactive", "user_inactive"), ("UserNotFound", "user_not_found"), ("TokenRevoked", "token_revoked")]
