"""The API's body parsers (``REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]``): DRF's, with every
string the client sent checked by ``core.text`` before a serializer sees it.

JSON goes through ``core.text.load_json`` (bounded nesting and integers, no NaN, clean strings);
form and multipart fields through ``core.text.check_data``. A refusal is a 400 in the envelope:
``malformed_request`` (unreadable, too deep, a number out of range) or ``invalid_text`` (a NUL, a
control character or a lone surrogate), naming the field.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError

# core.text is imported when a body is parsed: this module is loaded with DRF's APIView (its
# parser_classes), which core.errors (imported by core.text) itself imports.


def _form_fields(data) -> dict:
    return {key: data.getlist(key) for key in data} if hasattr(data, "getlist") else dict(data)


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        raw = stream.read() if stream is not None else b""
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise ParseError() from exc
        from .text import load_json

        return load_json(text)


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        from .text import check_data

        data = super().parse(stream, media_type, parser_context)
        check_data(_form_fields(data))
        return data


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        from .text import check_data

        parsed = super().parse(stream, media_type, parser_context)
        check_data(_form_fields(parsed.data))
        return parsed


# What a view accepts (``parser_classes``): JSON everywhere (the settings' default), multipart beside
# it only where a file may be uploaded, form encoding only for the media server's hooks. One content
# type per body keeps the OpenAPI document one request schema per operation, which client generators
# need (tests/core/test_generated_clients.py).
UPLOAD_PARSERS = (JSONParser, MultiPartParser)
FORM_PARSERS = (FormParser,)
