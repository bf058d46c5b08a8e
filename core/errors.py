"""One error family for the domain, and one renderer for every API error.

Services raise ``DomainError`` subclasses; the exception handler turns them,
DRF's own exceptions and Django's into ``{"error": {"code", "message", "fields"?}}``
in the request's language.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from django.utils.encoding import force_str
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

logger = logging.getLogger(__name__)

class DomainError(Exception):
    """A business rule said no. ``status`` is what the API answers."""

    status = status.HTTP_400_BAD_REQUEST
    code = "invalid"
    default_message = _("The request could not be processed.")

    def __init__(self, message=None, *, code: str | None = None, fields: dict | None = None, status: int | None = None):
        self.message = message if message is not None else self.default_message
        if code:
            self.code = code
        if status:
            self.status = status
        self.fields = fields
        super().__init__(force_str(self.message))


class ValidationFailed(DomainError):
    code = "invalid"


class NotFound(DomainError):
    status = 404
    code = "not_found"
    default_message = _("Not found.")


class Conflict(DomainError):
    status = 409
    code = "conflict"
    default_message = _("The request conflicts with the current state.")


class InvalidTransition(Conflict):
    code = "invalid_transition"


class ServiceUnavailable(DomainError):
    status = 503
    code = "service_unavailable"
    default_message = _("A service is briefly unavailable; please try again.")


_DRF_CODES = {
    exceptions.ParseError: "malformed_request",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
    exceptions.ValidationError: "invalid",
}


def _flatten(detail):
    """DRF error detail -> plain JSON with strings (lists kept, dicts kept)."""
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten(item) for item in detail]
    return force_str(detail)


def error_body(code: str, message, fields=None) -> dict:
    body = {"code": code, "message": force_str(message)}
    if fields:
        body["fields"] = fields
    return {"error": body}


def _validation_message(fields) -> str:
    if isinstance(fields, dict) and "non_field_errors" in fields and fields["non_field_errors"]:
        first = fields["non_field_errors"]
        return force_str(first[0] if isinstance(first, list) else first)
    return force_str(_("Some fields are invalid."))


def exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: every error in one envelope."""
    headers = {}
    if isinstance(exc, DomainError):
        set_rollback()
        retry_after = getattr(exc, "retry_after", None)
        return Response(error_body(exc.code, exc.message, exc.fields), status=exc.status,
                        headers={"Retry-After": str(retry_after)} if retry_after else None)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=exceptions.as_serializer_error(exc))

    if not isinstance(exc, exceptions.APIException):
        if isinstance(exc, DatabaseError) and _is_transient(exc):
            _log_transient(exc, context)
            set_rollback()
            err = ServiceUnavailable()
            return Response(error_body(err.code, err.message), status=503, headers={"Retry-After": "1"})
        return None  # a real bug: let Django log it and answer 500

    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = "%d" % exc.wait
    code = next((c for cls, c in _DRF_CODES.items() if type(exc) is cls), None) or _code_of(exc)
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        if isinstance(fields, list):
            fields = {"non_field_errors": fields}
        body = error_body(code, _validation_message(fields), fields)
    else:
        body = error_body(code, exc.detail if not isinstance(exc.detail, (list, dict)) else exc.default_detail)
    set_rollback()
    return Response(body, status=exc.status_code, headers=headers)


def _code_of(exc) -> str:
    codes = exc.get_codes()
    return codes if isinstance(codes, str) else getattr(exc, "default_code", "error")


def _is_transient(exc: DatabaseError) -> bool:
    return isinstance(exc, (OperationalError, InterfaceError))


def sqlstate(exc: BaseException) -> str:
    """The SQLSTATE of a database error (psycopg's, under Django's wrapper), or ""."""
    cause = exc.__cause__ or exc
    return getattr(cause, "sqlstate", None) or getattr(getattr(cause, "diag", None), "sqlstate", None) or ""


def _log_transient(exc: DatabaseError, context) -> None:
    """A 503 the database caused is worth a line (a deadlock, a lock or statement timeout, a lost
    connection): which request, the SQLSTATE (40P01 deadlock, 40001 serialization, 55P03 lock
    timeout, 57014 cancelled, 08xxx connection), the driver's first line; no traceback."""
    request = context.get("request") if context else None
    first_line = (str(exc).strip().splitlines() or [""])[0][:200]
    logger.warning("transient database error answered 503: SQLSTATE %s on %s %s: %s", sqlstate(exc) or "-",
                   getattr(request, "method", "-"), getattr(request, "path", "-"), first_line)


def json_error_view(status_code: int, code: str, message):
    def view(request, exception=None):
        return JsonResponse(error_body(code, message), status=status_code)

    return view


handler404 = json_error_view(404, "not_found", _("Not found."))
handler500 = json_error_view(500, "server_error", _("Something went wrong on our side; it has been logged."))
handler400 = json_error_view(400, "bad_request", _("Bad request."))
handler403 = json_error_view(403, "permission_denied", _("You do not have permission to perform this action."))
