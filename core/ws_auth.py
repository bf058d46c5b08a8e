"""WebSocket authentication: a JWT in the ``token`` query parameter.

Consumers may also accept an ``{"type": "auth", "token": …}`` first message
through ``user_for_token``. A missing or bad token leaves the socket anonymous
(watching is open to anyone); consumers decide what anonymity forbids.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.security.websocket import OriginValidator
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError


def user_for_token_sync(raw_token: str):
    auth = JWTAuthentication()
    try:
        validated = auth.get_validated_token(raw_token)
        return auth.get_user(validated)
    except (InvalidToken, TokenError, Exception):  # noqa: BLE001 - any bad token means anonymous
        return AnonymousUser()


user_for_token = database_sync_to_async(user_for_token_sync)


class JWTAuthMiddleware:
    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        query = parse_qs(scope.get("query_string", b"").decode(errors="ignore"))
        token = (query.get("token") or [""])[0]
        scope = dict(scope)
        scope["user"] = await user_for_token(token) if token else AnonymousUser()
        return await self.inner(scope, receive, send)


class BrowserOriginValidator(OriginValidator):
    """Channels' origin check against ALLOWED_HOSTS, letting through sockets that send no Origin.

    Browsers always send Origin, and it is browsers that cross-site WebSocket
    hijacking abuses; native apps and the media tooling often send none, and any
    non-browser client could forge one anyway. A foreign Origin is still refused.
    """

    def valid_origin(self, parsed_origin):
        if parsed_origin is None:
            return True
        return super().valid_origin(parsed_origin)


def allowed_hosts_origin_validator(application):
    allowed_hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed_hosts:
        allowed_hosts = ["localhost", "127.0.0.1", "[::1]"]
    return BrowserOriginValidator(application, allowed_hosts)
