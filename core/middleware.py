from django.conf import settings
from django.http import JsonResponse
from django.utils.translation import gettext as _

from .errors import error_body


class RequestSizeLimitMiddleware:
    """Refuse a request whose declared body is larger than ``MAX_REQUEST_BYTES`` before reading it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.MAX_REQUEST_BYTES:
            return JsonResponse(
                error_body("request_too_large",
                           _("The request body is larger than %(limit)d bytes.") % {"limit": settings.MAX_REQUEST_BYTES}),
                status=413,
            )
        return self.get_response(request)
