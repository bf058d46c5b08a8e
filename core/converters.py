"""Path converters shared by the apps' URL configurations (registered once, on import).

``<month:…>`` matches only the shape ``YYYY-MM`` (ASCII digits): any other text is not a route, so
it answers 404 to every caller, as a path that does not exist. A well-formed month that is not
possible or has not begun (``2026-13``, next year) reaches the view, which answers 400 in the error
envelope (``ledger.selectors.month_parse``), whoever asks.
"""

from __future__ import annotations

from django.urls import register_converter


class MonthConverter:
    regex = r"[0-9]{4}-[0-9]{2}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value) -> str:
        return str(value)


register_converter(MonthConverter, "month")
