"""One rule for every signed token, on HTTP and on both sockets.

A token is good when simplejwt verifies it (signature, type, expiry, not blacklisted) **and**
``token_user`` accepts what it says: ``user_id`` a plain positive integer naming an existing,
active user, and the ``ver`` claim equal to that user's ``token_version``. Accounts raise the
version on a password change, a deactivation, a merchant's suspension, a refresh token's reuse
and "sign out everywhere" (``accounts.services.user_revoke_tokens``), which ends every access
and refresh token issued before. A token without ``ver`` was issued before the claim existed:
it counts as version 0, so the first raise ends it too.

Claims of the wrong type inside a validly signed token (``user_id`` a list or an object, ``exp``
a string, ``ver`` a string, non-ASCII digits) are a 401 ``token_not_valid``, never a 500:
``parse_token`` turns anything the decoder or the checks raise into ``TokenError``.

``JWTAuthentication`` applies the rule to the API (through its subclass
``accounts.authentication.AccessTokenAuthentication``, which reads the user with one plain SELECT);
``core.ws_auth`` applies the same functions to the sockets.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken, Token

TOKEN_VERSION_CLAIM = "ver"
_MAX_ID = 2**63 - 1


class UserNotFound(exceptions.AuthenticationFailed):
    default_detail = _("User not found")
    default_code = "user_not_found"


class UserInactive(exceptions.AuthenticationFailed):
    default_detail = _("User is inactive")
    default_code = "user_inactive"


class TokenRevoked(exceptions.AuthenticationFailed):
    default_detail = _("This sign-in has ended; sign in again.")
    default_code = "token_revoked"


def _plain_int(value) -> bool:
    """A JSON integer (not a bool, not a string of digits of any script) in the database's range."""
    return type(value) is int and 0 <= value <= _MAX_ID


def _user_id(value) -> int | None:
    """simplejwt writes the id as a string of ASCII digits (older tokens: an integer); nothing else."""
    if type(value) is str and 0 < len(value) <= 19 and value.isascii() and value.isdigit():
        value = int(value)
    return value if _plain_int(value) and value > 0 else None


def parse_token(raw, token_class: type[Token] = AccessToken) -> Token:
    """The verified token, or ``TokenError`` for anything wrong with it (never another exception)."""
    if not isinstance(raw, str) or not raw or len(raw) > 4096:
        raise TokenError(_("Token is invalid"))
    try:
        token = token_class(raw)
    except TokenError:
        raise
    except Exception as exc:  # noqa: BLE001 - a signed token with claims of the wrong type
        raise TokenError(_("Token is invalid")) from exc
    for claim in ("exp", "iat"):
        if claim in token.payload and not _plain_int(token.payload[claim]):
            raise TokenError(_("Token is invalid"))
    if _user_id(token.payload.get(api_settings.USER_ID_CLAIM)) is None:
        raise TokenError(_("Token contained no recognizable user identification"))
    if not _plain_int(token.payload.get(TOKEN_VERSION_CLAIM, 0)):
        raise TokenError(_("Token is invalid"))
    return token


def token_user_id(token: Token) -> int:
    return _user_id(token.payload[api_settings.USER_ID_CLAIM])


def token_version(token: Token) -> int:
    return token.payload.get(TOKEN_VERSION_CLAIM, 0)


def token_user(token: Token):
    """The user a parsed token speaks for; ``AuthenticationFailed`` (401) if it no longer may."""
    return token_user_check(token, get_user_model().objects.filter(pk=token_user_id(token)).first())


def token_user_check(token: Token, user):
    """``user`` (loaded for ``token``'s id, or None) if the token may still speak for them."""
    if user is None:
        raise UserNotFound()
    if not user.is_active:
        raise UserInactive()
    if token_version(token) != getattr(user, "token_version", 0):
        raise TokenRevoked()
    return user


def user_still_valid(*, user_id: int, version: int) -> bool:
    """The socket re-check: the user still exists, is active, and holds the same token version."""
    row = get_user_model().objects.filter(pk=user_id).values_list("is_active", "token_version").first()
    return row is not None and row[0] and row[1] == version


class JWTAuthentication(authentication.JWTAuthentication):
    """simplejwt's header authentication with ``parse_token`` and ``token_user``."""

    def get_validated_token(self, raw_token: bytes) -> Token:
        try:
            raw = raw_token.decode("ascii") if isinstance(raw_token, bytes) else raw_token
        except UnicodeDecodeError:
            raw = ""
        try:
            return parse_token(raw, AccessToken)
        except TokenError as exc:
            raise InvalidToken({"detail": _("Given token not valid for any token type"),
                                "messages": [{"message": str(exc)}]}) from exc

    def get_user(self, validated_token: Token):
        return token_user(validated_token)
