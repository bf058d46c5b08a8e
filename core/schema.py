"""The OpenAPI document's shared rules (``REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]`` and the
postprocessing hook in ``SPECTACULAR_SETTINGS``), kept here so that no view repeats them:

- every operation documents the error answers it can give, each with the envelope's schema
  (``ErrorEnvelope``): 400 where there is input, 401 where a token is read, 403 where a role is
  checked, 404 where the path names an object, 409 on writes (a business refusal, a status that
  may not follow), 422 with an ``Idempotency-Key``, 429 where a throttle applies, 503 everywhere
  (a store briefly unavailable);
- a money field that cannot be negative says so in its pattern (``^\\d…``, no ``-``);
- one content type per request body (JSON; multipart where a file is uploaded; a form for the media
  server's hooks);
- operation ids read as what they do: ``orders_list``, ``orders_get``, ``orders_create``,
  ``orders_update``, ``orders_delete``, and an action by its name (``orders_pay``, ``auth_token``).

Client generators rely on all three (tests/core/test_generated_clients.py builds a Python and a
TypeScript client from the document).
"""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny

from .idempotency import HEADER as IDEMPOTENCY_HEADER

# Answered money that can go below zero: a ledger balance, or a sum that refunds reverse (a month's net,
# its commission and fees). Every other answered amount is never negative; an input amount is as its
# serializer's min_value says.
SIGNED_MONEY = frozenset({"available", "pending", "net", "opening", "closing", "merchants_available",
                          "merchants_pending", "commission", "service_fee", "service_fees", "provider_fees"})

ERROR_DESCRIPTIONS = {
    "400": _("Bad input: `code` names the rule, `fields` the fields at fault; nothing was changed."),
    "401": _("No valid access token (missing, expired or ended)."),
    "403": _("Signed in, but this role may not do this."),
    "404": _("No such object, or not one the caller may see."),
    "409": _("A business rule refused it in the object's present state; nothing was changed."),
    "422": _("This Idempotency-Key was already used with another body."),
    "429": _("Too many requests: wait the seconds in Retry-After."),
    "503": _("A store is briefly unavailable: retry after the seconds in Retry-After."),
}


class ErrorDetail(serializers.Serializer):
    code = serializers.CharField(help_text=_("Stable machine-readable code, e.g. `invalid`, `out_of_stock`."))
    message = serializers.CharField(help_text=_("Human-readable, in the request's language."))
    fields = serializers.DictField(required=False, child=serializers.JSONField(),
                                   help_text=_("Field name → its messages, for bad input."))


class ErrorEnvelope(serializers.Serializer):
    error = ErrorDetail()


def error_responses(*codes: int) -> dict:
    """For ``extend_schema(responses={200: X, **error_responses(401, 429)})``: an error answer the
    rules below cannot see (a sign-in's 401 on a view without bearer authentication, a guard's 429)."""
    return {code: OpenApiResponse(ErrorEnvelope, description=ERROR_DESCRIPTIONS[str(code)]) for code in codes}


class AutoSchema(SpectacularAutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code in self._error_codes():
            if code not in responses:
                responses[code] = self._get_response_for_code(ErrorEnvelope, code, direction=direction)
                responses[code]["description"] = ERROR_DESCRIPTIONS[code]
        return responses

    def _get_request_body(self, direction="request"):
        """A body that may carry a file is documented as multipart alone (the view also takes it as
        JSON, without the file): one schema under two content types is more than generators take."""
        body = super()._get_request_body(direction)
        content = (body or {}).get("content", {})
        if "multipart/form-data" in content and content.get("application/json") == content["multipart/form-data"]:
            del content["application/json"]
        return body

    def _error_codes(self) -> list[str]:
        codes = []
        has_input = self.method in ("POST", "PUT", "PATCH") or bool(self._get_filter_parameters()) or \
            bool(self._get_paginator())
        if has_input:
            codes.append("400")
        authenticators = self.get_auth()
        if any(authenticators and "jwtAuth" in a for a in authenticators):
            codes.append("401")
            if not self._allows_anyone():
                codes.append("403")
        if "{" in self.path:
            codes.append("404")
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            codes.append("409")
        if self._throttled():
            codes.append("429")
        codes.append("503")
        return codes

    def _allows_anyone(self) -> bool:
        try:
            permissions = self.view.get_permissions()
        except Exception:  # noqa: BLE001 - a view that needs a real request to decide: assume roles
            return False
        return bool(permissions) and all(isinstance(p, AllowAny) for p in permissions)

    def _throttled(self) -> bool:
        if getattr(self.view, "schema_throttled", False):
            return True
        try:
            return bool(self.view.get_throttles())
        except Exception:  # noqa: BLE001
            return False

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, serializers.DecimalField) and "pattern" in schema and self._never_negative(field, direction):
            schema["pattern"] = schema["pattern"].replace("^-?", "^", 1)
        return schema

    @staticmethod
    def _never_negative(field, direction) -> bool:
        if field.min_value is not None:
            return field.min_value >= 0
        return (direction == "response" or field.read_only) and field.field_name not in SIGNED_MONEY


_ACTIONS = {"get": "get", "put": "replace", "patch": "update", "delete": "delete"}


def _is_list(operation: dict) -> bool:
    ok = operation.get("responses", {}).get("200", {}).get("content", {}).get("application/json", {})
    schema = ok.get("schema", {})
    return schema.get("type") == "array" or "/Paginated" in schema.get("$ref", "")


def postprocess(result, generator, request, public):
    """SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"] (after drf-spectacular's own enum hook)."""
    return readable_operation_ids(result, generator, request, public)


def readable_operation_ids(result, generator, request, public):
    """Postprocessing hook: ``auth_register`` rather than ``auth_register_create``; ``_create`` is
    kept for a POST on a collection (the same path lists with GET)."""
    for path, item in result.get("paths", {}).items():
        tokens = [t.replace("-", "_").replace(".", "_") for t in re.sub(r"\{[^}]+\}", "", path).split("/")
                  if t and t != "api"]
        base = "_".join(tokens) or "root"
        lists = "get" in item and _is_list(item["get"])
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            if method == "get":
                action = "list" if _is_list(operation) else "get"
            elif method == "post":  # a new member of a collection, or an action by its name
                action = "create" if lists or ("201" in operation["responses"] and tokens[-1].endswith("s")) else ""
            else:
                action = _ACTIONS[method]
            operation["operationId"] = f"{base}_{action}" if action else base
            _idempotency_error(operation)
    return result


def _idempotency_error(operation: dict) -> None:
    keyed = any(p.get("in") == "header" and p.get("name") == IDEMPOTENCY_HEADER for p in operation.get("parameters", []))
    if keyed and "422" not in operation["responses"]:
        operation["responses"]["422"] = {
            "description": str(ERROR_DESCRIPTIONS["422"]),
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}}
