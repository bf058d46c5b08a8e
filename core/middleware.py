"""Request body limits, for both ways a request reaches Django.

Under WSGI, Django reads the body lazily, so ``RequestSizeLimitMiddleware`` refuses a declared
``Content-Length`` over ``MAX_REQUEST_BYTES`` before anything is read. Under ASGI, Django's handler
reads the whole body (into memory, then a temporary file) before any middleware runs, so
``RequestBodyLimit`` wraps the ASGI application itself: it refuses a declared length at once and
stops reading a body sent without one (chunked) as soon as it grows past the limit.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.http import JsonResponse
from django.utils import translation
from django.utils.translation import gettext as _

from .errors import error_body
from .i18n import language_for, scope_header
from .text import ascii_int


def _too_large_body() -> dict:
    return error_body("request_too_large",
                      _("The request body is larger than %(limit)d bytes.") % {"limit": settings.MAX_REQUEST_BYTES})


class RequestSizeLimitMiddleware:
    """Refuse a request whose declared body is larger than ``MAX_REQUEST_BYTES`` before reading it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = ascii_int(request.META.get("CONTENT_LENGTH"), default=0)
        except ValueError:  # refused by core.input_guard
            length = 0
        if length > settings.MAX_REQUEST_BYTES:
            return JsonResponse(_too_large_body(), status=413)
        return self.get_response(request)


class _BodyTooLarge(Exception):
    pass


class RequestBodyLimit:
    """ASGI middleware: no HTTP body larger than ``MAX_REQUEST_BYTES`` is read (413 instead)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = settings.MAX_REQUEST_BYTES
        try:
            declared = ascii_int(scope_header(scope, b"content-length"), default=0)
        except ValueError:  # refused by core.input_guard
            declared = 0
        if declared > limit:
            return await self._refuse(scope, send)

        received = 0
        started = False

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge()
            return message

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await self._refuse(scope, send)

    async def _refuse(self, scope, send):
        with translation.override(language_for(scope)):
            body = json.dumps(_too_large_body(), ensure_ascii=False).encode()
        await send({"type": "http.response.start", "status": 413, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
