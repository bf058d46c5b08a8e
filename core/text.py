"""What a client may send as text, and how it is read: one rule for every channel.

PostgreSQL cannot store a NUL character, and a lone surrogate (half of a UTF-16 pair, which JSON's
``\\ud800`` escape can produce) is not a character at all: either makes the statement that carries
it fail, and with it every row of the same batch. Other C0 control characters (and DEL) have no
place in anything a person types. So every string a client sends — JSON and form bodies
(``core.parsers``), path, query string and header values (``core.input_guard``), socket frames
(``core.frames``) — is checked here and refused with a clear 400 / ``error`` frame, before any
service sees it. Tab, line feed and carriage return stay allowed.

Numbers read from text (headers, query parameters) go through ``ascii_int``: Python's ``int()``
also reads ``'١٢'`` (Arabic-Indic digits), ``'１２'`` (full-width), ``' 12 '`` and ``'1_2'``.

JSON nesting is bounded (``MAX_JSON_DEPTH``) before the document is handed to the recursive
decoder, so a 10,000-level ``[[[[…`` is a 400, never a ``RecursionError``; integers are bounded to
the signed 64-bit range the database can hold (``JSON_MAX_INT``).
"""

from __future__ import annotations

import json
import re
from itertools import accumulate

from django.utils.translation import gettext_lazy as _

from core.errors import ValidationFailed

# NUL and the other C0 controls except \t \n \r, DEL, and the surrogate range (lone halves).
_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_ASCII_INT = re.compile(r"[+-]?[0-9]+")

MAX_JSON_DEPTH = 32
JSON_MAX_INT = 2**63 - 1


class TextRefused(ValidationFailed):
    """400 ``invalid_text``: a client string holds a character no client text may hold."""

    code = "invalid_text"
    default_message = _("The text contains a control character or an invalid (lone surrogate) character.")


class MalformedInput(ValidationFailed):
    """400 ``malformed_request``: a body or frame that cannot be read (too deep, a number out of range)."""

    code = "malformed_request"
    default_message = _("The request could not be read.")


def is_clean(value: str) -> bool:
    return _BAD.search(value) is None


def check_data(data, *, path: str = "") -> None:
    """Every string in a parsed document (keys and values, at any depth) must be clean: raises
    ``TextRefused`` naming the first offending place (``items.0.note``)."""
    stack = [(path, data)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            if _BAD.search(value):
                raise _refused_at(where)
        elif isinstance(value, dict):
            for key, item in value.items():
                place = f"{where}.{key}" if where else str(key)
                if isinstance(key, str) and _BAD.search(key):
                    raise _refused_at(where)
                stack.append((place, item))
        elif isinstance(value, (list, tuple)):
            stack.extend((f"{where}.{index}" if where else str(index), item) for index, item in enumerate(value))


def _refused_at(where: str) -> TextRefused:
    message = TextRefused.default_message
    return TextRefused(message, fields={where or "non_field_errors": [str(message)]})


# A string (to its closing quote, or to the end if there is none): possessive, and it always
# matches, so removing the strings is linear whatever the text (no backtracking, no restart).
_JSON_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+"?', re.S)
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]++")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def json_depth_exceeds(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Does the JSON text nest arrays/objects deeper than ``limit``? No recursion, linear, and in C
    but for one running sum; brackets inside strings do not count."""
    if text.count("[") + text.count("{") <= limit:
        return False
    brackets = _NOT_A_BRACKET.sub("", _JSON_STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0) > limit


def _bounded_int(literal: str) -> int:
    if len(literal) > 20:
        raise MalformedInput(_("A number in the request is out of range."))
    value = int(literal)
    if not -JSON_MAX_INT - 1 <= value <= JSON_MAX_INT:
        raise MalformedInput(_("A number in the request is out of range."))
    return value


def _no_constant(name: str):
    raise MalformedInput(_("NaN and Infinity are not JSON numbers."))


def load_json(text: str, *, max_depth: int = MAX_JSON_DEPTH):
    """Parse client JSON: bounded depth and integers, no NaN/Infinity, every string clean.

    Raises ``MalformedInput`` (not JSON, too deep, a number out of range) or ``TextRefused``."""
    if json_depth_exceeds(text, max_depth):
        raise MalformedInput(_("The document is nested more than %(n)d levels deep.") % {"n": max_depth})
    try:
        data = json.loads(text, parse_int=_bounded_int, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise MalformedInput(_("That is not valid JSON.")) from exc
    check_data(data)
    return data


def ascii_int(value, *, default: int | None = None, minimum: int | None = None, maximum: int | None = None) -> int | None:
    """An integer written in ASCII digits (optional sign), within bounds; ``default`` for None/"";
    ``ValueError`` for anything else (``'١٢'``, ``'１２'``, ``' 12'``, ``'1_2'``, ``'1e3'``)."""
    if value is None or value == "":
        return default
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if not isinstance(value, str) or len(value) > 20 or not _ASCII_INT.fullmatch(value):
        raise ValueError(f"not an ASCII integer: {value!r}")
    number = int(value)
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise ValueError(f"out of range: {number}")
    return number
