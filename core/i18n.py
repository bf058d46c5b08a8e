"""The request's language, for the places Django's LocaleMiddleware does not reach (ASGI
middleware that answers before Django, WebSocket consumers): one reading of ``Accept-Language``."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import get_supported_language_variant
from django.utils.translation.trans_real import parse_accept_lang_header


def scope_header(scope, name: bytes) -> bytes | None:
    """A header of an ASGI scope (names are matched lower-case, as ASGI servers send them)."""
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value
    return None


def language_from_header(accept: str) -> str:
    """The first supported language of an ``Accept-Language`` value, else the project's default."""
    for code, _quality in parse_accept_lang_header(accept):
        if code == "*":
            break
        try:
            return get_supported_language_variant(code)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


def language_for(scope, user=None) -> str:
    """A signed-in user's own language, else the scope's ``Accept-Language``."""
    if user is not None and user.is_authenticated and getattr(user, "language", None):
        return user.language
    return language_from_header((scope_header(scope, b"accept-language") or b"").decode("latin-1"))
