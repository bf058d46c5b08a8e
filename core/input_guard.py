"""Refuse, before any view, a request whose path, query string or headers hold what no client
text may (``core.text``): a NUL or another control character, a lone surrogate, or an undecodable
byte sequence (``%ED%A0%80``, the UTF-8 form of a lone surrogate, arrives as a surrogate escape or
a replacement character depending on the server). Also a ``Content-Length`` that is not plain
ASCII digits. Every route is covered, the admin included (``?q=%00`` in a changelist); the answer
is a 400 in the envelope, in the request's language (the middleware sits after LocaleMiddleware).
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from django.http import JsonResponse
from django.utils.translation import gettext as _

from .errors import error_body
from .text import ascii_int, is_clean


def _decodes_cleanly(raw: str) -> bool:
    """The percent-decoded bytes of a path or query string are valid UTF-8 and clean text."""
    try:
        text = unquote_to_bytes(raw.replace("+", " ")).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return is_clean(text)


def request_problem(request) -> str | None:
    """Which part of the request is refused ("path", "query", "header", "content-length"), or None."""
    path = request.path_info
    if not is_clean(path) or "\ufffd" in path or not _decodes_cleanly(path):
        return "path"
    query = request.META.get("QUERY_STRING", "")
    if query and not _decodes_cleanly(query):
        return "query"
    for key, value in request.META.items():
        if isinstance(value, str) and (key.startswith("HTTP_") or key in ("CONTENT_TYPE", "CONTENT_LENGTH")):
            if not is_clean(value):
                return "header"
    try:
        ascii_int(request.META.get("CONTENT_LENGTH"), minimum=0)
    except ValueError:
        return "content-length"
    return None


class InputGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        problem = request_problem(request)
        if problem is not None:
            messages = {
                "path": _("The address contains a control character or an invalid character."),
                "query": _("The query string contains a control character or an invalid character."),
                "header": _("A request header contains a control character or an invalid character."),
                "content-length": _("The Content-Length header must be a number in ASCII digits."),
            }
            return JsonResponse(error_body("malformed_request", messages[problem]), status=400)
        return self.get_response(request)
