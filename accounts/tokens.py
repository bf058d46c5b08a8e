"""The tokens accounts issues, rotates and ends (simplejwt with its blacklist app).

- Every token carries the user's ``token_version`` as ``ver`` (``token_pair``); ``core.jwt_auth``
  refuses a token whose ``ver`` is not the user's current one.
- ``POST /api/auth/token/refresh`` rotates: the presented refresh token is blacklisted and a new
  pair is answered. The blacklisting is one locked step, so of two parallel refreshes with one
  token exactly one wins.
- Reuse detection: a refresh token that was already rotated or ended, presented again, means it
  was copied; ``user_revoke_tokens`` ends every token of its user (the thief's and the owner's)
  and the answer is 401 ``token_reused``.
- ``POST /api/auth/logout`` ends one refresh token (``refresh_token_end``).
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from core.jwt_auth import TOKEN_VERSION_CLAIM, parse_token, token_user

from .models import User
from .services import user_revoke_tokens


class TokenReused(exceptions.AuthenticationFailed):
    default_detail = _("This refresh token was already used; every sign-in of this account has ended. "
                       "Sign in again.")
    default_code = "token_reused"


def token_pair(user: User) -> RefreshToken:
    """A new refresh token (its ``access_token`` derives from it) carrying the user's version."""
    refresh = RefreshToken.for_user(user)  # stores the OutstandingToken row
    refresh[TOKEN_VERSION_CLAIM] = user.token_version
    return refresh


def pair_body(refresh: RefreshToken) -> dict:
    return {"refresh": str(refresh), "access": str(refresh.access_token)}


def _invalid(exc: Exception) -> InvalidToken:
    return InvalidToken({"detail": _("Given token not valid for any token type"), "messages": [{"message": str(exc)}]})


def _verified_refresh(raw) -> RefreshToken:
    """A validly signed, unexpired refresh token, blacklisted or not (reuse is judged by the caller)."""
    try:
        return parse_token(raw, _UncheckedRefresh)
    except TokenError as exc:
        raise _invalid(exc) from exc


class _UncheckedRefresh(RefreshToken):
    """A refresh token verified in every way but the blacklist (``_end`` decides that under a lock)."""

    def check_blacklist(self) -> None:
        return None


def _end(refresh: RefreshToken) -> bool:
    """Blacklist the token; False if it already was (it is being reused)."""
    jti = refresh.payload.get(api_settings.JTI_CLAIM)
    if not isinstance(jti, str) or not jti:
        raise _invalid(TokenError(_("Token has no id")))
    with transaction.atomic():
        outstanding = OutstandingToken.objects.select_for_update().filter(jti=jti).first()
        if outstanding is None:  # issued before the blacklist app was installed
            outstanding, _created = OutstandingToken.objects.get_or_create(
                jti=jti, defaults={"user_id": refresh.payload[api_settings.USER_ID_CLAIM], "token": str(refresh),
                                   "expires_at": datetime_from_epoch(refresh["exp"])})
            outstanding = OutstandingToken.objects.select_for_update().get(pk=outstanding.pk)
        _row, created = BlacklistedToken.objects.get_or_create(token=outstanding)
    return created


def refresh_token_rotate(raw) -> dict:
    refresh = _verified_refresh(raw)
    user = token_user(refresh)  # 401: deleted, inactive, or an older version
    if not _end(refresh):
        user_revoke_tokens(user)
        raise TokenReused()
    return pair_body(token_pair(user))


def refresh_token_end(raw, *, everywhere: bool = False) -> None:
    """Logout: the refresh token ends (idempotent: ending an ended token changes nothing);
    ``everywhere`` ends every token of its user."""
    refresh = _verified_refresh(raw)
    user = token_user(refresh)
    _end(refresh)
    if everywhere:
        user_revoke_tokens(user)


def access_token_for(user: User) -> str:
    """An access token alone (no refresh token, nothing stored), for a page signed in with its session
    to open the live room's socket and call the API as the same user (pages/)."""
    access = AccessToken.for_user(user)
    access[TOKEN_VERSION_CLAIM] = user.token_version
    return str(access)
