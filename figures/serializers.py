import datetime
import re

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

MAX_RANGE_DAYS = 366
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class RangeQuery(serializers.Serializer):
    """``from`` and ``to`` (YYYY-MM-DD, both included); by default the last 30 days."""

    to = serializers.DateField(required=False, input_formats=["%Y-%m-%d"])

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateField(required=False, input_formats=["%Y-%m-%d"])
        return fields

    def validate(self, data):
        for name in ("from", "to"):  # strptime also reads 2026-5-1: only YYYY-MM-DD
            raw = self.initial_data.get(name)
            if raw is not None and not ISO_DAY.fullmatch(str(raw)):
                raise serializers.ValidationError({name: [_("A day as YYYY-MM-DD.")]})
        last = data.get("to") or timezone.localdate()
        first = data.get("from") or last - datetime.timedelta(days=29)
        if first > last:
            raise serializers.ValidationError({"from": [_("The range starts after it ends.")]})
        if (last - first).days + 1 > MAX_RANGE_DAYS:
            raise serializers.ValidationError({"to": [_("A range is at most a year.")]})
        return {"first": first, "last": last}
