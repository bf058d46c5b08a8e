"""JSON for clients outside DRF (socket frames, pushed notifications): times as the API writes them.

DRF renders a datetime in the current time zone (``TIME_ZONE``, Asia/Shanghai) with its offset,
e.g. ``2026-12-03T15:04:05.123456+08:00``. Django's own encoder writes an aware datetime in the
zone it carries, which is UTC for anything read from the database (``…Z``). ``ClientJSONEncoder``
writes every time the way the API does, so a client parses one convention everywhere: ISO 8601,
local time, with its offset.
"""

from __future__ import annotations

import datetime

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone


def client_time(value: datetime.datetime) -> str:
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.isoformat()


class ClientJSONEncoder(DjangoJSONEncoder):
    def default(self, o):
        if isinstance(o, datetime.datetime):
            return client_time(o)
        return super().default(o)
