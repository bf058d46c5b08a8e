"""Hostile input where schemathesis does not go (issue #12, finding 8): every API route's path
segments, query strings and headers, every write endpoint's body (the valid bodies of
``test_mass_assignment.WRITES``, one field at a time) and the admin's changelists (the sockets:
test_socket_fuzz.py), with NUL and other control characters, lone surrogates (``%ED%A0%80`` and
JSON ``\\ud800``), deep nesting (10,000 levels), non-ASCII digits and huge integers.

The checks: never a 5xx, every refusal in the error envelope, and no traceback (nor any ERROR) in
the captured log. The figures (requests, frames) are printed in the security summary.
"""

from __future__ import annotations

import json
import logging
from urllib.parse import quote

import pytest
from django.contrib import admin
from django.core.cache import cache
from django.db import transaction
from django.test import override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from tests.security.conftest import FIGURES
from tests.security.routes import api_routes
from tests.security.test_mass_assignment import OPERATIONS, WRITES
from tests.security.world import client_for

NUL_TEXTS = ["\x00", "a\x00b", "\x07bell", "\x1b[2J"]
SURROGATES_RAW = ["%ED%A0%80", "%ED%BF%BF", "%C0%80", "%FF"]  # a lone surrogate in UTF-8, overlong NUL, not UTF-8
DIGITS = ["١٢", "１２", "²", "߁", " 1", "1_0", "0x10", "1e3"]
HUGE = [2**31, 2**63, -(2**63) - 1, 10**30]
DEEP = 10_000

QUERY_KEYS = ["page", "page_size", "search", "q", "status", "ordering", "county", "merchant", "category", "mine",
              "stream", "township", "kind", "unread", "from", "to", "month", "account"]
# The ends of what a date parser accepts, alone (any other bad key would be refused first): a bound
# computed from them (the day after the last) must not overflow.
DATE_KEYS = ["from", "to", "date", "date_from", "date_to", "since", "until", "day"]
EDGE_DATES = ["9999-12-31", "0001-01-01"]


def _hostile_query_strings() -> list[str]:
    values = [quote(NUL_TEXTS[1], safe=""), SURROGATES_RAW[0], quote(DIGITS[0], safe=""), str(HUGE[3])]
    return (["&".join(f"{key}={value}" for key in QUERY_KEYS) for value in values]
            + ["&".join(f"{key}={value}" for key in DATE_KEYS) for value in EDGE_DATES]
            + ["month=9999-12", "month=0001-01"])


HEADER_SETS = [
    {"HTTP_ACCEPT_LANGUAGE": "zh\x00"},
    {"HTTP_AUTHORIZATION": "Bearer \x00"},
    {"HTTP_IDEMPOTENCY_KEY": "key\x00\x01"},
    {"HTTP_X_REQUEST_ID": "\xed\xa0\x80"},  # a lone surrogate's UTF-8 bytes, as the server hands them (latin-1)
    {"CONTENT_LENGTH": "١٢"},
    {"HTTP_IDEMPOTENCY_KEY": "١٢٣"},
    {"HTTP_AUTHORIZATION": "Bearer " + "[" * 2000},
    {"HTTP_COOKIE": "sessionid=\x00; csrftoken=\xed\xa0\x80"},
]


class Probe:
    """Sends requests, counts them, and collects every 5xx or non-envelope answer."""

    def __init__(self, figure: str):
        self.figure = figure
        self.problems: list[str] = []

    def check(self, label: str, response) -> None:
        FIGURES["fuzz"][self.figure] += 1
        if response.status_code >= 500:
            self.problems.append(f"{label}: {response.status_code} {response.content[:300]!r}")
        elif response.status_code >= 400 and response.get("Content-Type", "").startswith("application/json"):
            body = response.json()
            if not (isinstance(body, dict) and isinstance(body.get("error"), dict) and body["error"].get("code")):
                self.problems.append(f"{label}: {response.status_code} outside the envelope: {body!r:.200}")

    def done(self, caplog) -> None:
        traced = [f"{r.name}: {r.getMessage()[:200]}" for r in caplog.records
                  if r.levelno >= logging.ERROR or r.exc_info]
        assert not self.problems, "\n".join(self.problems[:40]) + f"\n({len(self.problems)} problems)"
        assert not traced, "\n".join(traced[:20])


def rolled_back(send, *args, **kwargs):
    """One request in a savepoint rolled back: each starts from the same world, and a database
    error (the bug under test) cannot abort the module's transaction."""
    with transaction.atomic():
        response = send(*args, **kwargs)
        transaction.set_rollback(True)
    return response


def _client(user=None) -> APIClient:
    client = client_for(user)
    client.raise_request_exception = False  # a 500 is an answer to check, not an exception in the test
    return client


def _path_values(route) -> list[dict]:
    """Hostile path parameters: strings for the string converters, huge numbers for the int ones
    (the int converter only matches ASCII digits; anything else is Django's 404)."""
    strings = [quote(v, safe="") for v in NUL_TEXTS[:2]] + SURROGATES_RAW[:2] + [quote(DIGITS[0], safe="")]
    numbers = [str(HUGE[1]), str(HUGE[3]), "0"]
    # The month converter only matches YYYY-MM (text is Django's 404): months that match it and are
    # no month, or are out of any range the view could compute with.
    months = ["2026-13", "0000-00", "9999-12", "1999-12", "2026-00"]
    variants = []
    for index in range(max(len(strings), len(numbers), len(months))):
        kwargs = {}
        for name in route.converters:
            converter = route.converter(name)
            pool = numbers if converter == "int" else months if converter == "month" else strings
            kwargs[name] = pool[index % len(pool)]
        variants.append(kwargs)
    return variants


@pytest.mark.django_db
def test_every_route_survives_hostile_paths_queries_and_headers(world, db, caplog):
    probe = Probe("requests")
    FIGURES["fuzz"]["routes"] += len(api_routes())
    anonymous = _client()
    # Each role the routes serve, so that hostile input reaches the views behind every role check.
    signed_in = {"consumer": _client(world.a.consumer), "merchant": _client(world.a.merchant_user),
                 "operator": _client(world.a.operator), "admin": _client(world.admin)}
    caplog.set_level(logging.WARNING)
    for route in api_routes():
        methods = [m for m in route.methods if m in ("GET", "POST", "PUT", "PATCH", "DELETE")]
        for kwargs in _path_values(route) if route.converters else [{}]:
            url = route.url(**kwargs)
            for method in methods:
                for who, client in signed_in.items():
                    cache.clear()
                    call = getattr(client, method.lower())
                    response = rolled_back(call, url) if method == "GET" else rolled_back(call, url, {}, format="json")
                    probe.check(f"{method} {url} ({who})", response)
        if "GET" in route.methods:
            url = route.url(**route.sample())
            for query in _hostile_query_strings():
                cache.clear()
                for who, client in (("anonymous", anonymous), *signed_in.items()):
                    probe.check(f"GET {url}?{query[:40]} ({who})", rolled_back(client.get, f"{url}?{query}"))
        for headers in HEADER_SETS:
            cache.clear()
            method = "GET" if "GET" in route.methods else route.methods[0]
            url = route.url(**route.sample())
            response = rolled_back(getattr(anonymous, method.lower()), url, **headers)
            probe.check(f"{method} {url} {sorted(headers)}", response)
    probe.done(caplog)


def _mutations(value, depth: int = 0):
    """(label, replacement) for one field's value: control characters and lone surrogates for
    strings, huge numbers and non-ASCII digits for integers, the same inside lists and objects."""
    if isinstance(value, bool) or value is None:
        return [("nested", [[[[]]]]), ("digits", DIGITS[0])]
    if isinstance(value, int):
        return [(f"huge{n}", n) for n in HUGE] + [("digits", DIGITS[0]), ("digits-fw", DIGITS[1])]
    if isinstance(value, str):
        return [("nul", value + "\x00"), ("bell", "\x07" + value), ("surrogate", value + "\ud800"),
                ("low-surrogate", "\udc00" + value)]
    if isinstance(value, list) and value and depth < 2:
        return [(f"[0].{label}", [new, *value[1:]]) for label, new in _mutations(value[0], depth + 1)]
    if isinstance(value, dict) and depth < 2:
        out = []
        for key, item in value.items():
            out += [(f".{key}.{label}", {**value, key: new}) for label, new in _mutations(item, depth + 1)]
        return out
    return []


def _send_write(spec, client, call, url, body):
    """The write as the endpoint takes it (JSON, multipart, a signed notice, a media-server form)."""
    if spec.send:
        return rolled_back(spec.send, client, url, body, spec.multipart)
    if spec.multipart:
        return rolled_back(call, url, body, format="multipart")
    return rolled_back(call, url, json.dumps(body), content_type="application/json")


def _deep(levels: int) -> str:
    return '{"a": ' + "[" * levels + "]" * levels + "}"


@pytest.mark.django_db
def test_every_write_endpoint_survives_hostile_bodies(world, db, caplog):
    probe = Probe("requests")
    FIGURES["fuzz"]["writes"] += len(OPERATIONS)
    caplog.set_level(logging.WARNING)
    for (name, method), route in sorted(OPERATIONS.items()):
        spec = WRITES[(name, method)]
        overrides = override_settings(**spec.settings)
        overrides.enable()
        try:
            sid = transaction.savepoint()
            if spec.setup:
                spec.setup(world)
            client = _client(spec.actor(world))
            url = route.url(**spec.kwargs(world))
            base = spec.body(world)
            call = getattr(client, method.lower())


            for key, value in base.items():
                if hasattr(value, "read"):
                    continue
                for label, new in _mutations(value):
                    if spec.multipart and ("surrogate" in label or isinstance(new, (list, dict))):
                        continue  # a form cannot carry these; the JSON bodies do
                    cache.clear()
                    try:
                        response = _send_write(spec, client, call, url, {**base, key: new})
                    except UnicodeEncodeError:
                        continue  # a form body cannot carry a lone surrogate at all
                    probe.check(f"{method} {name} {key}{'' if label.startswith(('.', '[')) else '='}{label}", response)
            if not spec.send and not spec.multipart:
                for raw, label in ((_deep(DEEP), "deep"), (_deep(40), "deep40"), ('{"a": "\\ud800"}', "\\ud800"),
                                   ('{"a": "\\u0000"}', "\\u0000"), ('{"a": NaN}', "NaN"),
                                   ('{"a": 1' + "0" * 5000 + "}", "5000 digits"), (b"\xff\xfe{}", "latin-1")):
                    cache.clear()
                    response = rolled_back(call, url, raw, content_type="application/json")
                    probe.check(f"{method} {name} {label}", response)
                    if base and label in ("deep", "\\ud800", "\\u0000") and response.status_code != 400:
                        probe.problems.append(f"{method} {name} {label}: {response.status_code}, not 400")
            transaction.savepoint_rollback(sid)
        finally:
            overrides.disable()
    probe.done(caplog)


@pytest.mark.django_db
def test_admin_changelists_survive_hostile_filters(world, db, caplog):
    from django.contrib.auth import get_user_model

    probe = Probe("admin requests")
    caplog.set_level(logging.WARNING)
    staff = get_user_model().objects.create_superuser("fuzz_staff", "fuzz@example.com", "fuzz-pass-2026")
    client = APIClient()
    client.raise_request_exception = False
    client.force_login(staff)
    values = [quote(NUL_TEXTS[1], safe=""), SURROGATES_RAW[0], quote(DIGITS[0], safe="")]
    for model, model_admin in admin.site._registry.items():
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        keys = ["q", "o", "p"]
        for entry in model_admin.list_filter or ():
            name = entry if isinstance(entry, str) else (entry[0] if isinstance(entry, tuple) else None)
            if name:
                keys += [name, f"{name}__exact"]
        for value in values:
            for key in keys:
                probe.check(f"admin {url}?{key}={value}", rolled_back(client.get, f"{url}?{key}={value}"))
        probe.check(f"admin {url}%00/change/", rolled_back(client.get, f"{url}%00/change/"))
    probe.done(caplog)
    FIGURES["fuzz"]["admin changelists"] += len(admin.site._registry)
