"""WebSocket authentication: one parser, one token rule, a re-check while the socket lives.

A socket signs in with a JWT access token in its first message, ``{"type": "auth", "token": …}``
(preferred: nothing secret in the URL), or in the ``token`` query parameter (kept for the
contract; access logs redact it, ``core.logfilters``). ``JWTAuthMiddleware`` reads the query with
``query_token`` — the only parser: a ``token`` parameter given more than once is refused at the
handshake (close 4400, an HTTP 403 on a real server), so no two readers can disagree about which
one counts. Both the query and the first message go through ``socket_auth``, which applies the
API's rule (``core.jwt_auth``: signature, expiry, claim types, the user active and at the token's
version). A missing or bad token leaves the socket anonymous; consumers decide what anonymity
forbids.

A signed-in socket does not trust its connect-time token forever: ``SocketAuth.still_valid`` is
asked before each signed-in action (and by a timer where the client sends nothing). It compares the
token's ``exp`` (kept at sign-in, no work) and every ``WS_AUTH_RECHECK_S`` seconds re-reads the
user's ``is_active`` and ``token_version`` (one indexed read). When it says no, the consumer sends
``error`` {code: ``auth_expired``} and closes with ``CLOSE_AUTH_ENDED`` (4401).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from channels.db import database_sync_to_async
from channels.security.websocket import OriginValidator
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.exceptions import TokenError

from .jwt_auth import parse_token, token_user, token_version, user_still_valid

CLOSE_BAD_REQUEST = 4400  # the handshake was malformed (a duplicated token parameter)
CLOSE_AUTH_ENDED = 4401  # the socket's sign-in expired or was revoked: sign in again and reconnect


class DuplicateParameter(ValueError):
    pass


def query_token(scope) -> str:
    """The ``token`` query parameter ("" if absent); ``DuplicateParameter`` if it is given twice."""
    pairs = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    tokens = [value for key, value in pairs if key == "token"]
    if len(tokens) > 1:
        raise DuplicateParameter("token")
    return tokens[0] if tokens else ""


@dataclass
class SocketAuth:
    """Who a socket speaks for, and until when."""

    user: Any = field(default_factory=AnonymousUser)
    expires: float | None = None
    version: int = 0
    checked_at: float = field(default_factory=time.monotonic)
    ended: bool = False

    @property
    def signed_in(self) -> bool:
        return bool(self.user.is_authenticated) and not self.ended

    def expired(self) -> bool:
        return self.expires is not None and time.time() >= self.expires

    async def still_valid(self) -> bool:
        """False once the token has expired or the user was deactivated or revoked (then for good)."""
        if not self.signed_in:
            return False
        if self.expired():
            self.ended = True
            return False
        now = time.monotonic()
        if now - self.checked_at >= settings.WS_AUTH_RECHECK_S:
            self.checked_at = now
            if not await database_sync_to_async(user_still_valid)(user_id=self.user.pk, version=self.version):
                self.ended = True
        return not self.ended

    def seconds_to_next_check(self) -> float:
        """How long a timer may sleep before the next ``still_valid`` (expiry or re-read, the sooner)."""
        wait = settings.WS_AUTH_RECHECK_S - (time.monotonic() - self.checked_at)
        if self.expires is not None:
            wait = min(wait, self.expires - time.time())
        return max(wait, 0.05)


def socket_auth_sync(raw) -> SocketAuth:
    try:
        token = parse_token(raw)
        user = token_user(token)
    except (TokenError, AuthenticationFailed):
        return SocketAuth()
    return SocketAuth(user=user, expires=float(token.payload["exp"]), version=token_version(token))


socket_auth = database_sync_to_async(socket_auth_sync)


class JWTAuthMiddleware:
    """Puts ``scope["auth"]`` (a ``SocketAuth``) and ``scope["user"]`` on every socket."""

    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        try:
            token = query_token(scope)
        except DuplicateParameter:
            message = await receive()
            if message.get("type") == "websocket.connect":
                await send({"type": "websocket.close", "code": CLOSE_BAD_REQUEST})
            return None
        auth = await socket_auth(token) if token else SocketAuth()
        scope = dict(scope, auth=auth, user=auth.user)
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
