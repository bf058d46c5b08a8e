"""Serializer fields the project's inputs share.

``IntegerField`` is DRF's, bounded by default to what a PostgreSQL ``integer`` column holds: an input
that reaches such a column unbounded (a plain ``serializers.IntegerField()``) turns 2**31 into a
500 (``integer out of range``) instead of a 400. Give tighter bounds where the domain has them.
(``core.parsers`` already refuses any JSON integer beyond the signed 64-bit range.)
"""

from __future__ import annotations

from rest_framework import serializers

INT_MIN = -(2**31)
INT_MAX = 2**31 - 1


class IntegerField(serializers.IntegerField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_value", INT_MAX)
        kwargs.setdefault("min_value", INT_MIN)
        super().__init__(**kwargs)
